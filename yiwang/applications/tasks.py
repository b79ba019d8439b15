"""Background tasks (django-tasks, database backend; run the worker with `yiwang worker`)."""

from __future__ import annotations

import datetime as dt

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from yiwang.lib.workdays import add_workdays

DUE_SOON_WORKDAYS = 2


@task()
def send_notice_email(notice_id: int) -> bool:
    """Email a notice to its user, if they gave an address. Returns whether one was sent."""
    from .models import Notice

    notice = Notice.objects.select_related("user").filter(pk=notice_id).first()
    if notice is None or not notice.user.email:
        return False
    send_mail(notice.subject, notice.body or notice.subject, None, [notice.user.email])
    return True


def flag_deadlines_now(today: dt.date | None = None) -> dict[str, int]:
    """Set every open task's deadline flag from its due date: overdue after the due date,
    due soon within DUE_SOON_WORKDAYS working days. Returns how many rows changed per flag."""
    from .models import Task

    today = today or timezone.localdate()
    soon = add_workdays(today, DUE_SOON_WORKDAYS)
    open_tasks = Task.objects.filter(state=Task.State.OPEN, due_date__isnull=False).exclude(role="applicant")
    with transaction.atomic():
        overdue = (
            open_tasks.filter(due_date__lt=today)
            .exclude(flag=Task.Flag.OVERDUE)
            .update(flag=Task.Flag.OVERDUE)
        )
        due_soon = (
            open_tasks.filter(due_date__gte=today, due_date__lte=soon)
            .exclude(flag=Task.Flag.DUE_SOON)
            .update(flag=Task.Flag.DUE_SOON)
        )
        cleared = (
            open_tasks.filter(due_date__gt=soon).exclude(flag=Task.Flag.NONE).update(flag=Task.Flag.NONE)
        )
    return {"overdue": overdue, "due_soon": due_soon, "cleared": cleared}


@task()
def flag_deadlines() -> dict[str, int]:
    """The scheduled form of flag_deadlines_now (enqueue it daily: `yiwang flag-deadlines`)."""
    return flag_deadlines_now()
