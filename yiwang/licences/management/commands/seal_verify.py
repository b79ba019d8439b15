"""``yiwang seal-verify FILE``: check a sealed PDF against the deployment's root (offline)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.licences import seals


class Command(BaseCommand):
    help = "Validate the seal of a PDF with the deployment's root as the only trust root (no network)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--root", help="a root certificate (PEM) to trust instead of this deployment's")

    def handle(self, *args, file, root=None, **options):
        try:
            data = Path(file).read_bytes()
            root_pem = Path(root).read_text(encoding="ascii") if root else None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(str(exc)) from exc
        verdict = seals.validate_pdf(data, trust_root_pem=root_pem)
        self.stdout.write(
            f"intact: {verdict.intact}\nbottom line (trusted chain): {verdict.bottom_line}\n"
            f"covers the whole file: {verdict.whole_file}\nsigner: {verdict.signer}\n"
            f"certificate fingerprint: {verdict.fingerprint}\nsigned at: {verdict.signed_at}"
        )
        if not verdict.ok:
            raise CommandError(f"The seal does not validate{': ' + verdict.error if verdict.error else '.'}")
        self.stdout.write("The seal is valid.")
