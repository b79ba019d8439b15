"""Identity pages: sign in (with a two-factor step), sign out, register, the account page,
two-factor set-up, enterprise registration, acting for an enterprise and role management."""

import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core import throttle
from yiwang.core.middleware import client_ip
from yiwang.identity import forms, permissions, selectors, services, signin
from yiwang.identity.forms import password_confirmed
from yiwang.identity.models import WORKBENCH_ROLES, Official, Role, User
from yiwang.lib.masking import mask_phone

PENDING_2FA_KEY = signin.PENDING_2FA_KEY


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _throttle_message(minutes: int) -> str:
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _complete_login(
    request: HttpRequest, user: User, *, method: str, second_factor: bool, next_url: str
) -> HttpResponse:
    signin.establish_session(request, user, method=method, second_factor=second_factor)
    if permissions.holds_admin_powers(user) and not permissions.second_factor_passed(user):
        return permissions.second_factor_redirect(request)  # its administrator rights stay off
    return redirect(next_url or landing_url(user))


# Where each role's work is, by URL name (identity does not import the apps that serve them).
_LANDINGS = (
    (WORKBENCH_ROLES, "applications:workbench"),
    ((Role.AUDITOR,), "audit:records"),
)


def landing_url(user) -> str:
    """Where a sign-in without ``next`` lands: officials on their work (the workbench, the audit
    records), everybody else on "My account"."""
    roles = permissions.roles_of(user)
    for wanted, url_name in _LANDINGS:
        if roles & set(wanted):
            return resolve_url(url_name)
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _after_password(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    if not user.totp_enabled:
        return _complete_login(request, user, method="password", second_factor=False, next_url=next_url)
    request.session.cycle_key()
    request.session[PENDING_2FA_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "at": time.time(),
        "next": next_url,
    }
    return redirect("identity:login_totp")


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The one sign-in door. Each password try is reserved against the account's and the
    address's limits before the password is checked, so parallel guesses cannot overrun them."""
    next_url = _safe_next(request)
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        attempt = services.login_attempt(username=username, client_ip=client_ip(request))
        if not attempt.allowed:
            form.add_error(None, _throttle_message(attempt.minutes))
            return render(request, "identity/login.html", {"form": form, "next": next_url}, status=429)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            services.login_failed(username=username, step="password", attempt=attempt)
            form.add_error(
                None,
                _throttle_message(attempt.minutes)
                if attempt.remaining <= 0
                else _("The user name or password is wrong."),
            )
        else:
            # A right password is no failure of the address or of the account at large; the
            # attempt from this client stays counted until the sign-in completes (codes are
            # guessable too).
            attempt.give_back("login-address")
            attempt.give_back("login-account")
            return _after_password(request, user, next_url)
    return render(request, "identity/login.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def login_totp_view(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_2FA_KEY)
    user = None
    if pending and time.time() - pending.get("at", 0) <= settings.LOGIN_SECOND_FACTOR_SECONDS:
        user = User.objects.filter(pk=pending.get("user_id"), is_active=True).first()
    if user is None:
        request.session.pop(PENDING_2FA_KEY, None)
        messages.error(request, _("Your sign-in took too long or was not started. Please sign in again."))
        return redirect("identity:login")
    form = forms.TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = services.login_attempt(username=user.username, client_ip=client_ip(request))
        if not attempt.allowed:
            form.add_error("code", _throttle_message(attempt.minutes))
            return render(request, "identity/login_totp.html", {"form": form}, status=429)
        if services.totp_verify(user=user, code=form.cleaned_data["code"]):
            attempt.give_back()  # a right code is no failure of the address
            user.backend = pending["backend"]
            return _complete_login(
                request, user, method="password+totp", second_factor=True, next_url=pending.get("next", "")
            )
        services.login_failed(username=user.username, step="code", attempt=attempt)
        form.add_error(
            "code",
            _throttle_message(attempt.minutes)
            if attempt.remaining <= 0
            else _("That code is not right. Enter the 6 digits your app shows now."),
        )
    return render(request, "identity/login_totp.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.logout_record(user=request.user)
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _registration_throttle_message(minutes: int) -> str:
    return ngettext(
        "Too many registrations from your network. Try again in %(minutes)d minute.",
        "Too many registrations from your network. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@never_cache
@sensitive_post_parameters("password1", "password2", "id_number")
@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Per client, before the service says anything about the number (no enumeration).
        attempt = throttle.attempt(
            (throttle.rule("register"), throttle.normalise_address(client_ip(request)))
        )
        if not attempt.allowed:
            form.add_error(None, _registration_throttle_message(attempt.minutes))
            return render(request, "identity/register.html", {"form": form}, status=429)
        data = form.cleaned_data
        try:
            person = services.person_register(
                name=data["name"],
                id_number=data["id_number"],
                phone=data["phone"],
                username=data["username"],
                password=data["password1"],
                email=data["email"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            signin.establish_session(request, person.user, method="registration", second_factor=False)
            messages.success(
                request,
                _(
                    "Your account is ready and you are signed in. Your identity is self-declared (L1): "
                    "verify it to apply for services."
                ),
            )
            return redirect("identity:account")
    return render(request, "identity/register.html", {"form": form})


@login_required
@require_http_methods(["GET"])
def account_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    person = selectors.person_of(user)
    official = permissions.official_of(user)
    roles = permissions.roles_of(user)
    context = {
        "person": person,
        "phone_masked": mask_phone(person.phone if person else user.phone),
        "agencies": permissions.agencies_of(user),
        "delegations": selectors.delegations_granted_by(person) if person else [],
        "declared_enterprises": selectors.declared_enterprises_of(person) if person else [],
        "account_notices": selectors.account_notices(user),
        "acting": permissions.acting_enterprise(request),
        "official": official,
        "role_abilities": selectors.role_abilities(roles),
        "may_manage_roles": Role.ADMIN in roles,
        "may_check_in_person": Role.CLERK in roles,
        "may_answer_data_questions": Role.DATA_STEWARD in roles,
    }
    return render(request, "identity/account.html", context)


@login_required
@require_POST
def act_as_view(request: HttpRequest) -> HttpResponse:
    """Choose the enterprise to act for (or none). Not an agent of it → 404."""
    pk = request.POST.get("enterprise", "")
    if pk == "":
        request.session.pop(permissions.ACTING_ENTERPRISE_SESSION_KEY, None)
        messages.success(request, _("You now act for yourself."))
    else:
        enterprise = permissions.get_enterprise_for_user(request.user, pk)
        # Ask the register again: a representative it no longer names must not start acting.
        services.enterprise_refresh(enterprise=enterprise, actor=request.user)
        enterprise = permissions.get_enterprise_for_user(request.user, pk)
        request.session[permissions.ACTING_ENTERPRISE_SESSION_KEY] = enterprise.pk
        messages.success(request, _("You now act for %(name)s.") % {"name": enterprise.name})
    return redirect("identity:account")


def _qr_svg(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, title=_("QR code for your authenticator app")
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # noqa: S308 — segno output


@login_required
@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    confirm_form = forms.TotpCodeForm(prefix="confirm")
    disable_form = forms.PasswordConfirmForm(prefix="disable")
    action = request.POST.get("action")
    if request.method == "POST" and action == "begin":
        try:
            services.totp_begin(user=user, actor=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("identity:two_factor")
    if request.method == "POST" and action == "confirm":
        confirm_form = forms.TotpCodeForm(request.POST, prefix="confirm")
        if confirm_form.is_valid():
            try:
                services.totp_enable(user=user, code=confirm_form.cleaned_data["code"], actor=user)
            except ValidationError as exc:
                confirm_form.add_service_errors(exc)
            else:
                signin.second_factor_confirmed(request, user)
                messages.success(
                    request, _("Two-factor sign-in is on. You will need a code each time you sign in.")
                )
                return redirect("identity:account")
    if request.method == "POST" and action == "disable":
        disable_form = forms.PasswordConfirmForm(request.POST, prefix="disable")
        if disable_form.is_valid():
            try:
                services.totp_disable(user=user, password=disable_form.cleaned_data["password"], actor=user)
            except ValidationError as exc:
                disable_form.add_service_errors(exc)
            else:
                update_session_auth_hash(request, user)
                signin.second_factor_dropped(request, user)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("identity:account")
    secret = None if user.totp_enabled else services.totp_secret_of(user)
    context = {
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) if secret else "",
        "qr_svg": _qr_svg(services.totp_provisioning_uri(user, secret)) if secret else "",
        "confirm_form": confirm_form,
        "disable_form": disable_form,
    }
    return render(request, "identity/two_factor.html", context)


@login_required
@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            update_session_auth_hash(request, request.user)  # keep this session; other sessions end
            messages.success(request, _("Your password is changed."))
            return redirect("identity:account")
    return render(request, "identity/password_change.html", {"form": form})


@login_required
@never_cache
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    """Raise one's real-name level to L2 by checking name and number with the population register."""
    person = selectors.person_of(request.user)
    if person is None:
        return permissions.forbidden(request, _("Only a person's account has a real-name identity."))
    if person.is_verified:
        messages.info(request, _("Your identity is already verified."))
        return redirect("identity:account")
    form = forms.RealNameForm(request.POST or None, initial={"name": person.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.person_verify(person=person, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your identity is verified (L2). You can now apply for services."))
            return redirect(_safe_next(request) or "identity:account")
    return render(
        request,
        "identity/verify.html",
        {"form": form, "person": person, "attempts_left": services.realname_attempts_left(request.user)},
    )


@permissions.require_role(Role.CLERK)
@never_cache
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def verify_in_person_view(request: HttpRequest) -> HttpResponse:
    """A clerk at a service hall checks a person's identity card (L3)."""
    form = forms.InPersonCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = selectors.person_of_username(data["username"])
        if person is None:
            form.add_error("username", _("No person's account has this user name."))
        else:
            try:
                services.person_verify_in_person(
                    person=person, name=data["name"], id_number=data["id_number"], actor=request.user
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied:
                form.add_error(None, _("You cannot check your own identity."))
            else:
                messages.success(request, _("The identity is checked in person (L3)."))
                return redirect("identity:verify_in_person")
    return render(request, "identity/verify_in_person.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_register_view(request: HttpRequest) -> HttpResponse:
    """Act for an enterprise as its legal representative, as the legal-entity register names."""
    person = selectors.person_of(request.user)
    if person is None:
        return permissions.forbidden(
            request, _("Only a person with a real-name account can act for an enterprise.")
        )
    form = forms.EnterpriseClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_claim(
                person=person, credit_code=form.cleaned_data["credit_code"], actor=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("The register names you as legal representative of %(name)s; you can act for it.")
                % {"name": enterprise.name},
            )
            return redirect("identity:account")
    return render(request, "identity/enterprise_register.html", {"form": form, "person": person})


@login_required
@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def delegation_new_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The legal representative delegates someone to act for the enterprise (授权委托)."""
    agency = permissions.get_agency_for_user(request.user, pk)
    if agency.role != agency.Role.LEGAL_REPRESENTATIVE:
        raise Http404("not the legal representative")
    form = forms.DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_grant(enterprise=agency.enterprise, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied:
            messages.error(
                request, _("The legal-entity register no longer names you as legal representative.")
            )
            return redirect("identity:account")
        else:
            messages.success(request, _("The delegation is granted. The agent sees it on their account."))
            return redirect("identity:account")
    return render(request, "identity/delegation_new.html", {"form": form, "enterprise": agency.enterprise})


@login_required
@require_POST
def delegation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """End a delegation (the legal representative, or the delegate giving it up). Not theirs → 404."""
    agency = permissions.get_delegation_for_user(request.user, pk)
    try:
        services.delegation_revoke(agency=agency, actor=request.user)
    except PermissionDenied:
        raise Http404("no such delegation") from None
    messages.success(request, _("The delegation has ended."))
    return redirect("identity:account")


@permissions.require_role(Role.ADMIN)
@require_http_methods(["GET"])
def officials_view(request: HttpRequest) -> HttpResponse:
    official = permissions.official_of(request.user)
    if official is None:  # a superuser without an official record: use the admin site
        return redirect("admin:identity_official_changelist")
    rows = [
        {
            "official": o,
            "roles": sorted(g.role for g in o.roles.all()),
            "may_change": o.user_id != request.user.pk,
        }
        for o in selectors.officials_in_scope(official.department)
    ]
    return render(
        request,
        "identity/officials.html",
        {"rows": rows, "form": forms.RoleChangeForm(), "department": official.department},
    )


@permissions.require_role(Role.ADMIN)
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def official_roles_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Grant or revoke one role; needs the acting administrator's password (re-authentication)."""
    if action not in {"grant", "revoke"}:
        raise Http404("unknown action")
    target = get_object_or_404(Official.objects.select_related("user", "department"), pk=pk)
    if not services.is_role_admin_for(request.user, target):
        raise Http404("not in your departments")
    form = forms.RoleChangeForm(request.POST or None, initial={"role": request.GET.get("role", "")})
    if request.method == "POST" and form.is_valid() and password_confirmed(form, request.user):
        change = services.role_grant if action == "grant" else services.role_revoke
        try:
            change(official=target, role=form.cleaned_data["role"], actor=request.user)
        except PermissionDenied:
            raise Http404("not in your departments") from None
        messages.success(request, _("Roles of %(name)s updated.") % {"name": target.user})
        warning = selectors.separation_of_duties_warning(target.roles.values_list("role", flat=True))
        if warning and action == "grant":
            messages.warning(request, warning)
        return redirect("identity:officials")
    return render(request, "identity/official_roles.html", {"form": form, "target": target, "action": action})
