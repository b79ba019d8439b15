"""The public endpoints, the verify page and API, and the department pages."""

import json

import pytest

from yiwang.audit.models import AuditEntry
from yiwang.conftest import PERSONA_PASSWORD, make_official
from yiwang.identity.models import Role
from yiwang.licences import jose, services
from yiwang.licences.models import IssuerKey, Licence, TrustedIssuer
from yiwang.licences.tests.conftest import served_issuer

# --- issuer metadata and status lists -------------------------------------------------------


def test_issuer_metadata_publishes_every_key_of_the_department(business_licence, department_x, login):
    services.issuer_key_rotate(department=department_x, actor="system:test")
    response = login(None).get(f"/.well-known/jwt-vc-issuer/licences/issuers/{department_x.code}")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == services.issuer_url(department_x)
    assert len(body["jwks"]["keys"]) == 2
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in body["jwks"]["keys"])
    assert services.metadata_url(body["issuer"]).endswith(
        f"/.well-known/jwt-vc-issuer/licences/issuers/{department_x.code}"
    )
    assert login(None).get(f"/licences/issuers/{department_x.code}").json() == body


def test_a_department_without_keys_or_unknown_is_no_issuer(department_y, login):
    assert (
        login(None).get(f"/.well-known/jwt-vc-issuer/licences/issuers/{department_y.code}").status_code == 404
    )
    assert login(None).get("/.well-known/jwt-vc-issuer/licences/issuers/nope").status_code == 404


def test_the_status_list_is_a_signed_cacheable_token(business_licence, department_x, login, approver_x):
    client = login(None)
    url = f"/licences/status/{department_x.code}/1"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/statuslist+jwt"
    assert response["Cache-Control"] == f"public, max-age={services.status_ttl()}"
    token = response.content.decode()
    parsed = jose.Compact(token)
    assert parsed.header["typ"] == "statuslist+jwt"
    assert parsed.payload["sub"].endswith(url)
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    services.licence_revoke(licence=business_licence, actor=approver_x, reason="吊销")
    changed = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != response["ETag"]
    assert client.get(f"/licences/status/{department_x.code}/9").status_code == 404


# --- the verify page and API ----------------------------------------------------------------


def test_the_verify_page_shows_the_verdict_and_only_disclosed_claims(dog_licence, citizen, login):
    text = services.licence_present(licence=dog_licence, disclose=["owner"], actor=citizen)
    client = login(None)
    assert client.get("/verify/").status_code == 200
    response = client.post("/verify/", {"credential": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert "有效" in page or "Valid" in page
    assert citizen.person.name in page
    assert "犬主身份证号码" not in page


def test_the_verify_page_speaks_english_too(dog_licence, citizen, login):
    text = services.licence_present(licence=dog_licence, disclose=["owner"], actor=citizen)
    response = login(None).post("/verify/", {"credential": text}, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Owner" in page and "Dog registration certificate" in page


def test_the_verify_page_answers_bad_input_with_a_message(db, login):
    client = login(None)
    empty = client.post("/verify/", {"credential": ""})
    assert empty.status_code == 400
    junk = client.post("/verify/", {"credential": "no licence at all"})
    assert junk.status_code == 200  # a verdict, shown on the page
    assert "Not a licence" in junk.content.decode() or "不是电子证照" in junk.content.decode()


def test_the_verify_api_gives_verdicts_and_400_for_what_is_not_a_licence(business_licence, approver_x, login):
    client = login(None)
    text = services.licence_credential(business_licence)
    ok = client.post("/api/licences/verify", {"credential": text}, content_type="application/json")
    assert ok.status_code == 200
    body = ok.json()
    assert body["verdict"] == "valid" and body["valid"] is True
    assert {c["name"] for c in body["claims"]} >= {"name", "credit_code", "licence_number"}
    services.licence_suspend(licence=business_licence, actor=approver_x, reason="核查")
    suspended = client.post(
        "/api/licences/verify", {"credential": text}, content_type="application/json"
    ).json()
    assert suspended["verdict"] == "suspended" and suspended["valid"] is False
    bad = client.post("/api/licences/verify", {"credential": "abc"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "credential"
    for payload in ({}, {"credential": 5}, {"credential": "x" * 70_000}, [], "text"):
        response = client.post("/api/licences/verify", json.dumps(payload), content_type="application/json")
        assert 400 <= response.status_code < 500, payload
        assert "detail" in response.json()


def test_the_types_api_lists_claims_with_both_labels(types, login):
    body = login(None).get("/api/licences/types").json()
    dog = next(t for t in body if t["code"] == "dog-registration")
    owner = next(c for c in dog["claims"] if c["name"] == "owner")
    assert owner == {
        "name": "owner",
        "zh": "犬主姓名",
        "en": "Owner",
        "selectively_disclosable": True,
        "personal": True,
    }


# --- department pages -----------------------------------------------------------------------


@pytest.fixture
def leader_x(department_x):
    return make_official("leader_x", department_x, [Role.LEADER])


def test_the_department_list_shows_its_licences_with_personal_data_masked(
    dog_licence, business_licence, approver_x, login, citizen
):
    page = login(approver_x).get("/workbench/licences/").content.decode()
    assert business_licence.number in page
    assert dog_licence.number not in page  # 西安市公安局's, not X's
    assert citizen.person.name not in page


def test_who_may_open_the_department_pages(
    business_licence, approver_x, approver_y, leader_x, inspector, citizen, login
):
    url = f"/workbench/licences/{business_licence.pk}/"
    assert login(approver_x).get(url).status_code == 200
    assert login(leader_x).get(url).status_code == 200
    assert login(approver_y).get(url).status_code == 404
    assert login(inspector).get(url).status_code == 403
    assert login(citizen).get(url).status_code == 403
    assert login(None).get(url).status_code == 302
    assert login(approver_x).get("/workbench/licences/abc/").status_code == 404


def test_an_approver_suspends_on_the_page_and_a_leader_cannot(business_licence, approver_x, leader_x, login):
    url = f"/workbench/licences/{business_licence.pk}/"
    assert login(leader_x).post(url, {"action": "suspend", "reason": "x"}).status_code == 404
    business_licence.refresh_from_db()
    assert business_licence.state == "valid"
    no_reason = login(approver_x).post(url, {"action": "suspend", "reason": ""})
    assert no_reason.status_code == 400
    done = login(approver_x).post(url, {"action": "suspend", "reason": "停业整顿"})
    assert done.status_code == 302
    business_licence.refresh_from_db()
    assert business_licence.state == "suspended"
    again = login(approver_x).post(url, {"action": "suspend", "reason": "再次"})
    assert again.status_code == 400  # a suspended licence cannot be suspended: a message, not a 500


def test_revoking_on_the_page_needs_the_password(business_licence, approver_x, login):
    url = f"/workbench/licences/{business_licence.pk}/"
    wrong = login(approver_x).post(url, {"action": "revoke", "reason": "吊销", "password": "nope"})
    assert wrong.status_code == 400
    business_licence.refresh_from_db()
    assert business_licence.state == "valid"
    login(approver_x).post(url, {"action": "revoke", "reason": "吊销", "password": PERSONA_PASSWORD})
    business_licence.refresh_from_db()
    assert business_licence.state == "revoked"


def test_renewing_on_the_page_goes_to_the_new_licence(business_licence, approver_x, login):
    response = login(approver_x).post(
        f"/workbench/licences/{business_licence.pk}/", {"action": "renew", "reason": ""}
    )
    new = Licence.objects.get(replaces=business_licence)
    assert response.status_code == 302 and response["Location"].endswith(f"/workbench/licences/{new.pk}/")


def test_an_approver_issues_by_hand_from_the_register(types, enterprise, approver_x, login):
    client = login(approver_x)
    choose = client.get("/workbench/licences/issue/").content.decode()
    assert "营业执照" in choose and "养犬登记证" not in choose
    url = "/workbench/licences/issue/?type=business-licence"
    assert client.get(url).status_code == 200
    unknown = client.post(url, {"holder": "91610100MA0000000X", "reason": "补发"})
    assert unknown.status_code == 400
    done = client.post(
        url, {"holder": enterprise.credit_code, "reason": "纸质证照电子化", "claim_business_scope": "餐饮"}
    )
    assert done.status_code == 302
    licence = Licence.objects.get(holder_enterprise=enterprise)
    assert licence.issue_reason == "纸质证照电子化" and licence.issued_by == approver_x


def test_the_department_administrator_rotates_the_key_with_the_password(
    business_licence, dept_admin, approver_x, login
):
    assert login(approver_x).get("/workbench/licences/keys/").status_code == 403
    client = login(dept_admin)
    assert business_licence.issuer_key.kid in client.get("/workbench/licences/keys/").content.decode()
    assert client.post("/workbench/licences/keys/", {"password": "nope"}).status_code == 400
    assert IssuerKey.objects.filter(department=business_licence.department).count() == 1
    assert (
        client.post("/workbench/licences/keys/", {"password": PERSONA_PASSWORD, "reason": "轮换"}).status_code
        == 302
    )
    assert IssuerKey.objects.filter(department=business_licence.department).count() == 2
    assert AuditEntry.objects.filter(event="licences:issuer_key:rotate").count() == 1


def test_only_platform_administrators_keep_the_trust_list(superuser, dept_admin, login, monkeypatch):
    from yiwang.licences import fetch

    assert login(dept_admin).get("/workbench/licences/trusted-issuers/").status_code == 403
    iss = "https://other.example.org/licences/issuers/610200-SCJG"
    x = jose.public_x(
        __import__(
            "cryptography.hazmat.primitives.asymmetric.ed25519", fromlist=["x"]
        ).Ed25519PrivateKey.generate()
    )
    served = served_issuer(iss, {"keys": [jose.public_jwk(x, "k1")]})
    monkeypatch.setattr(fetch, "http_get", lambda url: served[url])
    client = login(superuser)
    assert client.get("/workbench/licences/trusted-issuers/").status_code == 200
    response = client.post(
        "/workbench/licences/trusted-issuers/", {"issuer": iss, "name": "铜川市市场监督管理局"}
    )
    assert response.status_code == 302
    assert TrustedIssuer.objects.get().jwks["keys"][0]["x"] == x
    entry = AuditEntry.objects.get(event="licences:trusted_issuer:add")
    assert entry.data["thumbprints"] == ["k1"]

    def broken(url):
        raise OSError("connection refused")

    monkeypatch.setattr(fetch, "http_get", broken)
    failed = client.post("/workbench/licences/trusted-issuers/", {"issuer": iss + "x", "name": "x"})
    assert failed.status_code == 400


def test_a_wallet_registers_its_key_through_the_api(citizen, login, types, department_gat):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    client = login(citizen)
    assert client.get("/api/licences/holder-key").json()["thumbprint"] is None
    x = jose.public_x(Ed25519PrivateKey.generate())
    response = client.post(
        "/api/licences/holder-key",
        {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}, "label": "手机"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["thumbprint"] == jose.thumbprint(x)
    bad = client.post("/api/licences/holder-key", {"jwk": {"kty": "RSA"}}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("jwk")
    assert (
        login(None).post("/api/licences/holder-key", {"jwk": {}}, content_type="application/json").status_code
        == 401
    )
    licence = services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={},
        actor="t",
    )
    assert licence.holder_jwk["x"] == x
