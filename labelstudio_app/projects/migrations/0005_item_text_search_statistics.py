"""Statistics on UPPER(text), the expression of the item search (`text__icontains`), on PostgreSQL.

Without them the planner guesses that a `LIKE '%word%'` matches almost nothing, so it reads and sorts every
item of the project even for a common word; with them (collected by ANALYZE and autovacuum) it walks the
(project, id) order and stops at the page's last row, so a search page costs what a plain page does.
"""
from django.db import migrations

CREATE = "CREATE STATISTICS IF NOT EXISTS projects_item_text_upper ON (UPPER(text)) FROM projects_item"
DROP = "DROP STATISTICS IF EXISTS projects_item_text_upper"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute("ANALYZE projects_item")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_item_task_type_keyset_index")]
    operations = [migrations.RunPython(forwards, backwards)]
