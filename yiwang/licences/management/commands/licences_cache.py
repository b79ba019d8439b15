"""`yiwang licences-cache`: write the offline cache of issuer keys and status lists."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from yiwang.licences import fetch, offline, services
from yiwang.licences.models import TrustedIssuer


class Command(BaseCommand):
    help = (
        "Write the cache `yiwang verify-licence` verifies with: this deployment's issuer keys and status "
        "lists, and the trusted issuers' (--refresh fetches the trusted issuers' keys and lists first)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=None, help="Where to write (default LICENCES_CACHE_FILE)."
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Fetch the trusted issuers' keys and status lists again first.",
        )

    def handle(self, *args, file=None, refresh=False, **options):
        path = file or settings.LICENCES_CACHE_FILE
        if refresh:
            for trusted in TrustedIssuer.objects.filter(is_active=True):
                try:
                    services.trusted_issuer_refresh(
                        trusted=trusted, actor="system:licences-cache", fetch=fetch.http_get
                    )
                except services.LicenceError as exc:
                    self.stderr.write(f"{trusted.issuer}: {exc.message} (the cached copy is kept)")
        data = offline.snapshot()
        offline.write(path, data)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path}: {len(data['issuers'])} issuer(s), {len(data['status_lists'])} status list(s)."
            )
        )
