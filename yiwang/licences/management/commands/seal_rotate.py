"""``yiwang seal-rotate CODE``: give a department a new seal certificate (the old one is retired)."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.identity.selectors import department_by_code
from yiwang.licences import seals


class Command(BaseCommand):
    help = (
        "Retire a department's seal certificate and make a new one (audited with both fingerprints). "
        "Documents sealed before stay valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("department", help="the department's code, e.g. 610100-SCJG")
        parser.add_argument("--reason", default="", help="why (kept in the audit entry)")

    def handle(self, *args, department, reason, **options):
        found = department_by_code(department)
        if found is None:
            raise CommandError(f"No department has the code {department!r}.")
        seal = seals.seal_rotate(department=found, actor="system:seal-rotate", reason=reason)
        self.stdout.write(f"{found.name}: new seal certificate {seal.fingerprint}")
