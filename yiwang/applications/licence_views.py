"""免证办 on the application form: the applicant uses one of their electronic licences instead of
a material (with consent), or takes that back. Posted from the form's licence section, of a
single application or of a life event's combined form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.identity.permissions import is_row_id

from . import licence_materials, services
from .models import BundleCase
from .permissions import get_case_for_user
from .views import case_ref


def _back(case) -> HttpResponse:
    return redirect(reverse("applications:edit", kwargs={"number": case_ref(case)}) + "#licences")


def _use_licence(request: HttpRequest, back: HttpResponse, use) -> HttpResponse:
    """The consent form of 免证办, for one case or a life event's combined form: ``use`` records
    the chosen licence for the material (with the ticked consent) and returns the rows made."""
    material, licence = request.POST.get("material", ""), request.POST.get("licence", "")
    if not (is_row_id(material) and is_row_id(licence)):
        messages.error(request, _("Choose one of your electronic licences."))
        return back
    try:
        rows = use(
            material_id=int(material),
            licence_id=int(licence),
            consent=request.POST.get("consent") == "1",
        )
    except services.ApplicationError as exc:
        messages.error(request, " ".join([exc.message, *exc.errors.values()]))
    except PermissionDenied:
        raise Http404 from None
    else:
        row = rows[0] if isinstance(rows, list) else rows
        messages.success(
            request,
            _("“%(material)s” will not be asked of you: the department uses your licence %(number)s.")
            % {"material": row.material.name, "number": row.licence_number},
        )
    return back


@login_required
@require_POST
def licence_use(request: HttpRequest, number: str) -> HttpResponse:
    """Use the chosen licence for a material; the consent box must be ticked."""
    case = get_case_for_user(request.user, number, for_write=True)
    return _use_licence(
        request,
        _back(case),
        lambda **chosen: licence_materials.case_licence_use(actor=request.user, case=case, **chosen),
    )


@login_required
@require_POST
def licence_withdraw(request: HttpRequest, number: str, material: int) -> HttpResponse:
    """Stop using the licence for a material: it is asked for again."""
    case = get_case_for_user(request.user, number, for_write=True)
    if not is_row_id(material):
        raise Http404("no such material")
    try:
        licence_materials.case_licence_withdraw(actor=request.user, case=case, material_id=material)
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("The licence is no longer used: upload the material instead."))
    return _back(case)


def _bundle_back(bundle_case) -> HttpResponse:
    return redirect(reverse("applications:bundle_case", kwargs={"pk": bundle_case.pk}) + "#licences")


@login_required
@require_POST
def bundle_licence_use(request: HttpRequest, pk: int) -> HttpResponse:
    """Use the chosen licence for a material of the life event's combined form: for every service
    of it that asks for the material, the consent box ticked once."""
    bundle_case = get_object_or_404(BundleCase, pk=pk, applicant=request.user)
    return _use_licence(
        request,
        _bundle_back(bundle_case),
        lambda **chosen: services.bundle_licence_use(actor=request.user, bundle_case=bundle_case, **chosen),
    )


@login_required
@require_POST
def bundle_licence_withdraw(request: HttpRequest, pk: int, material: int) -> HttpResponse:
    """Stop using the licence for a material of the combined form: it is asked for again."""
    bundle_case = get_object_or_404(BundleCase, pk=pk, applicant=request.user)
    try:
        services.bundle_licence_withdraw(actor=request.user, bundle_case=bundle_case, material_id=material)
    except services.ApplicationError as exc:
        messages.error(request, exc.message)
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("The licence is no longer used: upload the material instead."))
    return _bundle_back(bundle_case)
