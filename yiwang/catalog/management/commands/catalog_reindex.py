import time

from django.core.management.base import BaseCommand

from yiwang.catalog import search


class Command(BaseCommand):
    help = "Re-segment every catalog item for search (after changing user words or synonyms)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=None, help="Segmenting processes (default: 2 above 5,000 items)."
        )

    def handle(self, *args, workers, **options):
        started = time.monotonic()
        search.clear_caches()
        n = search.reindex_all(workers=workers, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Re-indexed {n} items in {time.monotonic() - started:.1f} s."))
