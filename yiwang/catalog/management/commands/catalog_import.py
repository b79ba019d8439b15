from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.catalog import importexport


class Command(BaseCommand):
    help = "Import catalog items and bundles from a JSON or CSV file (all rows valid, or nothing is saved)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--check", action="store_true", help="Only validate; save nothing.")

    def handle(self, *args, file: Path, check: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        if file.stat().st_size > importexport.MAX_FILE_BYTES:
            raise CommandError("The file is larger than 10 MB.")
        result = importexport.import_catalog(
            data=file.read_bytes(), filename=file.name, actor="system:catalog_import", dry_run=check
        )
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(f"{len(result.errors)} problem(s) found; nothing was saved.")
        if check:
            self.stdout.write(self.style.SUCCESS("The file is valid."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {result.items_created} new and {result.items_updated} updated items, "
                    f"{result.bundles_saved} bundles."
                )
            )
