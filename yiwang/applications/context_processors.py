"""Navigation hints for the base layout, evaluated only when a template uses them."""

from yiwang.identity.models import WORKBENCH_ROLES
from yiwang.identity.permissions import roles_of

from . import selectors


def nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread_notices():
        return selectors.unread_notices(user)

    def workbench():
        return user.is_superuser or bool(roles_of(user) & set(WORKBENCH_ROLES))

    return {"nav_unread_notices": unread_notices, "nav_workbench": workbench}
