"""`yiwang verify-licence [FILE|-]`: verify a licence or presentation offline, with the cached
issuer keys and status lists only (no database, no network)."""

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.licences import offline, verify


class Command(BaseCommand):
    help = "Verify a licence or presentation offline with the cache of `yiwang licences-cache`; 0 if valid."
    requires_system_checks: list = []  # offline: no database, no network

    def add_arguments(self, parser):
        parser.add_argument(
            "source", nargs="?", default="-", help="A file with the text, or - for standard input."
        )
        parser.add_argument(
            "--cache", type=Path, default=None, help="The cache file (default LICENCES_CACHE_FILE)."
        )
        parser.add_argument("--aud", default=None, help="The audience the holder must have signed for.")
        parser.add_argument("--nonce", default=None, help="The nonce the holder must have signed.")
        parser.add_argument(
            "--require-key-binding",
            action="store_true",
            help="Refuse presentations not signed by the holder.",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(
        self, *args, source="-", cache=None, aud=None, nonce=None, require_key_binding=False, **options
    ):
        try:
            trust = offline.load(cache or settings.LICENCES_CACHE_FILE)
        except offline.CacheError as exc:
            raise CommandError(str(exc)) from exc
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {source}: {exc}") from exc
        result = verify.verify(
            text, trust, expected_aud=aud, expected_nonce=nonce, require_key_binding=require_key_binding
        )
        if options.get("json"):
            self.stdout.write(
                json.dumps(
                    {
                        "verdict": result.verdict,
                        "message": result.message,
                        "issuer": result.issuer,
                        "issuer_name": result.issuer_name,
                        "vct": result.vct,
                        "claims": result.claims,
                        "key_binding": result.key_binding,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(f"{result.verdict}: {result.title}")
            self.stdout.write(result.message)
            if result.issuer:
                self.stdout.write(f"issuer: {result.issuer_name} {result.issuer}")
            for name, value in result.claims.items():
                self.stdout.write(f"  {name}: {value}")
        if not result.ok:
            sys.exit(1)
