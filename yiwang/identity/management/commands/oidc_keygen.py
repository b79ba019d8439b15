"""`yiwang oidc-keygen`: create the RSA key that signs the single sign-on ID tokens (RS256)."""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the OpenID Connect signing key (RSA 3072, PKCS#8 PEM) at OIDC_SIGNING_KEY_FILE."

    def add_arguments(self, parser):
        parser.add_argument("--path", help="write the key here instead of OIDC_SIGNING_KEY_FILE")

    def handle(self, *args, path: str | None, **options):
        target = Path(path) if path else Path(settings.OIDC_SIGNING_KEY_FILE)
        pem = rsa.generate_private_key(public_exponent=65537, key_size=3072).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(pem)
        except FileExistsError as exc:
            raise CommandError(
                f"{target} exists. To rotate, write the new key elsewhere (--path), list the old file "
                "in OIDC_RETIRED_SIGNING_KEY_FILES and point OIDC_SIGNING_KEY_FILE at the new one "
                "(docs/sso.md)."
            ) from exc
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc}") from exc
        self.stdout.write(f"Created {target} (mode 0600). Restart the platform to sign with it.")
