"""`yiwang demo`: load a believable demo province. Idempotent; refuses in production.

The builders only add what is missing, but even finding that out takes seconds. So when they
finish, the demo's fingerprint (a hash of its inputs: every demo builder, the data files they
read, the migrations applied and the scale) is recorded in the audit log, and the next
`yiwang demo` on a database holding that fingerprint returns at once. Changing a demo builder
or its data, or adding a migration, changes the fingerprint and the builders run again (adding
only what is missing, as ever); `--force` runs them regardless.
"""

import hashlib
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

READY_EVENT = "core:demo:ready"
PACKAGE = Path(__file__).resolve().parents[3]  # the yiwang package
# What a demo is built from, besides the migrations: the builders and what they read.
INPUT_PATTERNS = (
    "*/demo.py",
    "*/demo_data.py",
    "catalog/data/*",
    "applications/processes/*",
    "exchange/basedata.py",  # issue 11: the base resources' specs the demo loads
    "exchange/tracker_demo.py",  # issue 11: the citizen's data-use record
    "feedback/data/*",  # issue 12: the complaints the feedback demo files (and the classifier)
    "supervision/credit_demo.py",  # issue 12: penalties, the list, tiers, warnings
)


def fingerprint(scale: str = "normal") -> str:
    """A hash of everything the demo is built from (see the module docstring)."""
    digest = hashlib.sha256(f"scale={scale}\n".encode())
    files = sorted({path for pattern in INPUT_PATTERNS for path in PACKAGE.glob(pattern) if path.is_file()})
    for path in files:
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    applied = sorted(MigrationRecorder(connection).applied_migrations())
    digest.update(repr(applied).encode())
    return digest.hexdigest()


def loaded_fingerprint() -> str:
    """The fingerprint of the last complete demo load on this database ("" if none)."""
    from yiwang.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(event=READY_EVENT).order_by("-leaf_index").only("data").first()
    return str(entry.data.get("fingerprint", "")) if entry is not None else ""


class Command(BaseCommand):
    help = "Load demo data: regions, departments, demo accounts, the service catalog (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["normal", "large"],
            default="normal",
            help="'large' adds 50,000 catalog items, 1,000,000 persons and 1,000,000 market entities "
            "for benchmarks.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run the builders even when the database holds this demo already.",
        )

    def handle(self, *args, scale: str, force: bool = False, **options):
        if not settings.DEV:
            raise CommandError(
                "Demo data is for development only: set YIWANG_DEV=1 on a non-production database."
            )
        started = time.monotonic()
        wanted = fingerprint(scale)
        if not force and loaded_fingerprint() == wanted:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data is up to date (fingerprint {wanted[:12]}); nothing to build.")
            )
            return
        # The demo spans every app; it is the one place allowed to call them all.
        from yiwang.applications import demo as applications_demo
        from yiwang.audit import demo as audit_demo
        from yiwang.audit import services as audit
        from yiwang.catalog import demo as catalog_demo
        from yiwang.exchange import demo as exchange_demo
        from yiwang.exchange import tracker_demo
        from yiwang.feedback import demo as feedback_demo
        from yiwang.identity import demo as identity_demo
        from yiwang.licences import demo as licences_demo
        from yiwang.opendata import demo as opendata_demo
        from yiwang.supervision import demo as supervision_demo

        with identity_demo.passwords_hashed_once():
            identity_demo.build(stdout=self.stdout)
            catalog_demo.build(stdout=self.stdout)
            licences_demo.build(stdout=self.stdout)  # types first: approved demo cases issue licences
            # The exchange's catalog, rows, requests and standing grants: before the applications,
            # whose 秒批 form binds facts under the standing grants (applications.facts).
            exchange_demo.build(scale, stdout=self.stdout)
            applications_demo.build(stdout=self.stdout)  # processes and cases for the catalog's items
            tracker_demo.build(stdout=self.stdout)  # uses of the demo citizens' data, questions
            opendata_demo.build(stdout=self.stdout)  # 105 open datasets, applications for them
            # 20,000 market entities through A02001, laws, items, a published 双随机 draw
            supervision_demo.build(stdout=self.stdout)
            feedback_demo.build(stdout=self.stdout)  # 12345: a month of complaints with replies
            if scale == "large":
                catalog_demo.build_large(stdout=self.stdout)
                identity_demo.build_large(stdout=self.stdout)
                audit_demo.build_large(stdout=self.stdout)
                # 1,000,000 market entities in A02001 and supervision (the first 20,000 exist)
                supervision_demo.build_entities(supervision_demo.LARGE_ENTITIES, stdout=self.stdout)
        with transaction.atomic():
            audit.record(actor="system:demo", event=READY_EVENT, data={"fingerprint": wanted, "scale": scale})
        audit_demo.build(stdout=self.stdout)  # last: signs a tree head over everything above
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f} s."))
