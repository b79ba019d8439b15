"""`yiwang verify-log`: recompute the audit log and name the first entry that was altered or removed."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from yiwang.audit import verify


class Command(BaseCommand):
    help = (
        "Recompute every leaf and tree hash of the audit log, check them against the stored tree and the "
        "signed tree heads, and report the first entry that was altered, removed or reordered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sth",
            action="append",
            default=[],
            metavar="FILE",
            help="a tree head saved earlier from /api/audit/sth (JSON); may be given more than once",
        )

    def handle(self, *args, sth: list[str], **options):
        try:
            extra = [verify.load_sth_file(path) for path in sth]
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            result = verify.verify_log(extra_tree_heads=extra)
        except ImproperlyConfigured as exc:  # no key to check the tree heads with
            raise CommandError(str(exc)) from exc
        if not result.ok:
            raise CommandError(result.summary(), returncode=2)
        self.stdout.write(result.summary())
