"""Pages and public endpoints of licences: issuer metadata and status lists (for any verifier),
the public verify page, and the departments' licence pages.

Who may use the department pages: approvers manage their department's licences (and those of
departments under it); leaders read the list; department administrators rotate the signing key;
platform administrators keep the trust list. See ``services.MANAGE_ROLE``.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.identity import selectors as identity_selectors
from yiwang.identity.forms import password_confirmed
from yiwang.identity.models import Department, Role
from yiwang.identity.permissions import forbidden, has_role, is_superuser, official_of, require_role
from yiwang.lib.masking import mask_id_number, mask_name
from yiwang.lib.uscc import validate_credit_code
from yiwang.licences import fetch, forms, permissions, presentations, selectors, services
from yiwang.licences.models import IssuerKey, Licence, LicenceType, StatusList, TrustedIssuer

PAGE_SIZE = 50


# --- public endpoints for verifiers ------------------------------------------------------------


def _issuer_department(code: str) -> Department:
    department = identity_selectors.department_by_code(code)
    if department is None or not IssuerKey.objects.filter(department=department).exists():
        raise Http404("not an issuer")
    return department


@require_safe
def issuer_metadata(request: HttpRequest, code: str) -> HttpResponse:
    """SD-JWT VC issuer metadata (``/.well-known/jwt-vc-issuer/licences/issuers/<code>``): the
    issuer URL and every key the department ever signed with (retired ones verify old licences)."""
    department = _issuer_department(code)
    body = services.issuer_metadata(department)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def issuer(request: HttpRequest, code: str) -> HttpResponse:
    """The issuer URL itself answers with the same metadata (clients that skip the well-known path)."""
    return issuer_metadata(request, code)


@require_safe
def status_list(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """The signed status list token (``application/statuslist+jwt``), cacheable for its ttl, with
    an ETag so a verifier's conditional request costs nothing when nothing changed."""
    lst = get_object_or_404(
        StatusList.objects.select_related("department"), department__code=code, number=number
    )
    token = services.status_list_token(lst)
    etag = '"' + hashlib.sha256(token.encode("ascii")).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(token, content_type="application/statuslist+jwt")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={services.status_ttl()}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def claim_rows(vct: str, claims: dict) -> list[dict]:
    """Disclosed claims with their labels (``中文 | English``) in the type's order; claims of a
    type this deployment does not know are shown under their own names."""
    lt = LicenceType.objects.filter(vct=vct).first()
    hidden = {"iss", "vct", "iat", "nbf", "exp"}
    rows = [
        {"name": spec["name"], "label": f"{spec['zh']} | {spec['en']}", "value": claims[spec["name"]]}
        for spec in (lt.claims if lt else [])
        if spec["name"] in claims
    ]
    known = {r["name"] for r in rows}
    for name, value in claims.items():
        if name not in known and name not in hidden:
            rows.append({"name": name, "label": name, "value": value})
    return rows


@require_http_methods(["GET", "HEAD", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Anyone pastes a licence, a presentation or the text of a 亮证 QR code and gets the verdict,
    the issuer and only the claims the holder disclosed. Nothing is stored, except that a QR
    code's presentation is used up when it is read (audited, see presentations.verify_text)."""
    form = forms.VerifyForm(request.POST or None)
    result = rows = licence_type = None
    if request.method == "POST" and form.is_valid():
        result = presentations.verify_text(
            form.cleaned_data["credential"], selectors.DatabaseTrust(fetch=fetch.http_get), actor=request.user
        )
        rows = claim_rows(result.vct, result.claims)
        licence_type = LicenceType.objects.filter(vct=result.vct).first() if result.vct else None
    status_code = 200 if request.method == "GET" or form.is_valid() else 400
    return render(
        request,
        "licences/verify.html",
        {"form": form, "result": result, "rows": rows, "licence_type": licence_type},
        status=status_code,
    )


# --- department pages --------------------------------------------------------------------------


def holder_label(licence: Licence) -> str:
    """The holder as officials' lists show it: an enterprise by name and code (public register
    data), a person masked."""
    if licence.holder_enterprise_id:
        return f"{licence.holder_enterprise.name}（{licence.holder_enterprise.credit_code}）"
    person = licence.holder_person
    return f"{mask_name(person.name)}（{person.id_number_masked}）"


def _masked(spec: dict, value) -> str:
    if not spec.get("personal"):
        return str(value)
    text = str(value)
    return mask_id_number(text) if len(text) == 18 else mask_name(text)


@require_role(*services.READ_ROLES)
@require_safe
def department_list(request: HttpRequest) -> HttpResponse:
    """The licences of the official's departments, newest first, filtered by state or number."""
    qs = selectors.department_licences(permissions.readable_department_ids(request.user))
    state = request.GET.get("state", "")
    if state in Licence.State.values:
        qs = qs.filter(state=state)
    q = request.GET.get("q", "").strip()[:40]
    if q:
        qs = qs.filter(number__icontains=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"licence": lic, "holder": holder_label(lic)} for lic in page.object_list]
    return render(
        request,
        "licences/department_list.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "q": q,
            "states": Licence.State.choices,
            "may_issue": has_role(request.user, services.MANAGE_ROLE),
            "may_rotate": has_role(request.user, services.KEY_ROLE),
        },
    )


ACTION_SERVICES = {
    "suspend": services.licence_suspend,
    "reinstate": services.licence_reinstate,
    "revoke": services.licence_revoke,
}


@sensitive_post_parameters("password")
@require_role(*services.READ_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def department_licence(request: HttpRequest, pk) -> HttpResponse:
    """One licence of the department: its record, claims (personal ones masked) and, for
    approvers, suspend / reinstate / revoke (password again) / renew."""
    licence = permissions.get_department_licence_for_user(
        request.user, pk, for_write=request.method == "POST"
    )
    form = forms.ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
        if action != "revoke" or password_confirmed(form, request.user):  # else the error is on the form
            try:
                if action == "renew":
                    new = services.licence_renew(licence=licence, actor=request.user, reason=reason)
                    messages.success(request, _("Renewed as %(number)s.") % {"number": new.number})
                    return redirect("licences:department_licence", pk=new.pk)
                ACTION_SERVICES[action](licence=licence, actor=request.user, reason=reason)
                messages.success(request, _("Licence %(number)s updated.") % {"number": licence.number})
                return redirect("licences:department_licence", pk=licence.pk)
            except services.LicenceError as exc:
                form.add_error("reason" if "reason" in exc.errors else None, exc.message)
            except PermissionDenied:
                raise Http404 from None
    claims = services.licence_claims(licence)
    claim_list = [
        {"label": f"{s['zh']} | {s['en']}", "value": _masked(s, claims[s["name"]]), "sd": s.get("sd")}
        for s in licence.type.claims
        if s["name"] in claims
    ]
    return render(
        request,
        "licences/department_licence.html",
        {
            "licence": licence,
            "holder": holder_label(licence),
            "claims": claim_list,
            "form": form,
            "may_manage": services.may_manage(request.user, licence),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _holder_for(text: str):
    text = text.strip().upper()
    try:
        code = validate_credit_code(text)
    except ValidationError:
        try:
            return identity_selectors.person_lookup_by_id_number(text)
        except ValidationError:
            return None
    enterprise = identity_selectors.enterprise_by_credit_code(code)
    return enterprise if enterprise is not None and enterprise.from_register else None


@require_role(services.MANAGE_ROLE)
@require_http_methods(["GET", "HEAD", "POST"])
def issue(request: HttpRequest) -> HttpResponse:
    """Issue a licence by hand (补发、存量证照电子化): choose the type, then the holder (from the
    registers, by number), the fields the register does not give, and the reason."""
    official = official_of(request.user)
    if official is None:
        return forbidden(request)
    kind = services.department_kind(official.department)
    choices = [lt for lt in selectors.licence_types() if kind in lt.issuer_kinds]
    licence_type = next((lt for lt in choices if lt.code == request.GET.get("type", "")), None)
    if licence_type is None:
        return render(request, "licences/issue_choose.html", {"types": choices}, status=200)
    form = forms.issue_form(licence_type)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        holder = _holder_for(form.cleaned_data["holder"])
        if holder is None:
            form.add_error("holder", _("No verified person or registered enterprise has this number."))
        else:
            claims = {
                name.removeprefix("claim_"): value
                for name, value in form.cleaned_data.items()
                if name.startswith("claim_") and value
            }
            try:
                licence = services.licence_issue_manual(
                    licence_type=licence_type,
                    holder=holder,
                    claims=claims,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except services.LicenceError as exc:
                for field, message in exc.errors.items():
                    target = f"claim_{field}" if f"claim_{field}" in form.fields else None
                    form.add_error(target if target else None, message)
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Licence %(number)s issued.") % {"number": licence.number})
                return redirect("licences:department_licence", pk=licence.pk)
    return render(
        request,
        "licences/issue.html",
        {"form": form, "licence_type": licence_type},
        status=400 if form.is_bound and form.errors else 200,
    )


@sensitive_post_parameters("password")
@require_role(services.KEY_ROLE)
@require_http_methods(["GET", "HEAD", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    """The department's signing keys; the administrator rotates the key (password again)."""
    official = official_of(request.user)
    if official is None:
        return forbidden(request)
    department = official.department
    form = forms.RotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and password_confirmed(form, request.user):
        key = services.issuer_key_rotate(
            department=department, actor=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("New signing key %(kid)s in use.") % {"kid": key.kid})
        return redirect("licences:keys")
    return render(
        request,
        "licences/keys.html",
        {
            "department": department,
            "keys": IssuerKey.objects.filter(department=department).order_by("-created_at"),
            "form": form,
            "metadata": services.metadata_url(services.issuer_url(department)),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def trusted_issuers(request: HttpRequest) -> HttpResponse:
    """The trust list (跨域互认) of platform administrators: add another deployment's issuer, whose
    metadata and keys are fetched now, once, and recorded with their thumbprints."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    if not is_superuser(request.user):
        return forbidden(request)
    form = forms.TrustedIssuerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            trusted = services.trusted_issuer_add(
                issuer=form.cleaned_data["issuer"],
                name=form.cleaned_data["name"],
                actor=request.user,
                fetch=fetch.http_get,
            )
        except services.LicenceError as exc:
            form.add_error("issuer", exc.message)
        else:
            messages.success(request, _("%(name)s is trusted now.") % {"name": trusted.name})
            return redirect("licences:trusted_issuers")
    return render(
        request,
        "licences/trusted_issuers.html",
        {"form": form, "issuers": TrustedIssuer.objects.all(), "role": Role.ADMIN},
        status=400 if form.is_bound and form.errors else 200,
    )
