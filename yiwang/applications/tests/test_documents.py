"""Sealed documents of a case (准予/不予许可决定书, 受理通知书, 补正告知书, 不予受理决定书) and the
choice of how the result is delivered."""

from __future__ import annotations

import hashlib
import io
import re
import zlib

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from yiwang.applications import delivery, documents, services
from yiwang.applications.models import Case, ResultDelivery
from yiwang.audit.models import AuditEntry
from yiwang.identity.models import EnterpriseAgent
from yiwang.licences import seals

from .conftest import act, complete_draft

pytestmark = pytest.mark.django_db


def url(case: Case, kind: str) -> str:
    return f"/cases/{case.number}/documents/{kind}/"


@pytest.fixture
def completed(submitted, crew):
    case = act(submitted, crew["clerk"], "accept")
    case = act(case, crew["reviewer"], "pass")
    case = act(case, crew["approver"], "approve")
    return act(case, crew["clerk"], "complete")


@pytest.fixture
def refused(submitted, crew):
    case = act(submitted, crew["clerk"], "accept")
    return act(case, crew["reviewer"], "reject", comment="经营场所面积不符合要求")


@pytest.fixture
def not_accepted(submitted, crew):
    return act(submitted, crew["clerk"], "reject", comment="不属于本机关职权范围")


def text_of(data: bytes) -> str:
    """Every content stream of the PDF, inflated (the text is subset-encoded, so this finds the
    structure and the Latin parts; the Chinese is checked through the builder)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            out.append(raw.decode("latin-1"))
    return "\n".join(out)


# --- who gets which document ------------------------------------------------------------------------


def test_the_applicant_downloads_the_sealed_approval_after_completion(completed, citizen, login):
    response = login(citizen).get(url(completed, "approval"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    verdict = seals.validate_pdf(response.content)
    assert verdict.ok, verdict
    assert verdict.signer == completed.department.name
    entry = AuditEntry.objects.get(event="applications:document:issue")
    assert entry.data["kind"] == "approval"
    assert entry.data["seal_fingerprint"] == verdict.fingerprint
    assert entry.data["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert entry.subject_id == str(citizen.pk)


def test_another_citizen_may_not_read_zhang_sans_decision(completed, other_citizen, login):
    assert login(other_citizen).get(url(completed, "approval")).status_code == 404
    assert not AuditEntry.objects.filter(event="applications:document:issue").exists()


def test_anonymous_is_sent_to_sign_in(completed, login):
    response = login(None).get(url(completed, "approval"))
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_an_official_of_another_department_may_not(completed, official_y, login):
    assert login(official_y).get(url(completed, "approval")).status_code == 404


def test_a_leader_who_reads_cases_but_not_their_data_may_not(completed, leader_x, login):
    assert login(leader_x).get(url(completed, "approval")).status_code == 404


def test_the_applicant_does_not_get_the_step_notices(completed, citizen, login):
    client = login(citizen)
    assert client.get(url(completed, "acceptance")).status_code == 404


def test_officials_print_the_step_notices(completed, clerk_x, login):
    client = login(clerk_x)
    response = client.get(url(completed, "acceptance"))
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    assert client.get(url(completed, "approval")).status_code == 200
    # this case was never sent for a supplement, nor refused
    assert client.get(url(completed, "supplement")).status_code == 404
    assert client.get(url(completed, "refusal")).status_code == 404


def test_no_decision_before_the_case_has_ended(submitted, crew, citizen, login):
    case = act(submitted, crew["clerk"], "accept")
    assert login(citizen).get(url(case, "approval")).status_code == 404
    assert documents.available(citizen, case) == []
    assert documents.available(crew["clerk"], case) == ["acceptance"]


def test_a_refusal_carries_the_reason_and_the_remedies(refused, citizen, login):
    response = login(citizen).get(url(refused, "refusal"))
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    built = documents.build(refused, "refusal", english=False)
    body = " ".join(p.text for p in built.paragraphs)
    assert "经营场所面积不符合要求" in body
    assert "行政复议" in body and "行政诉讼" in body
    assert login(citizen).get(url(refused, "approval")).status_code == 404


def test_not_accepted_gives_the_rejection_decision(not_accepted, citizen, clerk_x, login):
    assert documents.available(citizen, not_accepted) == ["rejection"]
    assert documents.available(clerk_x, not_accepted) == ["rejection"]  # it was never accepted
    assert login(citizen).get(url(not_accepted, "rejection")).status_code == 200


def test_the_supplement_notice_says_what_to_supplement(
    item, applicant_material, citizen, dept_admin, crew, login
):
    from yiwang.applications import engine

    services.process_attach(
        actor=dept_admin, item=item, bpmn=(engine.PROCESSES_DIR / "supplement.bpmn").read_text()
    )
    case = complete_draft(services.case_start(actor=citizen, item=item), applicant_material, citizen)
    case = services.case_submit(actor=citizen, case=case)
    case = act(case, crew["clerk"], "supplement", comment="请补充场所平面图")
    response = login(crew["clerk"]).get(url(case, "supplement"))
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    built = documents.build(case, "supplement", english=False)
    assert any("请补充场所平面图" in p.text for p in built.paragraphs)


def test_an_agent_of_the_enterprise_downloads_its_decision(
    item, applicant_material, agent, enterprise, crew, login, make_agent_of
):
    case = complete_draft(
        services.case_start(actor=agent, item=item, enterprise=enterprise), applicant_material, agent
    )
    case = services.case_submit(actor=agent, case=case)
    for who, decision in (
        ("clerk", "accept"),
        ("reviewer", "pass"),
        ("approver", "approve"),
        ("clerk", "complete"),
    ):
        case = act(case, crew[who], decision)
    assert login(agent).get(url(case, "approval")).status_code == 200
    other = make_agent_of(enterprise)
    assert login(other).get(url(case, "approval")).status_code == 200
    built = documents.build(case, "approval", english=False)
    labels = {f.label: f.value for f in built.fields}
    assert labels["申请单位"] == enterprise.name
    assert labels["统一社会信用代码"] == enterprise.credit_code


@pytest.fixture
def make_agent_of(db):
    import datetime as dt

    from django.utils import timezone

    from yiwang.conftest import make_person

    def _make(enterprise):
        person = make_person("agent_two", "孙七", seq=77)
        EnterpriseAgent.objects.create(
            enterprise=enterprise,
            person=person,
            role=EnterpriseAgent.Role.AGENT,
            scope=EnterpriseAgent.Scope.APPLY,
            valid_until=timezone.localdate() + dt.timedelta(days=10),
        )
        return person.user

    return _make


@pytest.mark.parametrize(
    "path",
    [
        "/cases/{n}/documents/unknown/",
        "/cases/{n}/documents/APPROVAL/",
        "/cases/{n}x/documents/approval/",
        "/cases/" + "9" * 40 + "/documents/approval/",
        "/cases/draft-1/documents/approval/",
        "/cases/%00/documents/approval/",
    ],
)
def test_bad_input_is_a_404_never_a_500(completed, citizen, login, path):
    # a NUL byte is refused before any view (400); everything else is "no such document"
    assert login(citizen).get(path.format(n=completed.number)).status_code in (400, 404)
    assert not AuditEntry.objects.filter(event="applications:document:issue").exists()


def test_post_is_not_allowed(completed, citizen, login):
    assert login(citizen).post(url(completed, "approval")).status_code == 405


def test_a_missing_font_is_a_clear_503_and_nothing_is_issued(completed, citizen, login, settings, tmp_path):
    settings.DOCUMENT_FONT_FILE = tmp_path / "gone.ttc"
    response = login(citizen).get(url(completed, "approval"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "fonts-wqy-zenhei" in response.content.decode()
    assert not AuditEntry.objects.filter(event="applications:document:issue").exists()
    assert not AuditEntry.objects.filter(event__startswith="licences:seal").exists()


# --- what the document says ----------------------------------------------------------------------


def test_the_decision_shows_the_case_item_masked_applicant_department_date_and_basis(completed, citizen):
    completed.item.legal_basis = "《中华人民共和国食品安全法》第三十五条"
    completed.item.save(update_fields=["legal_basis"])
    built = documents.build(completed, "approval", english=False)
    fields = {f.label: f.value for f in built.fields}
    assert fields["案件编号"] == completed.number
    assert completed.item.name in fields["办理事项"]
    person = citizen.person
    assert person.id_number_masked in fields["申请人"] and person.name in fields["申请人"]
    assert "*" in person.id_number_masked
    assert fields["作出决定机关"] == completed.department.name
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", fields["日期"])
    assert built.issuer == completed.department.name
    assert any("食品安全法》第三十五条" in p.text for p in built.paragraphs)
    assert built.title in ("准予行政许可决定书", "准予许可决定书")
    assert not built.english


def test_the_full_identity_number_is_nowhere_in_the_pdf(completed, citizen):
    from yiwang.identity import pii

    full = pii.id_number_of(citizen.person)
    issued = documents.issue(case=completed, kind="approval", actor=citizen)
    assert full.encode() not in issued.pdf
    assert full not in text_of(issued.pdf)
    built = documents.build(completed, "approval", english=False)
    assert all(full not in f.value for f in built.fields)


def test_an_english_reader_gets_the_chinese_document_with_english_lines(completed, citizen, login):
    response = login(citizen).get(url(completed, "approval"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and seals.validate_pdf(response.content).ok
    built = documents.build(completed, "approval", english=True)
    assert built.english and built.title_en
    assert any("prevails" in p.text_en for p in built.paragraphs)
    entry = AuditEntry.objects.get(event="applications:document:issue")
    assert entry.data["language"] == "en"


def test_the_font_is_embedded_in_the_issued_document(completed, citizen):
    issued = documents.issue(case=completed, kind="approval", actor=citizen)
    reader = PdfFileReader(io.BytesIO(issued.pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    fonts = page["/Resources"].get_object()["/Font"].get_object()
    for ref in fonts.values():
        font = ref.get_object()
        assert re.match(r"/[A-Z]{6}\+WenQuanYi", str(font["/BaseFont"])), font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_a_tampered_decision_is_caught(completed, citizen):
    issued = documents.issue(case=completed, kind="approval", actor=citizen)
    at = issued.pdf.index(b"stream", 200) + 40
    changed = bytearray(issued.pdf)
    changed[at] ^= 1
    assert not seals.validate_pdf(bytes(changed)).intact


# --- links on the case pages ------------------------------------------------------------------------


def test_the_case_page_links_the_decision_for_the_applicant(completed, citizen, login):
    page = login(citizen).get(f"/cases/{completed.number}/").content.decode()
    assert url(completed, "approval") in page
    assert url(completed, "acceptance") not in page
    assert f"/cases/{completed.number}/delivery/" in page


def test_the_officials_case_page_links_every_notice(completed, clerk_x, login):
    page = login(clerk_x).get(f"/workbench/cases/{completed.number}/").content.decode()
    assert url(completed, "acceptance") in page and url(completed, "approval") in page
    assert f"/cases/{completed.number}/delivery/" not in page


def test_a_reader_who_may_not_have_them_sees_no_links(completed, leader_x, login):
    page = login(leader_x).get(f"/workbench/cases/{completed.number}/").content.decode()
    assert "/documents/" not in page


# --- delivery of the result ----------------------------------------------------------------------------


def delivery_url(case: Case) -> str:
    return f"/cases/{case.number}/delivery/"


def test_the_applicant_chooses_post_and_the_department_sees_it(completed, citizen, clerk_x, login):
    client = login(citizen)
    assert client.get(delivery_url(completed)).status_code == 200
    response = client.post(
        delivery_url(completed),
        {"method": "post", "recipient": "张三", "phone": "13912345678", "address": "西安市新城区解放路1号"},
    )
    assert response.status_code == 302
    chosen = ResultDelivery.objects.get(case=completed)
    assert chosen.method == "post" and chosen.address == "西安市新城区解放路1号"
    entry = AuditEntry.objects.get(event="applications:delivery:choose")
    assert entry.data == {"method": "post", "before": ""}
    assert "解放路" not in str(entry.data)
    page = login(clerk_x).get(f"/workbench/cases/{completed.number}/").content.decode()
    assert "西安市新城区解放路1号" in page and "13912345678" in page


def test_changing_to_the_window_clears_the_address_and_is_audited(completed, citizen, login):
    client = login(citizen)
    client.post(
        delivery_url(completed),
        {"method": "post", "recipient": "张三", "phone": "13912345678", "address": "西安市新城区解放路1号"},
    )
    client.post(delivery_url(completed), {"method": "window"})
    chosen = ResultDelivery.objects.get(case=completed)
    assert chosen.method == "window" and chosen.address == "" and chosen.phone == ""
    entries = AuditEntry.objects.filter(event="applications:delivery:choose").order_by("leaf_index")
    assert [e.data["method"] for e in entries] == ["post", "window"]
    assert entries.last().data["before"] == "post"


@pytest.mark.parametrize(
    "data",
    [
        {"method": "post", "recipient": "", "phone": "13912345678", "address": "西安市新城区解放路1号"},
        {"method": "post", "recipient": "张三", "phone": "12", "address": "西安市新城区解放路1号"},
        {"method": "post", "recipient": "张三", "phone": "13912345678", "address": "西安"},
        {
            "method": "post",
            "recipient": "张三",
            "phone": "13912345678",
            "address": "西安市新城区解放路1号",
            "postcode": "7100",
        },
        {"method": "drone"},
        {},
        {
            "method": "post",
            "recipient": "张" * 500,
            "phone": "13912345678",
            "address": "西安市新城区解放路1号",
        },
    ],
)
def test_bad_delivery_input_is_a_400_with_a_message_and_nothing_is_saved(completed, citizen, login, data):
    response = login(citizen).post(delivery_url(completed), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not ResultDelivery.objects.exists()
    assert not AuditEntry.objects.filter(event="applications:delivery:choose").exists()


def test_only_the_applicant_chooses(completed, other_citizen, clerk_x, login):
    for user in (other_citizen, clerk_x):
        client = login(user)
        assert client.get(delivery_url(completed)).status_code == 404
        assert client.post(delivery_url(completed), {"method": "window"}).status_code == 404
    assert not ResultDelivery.objects.exists()


def test_no_choice_before_the_decision(submitted, citizen, login):
    response = login(citizen).post(delivery_url(submitted), {"method": "window"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{submitted.number}/"
    assert not ResultDelivery.objects.exists()
    with pytest.raises(delivery.DeliveryRefused):
        delivery.delivery_choose(case=submitted, actor=citizen, method="window")


def test_the_service_refuses_someone_else_and_post_without_an_address(completed, citizen, other_citizen):
    with pytest.raises(delivery.DeliveryRefused):
        delivery.delivery_choose(case=completed, actor=other_citizen, method="window")
    with pytest.raises(delivery.DeliveryRefused):
        delivery.delivery_choose(case=completed, actor=citizen, method="post")
    assert not ResultDelivery.objects.exists()
