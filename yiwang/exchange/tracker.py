"""我的数据使用记录: the citizen's record of the uses of their data through the exchange.

A use is a gateway call that was answered and returned a row about the person: the gateway logs
each such call's data subjects as ``CallSubject`` rows holding the blind index of the person's
identity number (``vault.key_index``). The record is read by that index, so it is offered only to
identities verified against the population register (real-name level L2 or higher): a
self-declared number proves nothing, and showing its uses would show someone else's.

Reads only; the citizen's questions about a use are ``yiwang.exchange.questions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from yiwang.exchange import vault
from yiwang.exchange.models import CallLog, CallOutcome, ResourceField, UseQuestion
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import RealNameLevel
from yiwang.identity.permissions import is_row_id

MIN_LEVEL = RealNameLevel.REGISTER


def subject_index_of(user) -> str:
    """The blind index the exchange logs ``user``'s person under ("" when the user has no
    verified identity: then they have no record to read)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    person = identity_selectors.person_of(user)
    number = identity_selectors.id_number_for_data_record(person) if person is not None else ""
    return vault.key_index(number) if number else ""


def may_read_record(user) -> bool:
    """Whether ``user`` has a data-use record to read (a verified identity, L2+)."""
    return identity_selectors.realname_level_of(user) >= MIN_LEVEL


def uses_of(user) -> QuerySet[CallLog]:
    """Every answered call that returned data about ``user``'s person, newest first (none for
    an identity below L2)."""
    index = subject_index_of(user)
    if not index:
        return CallLog.objects.none()
    return (
        CallLog.objects.filter(outcome=CallOutcome.OK, subjects__subject_index=index)
        .select_related("consumer", "resource__provider", "grant")
        .order_by("-at", "-pk")  # one CallSubject per call and person (call_subject_unique)
    )


def get_use_for_user(user, pk) -> CallLog:
    """One use of ``user``'s data; 404 when it is not about them or does not exist (one answer)."""
    if not is_row_id(pk):  # not a plain id (or one past the database's range): the same 404
        raise Http404
    use = (
        uses_of(user)
        .filter(pk=int(pk))
        .prefetch_related(
            Prefetch(
                "questions", queryset=UseQuestion.objects.filter(asked_by=user).order_by("asked_at", "pk")
            )
        )
        .first()
    )
    if use is None:
        raise Http404
    return use


@dataclass(frozen=True)
class FieldLabel:
    name: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        """``中文 | English`` (``yiwang.lib.bilingual``), for the ``inlang`` filter."""
        return f"{self.zh} | {self.en}" if self.en and self.en != self.zh else self.zh


def field_labels(use: CallLog, cache: dict | None = None) -> list[FieldLabel]:
    """The fields a call returned, labelled (a field no longer in the resource by its name).
    ``cache`` (resource id → its fields) saves a query per row when a page lists many uses."""
    cache = {} if cache is None else cache
    if use.resource_id is not None and use.resource_id not in cache:
        cache[use.resource_id] = {
            f.name: f for f in ResourceField.objects.filter(resource_id=use.resource_id)
        }
    known = cache.get(use.resource_id, {})
    names = list(use.fields or [])
    out = []
    for name in names:
        spec = known.get(name)
        out.append(
            FieldLabel(name, spec.label_zh if spec else name, (spec.label_en or name) if spec else name)
        )
    return out


def provider_of(use: CallLog):
    """The department whose data was used (the resource's provider), or None when the resource
    is gone from the catalog."""
    return use.resource.provider if use.resource_id is not None else None
