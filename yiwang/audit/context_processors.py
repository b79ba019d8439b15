"""Navigation hint for the base layout: whether to link the restricted records (auditors)."""

from yiwang.audit import hooks


def nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_audit_records": lambda: hooks.may_read_all_records(user)}
