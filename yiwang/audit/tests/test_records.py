"""Restricted records: auditors read them all, a person reads their own and checks them against the
public leaf; nobody else reads any."""

import base64
import hashlib
import json

import pytest
from django.urls import reverse

from yiwang.audit import leaf, services
from yiwang.audit.models import AuditEntry
from yiwang.core import context

pytestmark = pytest.mark.django_db


def b64d(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.fixture
def history(citizen, other_citizen, official_x):
    token = context.bind(context.RequestContext(request_id="req-citizen", client_ip="198.51.100.20"))
    try:
        own = services.record(actor=citizen, event="applications:case:submit", target=citizen, data={"n": 1})
    finally:
        context.reset(token)
    token = context.bind(context.RequestContext(request_id="req-official", client_ip="10.1.2.3"))
    try:
        about = services.record(
            actor=official_x,
            event="applications:case:decide",
            target=citizen,
            subject=citizen,
            role="approver",
        )
    finally:
        context.reset(token)
    other = services.record(actor=other_citizen, event="applications:case:submit", target=other_citizen)
    return {"own": own, "about": about, "other": other}


def test_a_person_can_check_their_own_record_against_the_public_leaf(login, citizen, history):
    body = login(citizen).get("/api/audit/my-records").json()
    by_index = {r["leaf_index"]: r for r in body["records"]}
    assert set(by_index) == {history["own"].leaf_index, history["about"].leaf_index}
    own = by_index[history["own"].leaf_index]
    assert own["complete"] is True and own["matches_leaf"] is True
    public = leaf.decode_leaf_input(history["own"].leaf_input)
    # what the person checks by hand: SHA-256(salt || record) is the commitment the public leaf shows
    assert hashlib.sha256(b64d(own["salt"]) + b64d(own["record"])).hexdigest() == public["commitment"]
    record = json.loads(b64d(own["record"]))
    assert record["ip"] == "198.51.100.20" and record["data"] == {"n": 1}
    assert record["actor"]["id"] == str(citizen.pk)


def test_an_entry_about_a_person_hides_the_officials_account_and_address(login, citizen, history):
    body = login(citizen).get("/api/audit/my-records").json()
    about = next(r for r in body["records"] if r["leaf_index"] == history["about"].leaf_index)
    assert about["complete"] is False and about["matches_leaf"] is True
    assert about["acting"] == {"kind": "official", "department": "610100-SCJG", "role": "approver"}
    text = json.dumps(about)
    assert "10.1.2.3" not in text and "req-official" not in text
    assert about["actor"]["id"] == "" and about["salt"] is None and about["record"] is None


def test_a_person_never_reads_another_persons_records(login, other_citizen, history):
    body = login(other_citizen).get("/api/audit/my-records").json()
    assert [r["leaf_index"] for r in body["records"]] == [history["other"].leaf_index]


def test_only_auditors_read_all_records_and_each_read_is_audited(login, citizen, auditor, history):
    assert login(None).get("/api/audit/records", {"event": "applications:case:submit"}).status_code == 401
    refused = login(citizen).get("/api/audit/records", {"event": "applications:case:submit"})
    assert refused.status_code == 403
    assert refused.json()["detail"]
    body = login(auditor).get("/api/audit/records", {"actor_user_id": str(citizen.pk)}).json()
    assert [r["leaf_index"] for r in body["records"]] == [history["own"].leaf_index]
    assert body["records"][0]["ip"] == "198.51.100.20" and body["records"][0]["complete"] is True
    read = AuditEntry.objects.get(event="audit:record:read")
    assert read.actor_id == str(auditor.pk)
    assert read.data["filters"] == {"actor_user_id": str(citizen.pk)}
    assert leaf.decode_leaf_input(read.leaf_input)["actor"]["role"] == "auditor"


def test_the_my_records_page_lists_own_entries_and_is_not_cached(login, citizen, history):
    assert login(None).get(reverse("audit:my_records")).status_code == 302
    response = login(citizen).get(reverse("audit:my_records"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "applications:case:submit" in html and "198.51.100.20" in html
    assert "10.1.2.3" not in html
    assert "This record matches the public entry." in html


def test_the_records_page_is_for_auditors_and_explains_a_bad_filter(login, citizen, auditor, history):
    url = reverse("audit:records")
    assert login(citizen).get(url, {"event": "applications:case:submit"}).status_code == 403
    page = login(auditor).get(url, {"event": "applications:case:submit"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert len(page.context["records"]) == 2
    bad = login(auditor).get(url, {"event": "not an event"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 200
    assert "Write the event as app:subject:verb" in bad.content.decode()
    empty = login(auditor).get(url, {"event": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Fill in at least one field" in empty.content.decode()


def test_auditors_find_the_records_in_the_header_and_everyone_finds_their_own_on_my_account(
    login, citizen, auditor
):
    assert reverse("audit:records") in login(auditor).get("/").content.decode()
    assert reverse("audit:records") not in login(citizen).get("/").content.decode()
    assert reverse("audit:my_records") in login(citizen).get(reverse("identity:account")).content.decode()
