"""Flag open tasks that are due soon or overdue (run daily: `yiwang flag-deadlines`)."""

from django.core.management.base import BaseCommand

from yiwang.applications.tasks import flag_deadlines, flag_deadlines_now


class Command(BaseCommand):
    help = "Queue the deadline check for the worker, or run it here with --now."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="run the check in this process")

    def handle(self, *args, now=False, **options):
        if now:
            counts = flag_deadlines_now()
            self.stdout.write(
                f"overdue {counts['overdue']}, due soon {counts['due_soon']}, cleared {counts['cleared']}"
            )
            return
        result = flag_deadlines.enqueue()
        self.stdout.write(f"queued deadline check {result.id}; `yiwang worker` runs it")
