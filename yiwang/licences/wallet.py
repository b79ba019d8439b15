"""The holder's pages (证照夹 and 亮证) and the public link a QR code points to.

Every page but the link needs a signed-in holder and reads licences only through
``selectors.licences_for_user`` / ``permissions.get_licence_for_user`` (not theirs: 404).
The sealed PDF of a licence (``PDF_DOWNLOAD_URL``, made by licence_pdf.py / pdf_views.py) is
linked from the licence page while the licence is in force.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.lib import bilingual
from yiwang.lib.masking import mask_id_number, mask_name
from yiwang.licences import permissions, presentations, selectors, services
from yiwang.licences.models import Licence

# The e-seal part's URL name for a licence's sealed PDF (kwargs ``pk``); shown once it resolves.
PDF_DOWNLOAD_URL = "licences:licence_pdf"
VERIFY_URL = "licences:verify"  # the public verify page (licences core)
ID_SOURCES = frozenset({"person.id_number", "holder.identifier"})
NAME_SOURCES = frozenset({"person.name", "holder.name", "enterprise.legal_representative"})
STATE_CLASS = {"valid": "ok", "expired": "warn", "suspended": "warn", "revoked": "bad"}


def masked(spec: dict, value) -> str:
    """A personal claim as the wallet shows it before the holder asks to see it in full."""
    text = "" if value is None else str(value)
    source = spec.get("from", "")
    if source in ID_SOURCES or (len(text) == 18 and text[:17].isdigit()):
        return mask_id_number(text)
    if source in NAME_SOURCES:
        return mask_name(text)
    if source == "person.birth_date":
        return "****-**-**"
    return text[:3] + "*" * min(max(len(text) - 3, 1), 8)


def _display(value) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return "" if value is None else str(value)


def claim_rows(licence: Licence, *, reveal: bool) -> list[dict]:
    """The licence's claims in its type's order, labelled ``中文 | English``; personal ones
    masked unless ``reveal``."""
    claims = services.licence_claims(licence)
    rows = []
    for spec in licence.type.claims:
        if spec["name"] not in claims:
            continue
        value = _display(claims[spec["name"]])
        personal = bool(spec.get("personal"))
        rows.append(
            {
                "name": spec["name"],
                "label": f"{spec['zh']} | {spec['en']}",
                "value": value if reveal or not personal else masked(spec, value),
                "personal": personal,
                "sd": bool(spec.get("sd")),
            }
        )
    return rows


def holder_label(licence: Licence) -> str:
    if licence.holder_enterprise_id:
        return licence.holder_enterprise.name
    return _("Myself")


def pdf_url(licence: Licence) -> str | None:
    """The sealed PDF's address once the e-seal part provides it, else None (no link shown)."""
    try:
        return reverse(PDF_DOWNLOAD_URL, kwargs={"pk": licence.pk})
    except NoReverseMatch:
        return None


# What a card of the wallet shows (nothing encrypted, no JSON decoded per row).
LIST_FIELDS = (
    "number",
    "state",
    "valid_until",
    "type__name_zh",
    "type__name_en",
    "department__name",
    "holder_enterprise__name",
)


def state_label(licence: Licence) -> str:
    state = licence.effective_state
    return _("Expired") if state == Licence.EXPIRED else str(Licence.State(state).label)


@login_required
@require_GET
def wallet_list(request: HttpRequest) -> HttpResponse:
    """证照夹: every licence of the user and of the enterprises they act for. The same queries
    whatever the number of licences (the agencies, then the licences with what they show);
    the encrypted columns are not read, and each card is prepared here so the template loop
    stays small (a holder of 200 licences gets the page fast)."""
    licences = (
        selectors.licences_for_user(request.user).select_related("holder_enterprise").only(*LIST_FIELDS)
    )
    url = reverse("wallet:licence", kwargs={"pk": 0})[: -len("0/")]
    myself, open_ended = _("Myself"), _("Open-ended")
    labels: dict[int, str] = {}
    rows = []
    for lic in licences:
        if lic.type_id not in labels:
            labels[lic.type_id] = bilingual.pick(f"{lic.type.name_zh} | {lic.type.name_en}")
        rows.append(
            {
                "url": f"{url}{lic.pk}/",
                "label": labels[lic.type_id],
                "number": lic.number,
                "state": lic.effective_state,
                "state_label": state_label(lic),
                "holder": lic.holder_enterprise.name if lic.holder_enterprise_id else myself,
                "issuer": lic.department.name,
                "valid_until": lic.valid_until.date().isoformat() if lic.valid_until else open_ended,
            }
        )
    response = render(request, "licences/wallet/list.html", {"rows": rows})
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def wallet_licence(request: HttpRequest, pk) -> HttpResponse:
    """One licence: its claims (personal ones masked; the holder reveals them with a POST, so
    the full values are never in an address or the history), state, validity and issuer."""
    licence = permissions.get_licence_for_user(request.user, pk)
    reveal = request.method == "POST" and request.POST.get("reveal") == "1"
    return render(
        request,
        "licences/wallet/licence.html",
        {
            "licence": licence,
            "state": licence.effective_state,
            "state_class": STATE_CLASS,
            "holder": holder_label(licence) if licence.holder_enterprise_id else _("Myself"),
            "rows": claim_rows(licence, reveal=reveal),
            "reveal": reveal,
            "pdf_url": pdf_url(licence),
            "may_show": licence.effective_state == Licence.State.VALID,
        },
    )


class PresentForm(forms.Form):
    disclose = forms.MultipleChoiceField(
        label=gettext_lazy("Fields to show"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, licence: Licence, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disclose"].choices = [
            (c["name"], f"{c['zh']} | {c['en']}") for c in licence.type.claims if c.get("sd")
        ]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def wallet_present(request: HttpRequest, pk) -> HttpResponse:
    """亮证: choose the fields to show (names ticked by default, never identity numbers); the
    POST makes a one-time presentation and shows its QR code."""
    licence = permissions.get_licence_for_user(request.user, pk)
    always = [c for c in licence.type.claims if not c.get("sd")]
    if request.method == "GET":
        form = PresentForm(
            licence=licence, initial={"disclose": presentations.default_disclosure(licence.type)}
        )
        return _present_page(request, licence, form, always)
    form = PresentForm(request.POST, licence=licence)
    if not form.is_valid():
        return _present_page(request, licence, form, always, status=400)
    try:
        presentation = presentations.presentation_create(
            licence=licence, disclose=form.cleaned_data["disclose"], actor=request.user
        )
    except services.LicenceError as exc:
        form.add_error(None, exc.message)
        return _present_page(request, licence, form, always, status=exc.status)
    except PermissionDenied:
        raise Http404 from None
    payload = presentations.payload_for(presentation)
    svg, version = presentations.qr_svg(
        payload, label=_("QR code of licence %(number)s") % {"number": licence.number}
    )
    shown = [
        f"{c['zh']} | {c['en']}"
        for c in licence.type.claims
        if not c.get("sd") or c["name"] in presentation.disclosed
    ]
    return render(
        request,
        "licences/wallet/qr.html",
        {
            "licence": licence,
            "presentation": presentation,
            "payload": payload,
            "svg": svg,
            "version": version,
            "shown": shown,
            "minutes": int(presentations.LIFETIME.total_seconds() // 60),
        },
    )


def _present_page(request, licence, form, always, status: int = 200) -> HttpResponse:
    return render(
        request,
        "licences/wallet/present.html",
        {
            "licence": licence,
            "form": form,
            "always": [f"{c['zh']} | {c['en']}" for c in always],
            "may_show": licence.effective_state == Licence.State.VALID,
        },
        status=status,
    )


def verify_page_url() -> str | None:
    try:
        return reverse(VERIFY_URL)
    except NoReverseMatch:
        return None


def _wants_page(request: HttpRequest) -> bool:
    """A browser navigating to the link (a phone camera opening it) rather than a verifier."""
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "sd-jwt" not in accept


@never_cache
@require_GET
def presentation(request: HttpRequest, token: str) -> HttpResponse:
    """The public link of a QR code. A verifier's GET (any ``Accept`` but a browser's HTML) takes
    the presentation once (``application/dc+sd-jwt``); a second fetch is 410, an unknown code
    404. A browser that opens the link gets a page sending it to a verify page instead, and
    the presentation stays for the verifier."""
    if _wants_page(request):
        return render(request, "licences/wallet/link.html", {"verify_url": verify_page_url()})
    try:
        taken = presentations.presentation_take(token=token, actor=request.user, via="link")
    except presentations.Gone as exc:
        status = 404 if exc.verdict == presentations.Verdict.UNKNOWN else 410
        return HttpResponse(exc.message, status=status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(taken.text, content_type="application/dc+sd-jwt")
    response["Access-Control-Allow-Origin"] = "*"
    return response
