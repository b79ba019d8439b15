from pathlib import Path

from django.core.management.base import BaseCommand

from yiwang.catalog import importexport


class Command(BaseCommand):
    help = "Export the catalog as JSON (items and bundles) or CSV (items, or bundles with --bundles)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--bundles", action="store_true", help="CSV only: export the bundles, not the items."
        )

    def handle(self, *args, file: Path, format: str, bundles: bool, **options):  # noqa: A002 — the CLI option name
        with file.open("w", encoding="utf-8", newline="") as stream:
            if format == "json":
                n = importexport.export_json(stream)
            else:
                n = importexport.export_csv(stream, what="bundles" if bundles else "items")
        self.stdout.write(self.style.SUCCESS(f"Wrote {n} records to {file}."))
