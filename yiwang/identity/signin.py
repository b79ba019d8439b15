"""The one door into the platform: the only code that turns a request into a signed-in session.

Pages, the admin site (its login page redirects to ours) and the API (session authentication)
all ride on sessions this module creates, after the sign-in views have throttled the attempt
(``services.login_attempt``), checked the password and, when it is on, the TOTP code. Nothing
else may call ``django.contrib.auth.login`` (a test walks the source to keep it so).

A session that passed the second factor carries ``SECOND_FACTOR_SESSION_KEY`` (the user's id);
``SecondFactorMiddleware`` exposes it on ``request.user`` so that ``permissions`` can keep
administrator powers locked in sessions without it.
"""

from django.contrib.auth import login
from django.contrib.auth.middleware import get_user
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from yiwang.identity import permissions, services
from yiwang.identity.models import User

SECOND_FACTOR_SESSION_KEY = "identity_second_factor"
PENDING_2FA_KEY = "identity_2fa_pending"


def establish_session(request: HttpRequest, user: User, *, method: str, second_factor: bool) -> None:
    """Sign ``user`` in on this request: rotate the session key and CSRF token (``login``),
    remember whether the second factor was passed, forget the account's counted attempts and
    audit ``identity:session:login`` with ``method``. The caller has checked the credentials."""
    login(
        request, user, backend=getattr(user, "backend", None) or "django.contrib.auth.backends.ModelBackend"
    )
    request.session.pop(PENDING_2FA_KEY, None)
    if second_factor:
        request.session[SECOND_FACTOR_SESSION_KEY] = user.pk
    else:
        request.session.pop(SECOND_FACTOR_SESSION_KEY, None)
    setattr(user, permissions.SECOND_FACTOR_ATTR, second_factor)
    services.login_succeeded(user=user, method=method)


def second_factor_confirmed(request: HttpRequest, user: User) -> None:
    """The signed-in user just proved a code of their authenticator in this session (turning
    two-factor sign-in on): mark the session as passed, under a new session key."""
    request.session.cycle_key()
    request.session[SECOND_FACTOR_SESSION_KEY] = user.pk
    setattr(user, permissions.SECOND_FACTOR_ATTR, True)


def second_factor_dropped(request: HttpRequest, user: User) -> None:
    """Two-factor sign-in was turned off: the session no longer counts as having passed it."""
    request.session.pop(SECOND_FACTOR_SESSION_KEY, None)
    setattr(user, permissions.SECOND_FACTOR_ATTR, False)


def _user_with_mark(request: HttpRequest):
    user = get_user(request)  # cached on the request by AuthenticationMiddleware's loader
    if user.is_authenticated:
        passed = request.session.get(SECOND_FACTOR_SESSION_KEY) == user.pk
        setattr(user, permissions.SECOND_FACTOR_ATTR, passed)
    return user


class SecondFactorMiddleware:
    """After AuthenticationMiddleware: ``request.user`` tells whether this session passed the
    second factor (still loaded lazily, so requests that never look at the user pay nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = SimpleLazyObject(lambda: _user_with_mark(request))
        return self.get_response(request)
