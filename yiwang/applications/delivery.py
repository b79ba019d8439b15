"""How the paper result of a decided case reaches the applicant (送达方式): download only, by post,
or at the department's window. The applicant chooses once the case is decided and may change
the choice; each choice is audited (the method only: the address stays out of the log)."""

from __future__ import annotations

import re

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit

from .models import Case, ResultDelivery

# Decided cases whose result (a licence, a decision) can be delivered on paper.
DELIVERABLE = frozenset({Case.Status.COMPLETED, Case.Status.NOT_APPROVED, Case.Status.REJECTED})
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
POSTCODE = re.compile(r"^\d{6}$")


class DeliveryRefused(Exception):  # noqa: N818 - named for what happened
    """The choice cannot be recorded; the message is for the user."""


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(
        label=gettext_lazy("How should the result reach you?"),
        choices=ResultDelivery.Method.choices,
        widget=forms.RadioSelect,
    )
    recipient = forms.CharField(label=gettext_lazy("Recipient"), max_length=64, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    address = forms.CharField(label=gettext_lazy("Postal address"), max_length=255, required=False)
    postcode = forms.CharField(label=gettext_lazy("Postcode"), max_length=6, required=False)

    def clean(self):
        data = super().clean()
        for name in ("recipient", "phone", "address", "postcode"):
            data[name] = (data.get(name) or "").strip()
        if data.get("method") != ResultDelivery.Method.POST:
            return data
        if not data["recipient"]:
            self.add_error("recipient", _("Enter who receives the post."))
        if not PHONE.match(data["phone"]):
            self.add_error("phone", _("Enter a mobile number of 11 digits or a landline with its area code."))
        if len(data["address"]) < 6:
            self.add_error("address", _("Enter the full postal address (province, city, street and number)."))
        if data["postcode"] and not POSTCODE.match(data["postcode"]):
            self.add_error("postcode", _("A postcode has 6 digits."))
        return data


def may_choose(case: Case) -> bool:
    return case.status in DELIVERABLE


@transaction.atomic
def delivery_choose(
    *,
    case: Case,
    actor,
    method: str,
    recipient: str = "",
    phone: str = "",
    address: str = "",
    postcode: str = "",
) -> ResultDelivery:
    """Record (or change) how the result of ``case`` is delivered. Applicant only (the caller
    fetched the case with ``get_case_for_user(..., for_write=True)``); the case must be decided.
    Post needs a recipient, phone and address; the other methods keep none."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.applicant_id != getattr(actor, "pk", None):
        raise DeliveryRefused(_("Only the applicant chooses how the result is delivered."))
    if not may_choose(case):
        raise DeliveryRefused(_("The delivery of the result can be chosen once the application is decided."))
    if method not in ResultDelivery.Method.values:
        raise DeliveryRefused(_("Choose one of the delivery methods offered."))
    if method != ResultDelivery.Method.POST:
        recipient = phone = address = postcode = ""
    elif not (recipient and phone and address):
        raise DeliveryRefused(_("Post needs a recipient, a phone number and an address."))
    existing = ResultDelivery.objects.select_for_update().filter(case=case).first()
    before = existing.method if existing else ""
    values = {
        "method": method,
        "recipient": recipient,
        "phone": phone,
        "address": address,
        "postcode": postcode,
        "chosen_by": actor,
        "chosen_at": timezone.now(),
    }
    if existing is None:
        delivery = ResultDelivery.objects.create(case=case, **values)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(values))
        delivery = existing
    audit.record(
        actor=actor,
        event="applications:delivery:choose",
        target=case,
        data={"method": method, "before": before},
    )
    return delivery


def delivery_of(case: Case) -> ResultDelivery | None:
    return ResultDelivery.objects.filter(case=case).first()
