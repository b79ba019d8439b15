"""The gateway's workbench pages: our API keys, our calls, who used our data."""

import re

import pytest

from yiwang.conftest import PERSONA_PASSWORD, make_official
from yiwang.exchange import credentials, gateway
from yiwang.exchange.models import ApiCredential, Channel
from yiwang.identity.models import Role

pytestmark = pytest.mark.django_db
KEYS, CALLS, USES = (
    "/workbench/data/gateway/",
    "/workbench/data/gateway/calls/",
    "/workbench/data/gateway/uses/",
)


def test_a_steward_creates_a_key_shown_once_then_revokes_it(login, steward_x, department_x):
    client = login(steward_x)
    assert client.get(KEYS).status_code == 200
    response = client.post(
        KEYS,
        {"op": "create", "name": "企业登记系统", "department": department_x.pk, "password": PERSONA_PASSWORD},
    )
    assert response.status_code == 200
    shown = re.search(r'value="(yw_[a-z0-9]{10}_[A-Za-z0-9_-]{43})"', response.content.decode())
    assert shown, "the new key is on the page"
    key = shown.group(1)
    assert credentials.authenticate(key).name == "企业登记系统"
    again = client.get(KEYS).content.decode()
    assert key not in again and key[:13] in again  # the prefix only, ever after
    credential = ApiCredential.objects.get()
    response = client.post(KEYS, {"op": "revoke", "credential": credential.pk})
    assert response.status_code == 302
    with pytest.raises(credentials.CredentialRefused):
        credentials.authenticate(key)


def test_creating_a_key_needs_the_password_again(login, steward_x, department_x):
    response = login(steward_x).post(
        KEYS, {"op": "create", "name": "x", "department": department_x.pk, "password": "wrong"}
    )
    assert response.status_code == 400
    assert not re.search(r"yw_[a-z0-9]{10}_", response.content.decode())
    assert not ApiCredential.objects.exists()


def test_a_steward_cannot_create_or_revoke_keys_of_another_department(login, steward_x, department_y, key_x):
    steward_y = make_official("steward_y", department_y, [Role.DATA_STEWARD])
    client = login(steward_y)
    response = client.post(
        KEYS,
        {
            "op": "create",
            "name": "x",
            "department": ApiCredential.objects.get().department_id,
            "password": PERSONA_PASSWORD,
        },
    )
    assert response.status_code == 400  # not a department they may choose
    client.post(KEYS, {"op": "revoke", "credential": ApiCredential.objects.get().pk})
    assert ApiCredential.objects.get().revoked_at is None
    assert ApiCredential.objects.get().prefix not in client.get(KEYS).content.decode()


def test_officials_who_are_not_stewards_cannot_reach_the_keys(login, official_x, citizen):
    assert login(official_x).get(KEYS).status_code == 403
    assert (
        login(official_x).post(KEYS, {"op": "create", "name": "x", "password": PERSONA_PASSWORD}).status_code
        == 403
    )
    assert login(citizen).get(KEYS).status_code == 403
    assert login(None).get(KEYS).status_code == 302


def test_our_calls_and_who_used_our_data_show_each_side_its_own(
    login, grant_x, department_x, department_y, gat, population
):
    gateway.query(
        consumer=department_x,
        resource_code="A01001",
        fields=["name"],
        filters={},
        purpose="营业执照核验",
        channel=Channel.PLATFORM,
    )
    with pytest.raises(Exception):  # noqa: B017 — any refusal: the point is the record
        gateway.query(
            consumer=department_y,
            resource_code="A01001",
            fields=None,
            filters={},
            purpose="乙的查询",
            channel=Channel.PLATFORM,
        )
    leader_x = make_official("leader_x", department_x, [Role.LEADER])
    steward_gat = make_official("steward_gat", gat, [Role.DATA_STEWARD])
    steward_y = make_official("steward_y", department_y, [Role.DATA_STEWARD])

    ours = login(leader_x).get(CALLS).content.decode()
    assert "营业执照核验" in ours and "乙的查询" not in ours
    assert login(leader_x).get(USES).content.decode().count("营业执照核验") == 0

    used = login(steward_gat).get(USES).content.decode()
    assert "营业执照核验" in used and "乙的查询" in used and "西安市市场监督管理局" in used
    assert "张" not in used  # field names, never values

    assert "营业执照核验" not in login(steward_y).get(CALLS).content.decode()
    refused = login(steward_gat).get(USES, {"outcome": "denied"}).content.decode()
    assert "乙的查询" in refused and "营业执照核验" not in refused


def test_the_call_pages_are_refused_to_officials_without_the_roles(login, official_x, citizen):
    for url in (CALLS, USES):
        assert login(official_x).get(url).status_code == 403
        assert login(citizen).get(url).status_code == 403
        assert login(None).get(url).status_code == 302


def test_odd_page_and_outcome_values_are_harmless(login, steward_x):
    client = login(steward_x)
    for query in ({"page": "-1"}, {"page": "abc"}, {"outcome": "<script>"}, {"page": "99999999999999999999"}):
        assert client.get(CALLS, query).status_code == 200
        assert client.get(USES, query).status_code == 200
        assert client.get(KEYS, query).status_code == 200
    assert client.post(KEYS, {"op": "revoke", "credential": "x"}).status_code == 302
    assert client.post(KEYS, {"op": "nonsense"}).status_code == 302
    assert client.post(KEYS, {}).status_code == 302
