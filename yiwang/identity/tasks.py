"""Background tasks of identity (django-tasks; run the worker with `yiwang worker`)."""

from django.core.mail import send_mail
from django_tasks import task


@task()
def send_account_notice_email(notice_id: int) -> bool:
    """Email an account notice to its user, if they gave an address. Returns whether one was sent."""
    from yiwang.identity.models import AccountNotice

    notice = AccountNotice.objects.select_related("user").filter(pk=notice_id).first()
    if notice is None or not notice.user.email:
        return False
    send_mail(notice.subject, notice.body or notice.subject, None, [notice.user.email])
    return True
