"""Citizens' questions about a use of their data, and the providers' answers.

A citizen reading their data-use record (``tracker``) asks why a department used their data; the
question goes to the data stewards of the department that provides the resource (the provider
and the departments above it, where a steward's role reaches it), who are sent an account
notice. A steward answers once; the citizen is sent a notice and reads the answer on the use's
page. Asking and answering are audited in the same transaction (events ``exchange:use_question:ask``
and ``exchange:use_question:answer``, the citizen as the record's subject).
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.exchange import tracker
from yiwang.exchange.errors import ExchangeError, NotAllowed, WrongState
from yiwang.exchange.models import CallLog, QuestionState, UseQuestion
from yiwang.identity import notice_texts
from yiwang.identity import services as identity_services
from yiwang.identity.models import Official, Role
from yiwang.identity.permissions import department_ancestor_ids, departments_for, has_role, is_row_id

MAX_LENGTH = 2000
OPEN_PER_USE = 1  # a citizen waits for the answer before asking again about the same use


class QuestionError(ExchangeError):
    """A question or an answer that cannot be accepted; the message names what to fix."""

    status = 422

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message, {field: message} if field else None)
        self.field = field


def _text(value: str, *, field: str, empty: str) -> str:
    text = (value or "").strip()
    if not text:
        raise QuestionError(empty, field=field)
    if len(text) > MAX_LENGTH:
        raise QuestionError(
            _("Keep it to %(max)d characters (it has %(n)d).") % {"max": MAX_LENGTH, "n": len(text)},
            field=field,
        )
    return text


def stewards_for(department) -> list:
    """The users who hold the data steward role where it reaches ``department``."""
    ancestors = department_ancestor_ids(department)
    officials = Official.objects.filter(
        department_id__in=ancestors,
        is_active=True,
        roles__role=Role.DATA_STEWARD,
        user__is_active=True,
    ).select_related("user")
    return [o.user for o in officials.distinct().order_by("pk")]


@transaction.atomic
def question_ask(*, use: CallLog, actor, question: str) -> UseQuestion:
    """Ask the provider's stewards about one use of the actor's own data.

    ``use`` must be a use of the actor's data (``tracker.get_use_for_user``; checked again here:
    otherwise Http404). Raises ``QuestionError`` (422) for an empty or overlong question,
    ``WrongState`` (409) while an earlier question about the same use waits for its answer or
    when the resource is gone. Notifies every steward of the provider; audited."""
    use = tracker.get_use_for_user(actor, use.pk)
    text = _text(question, field="question", empty=_("Write your question."))
    provider = tracker.provider_of(use)
    if provider is None:
        raise WrongState(_("The resource of this use is no longer in the catalog: ask the data office."))
    CallLog.objects.select_for_update().filter(pk=use.pk).first()  # one asker at a time per use
    waiting = UseQuestion.objects.filter(call=use, asked_by=actor, state=QuestionState.OPEN).count()
    if waiting >= OPEN_PER_USE:
        raise WrongState(_("Your earlier question about this use is still waiting for its answer."))
    asked = UseQuestion.objects.create(call=use, asked_by=actor, provider=provider, question=text)
    audit.record(
        actor=actor,
        event="exchange:use_question:ask",
        target=asked,
        subject=actor,
        data={"call": use.pk, "resource": use.resource_code, "provider": provider.code},
    )
    params = {"resource": use.resource_code, "department": use.consumer.name if use.consumer else ""}
    for steward in stewards_for(provider):
        identity_services.account_notify(user=steward, key=notice_texts.DATA_USE_QUESTION, params=params)
    return asked


def questions_for_steward(user):
    """The questions ``user`` may answer (stewards: their departments and those under them;
    superusers: all), open ones first, then the newest."""
    scope = departments_for(user, Role.DATA_STEWARD)
    questions = UseQuestion.objects.select_related(
        "call__consumer", "call__resource__provider", "call__grant", "provider", "asked_by"
    )
    if scope is not None:
        questions = questions.filter(provider_id__in=scope)
    return questions.order_by("-state", "-asked_at", "-pk")  # descending: "open" before "answered"


def get_question_for_steward(user, pk) -> UseQuestion:
    """One question ``user`` may answer; 404 when outside their departments or missing."""
    if not is_row_id(pk):
        raise Http404
    found = questions_for_steward(user).filter(pk=int(pk)).first()
    if found is None:
        raise Http404
    return found


@transaction.atomic
def question_answer(*, question: UseQuestion, actor, answer: str) -> UseQuestion:
    """A data steward of the provider answers a citizen's question (once).

    Raises ``NotAllowed`` (403) unless the actor is a steward whose role reaches the provider,
    ``WrongState`` (409) when it was answered already, ``QuestionError`` (422) for an empty or
    overlong answer. The citizen gets an account notice; audited with the citizen as subject."""
    if not has_role(actor, Role.DATA_STEWARD, question.provider_id):
        raise NotAllowed(_("Only a data steward of the providing department may answer."))
    question = (
        UseQuestion.objects.select_for_update().select_related("provider", "asked_by").get(pk=question.pk)
    )
    if question.state != QuestionState.OPEN:
        raise WrongState(_("This question was answered already."))
    question.answer = _text(answer, field="answer", empty=_("Write your answer."))
    question.state, question.answered_by, question.answered_at = QuestionState.ANSWERED, actor, timezone.now()
    question.save(update_fields=["answer", "state", "answered_by", "answered_at"])
    audit.record(
        actor=actor,
        event="exchange:use_question:answer",
        target=question,
        subject=question.asked_by,
        data={"call": question.call_id, "provider": question.provider.code},
    )
    identity_services.account_notify(
        user=question.asked_by,
        key=notice_texts.DATA_USE_ANSWERED,
        params={"department": question.provider.name},
    )
    return question
