"""Who may do what: the access helpers every app uses.

An official's roles apply to their own department and every department under it (through
``Department.parent``). Superusers pass every role check. Everything else is denied.

Administrator powers — the department-administrator role, ``is_superuser`` and the admin site
(``is_staff``) — are *locked* until the account has two-factor sign-in on and, in a web request,
the session passed the second factor (``second_factor_passed``; see yiwang.identity.signin).
Locked, those powers are simply not held: the account keeps its other roles.
"""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import context
from yiwang.identity.models import (
    CASE_ROLES,
    Department,
    Enterprise,
    EnterpriseAgent,
    Official,
    RealNameLevel,
    Role,
)

ACTING_ENTERPRISE_SESSION_KEY = "identity_acting_enterprise"
# Roles whose work needs the full identity number (accepting and deciding cases).
FULL_ID_NUMBER_ROLES = frozenset(CASE_ROLES)
# Set on request.user by signin.SecondFactorMiddleware: whether this session passed the second factor.
SECOND_FACTOR_ATTR = "_identity_second_factor"
# Where official_of memoises the user's Official record (or None) on the user object.
OFFICIAL_MEMO_ATTR = "_identity_official"
_MAX_DEPTH = 16  # department trees are shallow (province → city → county); guards against cycles


def official_of(user) -> Official | None:
    """The active Official record of an active user, or None. Cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, OFFICIAL_MEMO_ATTR):
        official = Official.objects.select_related("department").filter(user=user, is_active=True).first()
        setattr(user, OFFICIAL_MEMO_ATTR, official)
    return getattr(user, OFFICIAL_MEMO_ATTR)


def roles_of(user) -> frozenset[str]:
    """The roles the user's active Official record holds (empty for everybody else)."""
    official = official_of(user)
    if official is None:
        return frozenset()
    if not hasattr(official, "_identity_roles"):
        official._identity_roles = frozenset(official.roles.values_list("role", flat=True))
    return official._identity_roles


def holds_admin_powers(user) -> bool:
    """Whether the account has administrator powers at all (locked or not): superuser, admin
    site access or the department-administrator role."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.is_staff or Role.ADMIN in roles_of(user))


def second_factor_passed(user) -> bool:
    """Whether the user's administrator powers are unlocked: two-factor sign-in is on and, in a
    web request, this session signed in with the second factor. A user object that did not
    come from the request's session is refused in a request; outside one (commands, tasks)
    the account's setting is enough, since nobody signed in."""
    if not getattr(user, "totp_enabled", False):
        return False
    passed = getattr(user, SECOND_FACTOR_ATTR, None)
    if passed is not None:
        return bool(passed)
    return not context.current().request_id


class SecondFactorRequired(PermissionDenied):
    """An administrator power was refused only because it is locked (see the module docstring)."""

    @property
    def user_message(self) -> str:
        return _("Administrator rights need two-factor sign-in: turn it on, or sign in again with your code.")


def is_superuser(user) -> bool:
    """A superuser whose powers are unlocked."""
    return bool(getattr(user, "is_superuser", False) and user.is_active and second_factor_passed(user))


def _locked_out(user, roles) -> bool:
    """Whether unlocking the administrator powers would grant one of ``roles``."""
    if second_factor_passed(user):
        return False
    return bool(user.is_superuser or (Role.ADMIN in roles and Role.ADMIN in roles_of(user)))


def second_factor_redirect(request):
    """Where to send a signed-in user whose administrator powers are locked, with a message:
    to turn two-factor sign-in on, or to sign in again with the code."""
    if not request.user.totp_enabled:
        messages.warning(
            request,
            _(
                "Your account has administrator rights. Turn on two-factor sign-in to use them; "
                "until then they are off."
            ),
        )
        return redirect("identity:two_factor")
    messages.warning(request, _("Sign in again with your two-factor code to use administrator rights."))
    return redirect_to_login(request.get_full_path())


def department_ancestor_ids(department: Department | int) -> list[int]:
    """The department's id followed by its parents' ids, nearest first."""
    dept_id = department if isinstance(department, int) else department.pk
    parent_id = None if isinstance(department, int) else department.parent_id
    chain = [dept_id]
    if parent_id is None and isinstance(department, int):
        parent_id = Department.objects.filter(pk=dept_id).values_list("parent_id", flat=True).first()
    while parent_id is not None and parent_id not in chain and len(chain) < _MAX_DEPTH:
        chain.append(parent_id)
        parent_id = Department.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return chain


def department_subtree_ids(department: Department | int) -> set[int]:
    """The department's id and the ids of every department under it."""
    root = department if isinstance(department, int) else department.pk
    found, frontier = {root}, [root]
    for _depth in range(_MAX_DEPTH):
        if not frontier:
            break
        frontier = [
            pk
            for pk in Department.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if pk not in found
        ]
        found.update(frontier)
    return found


def has_role(user, role: str, department: Department | int | None = None) -> bool:
    """Whether ``user`` holds ``role``; with ``department``, whether the role reaches it
    (the official's own department or one under it). Superusers always pass."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_superuser(user):
        return True
    if role not in roles_of(user):
        return False
    if role == Role.ADMIN and not second_factor_passed(user):
        return False
    if department is None:
        return True
    official = official_of(user)
    return official.department_id in department_ancestor_ids(department)


def departments_for(user, role: str) -> set[int] | None:
    """Ids of the departments where ``user`` holds ``role``; None means all (superuser)."""
    if is_superuser(user):
        return None
    if not has_role(user, role):
        return set()
    return department_subtree_ids(official_of(user).department_id)


def ensure_role(user, role: str, department: Department | int | None = None) -> None:
    """Raise PermissionDenied unless ``has_role(user, role, department)``; for services and APIs."""
    if not has_role(user, role, department):
        if _locked_out(user, [role]):
            raise SecondFactorRequired(f"role {role} required; administrator powers are locked")
        raise PermissionDenied(f"role {role} required")


def require_role(*roles: str) -> Callable:
    """View decorator: anonymous users go to the sign-in page; signed-in users holding none of
    ``roles`` (in any department) get the 403 page. Check the department in the view."""
    if not roles:
        raise ValueError("require_role needs at least one role")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(has_role(request.user, r) for r in roles):
                if _locked_out(request.user, roles):
                    return second_factor_redirect(request)
                return forbidden(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def forbidden(request, message: str = ""):
    """The 403 page: what the user tried is not allowed for their account."""
    return render(request, "identity/403.html", {"message": message}, status=403)


def active_agencies() -> QuerySet[EnterpriseAgent]:
    """The one rule of who acts for an enterprise now: not revoked; the enterprise comes from
    the legal-entity register; the person's identity is verified (L2+); a delegation has not
    reached its end date. The legal representative's row is made only when the register names
    them (``services.enterprise_claim``)."""
    return EnterpriseAgent.objects.filter(
        revoked_at__isnull=True,
        enterprise__source=Enterprise.Source.REGISTER,
        person__realname_level__gte=RealNameLevel.REGISTER,
    ).filter(
        Q(role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE)
        | Q(role=EnterpriseAgent.Role.AGENT, valid_until__gte=timezone.localdate())
    )


def agencies_of(user) -> Iterable[EnterpriseAgent]:
    """The enterprises the user's person acts for now, with their role (legal rep or agent)."""
    if not getattr(user, "is_authenticated", False):
        return EnterpriseAgent.objects.none()
    return (
        active_agencies()
        .filter(person__user=user)
        .select_related("enterprise", "granted_by")
        .order_by("enterprise__name")
    )


def may_apply_for(user, enterprise: Enterprise | None) -> bool:
    """Whether ``user`` may apply for services on behalf of ``enterprise`` (its legal
    representative, or a delegate whose scope includes applying). None (for oneself): True."""
    if enterprise is None:
        return True
    return (
        agencies_of(user)
        .filter(enterprise=enterprise)
        .filter(Q(role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE) | Q(scope=EnterpriseAgent.Scope.APPLY))
        .exists()
    )


def is_row_id(value) -> bool:
    """True for a plain decimal that fits a database id (isdigit() also accepts '²')."""
    text = str(value)
    return text.isascii() and text.isdecimal() and 0 < len(text) <= 18


def get_enterprise_for_user(user, pk) -> Enterprise:
    """The enterprise ``pk`` if the user's person acts for it; otherwise 404 (not yours = not there)."""
    agency = agencies_of(user).filter(enterprise_id=pk).first() if is_row_id(pk) else None
    if agency is None:
        raise Http404("no such enterprise")
    return agency.enterprise


def get_agency_for_user(user, enterprise_pk) -> EnterpriseAgent:
    """The user's current agency for the enterprise ``enterprise_pk``; otherwise 404."""
    agency = (
        agencies_of(user).filter(enterprise_id=enterprise_pk).first() if is_row_id(enterprise_pk) else None
    )
    if agency is None:
        raise Http404("no such enterprise")
    return agency


def get_delegation_for_user(user, pk) -> EnterpriseAgent:
    """A delegation the user may see and end: one they hold, or one of an enterprise they are
    the current legal representative of. Otherwise 404 (not yours = not there)."""
    if not is_row_id(pk) or not getattr(user, "is_authenticated", False):
        raise Http404("no such delegation")
    represented = agencies_of(user).filter(role=EnterpriseAgent.Role.LEGAL_REPRESENTATIVE)
    agency = (
        EnterpriseAgent.objects.filter(pk=pk, role=EnterpriseAgent.Role.AGENT)
        .filter(Q(person__user=user) | Q(enterprise_id__in=represented.values("enterprise_id")))
        .select_related("enterprise", "person")
        .first()
    )
    if agency is None:
        raise Http404("no such delegation")
    return agency


def acting_enterprise(request) -> Enterprise | None:
    """The enterprise the signed-in person chose to act for (stored in the session), re-checked
    against the current agent list; a stale choice is dropped."""
    pk = request.session.get(ACTING_ENTERPRISE_SESSION_KEY)
    if pk is None:
        return None
    try:
        return get_enterprise_for_user(request.user, pk)
    except Http404:
        request.session.pop(ACTING_ENTERPRISE_SESSION_KEY, None)
        return None


def can_see_full_id_number(user, purpose: str) -> bool:
    """Only officials holding a clerk, reviewer or approver role, stating a purpose (e.g. "case
    12 acceptance"), may see a full identity number; everybody else sees it masked."""
    if not purpose or not str(purpose).strip():
        return False
    return bool(roles_of(user) & FULL_ID_NUMBER_ROLES)
