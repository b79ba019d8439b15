"""``{% load case_documents %}{% case_documents case %}``: the sealed documents of a case the
viewer may have, and how the result is delivered (documents.py, delivery.py). A tag rather
than view context, so every page that shows a case shows them alike."""

from django import template

from yiwang.applications import delivery, documents
from yiwang.applications.permissions import can_handle_case

register = template.Library()


@register.inclusion_tag("applications/_documents.html", takes_context=True)
def case_documents(context, case):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or case is None or case.is_draft:
        return {"kinds": [], "show": False}
    is_applicant = case.applicant_id == user.pk
    handler = can_handle_case(user, case)
    labels = dict(documents.Kind.choices)
    return {
        "case": case,
        "documents": [(k, labels[k]) for k in documents.available(user, case)],
        "delivery": delivery.delivery_of(case) if (is_applicant or handler) else None,
        "may_choose": is_applicant and delivery.may_choose(case),
        "handler": handler,
        "show": True,
    }
