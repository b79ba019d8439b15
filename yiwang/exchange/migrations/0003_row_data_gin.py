"""A GIN index on the rows' data (PostgreSQL only): filters on a field that is not the key are
answered by containment (``data @> {"field": value}``, see ``rowquery``) from this index instead
of reading every row of the resource. SQLite has no such index: there this migration does
nothing, and the models' state is unchanged on both (``makemigrations --check`` stays clean)."""

from django.db import migrations

INDEX = "resource_row_data_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("exchange", "ResourceRow")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(INDEX)} ON {table} USING gin (data jsonb_path_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_row_key_index"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
