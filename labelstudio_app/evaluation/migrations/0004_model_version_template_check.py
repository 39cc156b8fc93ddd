from django.db import migrations, models


class Migration(migrations.Migration):
    # Also joins the two 0003 migrations, which both followed 0002.
    dependencies = [
        ("evaluation", "0003_candidate_prompt_sha256"),
        ("evaluation", "0003_outbound_endpoint"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion", name="template_ok",
            field=models.BooleanField(blank=True, null=True, verbose_name="chat template can be masked",
                                      help_text="Set by a worker's check at registration; empty while unchecked "
                                                "(remote or hub models)."),
        ),
        migrations.AddField(
            model_name="modelversion", name="template_error",
            field=models.TextField(blank=True, verbose_name="chat template problem"),
        ),
    ]
