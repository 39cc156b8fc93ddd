from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "flywheel_cache"


def create_cache_table(apps, schema_editor):
    # Created whatever the cache backend is now, so switching from Redis to the database cache later
    # needs no extra step; createcachetable leaves an existing table alone.
    call_command("createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
