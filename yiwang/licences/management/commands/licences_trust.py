"""`yiwang licences-trust ISSUER --name NAME`: trust another deployment's issuer (跨域互认)."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.licences import fetch, services


class Command(BaseCommand):
    help = (
        "Add another deployment's issuer to the trust list: its metadata and keys are fetched now over "
        "HTTP(S) and checked (the same service as the trusted-issuers page); audited."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "issuer",
            help="the issuer URL (iss), e.g. https://zwfw.example.gov.cn/licences/issuers/610200-SCJG",
        )
        parser.add_argument("--name", required=True, help="the name verifiers are shown")

    def handle(self, *args, issuer, name, **options):
        try:
            trusted = services.trusted_issuer_add(
                issuer=issuer, name=name, actor="system:licences-trust", fetch=fetch.http_get
            )
        except services.LicenceError as exc:
            raise CommandError(f"{exc.message} {' '.join(map(str, exc.errors.values()))}".strip()) from exc
        keys = ", ".join(k["kid"] for k in trusted.jwks["keys"])
        self.stdout.write(self.style.SUCCESS(f"Trusted {trusted.issuer} ({trusted.name}): keys {keys}"))
