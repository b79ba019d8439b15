"""Pages of the data sharing exchange for officials, under ``/workbench/data/``: the resource
catalog (search, one resource, register, edit, load rows, request), requests in and out (decide,
withdraw), grants (revoke), and the information systems and data demands inventories.

Every page needs an official (or a platform administrator); what each may see and change is
``permissions``'s; every change is one service call.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.exchange import forms, permissions, services
from yiwang.exchange.errors import ExchangeError, InvalidInput
from yiwang.exchange.models import (
    DataResource,
    DemandState,
    RequestState,
    ResourceKind,
    ResourceState,
    ShareClass,
)
from yiwang.exchange.selectors import search_resources
from yiwang.identity.forms import password_confirmed
from yiwang.identity.permissions import forbidden

PAGE_SIZE = 50
GET_POST = ["GET", "HEAD", "POST"]


def require_official(view):
    """Anonymous visitors sign in; signed-in people who are not officials get the 403 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not permissions.is_official(request.user):
            return forbidden(request, _("The data sharing exchange is for officials."))
        return view(request, *args, **kwargs)

    return wrapped


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _linkable(user, resource: DataResource) -> bool:
    """Whether a link to the resource's page works for the user."""
    return resource.state == ResourceState.PUBLISHED or permissions.may_manage_resource(user, resource)


# --- the catalog -------------------------------------------------------------------------------


@require_official
@require_safe
def resources(request: HttpRequest) -> HttpResponse:
    """The resource catalog: search by text, provider, kind, share class and state."""
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    share = request.GET.get("share_class", "")
    state = request.GET.get("state", "")
    qs = search_resources(
        permissions.visible_resources(request.user),
        q=q,
        kind=kind if kind in ResourceKind.values else "",
        share_class=share if share in ShareClass.values else "",
        state=state if state in ResourceState.values else "",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/resources.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "share_class": share,
            "state": state,
            "kinds": ResourceKind.choices,
            "share_classes": ShareClass.choices,
            "states": ResourceState.choices,
            "may_register": permissions.is_steward(request.user),
        },
    )


@require_official
@require_http_methods(GET_POST)
def resource(request: HttpRequest, code: str) -> HttpResponse:
    """One resource: its description, fields, rows loaded, grants in force; for its stewards,
    publish and retire."""
    res = permissions.get_resource_for_user(request.user, code, for_write=request.method == "POST")
    form = forms.ResourceActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["action"] == "publish":
                services.resource_publish(actor=request.user, resource=res)
                messages.success(request, _("%(code)s is published.") % {"code": res.code})
            else:
                services.resource_retire(actor=request.user, resource=res, reason=form.cleaned_data["reason"])
                messages.success(request, _("%(code)s is retired.") % {"code": res.code})
            return redirect("exchange:resource", code=res.code)
        except ExchangeError as exc:
            forms.add_errors(form, exc)
    manage = permissions.may_manage_resource(request.user, res)
    return render(
        request,
        "exchange/resource.html",
        {
            "resource": res,
            "fields": res.fields.all(),
            "form": form,
            "may_manage": manage,
            "may_request": res.state == ResourceState.PUBLISHED
            and res.share_class != ShareClass.NONE
            and permissions.own_department(request.user) is not None
            and permissions.own_department(request.user).pk != res.provider_id,
            "grants": permissions.grants_visible(request.user).filter(resource=res)[:50],
        },
        status=_status(form),
    )


def _steward_departments(user):
    from yiwang.identity.models import Department

    ids = permissions.stewarded_ids(user)
    qs = Department.objects.all() if ids is None else Department.objects.filter(pk__in=ids or [])
    return qs.order_by("code")


@require_official
@require_http_methods(GET_POST)
def resource_new(request: HttpRequest) -> HttpResponse:
    """Register a resource of a department the steward looks after."""
    if not permissions.is_steward(request.user):
        return forbidden(request, _("Only data stewards register resources."))
    departments = list(_steward_departments(request.user)[:500])
    form = forms.ResourceForm(request.POST or None)
    form.fields["provider"] = forms.forms.ChoiceField(
        label=_("Provider"), choices=[(d.code, f"{d.name} ({d.code})") for d in departments]
    )
    form.order_fields(["provider"])
    own = permissions.own_department(request.user)
    if own is not None and not form.is_bound:
        form.initial["provider"] = own.code
    if request.method == "POST" and form.is_valid():
        provider = next(d for d in departments if d.code == form.cleaned_data["provider"])
        try:
            res = services.resource_register(
                actor=request.user,
                provider=provider,
                data=form.resource_data(),
                fields=form.cleaned_data["field_specs"],
            )
        except ExchangeError as exc:
            forms.add_errors(form, exc, fields_field="fields_text")
        else:
            messages.success(request, _("%(code)s is registered as a draft.") % {"code": res.code})
            return redirect("exchange:resource", code=res.code)
    return render(
        request, "exchange/resource_form.html", {"form": form, "resource": None}, status=_status(form)
    )


@require_official
@require_http_methods(GET_POST)
def resource_edit(request: HttpRequest, code: str) -> HttpResponse:
    res = permissions.get_resource_for_user(request.user, code, for_write=True)
    form = forms.ResourceForm(request.POST or None, initial=forms.ResourceForm.initial_for(res), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.resource_update(
                actor=request.user,
                resource=res,
                data=form.resource_data(),
                fields=form.cleaned_data["field_specs"],
            )
        except ExchangeError as exc:
            forms.add_errors(form, exc, fields_field="fields_text")
        else:
            messages.success(request, _("%(code)s is saved.") % {"code": res.code})
            return redirect("exchange:resource", code=res.code)
    return render(
        request, "exchange/resource_form.html", {"form": form, "resource": res}, status=_status(form)
    )


@require_official
@require_http_methods(GET_POST)
def resource_rows(request: HttpRequest, code: str) -> HttpResponse:
    """Load the rows of a table resource from a CSV or XLSX file (all or nothing)."""
    res = permissions.get_resource_for_user(request.user, code, for_write=True)
    form = forms.RowsForm(request.POST or None, request.FILES or None)
    cell_errors: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > services.tables.MAX_BYTES:
            form.add_error("file", _("The file is too large."))
        else:
            try:
                n = services.resource_load_rows(
                    actor=request.user, resource=res, content=upload.read(), filename=upload.name
                )
            except ExchangeError as exc:
                form.add_error("file", exc.message)
                cell_errors = [(k, v) for k, v in exc.errors.items() if k != "file"]
            else:
                messages.success(request, _("%(n)d rows loaded into %(code)s.") % {"n": n, "code": res.code})
                return redirect("exchange:resource", code=res.code)
    return render(
        request,
        "exchange/resource_rows.html",
        {"form": form, "resource": res, "fields": res.fields.all(), "cell_errors": cell_errors},
        status=_status(form),
    )


@require_official
@require_http_methods(GET_POST)
def resource_request(request: HttpRequest, code: str) -> HttpResponse:
    """Request fields of a published resource for the official's department."""
    res = permissions.get_resource_for_user(request.user, code)
    consumer = permissions.own_department(request.user)
    if consumer is None:
        return forbidden(request, _("Only an official of a department requests data for it."))
    form = forms.RequestForm(request.POST or None, resource=res)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.access_request(
                actor=request.user,
                resource=res,
                consumer=consumer,
                fields=form.cleaned_data["fields"],
                purpose=form.cleaned_data["purpose"],
                legal_basis=form.cleaned_data["legal_basis"],
                valid_until=form.cleaned_data["valid_until"],
            )
        except ExchangeError as exc:
            forms.add_errors(form, exc)
        else:
            if req.state == RequestState.APPROVED:
                messages.success(request, _("Granted at once: the resource is shared unconditionally."))
            else:
                messages.success(request, _("Requested: the provider's data steward decides."))
            return redirect("exchange:request", pk=req.pk)
    return render(
        request,
        "exchange/request_form.html",
        {"form": form, "resource": res, "consumer": consumer},
        status=_status(form),
    )


@sensitive_post_parameters("password")
@require_official
@require_http_methods(GET_POST)
def resource_grant(request: HttpRequest, code: str) -> HttpResponse:
    """A steward of the provider grants a department fields directly (a standing grant for the
    platform's forms and rules, say); password again."""
    from yiwang.identity.models import Department

    res = permissions.get_resource_for_user(request.user, code, for_write=True)
    form = forms.GrantForm(request.POST or None, resource=res)
    if request.method == "POST" and form.is_valid():
        consumer = Department.objects.filter(code=form.cleaned_data["consumer"].strip()).first()
        if consumer is None:
            form.add_error("consumer", _("No department has this code."))
        elif password_confirmed(form, request.user):  # else the error is on the form
            try:
                g = services.grant_create(
                    actor=request.user,
                    resource=res,
                    consumer=consumer,
                    fields=form.cleaned_data["fields"],
                    purpose=form.cleaned_data["purpose"],
                    valid_until=form.cleaned_data["valid_until"],
                    standing=form.cleaned_data["standing"],
                    unmasked_fields=form.cleaned_data["unmasked_fields"],
                )
            except ExchangeError as exc:
                forms.add_errors(form, exc)
            else:
                messages.success(request, _("Granted to %(dept)s.") % {"dept": consumer.name})
                return redirect("exchange:grant", pk=g.pk)
    return render(request, "exchange/grant_form.html", {"form": form, "resource": res}, status=_status(form))


# --- requests ----------------------------------------------------------------------------------


@require_official
@require_safe
def requests(request: HttpRequest) -> HttpResponse:
    """Requests for data the official stewards (in) and of the official's department (out)."""
    visible = permissions.requests_visible(request.user)
    own = permissions.own_department(request.user)
    ids = permissions.stewarded_ids(request.user)
    incoming = visible if ids is None else visible.filter(resource__provider_id__in=ids)
    outgoing = visible.filter(consumer=own) if own is not None else visible.none()
    state = request.GET.get("state", "")
    if state in RequestState.values:
        incoming, outgoing = incoming.filter(state=state), outgoing.filter(state=state)
    return render(
        request,
        "exchange/requests.html",
        {
            "incoming": incoming[:100] if ids is None or ids else [],
            "outgoing": outgoing[:100],
            "is_steward": permissions.is_steward(request.user),
            "state": state,
            "states": RequestState.choices,
        },
    )


@sensitive_post_parameters("password")
@require_official
@require_http_methods(GET_POST)
def request_page(request: HttpRequest, pk: str) -> HttpResponse:
    """One request; the provider's steward decides it (password again to approve), the
    consumer's official withdraws it."""
    req = permissions.get_request_for_user(request.user, pk)
    may_decide = permissions.may_manage_resource(request.user, req.resource)
    may_withdraw = permissions.may_act_for_department(request.user, req.consumer_id)
    form = forms.DecideForm(request.POST if request.method == "POST" else None, request_obj=req)
    if request.method == "POST" and "withdraw" in request.POST:
        if not may_withdraw:
            raise Http404
        try:
            services.request_withdraw(actor=request.user, request=req)
            messages.success(request, _("The request is withdrawn."))
        except ExchangeError as exc:
            messages.error(request, exc.message)
        return redirect("exchange:request", pk=req.pk)
    if request.method == "POST":
        if not may_decide:
            raise Http404
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            if not approve or password_confirmed(form, request.user):  # else the error is on the form
                try:
                    services.request_decide(
                        actor=request.user,
                        request=req,
                        approve=approve,
                        reason=form.cleaned_data["reason"],
                        unmasked_fields=form.cleaned_data["unmasked_fields"],
                    )
                except ExchangeError as exc:
                    forms.add_errors(form, exc)
                else:
                    messages.success(request, _("The request is decided."))
                    return redirect("exchange:request", pk=req.pk)
    return render(
        request,
        "exchange/request.html",
        {
            "req": req,
            "form": form,
            "grant": getattr(req, "grant", None) if req.state == RequestState.APPROVED else None,
            "may_decide": may_decide and req.state == RequestState.PENDING,
            "may_withdraw": may_withdraw and req.state == RequestState.PENDING,
            "resource_link": _linkable(request.user, req.resource),
        },
        status=_status(form),
    )


# --- grants ------------------------------------------------------------------------------------


@require_official
@require_safe
def grants(request: HttpRequest) -> HttpResponse:
    """Grants to the official's department and of the resources they steward."""
    qs = permissions.grants_visible(request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/grants.html", {"page": page})


@sensitive_post_parameters("password")
@require_official
@require_http_methods(GET_POST)
def grant(request: HttpRequest, pk: str) -> HttpResponse:
    """One grant; the provider's steward revokes it (reason and password again)."""
    g = permissions.get_grant_for_user(request.user, pk, for_write=request.method == "POST")
    form = forms.RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and password_confirmed(form, request.user):
        try:
            services.grant_revoke(actor=request.user, grant=g, reason=form.cleaned_data["reason"])
        except ExchangeError as exc:
            forms.add_errors(form, exc)
        else:
            messages.success(request, _("The grant is revoked."))
            return redirect("exchange:grant", pk=g.pk)
    return render(
        request,
        "exchange/grant.html",
        {
            "grant": g,
            "form": form,
            "may_revoke": g.revoked_at is None and permissions.may_manage_resource(request.user, g.resource),
            "resource_link": _linkable(request.user, g.resource),
        },
        status=_status(form),
    )


# --- inventories -------------------------------------------------------------------------------


@require_official
@require_http_methods(GET_POST)
def systems(request: HttpRequest) -> HttpResponse:
    """The information systems inventory; a data steward adds a system of their department."""
    own = permissions.own_department(request.user)
    may_add = own is not None and permissions.may_manage_department(request.user, own)
    form = forms.SystemForm(request.POST or None)
    if request.method == "POST":
        if not may_add:
            return forbidden(request, _("Only a data steward of the department keeps its systems inventory."))
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in ("name", "description", "network", "contact")}
            try:
                services.system_register(
                    actor=request.user, department=own, code=form.cleaned_data["code"], data=data
                )
            except ExchangeError as exc:
                forms.add_errors(form, exc)
            else:
                messages.success(request, _("The system is added to the inventory."))
                return redirect("exchange:systems")
    qs = permissions.systems_visible(request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/systems.html",
        {"page": page, "form": form, "may_add": may_add},
        status=_status(form),
    )


@require_official
@require_http_methods(GET_POST)
def system(request: HttpRequest, pk: str) -> HttpResponse:
    """One information system; its department's data stewards keep it up to date."""
    s = permissions.get_system_for_user(request.user, pk, for_write=request.method == "POST")
    initial = {k: getattr(s, k) for k in ("name", "description", "network", "contact", "is_active")}
    form = forms.SystemEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.system_update(actor=request.user, system=s, data=form.cleaned_data)
        except ExchangeError as exc:
            forms.add_errors(form, exc)
        else:
            messages.success(request, _("The system is saved."))
            return redirect("exchange:system", pk=s.pk)
    return render(
        request,
        "exchange/system.html",
        {
            "system": s,
            "form": form,
            "may_edit": permissions.may_manage_department(request.user, s.department_id),
            "resources": [r for r in s.resources.select_related("provider") if _linkable(request.user, r)],
        },
        status=_status(form),
    )


@require_official
@require_http_methods(GET_POST)
def demands(request: HttpRequest) -> HttpResponse:
    """The data demands inventory; any official files a demand of their department."""
    own = permissions.own_department(request.user)
    form = forms.DemandForm(request.POST or None)
    if request.method == "POST":
        if own is None:
            return forbidden(request, _("Only an official of a department files its demands."))
        if form.is_valid():
            try:
                demand = services.demand_file(actor=request.user, department=own, **form.cleaned_data)
            except ExchangeError as exc:
                forms.add_errors(form, exc)
            else:
                messages.success(request, _("The demand is filed."))
                return redirect("exchange:demand", pk=demand.pk)
    qs = permissions.demands_visible(request.user)
    state = request.GET.get("state", "")
    if state in DemandState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/demands.html",
        {
            "page": page,
            "form": form,
            "may_file": own is not None,
            "state": state,
            "states": DemandState.choices,
        },
        status=_status(form),
    )


@require_official
@require_http_methods(GET_POST)
def demand(request: HttpRequest, pk: str) -> HttpResponse:
    """One demand with the resources matched to it; its department's officials (or the
    resource's stewards) match a resource; its department's officials close it."""
    d = permissions.get_demand_for_user(request.user, pk)
    own_demand = permissions.may_act_for_department(request.user, d.department_id)
    form = forms.DemandActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["action"] == "close":
                if not own_demand:
                    raise Http404
                services.demand_update(actor=request.user, demand=d, close=True)
                messages.success(request, _("The demand is closed."))
            else:
                code = (form.cleaned_data["resource"] or "").strip().upper()
                res = permissions.visible_resources(request.user).filter(code=code).first() if code else None
                if res is None:
                    raise InvalidInput(
                        _("Unknown resource."),
                        {"resource": _("Resource code: no published resource has this code.")},
                    )
                services.demand_match(actor=request.user, demand=d, resource=res)
                messages.success(request, _("%(code)s is matched to the demand.") % {"code": res.code})
            return redirect("exchange:demand", pk=d.pk)
        except ExchangeError as exc:
            forms.add_errors(form, exc)
    matched = [(r, _linkable(request.user, r)) for r in d.matched_resources.select_related("provider")]
    return render(
        request,
        "exchange/demand.html",
        {
            "demand": d,
            "matched": matched,
            "form": form,
            "may_act": d.state != DemandState.CLOSED and (own_demand or permissions.is_steward(request.user)),
            "may_close": d.state != DemandState.CLOSED and own_demand,
        },
        status=_status(form),
    )
