"""Navigation hint for the base layout: whether to link the data sharing exchange (officials)."""

from yiwang.exchange import permissions


def nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_exchange": lambda: permissions.is_official(user)}
