"""The gateway's pages on the workbench (/workbench/data/gateway/):

* our API keys — a department's data stewards create a key (shown once, password again) and
  revoke keys; stewards of a department manage the keys of the departments under it too;
* our calls — what our systems and the platform asked on our behalf (the consumer side);
* who used our data — every call made on our resources: who, when, for what purpose, which
  fields, how many rows, and the outcome (the provider side).

The call pages are for the department's data stewards, leaders and auditors. Neither page shows
personal data: a call's record holds field names, never values.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.exchange import credentials, gateway_forms, gateway_selectors
from yiwang.exchange.errors import ExchangeError
from yiwang.exchange.models import CallOutcome
from yiwang.identity.forms import password_confirmed
from yiwang.identity.models import Department
from yiwang.identity.permissions import departments_for, forbidden, has_role

PAGE_SIZE = 50


def _departments(user, roles) -> set[int] | None:
    """Ids of the departments where ``user`` holds any of ``roles`` (None: all)."""
    found: set[int] = set()
    for role in roles:
        ids = departments_for(user, role)
        if ids is None:
            return None
        found |= ids
    return found


def _nav(user) -> dict:
    return {"may_manage_keys": has_role(user, credentials.MANAGE_ROLE)}


def _end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` in the platform's time zone (a key valid until that day)."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


@sensitive_post_parameters("password")
@require_http_methods(["GET", "HEAD", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    """Our API keys: the list, creating one (the key is shown on this answer only), revoking."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    department_ids = _departments(request.user, [credentials.MANAGE_ROLE])
    if department_ids is not None and not department_ids:
        return forbidden(request, _("Only a department's data stewards manage its API keys."))
    departments = Department.objects.order_by("code")
    if department_ids is not None:
        departments = departments.filter(pk__in=department_ids)
    departments = list(departments)
    op = request.POST.get("op", "") if request.method == "POST" else ""
    form = gateway_forms.KeyCreateForm(request.POST if op == "create" else None, departments=departments)
    new_key = None
    status = 200
    if request.method == "POST" and op == "revoke":
        revoke = gateway_forms.KeyRevokeForm(request.POST)
        credential = (
            gateway_selectors.credentials_of(department_ids)
            .filter(pk=revoke.cleaned_data["credential"])
            .first()
            if revoke.is_valid()
            else None
        )
        if credential is None:
            messages.error(request, _("There is no such key of your departments."))
            return redirect("gateway:keys")
        try:
            credentials.credential_revoke(credential=credential, actor=request.user)
        except ExchangeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Key %(prefix)s… revoked: it works no more.") % {"prefix": credential.prefix}
            )
        return redirect("gateway:keys")
    if request.method == "POST" and op != "create":
        messages.error(request, _("Choose to create or to revoke a key."))
        return redirect("gateway:keys")
    if request.method == "POST" and form.is_valid() and password_confirmed(form, request.user):
        expires_on = form.cleaned_data.get("expires_on")
        try:
            new_key = credentials.credential_create(
                department=next(d for d in departments if d.pk == form.cleaned_data["department"]),
                name=form.cleaned_data["name"],
                actor=request.user,
                expires_at=_end_of(expires_on) if expires_on else None,
            )
        except ExchangeError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            form = gateway_forms.KeyCreateForm(departments=departments)
            status = 200
    if form.is_bound and form.errors:
        status = 400
    page = Paginator(gateway_selectors.credentials_of(department_ids), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "exchange/gateway_keys.html",
        {
            **_nav(request.user),
            "form": form,
            "new_key": new_key,
            "page": page,
            "now": timezone.now(),
            "single_department": departments[0] if len(departments) == 1 else None,
        },
        status=status,
    )


def _calls_page(request: HttpRequest, *, side: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    department_ids = _departments(request.user, gateway_selectors.READ_ROLES)
    if department_ids is not None and not department_ids:
        return forbidden(
            request, _("Only a department's data stewards, leaders and auditors read its gateway calls.")
        )
    outcome = request.GET.get("outcome", "")
    if outcome not in CallOutcome.values:
        outcome = ""
    select = gateway_selectors.calls_made if side == "made" else gateway_selectors.calls_on
    page = Paginator(select(department_ids, outcome=outcome), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/gateway_calls.html" if side == "made" else "exchange/gateway_uses.html",
        {**_nav(request.user), "page": page, "outcome": outcome, "outcomes": CallOutcome.choices},
    )


@require_safe
def calls(request: HttpRequest) -> HttpResponse:
    """Our calls: what our department (and those under it) asked through the gateway."""
    return _calls_page(request, side="made")


@require_safe
def uses(request: HttpRequest) -> HttpResponse:
    """Who used our data: every call on our department's resources (and those under it)."""
    return _calls_page(request, side="on")
