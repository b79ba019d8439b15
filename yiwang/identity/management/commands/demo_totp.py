"""`yiwang demo_totp`: the current sign-in code of the demo administrators. Development only."""

import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yiwang.identity import services


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo accounts admin and deptadmin (development only)."

    def handle(self, *args, **options):
        if not settings.DEV:
            raise CommandError("The demo two-factor secret is for development only: set YIWANG_DEV=1.")
        code = pyotp.TOTP(services.DEMO_TOTP_SECRET, digits=services.TOTP_DIGITS).now()
        self.stdout.write(
            f"{code}  (admin, deptadmin; secret {services.DEMO_TOTP_SECRET}; changes every 30 s)"
        )
