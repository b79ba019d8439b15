"""The holder's download of a licence as a sealed PDF (licence_pdf.py), linked from the wallet
(``wallet.PDF_DOWNLOAD_URL``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.licences import licence_pdf, pdf, permissions, seals, services
from yiwang.licences.models import Licence


def _unavailable(request, licence: Licence, message: str, status: int) -> HttpResponse:
    response = render(
        request,
        "licences/wallet/pdf_unavailable.html",
        {"licence": licence, "message": message},
        status=status,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def licence_pdf_download(request: HttpRequest, pk) -> HttpResponse:
    """The licence as a one-page PDF sealed by its issuing department, made now and audited.
    GET: identity numbers masked; POST ``full=1`` (from the licence page once the holder showed
    the personal information in full): identity numbers in full. Not the holder's: 404."""
    licence = permissions.get_licence_for_user(request.user, pk)
    full = request.method == "POST" and request.POST.get("full") == "1"
    try:
        verify_url = services.public_url().rstrip("/") + reverse("licences:verify")
    except ImproperlyConfigured:  # no public address configured: the footer names the page's path
        verify_url = reverse("licences:verify")
    try:
        issued = licence_pdf.issue(
            licence=licence,
            actor=request.user,
            english=pdf.reader_wants_english(),
            full=full,
            verify_url=verify_url,
        )
    except licence_pdf.NotInForce as exc:
        state = {
            "suspended": _("This licence is suspended"),
            "revoked": _("This licence is revoked"),
            "expired": _("This licence has expired"),
        }.get(exc.state, _("This licence is not valid"))
        message = _("%(state)s: no sealed copy is issued for a licence that is not in force.") % {
            "state": state
        }
        if exc.reason:
            message += " " + _("Reason: %(reason)s") % {"reason": exc.reason}
        return _unavailable(request, licence, message, 409)
    except seals.SealError as exc:  # the font is not installed, the seal key does not open ...
        return _unavailable(request, licence, str(exc), 503)
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
