"""`yiwang audit-keygen`: create the Ed25519 key that signs the audit log's tree heads."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.audit import signing


class Command(BaseCommand):
    help = "Create the audit log's Ed25519 signing key at AUDIT_SIGNING_KEY_FILE (never overwrites)."

    def add_arguments(self, parser):
        parser.add_argument("--path", help="write the key here instead of AUDIT_SIGNING_KEY_FILE")

    def handle(self, *args, path: str | None, **options):
        target = Path(path) if path else Path(settings.AUDIT_SIGNING_KEY_FILE)
        try:
            key = signing.write_new_key(target)
        except signing.KeyExistsError as exc:
            raise CommandError(
                f"{exc} Move it away first if you really mean to replace the log's key."
            ) from exc
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc}") from exc
        self.stdout.write(f"Created {target} (mode 0600). key_id {key.key_id}")
        self.stdout.write("Publish the public key (GET /api/audit/public-key) and back the file up safely.")
