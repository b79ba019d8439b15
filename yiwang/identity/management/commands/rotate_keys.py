"""Re-encrypt every stored encrypted value (identity numbers, TOTP secrets, licences, seal keys:
the fields registered in yiwang.core.encrypted_fields) under the current field key (`yiwang rotate-keys`).

See docs/operations.md for the whole procedure (add a key, restart, rotate, remove the old key).
"""

from django.core.management.base import BaseCommand, CommandError

from yiwang.identity import keyrotation
from yiwang.lib import crypto

ACTOR = "system:rotate_keys"


def _counts(counter) -> str:
    return ", ".join(f"{kid!r}: {n:,}" for kid, n in sorted(counter.items()))


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the current key of FIELD_ENCRYPTION_KEYS "
        "(--reindex: rebuild the blind indexes after BLIND_INDEX_KEY changed). "
        "Resumable; --dry-run only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="read and count, change nothing")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=keyrotation.DEFAULT_BATCH_SIZE,
            help=f"rows per transaction (default {keyrotation.DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="rebuild identity-number blind indexes under BLIND_INDEX_KEY instead of re-encrypting",
        )

    def handle(
        self, *args, dry_run=False, batch_size=keyrotation.DEFAULT_BATCH_SIZE, reindex=False, **options
    ):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        run = keyrotation.blind_indexes_rebuild if reindex else keyrotation.field_keys_rotate
        mode = "dry run, nothing is changed" if dry_run else "changing"
        if reindex:
            self.stdout.write(f"Rebuilding blind indexes under BLIND_INDEX_KEY ({mode}).")
        else:
            self.stdout.write(f"Re-encrypting under field key {crypto.current_key_id()!r} ({mode}).")
        report = run(actor=ACTOR, batch_size=batch_size, dry_run=dry_run)
        verb = "would change" if dry_run else "changed"
        for f in report.fields:
            line = f"{f.name}: {f.scanned:,} values, {verb} {f.changed:,}, {f.current:,} already current"
            if f.from_keys:
                line += f" (from keys {_counts(f.from_keys)}"
                line += f"; {f.without_key_id:,} stored without a key id)" if f.without_key_id else ")"
            if f.problems:
                line += f", {f.problems:,} unreadable"
            self.stdout.write(line)
        if report.problems:
            raise CommandError(self._problems(report))
        if dry_run and report.changed:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was changed."))
        elif reindex:
            self.stdout.write(self.style.SUCCESS("Every blind index is under the current BLIND_INDEX_KEY."))
        else:
            retired = ", ".join(repr(kid) for kid, _key in crypto.key_ring()[1:])
            self.stdout.write(
                self.style.SUCCESS(
                    f"Every encrypted value is under key {report.key_id!r}."
                    + (
                        f" Retired keys ({retired}) are no longer needed and can be removed."
                        if retired
                        else ""
                    )
                )
            )

    @staticmethod
    def _problems(report) -> str:
        parts = []
        missing = report.missing_keys()
        if missing:
            parts.append(
                f"{sum(missing.values()):,} values are under key ids that are not configured "
                f"({_counts(missing)}): "
                "add those keys to FIELD_ENCRYPTION_KEYS after the current one and run again"
            )
        unreadable = sum(f.unreadable for f in report.fields)
        if unreadable:
            parts.append(
                f"{unreadable:,} values do not open under any configured key (altered, or under a lost key)"
            )
        done = (
            "Nothing was changed (dry run)."
            if report.dry_run
            else "The readable values were re-encrypted; the others were left as they are."
        )
        return f"{'; '.join(parts)}. {done}"
