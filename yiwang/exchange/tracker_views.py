"""Pages of the citizen's data-use record (我的数据使用记录) and of the stewards' answers.

``/account/data-uses/``: the uses of the signed-in person's data (verified identities only; others
read why not); one use with the questions asked about it and a form to ask. ``/workbench/data/
questions/``: the questions a data steward may answer, and one question with the answer form.
Views are thin: access helper → form → one service call (``questions``) → render or redirect.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.exchange import questions, tracker
from yiwang.exchange.errors import ExchangeError
from yiwang.exchange.models import QuestionState
from yiwang.identity.models import Role
from yiwang.identity.permissions import require_role
from yiwang.lib.masking import mask_name

PAGE_SIZE = 20


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=gettext_lazy("Your question"),
        max_length=questions.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Ask why your data was used, or what was done with it."),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Answer"),
        max_length=questions.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("The citizen reads this answer as it is written; name the legal basis."),
    )


def _use_row(use, cache: dict | None = None) -> dict:
    provider = tracker.provider_of(use)
    return {
        "use": use,
        "consumer": use.consumer.name if use.consumer else "",
        "provider": provider.name if provider else "",
        "resource": use.resource.name if use.resource_id else use.resource_code,
        "fields": tracker.field_labels(use, cache),
    }


@login_required
@require_safe
def use_list(request: HttpRequest) -> HttpResponse:
    """我的数据使用记录: every answered gateway call that returned data about the signed-in person."""
    if not tracker.may_read_record(request.user):
        return render(request, "exchange/tracker_unverified.html", {})
    page = Paginator(tracker.uses_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    cache: dict = {}
    return render(
        request,
        "exchange/tracker_uses.html",
        {"page": page, "rows": [_use_row(use, cache) for use in page.object_list]},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def use_detail(request: HttpRequest, pk: str) -> HttpResponse:
    """One use of the person's data: who, when, which fields, for what, under which grant; the
    questions asked about it with their answers, and the form to ask (POST)."""
    use = tracker.get_use_for_user(request.user, pk)
    form = QuestionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            questions.question_ask(use=use, actor=request.user, question=form.cleaned_data["question"])
        except ExchangeError as exc:
            form.add_error(getattr(exc, "field", "") or None, str(exc))
        else:
            messages.success(request, _("Your question was sent to the data stewards of the provider."))
            return redirect("tracker:use", pk=use.pk)
    asked = list(use.questions.all())
    waiting = any(q.state == QuestionState.OPEN for q in asked)
    return render(
        request,
        "exchange/tracker_use.html",
        {"row": _use_row(use), "grant": use.grant, "asked": asked, "form": form, "waiting": waiting},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_role(Role.DATA_STEWARD)
@require_safe
def question_list(request: HttpRequest) -> HttpResponse:
    """The questions about uses of the steward's departments' data, open ones first."""
    state = request.GET.get("state", "")
    qs = questions.questions_for_steward(request.user)
    if state in QuestionState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/tracker_questions.html",
        {"page": page, "state": state, "states": QuestionState.choices},
    )


@require_role(Role.DATA_STEWARD)
@require_http_methods(["GET", "HEAD", "POST"])
def question_detail(request: HttpRequest, pk: str) -> HttpResponse:
    """One question, the use it is about, and the answer form (POST) while it is open."""
    question = questions.get_question_for_steward(request.user, pk)
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            questions.question_answer(
                question=question, actor=request.user, answer=form.cleaned_data["answer"]
            )
        except ExchangeError as exc:
            form.add_error(getattr(exc, "field", "") or None, str(exc))
        else:
            messages.success(request, _("Your answer was sent to the citizen."))
            return redirect("tracker:question", pk=question.pk)
    return render(
        request,
        "exchange/tracker_question.html",
        {
            "question": question,
            "row": _use_row(question.call),
            "asker": mask_name(question.asked_by.display_name or ""),
            "form": form,
        },
        status=400 if form.is_bound and form.errors else 200,
    )
