"""``yiwang seal-ca``: print (or write) the deployment's e-seal root certificate for verifiers."""

from pathlib import Path

from django.core.management.base import BaseCommand

from yiwang.licences import seals


class Command(BaseCommand):
    help = (
        "Print the deployment's e-seal root certificate (PEM), creating it on first use. Verifiers add "
        "it to their trust store: pyHanko's trust roots, or an NSS database for poppler's pdfsig "
        "(certutil -A -d sql:DIR -n yiwang-seal-root -t CT,C,C -i root.pem)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", help="write the certificate to this file instead of printing it")
        parser.add_argument("--fingerprint", action="store_true", help="print the SHA-256 fingerprint too")

    def handle(self, *args, out=None, fingerprint=False, **options):
        pem = seals.root_certificate_pem()
        if out:
            Path(out).write_text(pem, encoding="ascii")
            self.stderr.write(f"Root certificate written to {out}")
        else:
            self.stdout.write(pem.rstrip("\n"))
        if fingerprint:
            self.stderr.write(f"SHA-256 fingerprint: {seals.authority().fingerprint}")
