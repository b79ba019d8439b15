"""我的数据使用记录: the citizen reads the uses of their data and asks about one; the provider's
data stewards answer. Calls are written here as the gateway writes them (CallLog + CallSubject
holding ``vault.key_index`` of the subject's identity number)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official, make_person
from yiwang.exchange import basedata, questions, tracker, vault
from yiwang.exchange.errors import NotAllowed, WrongState
from yiwang.exchange.models import (
    CallLog,
    CallOutcome,
    CallSubject,
    Channel,
    Grant,
    QuestionState,
    UseQuestion,
)
from yiwang.identity import notice_texts, pii
from yiwang.identity.models import AccountNotice, Department, RealNameLevel, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def gat(province):
    return Department.objects.create(code="610000-GAT", name="陕西省公安厅", region=province)


@pytest.fixture
def gat_steward(gat):
    return make_official("gat_steward", gat, [Role.DATA_STEWARD])


@pytest.fixture
def sjj_steward(province):
    sjj = Department.objects.create(code="610000-SJJ", name="陕西省数据和政务服务局", region=province)
    return make_official("sjj_steward", sjj, [Role.DATA_STEWARD])


@pytest.fixture
def population(gat):
    return basedata.base_resource(basedata.POPULATION, actor="system:test")


@pytest.fixture
def grant(population, department_x):
    return Grant.objects.create(
        resource=population,
        consumer=department_x,
        fields=["id_number", "name", "household_region"],
        purpose="食品经营许可申请人身份核验",
        valid_until=timezone.now() + dt.timedelta(days=90),
    )


def gateway_call(grant, *subjects, outcome=CallOutcome.OK, fields=("id_number", "name"), purpose="身份核验"):
    """A call as the gateway logs it, with the persons whose rows it returned."""
    call = CallLog.objects.create(
        channel=Channel.PLATFORM,
        consumer=grant.consumer,
        grant=grant,
        resource=grant.resource,
        resource_code=grant.resource.code,
        fields=list(fields),
        purpose=purpose,
        rows=len(subjects),
        outcome=outcome,
    )
    CallSubject.objects.bulk_create(
        CallSubject(call=call, subject_index=vault.key_index(pii.id_number_of(p.person))) for p in subjects
    )
    return call


def test_the_citizen_sees_each_answered_use_of_their_data_and_nothing_else(
    login, citizen, other_citizen, grant
):
    mine = gateway_call(grant, citizen, fields=("id_number", "name", "household_region"), purpose="办件核验")
    both = gateway_call(grant, citizen, other_citizen)
    gateway_call(grant, other_citizen)
    gateway_call(grant, citizen, outcome=CallOutcome.DENIED)  # refused: returned nothing
    assert list(tracker.uses_of(citizen)) == [both, mine]
    page = login(citizen).get(reverse("tracker:uses"))
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert text.count(reverse("tracker:use", args=[mine.pk])) == 1
    assert "西安市市场监督管理局" in text and "办件核验" in text and "户籍地行政区划代码" in text
    assert "人口基础信息" in text and "陕西省公安厅" in text
    assert len(tracker.uses_of(other_citizen)) == 2


def test_one_use_shows_the_grant_and_is_hidden_from_everybody_else(login, citizen, other_citizen, grant):
    use = gateway_call(grant, citizen)
    page = login(citizen).get(reverse("tracker:use", args=[use.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{grant.pk}" in text and grant.purpose in text and 'name="question"' in text
    assert login(other_citizen).get(reverse("tracker:use", args=[use.pk])).status_code == 404
    assert login(citizen).get(reverse("tracker:use", args=[use.pk + 99])).status_code == 404
    for odd in ("x1", "²", "9" * 30, "0"):
        assert login(citizen).get(reverse("tracker:use", args=[odd])).status_code == 404


def test_below_level_two_the_record_is_explained_not_shown(login, grant):
    declared = make_person("declared", "孙小明", seq=66, level=RealNameLevel.SELF_DECLARED)
    gateway_call(grant, declared.user)  # a number only declared: its uses are not theirs to read
    assert not tracker.may_read_record(declared.user)
    assert not tracker.uses_of(declared.user).exists()
    page = login(declared.user).get(reverse("tracker:uses"))
    assert page.status_code == 200 and reverse("identity:verify") in page.content.decode()
    assert reverse("tracker:use", args=[CallLog.objects.get().pk]) not in page.content.decode()


def test_an_official_without_a_person_has_no_record(login, official_x):
    page = login(official_x).get(reverse("tracker:uses"))
    assert page.status_code == 200 and reverse("identity:verify") not in page.content.decode()


def test_asking_reaches_the_providers_stewards_and_is_audited(
    login, citizen, grant, gat_steward, sjj_steward
):
    use = gateway_call(grant, citizen)
    response = login(citizen).post(
        reverse("tracker:use", args=[use.pk]), {"question": "  为什么要读取我的姓名？ "}
    )
    assert response.status_code == 302
    question = UseQuestion.objects.get()
    assert (question.question, question.state, question.provider.code) == (
        "为什么要读取我的姓名？",
        "open",
        "610000-GAT",
    )
    notice = AccountNotice.objects.get(user=gat_steward)
    assert notice.message_key == notice_texts.DATA_USE_QUESTION and "A01001" in notice.subject
    assert not AccountNotice.objects.filter(user=sjj_steward).exists()
    entry = AuditEntry.objects.get(event="exchange:use_question:ask")
    assert entry.target_id == str(question.pk) and entry.subject_id == str(citizen.pk)
    assert "为什么" not in str(entry.data)  # the question's text stays out of the log


def test_a_bad_or_repeated_question_is_refused_on_the_page_and_nothing_is_saved(login, citizen, grant):
    use = gateway_call(grant, citizen)
    client = login(citizen)
    empty = client.post(reverse("tracker:use", args=[use.pk]), {"question": "   "})
    assert empty.status_code == 400 and 'href="#id_question"' in empty.content.decode()
    long = client.post(reverse("tracker:use", args=[use.pk]), {"question": "问" * (questions.MAX_LENGTH + 1)})
    assert long.status_code == 400
    assert not UseQuestion.objects.exists()
    client.post(reverse("tracker:use", args=[use.pk]), {"question": "第一次提问"})
    with pytest.raises(WrongState, match="尚待答复"):
        questions.question_ask(use=use, actor=citizen, question="第二次提问")
    assert UseQuestion.objects.count() == 1
    page = client.get(reverse("tracker:use", args=[use.pk]))
    assert 'name="question"' not in page.content.decode()  # waits for the answer


def test_another_citizen_cannot_ask_about_a_use_of_someone_elses_data(login, citizen, other_citizen, grant):
    use = gateway_call(grant, citizen)
    assert (
        login(other_citizen).post(reverse("tracker:use", args=[use.pk]), {"question": "?"}).status_code == 404
    )
    from django.http import Http404

    with pytest.raises(Http404):
        questions.question_ask(use=use, actor=other_citizen, question="?")
    assert not UseQuestion.objects.exists()


def test_the_steward_answers_and_the_citizen_reads_the_answer(login, citizen, grant, gat_steward):
    use = gateway_call(grant, citizen)
    question = questions.question_ask(use=use, actor=citizen, question="用途是什么？")
    steward = login(gat_steward)
    assert reverse("tracker:questions") in steward.get(reverse("identity:account")).content.decode()
    listing = steward.get(reverse("tracker:questions"))
    assert (
        listing.status_code == 200
        and reverse("tracker:question", args=[question.pk]) in listing.content.decode()
    )
    page = steward.get(reverse("tracker:question", args=[question.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "用途是什么？" in text and "张三" not in text and "张*" in text
    bad = steward.post(reverse("tracker:question", args=[question.pk]), {"answer": ""})
    assert bad.status_code == 400 and 'href="#id_answer"' in bad.content.decode()
    ok = steward.post(reverse("tracker:question", args=[question.pk]), {"answer": "依法核验申请人身份。"})
    assert ok.status_code == 302
    question.refresh_from_db()
    assert question.state == QuestionState.ANSWERED and question.answered_by == gat_steward
    notice = AccountNotice.objects.get(user=citizen)
    assert notice.message_key == notice_texts.DATA_USE_ANSWERED and "陕西省公安厅" in notice.body
    entry = AuditEntry.objects.get(event="exchange:use_question:answer")
    assert entry.subject_id == str(citizen.pk)
    assert (
        "依法核验申请人身份。" in login(citizen).get(reverse("tracker:use", args=[use.pk])).content.decode()
    )
    with pytest.raises(WrongState):
        questions.question_answer(question=question, actor=gat_steward, answer="再答一次")


def test_only_the_providers_stewards_may_answer(login, citizen, grant, gat_steward, sjj_steward, official_x):
    question = questions.question_ask(use=gateway_call(grant, citizen), actor=citizen, question="?")
    assert login(sjj_steward).get(reverse("tracker:question", args=[question.pk])).status_code == 404
    for odd in ("x1", "²", "9" * 30):
        assert login(gat_steward).get(reverse("tracker:question", args=[odd])).status_code == 404
    assert (
        login(sjj_steward).post(reverse("tracker:question", args=[question.pk]), {"answer": "x"}).status_code
        == 404
    )
    assert (
        reverse("tracker:question", args=[question.pk])
        not in login(sjj_steward).get(reverse("tracker:questions")).content.decode()
    )
    assert login(official_x).get(reverse("tracker:questions")).status_code == 403
    assert (
        reverse("tracker:questions")
        not in login(official_x).get(reverse("identity:account")).content.decode()
    )
    assert login(citizen).get(reverse("tracker:question", args=[question.pk])).status_code == 403
    with pytest.raises(NotAllowed):
        questions.question_answer(question=question, actor=sjj_steward, answer="x")
    question.refresh_from_db()
    assert question.state == QuestionState.OPEN and not AccountNotice.objects.filter(user=citizen).exists()


def test_a_steward_above_the_provider_is_notified_and_may_answer(citizen, gat, grant, province):
    city = Department.objects.create(code="610100-GAT", name="西安市公安局", region=province, parent=gat)
    grant.resource.provider = city
    grant.resource.save(update_fields=["provider"])
    above = make_official("above", gat, [Role.DATA_STEWARD])
    question = questions.question_ask(use=gateway_call(grant, citizen), actor=citizen, question="?")
    assert AccountNotice.objects.filter(user=above).exists()
    questions.question_answer(question=question, actor=above, answer="已说明。")


def test_the_tracker_demo_is_idempotent_and_shows_zhang_sans_uses(settings):
    from yiwang.exchange import tracker_demo
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import User

    identity_demo.build()
    assert tracker_demo.build() == len(tracker_demo.CALLS)
    assert tracker_demo.build() == 0
    citizen, citizen2 = User.objects.get(username="citizen"), User.objects.get(username="citizen2")
    assert tracker.uses_of(citizen).count() == 3 and tracker.uses_of(citizen2).count() == 1
    states = sorted(UseQuestion.objects.filter(asked_by=citizen).values_list("state", flat=True))
    assert states == ["answered", "open"]
    assert (
        AccountNotice.objects.filter(
            user__username="gatsteward", message_key=notice_texts.DATA_USE_QUESTION
        ).count()
        == 2
    )


def test_the_record_page_costs_the_same_queries_for_few_or_many_uses(login, citizen, grant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(citizen)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("tracker:uses")).status_code == 200
        return len(captured)

    for _ in range(2):
        gateway_call(grant, citizen)
    few = queries()
    for _ in range(18):
        gateway_call(grant, citizen)
    assert queries() == few


def test_the_tracker_demo_adds_nothing_without_the_identity_demo(db):
    from yiwang.exchange import tracker_demo

    assert tracker_demo.build() == 0
    assert not CallLog.objects.exists()
