"""`yiwang demo`: load a believable demo province. Idempotent; refuses in production."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Load demo data: regions, departments, demo accounts, the service catalog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["normal", "large"],
            default="normal",
            help="'large' adds 50,000 catalog items and 1,000,000 persons for benchmarks.",
        )

    def handle(self, *args, scale: str, **options):
        if not settings.DEV:
            raise CommandError(
                "Demo data is for development only: set YIWANG_DEV=1 on a non-production database."
            )
        # The demo spans every app; it is the one place allowed to call them all.
        from yiwang.applications import demo as applications_demo
        from yiwang.audit import demo as audit_demo
        from yiwang.catalog import demo as catalog_demo
        from yiwang.identity import demo as identity_demo

        started = time.monotonic()
        identity_demo.build(stdout=self.stdout)
        catalog_demo.build(stdout=self.stdout)
        applications_demo.build(stdout=self.stdout)  # processes and cases for the catalog's items
        if scale == "large":
            catalog_demo.build_large(stdout=self.stdout)
            identity_demo.build_large(stdout=self.stdout)
            audit_demo.build_large(stdout=self.stdout)
        audit_demo.build(stdout=self.stdout)  # last: signs a tree head over everything above
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f} s."))
