"""The gateway (gateway.query): grants, fields, masking, rate limits, upstream sources, and the
record of every call, answered or refused."""

import datetime as dt
import json
import time

import httpx
import pytest
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.audit.models import AuditEntry
from yiwang.exchange import gateway, rowquery, upstream, vault
from yiwang.exchange.errors import InvalidInput, NotAllowed, NotFound, RateLimited, Unavailable
from yiwang.exchange.models import CallLog, CallOutcome, CallSubject, Channel
from yiwang.exchange.tests.gateway.world import LI, ZHANG, ZHOU, make_grant, short_deadline

pytestmark = pytest.mark.django_db


def ask(consumer, code="A01001", *, fields=None, filters=None, channel=Channel.PLATFORM, **extra):
    return gateway.query(
        consumer=consumer,
        resource_code=code,
        fields=fields,
        filters=filters or {},
        purpose=extra.pop("purpose", "核验申请人户籍"),
        channel=channel,
        **extra,
    )


def test_a_granted_call_returns_the_granted_fields_masked_and_is_recorded(grant_x, department_x, citizen):
    result = ask(department_x, actor=citizen, reference="case:X-1", sort=["household_region"])
    assert result.total == 3 and result.grant_id == grant_x.pk
    assert result.fields == [
        "id_number",
        "name",
        "birth_date",
        "household_region",
        "household_address",
        "residence_since",
        "phone",
    ]
    first = result.rows[0]  # 张三: the only one registered in 610102
    assert first == {
        "id_number": "6101**********001X",
        "name": "张*",
        "birth_date": "1990-01-01",  # handed over in clear by the grant
        "household_region": "610102",
        "household_address": "陕西省西安市新城区****",
        "residence_since": "2015-03-01",
        "phone": "138****1111",
    }
    assert "gender" not in first  # not granted
    assert result.masked_fields == ["id_number", "name", "household_address", "phone"]
    assert result.provider.code == "610000-GAT"

    log = CallLog.objects.get(pk=result.call_id)
    assert log.outcome == CallOutcome.OK and log.rows == 3 and log.grant == grant_x
    assert log.consumer == department_x and log.actor == citizen and log.channel == Channel.PLATFORM
    assert log.purpose == "核验申请人户籍" and log.reference == "case:X-1" and log.latency_ms > 0
    assert log.fields == result.fields
    subjects = set(CallSubject.objects.filter(call=log).values_list("subject_index", flat=True))
    assert subjects == {vault.key_index(p["id_number"]) for p in (ZHANG, LI, ZHOU)}
    entry = AuditEntry.objects.get(event="exchange:call:answer")
    assert entry.target_id == str(log.pk) and entry.data["rows"] == 3 and entry.data["resource"] == "A01001"
    assert "张三" not in json.dumps(entry.data, ensure_ascii=False)


def test_a_lookup_by_identity_number_returns_that_person_only(grant_x, department_x):
    result = ask(
        department_x, fields=["household_region", "residence_since"], filters={"id_number": LI["id_number"]}
    )
    assert result.rows == [{"household_region": "610113", "residence_since": "2020-09-01"}]
    # the person is a data subject of the call even though their number was not returned
    subjects = list(
        CallSubject.objects.filter(call_id=result.call_id).values_list("subject_index", flat=True)
    )
    assert subjects == [vault.key_index(LI["id_number"])]


def test_a_call_that_finds_nobody_records_no_subject(grant_x, department_x):
    result = ask(department_x, filters={"id_number": "110105194912310045"})
    assert result.rows == [] and result.total == 0
    assert not CallSubject.objects.filter(call_id=result.call_id).exists()


def refused(exc_type, consumer, *args, **kwargs):
    with pytest.raises(exc_type) as caught:
        ask(consumer, *args, **kwargs)
    log = CallLog.objects.order_by("-pk").first()
    return caught.value, log


def test_without_a_grant_the_call_is_refused_and_recorded(population, department_x):
    exc, log = refused(NotAllowed, department_x)
    assert exc.status == 403 and "holds no grant" in exc.message and "A01001" in exc.message
    assert log.outcome == CallOutcome.DENIED and log.resource == population and log.rows == 0
    assert log.error == exc.message and not log.subjects.exists()
    assert AuditEntry.objects.get(event="exchange:call:refuse").data["outcome"] == "denied"


def test_another_departments_grant_does_not_extend_to_the_caller(grant_x, department_y):
    exc, log = refused(NotAllowed, department_y)
    assert "other departments" in exc.message and log.consumer == department_y and log.grant is None


def test_a_child_department_does_not_inherit_its_parents_grant(grant_x, department_x_child):
    exc, _log = refused(NotAllowed, department_x_child)
    assert "other departments" in exc.message


def test_an_expired_grant_is_refused_naming_its_end(grant_x, department_x):
    grant_x.valid_from = timezone.now() - dt.timedelta(days=60)
    grant_x.valid_until = timezone.now() - dt.timedelta(days=1)
    grant_x.save()
    exc, log = refused(NotAllowed, department_x)
    assert "expired on" in exc.message and log.outcome == CallOutcome.DENIED


def test_a_revoked_grant_is_refused_naming_the_revocation(grant_x, department_x):
    grant_x.revoked_at = timezone.now()
    grant_x.save()
    exc, _log = refused(NotAllowed, department_x)
    assert "revoked on" in exc.message


def test_a_grant_not_yet_valid_is_refused(grant_x, department_x):
    grant_x.valid_from = timezone.now() + dt.timedelta(days=1)
    grant_x.save()
    exc, _log = refused(NotAllowed, department_x)
    assert "valid from" in exc.message


def test_a_standing_grant_serves_the_platform_but_not_the_api(grant_x, department_x):
    grant_x.standing = True
    grant_x.save()
    assert ask(department_x).total == 3
    exc, _log = refused(NotAllowed, department_x, channel=Channel.API)
    assert "standing grant" in exc.message


def test_fields_outside_the_grant_are_refused_by_name(grant_x, department_x):
    exc, log = refused(NotAllowed, department_x, fields=["name", "gender", "residence_region"])
    assert "gender" in exc.message and "residence_region" in exc.message and "name" not in exc.message
    assert log.outcome == CallOutcome.DENIED


def test_filters_and_sort_on_fields_outside_the_grant_are_refused(grant_x, department_x):
    exc, _log = refused(NotAllowed, department_x, filters={"gender": "男"})
    assert "gender" in exc.message
    exc, _log = refused(NotAllowed, department_x, sort=["-residence_region"])
    assert "residence_region" in exc.message


def test_text_search_does_not_look_into_fields_outside_the_grant(population, department_x):
    make_grant(population, department_x, ["household_region"])
    assert ask(department_x, q="610113").total == 2
    assert ask(department_x, q="男").total == 0  # gender is not granted
    with pytest.raises(NotAllowed):
        ask(department_x, sort=["name"])  # not granted: refused before anything runs


def test_unknown_fields_are_invalid_input_naming_them(grant_x, department_x):
    exc, log = refused(InvalidInput, department_x, fields=["name", "shoe_size"])
    assert exc.status == 422 and "shoe_size" in exc.message and "fields" in exc.errors
    assert log.outcome == CallOutcome.INVALID
    exc, _log = refused(InvalidInput, department_x, filters={"shoe_size": 42})
    assert "filters" in exc.errors


def test_malformed_filters_and_pages_are_refused_with_400(grant_x, department_x):
    exc, log = refused(rowquery.QueryError, department_x, filters={"residence_since": "last spring"})
    assert exc.status == 400 and "residence_since" in exc.message and log.outcome == CallOutcome.INVALID
    exc, _log = refused(rowquery.QueryError, department_x, limit=5000)
    assert "limit" in exc.message
    exc, _log = refused(InvalidInput, department_x, filters=["id_number"])
    assert "filters" in exc.errors


def test_a_personal_field_other_than_the_key_cannot_be_filtered(grant_x, department_x):
    exc, _log = refused(rowquery.QueryError, department_x, filters={"name": "张三"})
    assert "id_number" in exc.message


def test_the_purpose_is_required(grant_x, department_x):
    exc, log = refused(InvalidInput, department_x, purpose="  ")
    assert "purpose" in exc.errors and log.outcome == CallOutcome.INVALID


def test_an_unknown_or_unpublished_resource_is_not_found(population, grant_x, department_x):
    exc, log = refused(NotFound, department_x, "Z99999")
    assert exc.status == 404 and "Z99999" in exc.message
    assert log.outcome == CallOutcome.NOT_FOUND and log.resource is None and log.resource_code == "Z99999"
    population.state = "retired"
    population.save()
    refused(NotFound, department_x)


def test_the_grants_rate_limit_refuses_with_the_seconds_to_wait(grant_x, department_x):
    grant_x.rate_limit_per_minute = 2
    grant_x.save()
    ask(department_x)
    ask(department_x)
    exc, log = refused(RateLimited, department_x)
    assert exc.status == 429 and 1 <= exc.retry_after <= 120 and "2 calls a minute" in exc.message
    assert log.outcome == CallOutcome.RATE_LIMITED and log.grant == grant_x


def test_rate_limits_are_per_grant(grant_x, population, department_y, department_x):
    grant_x.rate_limit_per_minute = 1
    grant_x.save()
    make_grant(population, department_y, ["household_region"], rate_limit_per_minute=1)
    ask(department_x)
    ask(department_y)
    refused(RateLimited, department_x)


def test_the_call_record_and_its_audit_entry_are_one_transaction(grant_x, department_x, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit log down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        ask(department_x)
    assert not CallLog.objects.exists() and not CallSubject.objects.exists()


def test_an_api_key_of_another_department_is_refused(grant_x, department_x, department_y, key_x):
    from yiwang.exchange import credentials

    credential = credentials.authenticate(key_x)
    exc, _log = refused(NotAllowed, department_y, channel=Channel.API, credential=credential)
    assert "another department" in exc.message


# --- upstream http sources -------------------------------------------------------------------


def answering(handler):
    return upstream.use_transport(httpx.MockTransport(handler))


def test_an_http_source_is_asked_for_the_page_and_its_rows_masked(insurance, department_x):
    grant = make_grant(insurance, department_x, ["id_number", "insured", "insured_since"])
    seen = {}

    def handler(request):
        seen.update(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "rows": [
                    {"id_number": ZHANG["id_number"], "insured": True, "insured_since": "2016-01-01", "x": 1}
                ],
                "total": 1,
            },
        )

    with answering(handler):
        result = ask(department_x, "C03001", filters={"id_number": ZHANG["id_number"]}, fields=["insured"])
    assert seen["filters"] == {"id_number": ZHANG["id_number"]} and seen["limit"] == 100
    assert set(seen["fields"]) == {"insured", "id_number"}  # the number: for the record of whose data
    assert result.rows == [{"insured": True}] and result.total == 1 and result.grant_id == grant.pk
    subjects = list(
        CallSubject.objects.filter(call_id=result.call_id).values_list("subject_index", flat=True)
    )
    assert subjects == [vault.key_index(ZHANG["id_number"])]


def test_an_upstream_that_times_out_is_refused_with_504_within_the_deadline(insurance, department_x):
    make_grant(insurance, department_x, ["insured"])
    short_deadline(insurance)

    def slow(request):
        time.sleep(1.5)
        return httpx.Response(200, json={"rows": []})

    started = time.monotonic()
    with answering(slow), pytest.raises(Unavailable) as caught:
        ask(department_x, "C03001")
    assert time.monotonic() - started < 1.0  # the deadline is 300 ms, whatever the upstream does
    assert caught.value.status == 504 and "300 ms" in caught.value.message
    log = CallLog.objects.get()
    assert log.outcome == CallOutcome.UPSTREAM_TIMEOUT and log.error == caught.value.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda r: httpx.Response(500, text="Internal Server Error"), "status 500"),
        (lambda r: httpx.Response(200, text="<html>"), "not JSON"),
        (lambda r: httpx.Response(200, json={"data": []}), "rows"),
        (lambda r: httpx.Response(200, json={"rows": [1]}), "object"),
        (lambda r: httpx.Response(200, json={"rows": [], "total": "many"}), "total"),
    ],
)
def test_an_upstream_failure_is_refused_with_502_saying_what_failed(insurance, department_x, answer, words):
    make_grant(insurance, department_x, ["insured"])
    with answering(answer), pytest.raises(Unavailable) as caught:
        ask(department_x, "C03001")
    assert caught.value.status == 502 and words in caught.value.message
    assert CallLog.objects.get().outcome == CallOutcome.UPSTREAM_ERROR


def test_an_unreachable_upstream_is_a_502(insurance, department_x):
    make_grant(insurance, department_x, ["insured"])

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    with answering(refuse), pytest.raises(Unavailable) as caught:
        ask(department_x, "C03001")
    assert caught.value.status == 502 and "could not be reached" in caught.value.message


def test_bad_filters_for_an_http_source_are_refused_before_calling_it(insurance, department_x):
    make_grant(insurance, department_x, ["insured", "insured_since"])
    called = []

    def handler(request):
        called.append(request)
        return httpx.Response(200, json={"rows": []})

    with answering(handler), pytest.raises(rowquery.QueryError):
        ask(department_x, "C03001", filters={"insured_since": "yesterday"})
    assert called == []


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("purpose", "核验\ud800"),
        ("filters", {"household_region": "61\x00"}),
        ("q", "\udfff"),
        ("reference", "a\x00"),
    ],
)
def test_text_that_is_not_text_is_refused_and_the_refusal_still_recorded(grant_x, department_x, where, value):
    kwargs = {"filters": value} if where == "filters" else {where: value}
    exc, log = refused(InvalidInput, department_x, **kwargs)
    assert where in exc.errors and log.outcome == CallOutcome.INVALID
    log.refresh_from_db()  # what was stored reads back


def test_a_resource_code_that_is_not_text_is_not_found(grant_x, department_x):
    exc, log = refused(NotFound, department_x, "A0\ud8001")
    assert log.outcome == CallOutcome.NOT_FOUND and "\ud800" not in log.resource_code


def test_of_two_grants_in_force_the_one_covering_the_fields_asked_serves(grant_x, population, department_x):
    narrow = make_grant(population, department_x, ["gender"], purpose="统计")
    assert ask(department_x, fields=["gender"]).grant_id == narrow.pk
    assert ask(department_x, fields=["name"]).grant_id == grant_x.pk
    assert ask(department_x).grant_id == grant_x.pk  # nothing named: the widest
