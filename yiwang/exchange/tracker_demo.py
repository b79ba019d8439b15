"""Demo data of the citizen's data-use record: uses of 张三's data (the ``citizen`` account) as
the gateway logs them (``CallLog`` with its ``CallSubject`` rows, the subject being the blind
index of the identity number), one use of 李四's, a refused call that is nobody's use, one question
answered by the data steward of 公安厅 and one still waiting for that steward.

Idempotent: calls are recognised by their reference (``demo-tracker-<n>``) and questions are
asked only on uses that have none. Builds on the identity demo (accounts, departments, the
population base data) and adds nothing without its verified citizens; refuses outside development.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.exchange import basedata, questions, vault
from yiwang.exchange.models import (
    CallLog,
    CallOutcome,
    CallSubject,
    Channel,
    DataResource,
    Grant,
    UseQuestion,
)
from yiwang.identity import selectors as identity_selectors
from yiwang.identity import services as identity_services
from yiwang.identity.models import Department, Role, User

DEMO_ACTOR = "system:demo"
DEMO_PASSWORD = "yiwang-demo-2026"  # noqa: S105 — the published demo password (identity.demo)
# The data steward of the population data's provider, who answers the demo question.
STEWARD = ("gatsteward", "郭数据", "610000-GAT")
SOCIAL_INSURANCE_RECORD = {
    "insured": True,
    "insurance_kind": "城镇职工基本养老保险",
    "insured_since": "2012-07-01",
    "last_paid_month": "2026-10",
}

# (n, days ago, hour, consumer, resource, fields, purpose, channel, reference, whose, outcome)
CALLS = [
    (
        1,
        3,
        10,
        "610100-SCJG",
        basedata.POPULATION,
        ["id_number", "name", "household_region"],
        "食品经营许可（新办）申请人身份核验",
        Channel.PLATFORM,
        "citizen",
        CallOutcome.OK,
    ),
    (
        2,
        12,
        15,
        "610000-SJJ",
        basedata.SOCIAL_INSURANCE,
        ["id_number", "insured", "insurance_kind", "last_paid_month"],
        "人才引进补贴资格审核（社保缴纳情况）",
        Channel.API,
        "citizen",
        CallOutcome.OK,
    ),
    (
        3,
        40,
        9,
        "610100-SCJG",
        basedata.POPULATION,
        ["id_number", "name"],
        "个体工商户登记经营者身份核验",
        Channel.PLATFORM,
        "citizen",
        CallOutcome.OK,
    ),
    (
        4,
        5,
        11,
        "610100-SCJG",
        basedata.POPULATION,
        ["id_number", "name"],
        "食品经营许可（新办）申请人身份核验",
        Channel.PLATFORM,
        "citizen2",
        CallOutcome.OK,
    ),
    (
        5,
        2,
        14,
        "610000-SJJ",
        basedata.POPULATION,
        ["id_number", "name", "phone"],
        "未经授权的字段请求",
        Channel.API,
        "citizen",
        CallOutcome.DENIED,
    ),
]
ANSWERED_QUESTION = (
    "为什么西安市市场监督管理局要读取我的户籍地信息？",
    "您申请食品经营许可（新办）时，系统按《食品经营许可和备案管理办法》核验申请人身份，"
    "户籍地用于确定经营者信息，仅在本次办件中使用，未作他用。",
)
OPEN_QUESTION = "我不记得办理过个体工商户登记，为什么市场监管局核验了我的身份？请说明情况。"


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _number_of(username: str) -> str:
    """The demo account's identity number ("" when it is missing or not verified)."""
    person = identity_selectors.person_of_username(username)
    return identity_selectors.id_number_for_data_record(person) if person is not None else ""


def _grant(resource: DataResource, consumer: Department, fields: list[str], purpose: str) -> Grant:
    now = timezone.now()
    found = (
        Grant.objects.filter(
            resource=resource, consumer=consumer, revoked_at__isnull=True, valid_until__gt=now
        )
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    return Grant.objects.create(
        resource=resource,
        consumer=consumer,
        fields=fields,
        purpose=purpose,
        standing=True,
        valid_from=now - dt.timedelta(days=365),
        valid_until=now + dt.timedelta(days=365),
    )


def _steward() -> User:
    username, name, dept_code = STEWARD
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    admin = User.objects.get(username="admin")
    official = identity_services.official_create(
        username=username,
        name=name,
        department=Department.objects.get(code=dept_code),
        roles=[Role.DATA_STEWARD],
        password=DEMO_PASSWORD,
        actor=admin,
    )
    official.user.email = f"{username}@example.org"
    official.user.save(update_fields=["email"])
    return official.user


@transaction.atomic
def build(*, stdout=None) -> int:
    """Create the demo uses and questions (see the module docstring). Returns the calls added."""
    if not settings.DEV:
        raise RuntimeError("The tracker demo is for development only (YIWANG_DEV=1).")
    numbers = {u: _number_of(u) for u in ("citizen", "citizen2")}
    if not all(numbers.values()):  # the identity demo did not run (or its builder was left out)
        _say(stdout, "exchange: no verified demo citizens, so no data-use record to build")
        return 0
    resources = {
        code: basedata.base_resource(code, actor=DEMO_ACTOR)
        for code in (basedata.POPULATION, basedata.SOCIAL_INSURANCE)
    }
    basedata.put_records(
        basedata.SOCIAL_INSURANCE,
        [{"id_number": numbers["citizen"], **SOCIAL_INSURANCE_RECORD}],
        actor=DEMO_ACTOR,
    )
    departments = {d.code: d for d in Department.objects.filter(code__in={c[3] for c in CALLS})}
    today = timezone.localdate()
    added, calls = 0, {}
    for n, days, hour, consumer_code, code, fields, purpose, channel, whose, outcome in CALLS:
        reference = f"demo-tracker-{n}"
        call = CallLog.objects.filter(reference=reference).first()
        if call is None:
            resource, consumer = resources[code], departments[consumer_code]
            at = timezone.make_aware(
                dt.datetime.combine(today - dt.timedelta(days=days), dt.time(hour, 17 + n))
            )
            ok = outcome == CallOutcome.OK
            call = CallLog.objects.create(
                at=at,
                channel=channel,
                consumer=consumer,
                grant=_grant(resource, consumer, fields, purpose) if ok else None,
                resource=resource,
                resource_code=code,
                fields=fields,
                purpose=purpose,
                reference=reference,
                rows=1 if ok else 0,
                latency_ms=3.5 + n,
                outcome=outcome,
                error="" if ok else "phone: not granted",
            )
            if ok:
                CallSubject.objects.create(call=call, subject_index=vault.key_index(numbers[whose]))
            added += 1
        calls[n] = call
    citizen, steward = User.objects.get(username="citizen"), _steward()  # the steward is told of both
    if not UseQuestion.objects.filter(call=calls[1]).exists():
        asked = questions.question_ask(use=calls[1], actor=citizen, question=ANSWERED_QUESTION[0])
        questions.question_answer(question=asked, actor=steward, answer=ANSWERED_QUESTION[1])
    if not UseQuestion.objects.filter(call=calls[3]).exists():
        questions.question_ask(use=calls[3], actor=citizen, question=OPEN_QUESTION)
    _say(stdout, f"exchange: data-use record of the demo citizens ({added} calls added)")
    return added
