"""Pages for a case's sealed documents (documents.py) and the choice of how its result is
delivered (delivery.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yiwang.identity.selectors import person_of
from yiwang.licences import seals

from . import delivery, documents
from .models import Case
from .permissions import get_case_for_user

MAX_NUMBER = 32  # Case.number's length


def get_case_for_document(user, number: str, kind: str) -> Case:
    """The decided or stepped case whose document of ``kind`` the user may have, else 404 (not
    allowed, no such document yet, no such case: the same answer)."""
    number = str(number or "")
    if kind not in documents.Kind.values or not number or len(number) > MAX_NUMBER:
        raise Http404("no such document")
    if not getattr(user, "is_authenticated", False):
        raise Http404("no such document")
    case = (
        Case.objects.select_related("item", "department__region", "applicant", "enterprise")
        .filter(number=number)
        .first()
    )
    if case is None or not documents.viewer_may_have(user, case, kind):
        raise Http404("no such document")
    if documents.facts(case, kind) is None:
        raise Http404("no such document")
    return case


@login_required
@require_GET
def document(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    """The sealed PDF, made and sealed now, its issuance audited."""
    case = get_case_for_document(request.user, number, kind)
    try:
        issued = documents.issue(
            case=case, kind=kind, actor=request.user, english=documents.reader_wants_english()
        )
    except seals.SealError as exc:  # the font is not installed, the seal key does not open ...
        return render(
            request,
            "applications/document_unavailable.html",
            {"case": case, "message": str(exc)},
            status=503,
        )
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{issued.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def choose_delivery(request: HttpRequest, number: str) -> HttpResponse:
    """The applicant chooses how the paper result reaches them (after the decision)."""
    case = get_case_for_user(request.user, number, for_write=True)
    if case.is_draft:
        return redirect("applications:edit", number=f"draft-{case.pk}")
    if not delivery.may_choose(case):
        messages.info(request, _("The delivery of the result can be chosen once the application is decided."))
        return redirect("applications:case", number=case.number)
    current = delivery.delivery_of(case)
    if request.method == "POST":
        form = delivery.DeliveryForm(request.POST)
        if form.is_valid():
            try:
                delivery.delivery_choose(case=case, actor=request.user, **form.cleaned_data)
            except delivery.DeliveryRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Your choice of delivery is recorded."))
                return redirect("applications:case", number=case.number)
        return render(request, "applications/delivery.html", {"case": case, "form": form}, status=400)
    if current is not None:
        initial = {
            "method": current.method,
            "recipient": current.recipient,
            "phone": current.phone,
            "address": current.address,
            "postcode": current.postcode,
        }
    else:
        person = person_of(request.user)
        initial = {
            "method": delivery.ResultDelivery.Method.DOWNLOAD,
            "recipient": person.name if person else "",
            "phone": person.phone if person else "",
        }
    return render(
        request, "applications/delivery.html", {"case": case, "form": delivery.DeliveryForm(initial=initial)}
    )
