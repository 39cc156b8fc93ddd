from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0004_outbound_endpoint"),
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
