"""The OpenID Connect provider through its HTTP endpoints (Django's test client): discovery, the
code flow with PKCE, claims, and each bad input answered by a precise OAuth error with nothing
stored changed. The same flow against a running server with an OIDC client library is in
test_oidc_live.py, and in a real browser (CSP and consent page) in test_oidc_browser.py."""

import base64
import datetime as dt
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken, Grant, IDToken

from yiwang.audit.models import AuditEntry
from yiwang.identity import oidc_services
from yiwang.identity.models import OidcSignIn
from yiwang.identity.permissions import ACTING_ENTERPRISE_SESSION_KEY

pytestmark = pytest.mark.django_db
REDIRECT = "https://shiyao.example.org/sso/callback"
LOGOUT_TO = "https://shiyao.example.org/signed-out"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def sso(dept_admin, department_x):
    client, secret = oidc_services.client_register(
        actor=dept_admin,
        department=department_x,
        name="食品经营许可系统",
        redirect_uris=f"{REDIRECT}\nhttps://shiyao.example.org/other",
        post_logout_redirect_uris=LOGOUT_TO,
    )
    return client, secret


def sso_stub(application):
    """Something with an ``application``, as an OidcClient has, for authorize_params."""
    return type("Stub", (), {"application": application})()


def authorize_params(client, challenge, **extra) -> dict:
    params = {
        "response_type": "code",
        "client_id": client.application.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile realname",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def consent(browser, params: dict, *, allow: bool = True):
    """Open the consent page and answer it; the response of the POST."""
    page = browser.get("/o/authorize/?" + urlencode(params))
    assert page.status_code == 200, page.content[:500]
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "allow"}
    if allow:
        data["allow"] = "true"
    return browser.post("/o/authorize/", data)


def code_from(response) -> str:
    assert response.status_code == 302, response.content[:300]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert "code" in query, response["Location"]
    return query["code"][0]


def token_request(http, client, secret, code, verifier, redirect_uri=REDIRECT):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    return http.post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")


def stored() -> tuple:
    return (
        list(Grant.objects.values_list("pk", "code")),
        AccessToken.objects.count(),
        IDToken.objects.count(),
        list(OidcSignIn.objects.values_list("pk", "redeemed_at", "revoked_at")),
    )


def sign_in_flow(login, user, sso, scope="openid profile realname"):
    client, secret = sso
    verifier, challenge = pkce_pair()
    browser = login(user)
    code = code_from(consent(browser, authorize_params(client, challenge, scope=scope)))
    response = token_request(login(None), client, secret, code, verifier)
    assert response.status_code == 200, response.content
    return code, verifier, response.json()


def verified_claims(http, id_token: str) -> dict:
    keys = jwk.JWKSet.from_json(http.get("/o/jwks/").content)
    return json.loads(jwt.JWT(jwt=id_token, key=keys, algs=["RS256"]).claims)


# --- discovery -------------------------------------------------------------------------------------


def test_discovery_offers_only_the_code_flow_with_s256_and_pairwise_subjects(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == "http://testserver"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert doc["end_session_endpoint"] == "http://testserver/o/logout/"
    assert "id_number" not in json.dumps(doc)
    assert {"openid", "profile", "realname", "enterprise"} == set(doc["scopes_supported"])
    keys = client.get("/o/jwks/").json()["keys"]
    assert [k["kty"] for k in keys] == ["RSA"] and "d" not in keys[0]


# --- the code flow ---------------------------------------------------------------------------------


def test_code_flow_gives_a_signed_id_token_and_userinfo_with_the_claims_of_the_scopes(login, citizen, sso):
    _code, _verifier, tokens = sign_in_flow(login, citizen, sso)
    assert "refresh_token" not in tokens
    claims = verified_claims(login(None), tokens["id_token"])
    assert claims["aud"] == sso[0].application.client_id and claims["nonce"] == "n-1"
    assert claims["iss"] == "http://testserver"
    assert claims["name"] == "张三" and claims["realname_level"] == "L2"
    assert claims["acr"] == "urn:yiwang:realname:L2"
    assert claims["sub"] == oidc_services.pairwise_sub(citizen, sso[0].application.client_id)
    assert claims["sub"] != str(citizen.pk)
    info = login(None).get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert info == {"sub": claims["sub"], "name": "张三", "realname_level": "L2"}
    person = citizen.person
    assert person.id_number_masked[-4:] not in json.dumps(info)
    events = list(AuditEntry.objects.values_list("event", flat=True))
    assert "identity:signin:authorize" in events and "identity:signin:token_issue" in events
    assert tokens["access_token"] not in json.dumps(list(AuditEntry.objects.values("data")))


def test_name_only_with_the_profile_scope_and_sub_differs_per_client(
    login, citizen, sso, dept_admin, department_x
):
    _c, _v, tokens = sign_in_flow(login, citizen, sso, scope="openid")
    claims = verified_claims(login(None), tokens["id_token"])
    assert "name" not in claims and "realname_level" not in claims
    other, _secret = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="另一系统", redirect_uris="https://b.example.org/cb"
    )
    assert oidc_services.pairwise_sub(citizen, other.application.client_id) != claims["sub"]


def test_enterprise_claims_only_when_the_scope_asks_and_the_agent_acts_for_it(login, agent, enterprise, sso):
    client, secret = sso
    browser = login(agent)
    session = browser.session
    session[ACTING_ENTERPRISE_SESSION_KEY] = enterprise.pk
    session.save()
    for scope, expected in (("openid enterprise", enterprise.credit_code), ("openid", None)):
        verifier, challenge = pkce_pair()
        page = browser.get("/o/authorize/?" + urlencode(authorize_params(client, challenge, scope=scope)))
        assert (enterprise.name in page.content.decode()) == bool(expected)
        code = code_from(consent(browser, authorize_params(client, challenge, scope=scope)))
        tokens = token_request(login(None), client, secret, code, verifier).json()
        info = login(None).get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
        assert info.get("enterprise_credit_code") == expected


def test_sign_in_goes_through_the_platforms_door(client, sso):
    _verifier, challenge = pkce_pair()
    response = client.get("/o/authorize/?" + urlencode(authorize_params(sso[0], challenge)))
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"][0].startswith("/o/authorize/?")


def test_prompt_none_without_a_session_goes_back_with_an_error_never_a_page(client, sso):
    """Consent is asked every time, so even a signed-in user would need a page: consent_required."""
    _verifier, challenge = pkce_pair()
    response = client.get("/o/authorize/?" + urlencode(authorize_params(sso[0], challenge, prompt="none")))
    assert (
        response.status_code == 302
        and response["Location"] == REDIRECT + "?error=consent_required&state=st-1"
    )
    elsewhere = authorize_params(sso[0], challenge, prompt="none", redirect_uri="https://evil.example.org/cb")
    assert client.get("/o/authorize/?" + urlencode(elsewhere)).status_code == 400  # never to that address


def test_consent_page_opens_form_action_for_the_registered_redirect_origin_only(login, citizen, sso):
    _verifier, challenge = pkce_pair()
    page = login(citizen).get("/o/authorize/?" + urlencode(authorize_params(sso[0], challenge)))
    policy = page["Content-Security-Policy"]
    assert "form-action 'self' https://shiyao.example.org" in policy
    assert "西安市市场监督管理局" in page.content.decode()  # the client's department
    assert "form-action 'self';" in login(citizen).get("/account")["Content-Security-Policy"] + ";"


def test_refusing_consent_returns_access_denied_and_issues_no_code(login, citizen, sso):
    _verifier, challenge = pkce_pair()
    response = consent(login(citizen), authorize_params(sso[0], challenge), allow=False)
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["access_denied"]
    assert not Grant.objects.exists() and not OidcSignIn.objects.exists()


# --- bad input: precise OAuth errors, nothing stored changes --------------------------------------


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # no PKCE
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),  # RFC 7636: no method means plain
        ({"scope": "profile"}, "invalid_scope"),  # not an OpenID Connect request
        ({"response_type": "token"}, "unauthorized_client"),  # the implicit flow: not for any client
        ({"prompt": "none"}, "consent_required"),
    ],
)
def test_authorization_requests_the_provider_refuses_go_back_with_an_error(login, citizen, sso, extra, error):
    _verifier, challenge = pkce_pair()
    before = stored()
    response = login(citizen).get("/o/authorize/?" + urlencode(authorize_params(sso[0], challenge, **extra)))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == [error]
    assert stored() == before


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.org/sso/callback",
        REDIRECT + "?x=1",
        REDIRECT + "/",
        "https://SHIYAO.example.org/sso/callback",
        "https://shiyao.example.org:443/sso/callback",
    ],
)
def test_only_registered_redirect_uris_exactly_and_never_a_redirect_elsewhere(
    login, citizen, sso, redirect_uri
):
    _verifier, challenge = pkce_pair()
    response = login(citizen).get(
        "/o/authorize/?" + urlencode(authorize_params(sso[0], challenge, redirect_uri=redirect_uri))
    )
    assert response.status_code == 400
    assert "invalid_request" in response.content.decode() or "redirect" in response.content.decode()
    assert not Grant.objects.exists()


def test_unknown_client_is_an_error_page_at_authorize_and_invalid_client_at_token(login, citizen, sso):
    _verifier, challenge = pkce_pair()
    response = login(citizen).get(
        "/o/authorize/?" + urlencode(authorize_params(sso[0], challenge, client_id="no-such-client"))
    )
    assert response.status_code == 400 and "Invalid client_id" in response.content.decode()
    basic = base64.b64encode(b"no-such-client:secret").decode()
    token = login(None).post(
        "/o/token/", {"grant_type": "authorization_code", "code": "x"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"


def test_wrong_pkce_verifier_is_invalid_grant_and_the_code_stays_unused(login, citizen, sso):
    client, secret = sso
    verifier, challenge = pkce_pair()
    code = code_from(consent(login(citizen), authorize_params(client, challenge)))
    before = stored()
    for wrong in (pkce_pair()[0], verifier[:-1]):
        response = token_request(login(None), client, secret, code, wrong)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    missing = token_request(login(None), client, secret, code, None)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert stored() == before


def test_replayed_code_is_invalid_grant_and_revokes_the_tokens_it_gave(login, citizen, sso):
    client, secret = sso
    code, verifier, tokens = sign_in_flow(login, citizen, sso)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert login(None).get("/o/userinfo/", **bearer).status_code == 200
    replay = token_request(login(None), client, secret, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    assert login(None).get("/o/userinfo/", **bearer).status_code == 401
    assert not AccessToken.objects.exists() and not IDToken.objects.exists()
    sign_in = OidcSignIn.objects.get()
    assert sign_in.revoked_at is not None
    revoke = AuditEntry.objects.filter(event="identity:signin:token_revoke").get()
    assert revoke.data["reason"] == "code_replayed"
    # a second replay changes nothing more, and still answers invalid_grant
    before = stored()
    again = token_request(login(None), client, secret, code, verifier)
    assert again.json()["error"] == "invalid_grant" and stored() == before


def test_mismatched_redirect_uri_at_the_token_endpoint_is_invalid_grant(login, citizen, sso):
    client, secret = sso
    verifier, challenge = pkce_pair()
    code = code_from(consent(login(citizen), authorize_params(client, challenge)))
    before = stored()
    for other in ("https://shiyao.example.org/other", "https://evil.example.org/cb"):
        response = token_request(login(None), client, secret, code, verifier, redirect_uri=other)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.json()
    assert stored() == before
    assert token_request(login(None), client, secret, code, verifier).status_code == 200


def test_expired_code_is_invalid_grant(login, citizen, sso):
    client, secret = sso
    verifier, challenge = pkce_pair()
    code = code_from(consent(login(citizen), authorize_params(client, challenge)))
    Grant.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    before = stored()
    response = token_request(login(None), client, secret, code, verifier)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "expired" in response.json()["error_description"]
    assert stored() == before


def test_another_clients_code_and_a_wrong_secret_are_refused(login, citizen, sso, dept_admin, department_x):
    client, secret = sso
    other, other_secret = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="另一系统", redirect_uris=REDIRECT
    )
    verifier, challenge = pkce_pair()
    code = code_from(consent(login(citizen), authorize_params(client, challenge)))
    before = stored()
    stolen = token_request(login(None), other, other_secret, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    wrong_secret = token_request(login(None), client, "not-the-secret", code, verifier)
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert stored() == before


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"grant_type": "password", "username": "citizen", "password": "x"},
        {"grant_type": "client_credentials"},
        {"grant_type": "refresh_token", "refresh_token": "x"},
        {"grant_type": "authorization_code"},
        {"grant_type": "authorization_code", "code": "\u00e9" * 300, "code_verifier": "x" * 5000},
    ],
)
def test_token_endpoint_answers_garbage_with_an_oauth_error_never_a_500(login, sso, data):
    client, secret = sso
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    response = login(None).post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert 400 <= response.status_code < 500
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_grant",
        "unsupported_grant_type",
        "unauthorized_client",
    }


# --- sign-out --------------------------------------------------------------------------------------


def test_rp_initiated_logout_asks_then_signs_out_revokes_and_returns_to_the_client(login, citizen, sso):
    _code, _verifier, tokens = sign_in_flow(login, citizen, sso)
    browser = login(citizen)
    params = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_TO, "state": "bye"}
    page = browser.get("/o/logout/?" + urlencode(params))
    assert page.status_code == 200
    assert "form-action 'self' https://shiyao.example.org" in page["Content-Security-Policy"]
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "allow"} | {"allow": "true"}
    done = browser.post("/o/logout/", data)
    assert done.status_code == 302 and done["Location"] == LOGOUT_TO + "?state=bye"
    assert not AccessToken.objects.exists()
    assert browser.get("/account").status_code == 302  # signed out of the platform too
    assert AuditEntry.objects.filter(event="identity:signin:token_revoke", data__reason="logout").exists()


def test_logout_to_an_unregistered_address_is_refused(login, citizen, sso):
    _code, _verifier, tokens = sign_in_flow(login, citizen, sso)
    params = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example.org/"}
    page = login(citizen).get("/o/logout/?" + urlencode(params))
    assert page.status_code == 400
    assert "evil.example.org" not in page.get("Content-Security-Policy", "")


# --- keys and settings -----------------------------------------------------------------------------


def _settings_in_subprocess(env: dict, code: str):
    import subprocess
    import sys

    return subprocess.run(  # noqa: S603 — a fixed interpreter and argument list
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_development_creates_the_signing_key_once_and_production_never_does(tmp_path):
    read = "import config.settings as s; print(len(s.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']))"
    dev = {"YIWANG_DEV": "1", "YIWANG_VAR_DIR": str(tmp_path)}
    first = _settings_in_subprocess(dev, read)
    key = tmp_path / "oidc_rs256.pem"
    assert first.returncode == 0, first.stderr
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    pem = key.read_text()
    assert _settings_in_subprocess(dev, read).returncode == 0 and key.read_text() == pem
    production = {
        "SECRET_KEY": "x" * 60,
        "FIELD_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "YIWANG_VAR_DIR": str(tmp_path / "prod"),
    }
    result = _settings_in_subprocess(production, read)
    assert result.returncode == 0 and result.stdout.strip() == "0"
    assert not (tmp_path / "prod" / "oidc_rs256.pem").exists()


def test_deploy_check_refuses_a_missing_or_weak_signing_key(settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from yiwang.identity.checks import check_oidc_signing_key

    assert check_oidc_signing_key(None) == []
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}
    assert [e.id for e in check_oidc_signing_key(None)] == ["identity.E001"]
    not_rsa = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": not_rsa}
    assert [e.id for e in check_oidc_signing_key(None)] == ["identity.E002"]


def test_oidc_keygen_writes_a_key_once(tmp_path):
    from django.core.management import CommandError, call_command

    target = tmp_path / "k.pem"
    call_command("oidc_keygen", path=str(target))
    assert target.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(CommandError, match="exists"):
        call_command("oidc_keygen", path=str(target))


def test_two_factor_users_pass_their_code_on_the_way_to_the_consent_page(client, dept_admin, sso):
    import pyotp

    from yiwang.conftest import PERSONA_PASSWORD, PERSONA_TOTP_SECRET

    _verifier, challenge = pkce_pair()
    target = "/o/authorize/?" + urlencode(authorize_params(sso[0], challenge))
    login_page = client.get(target)["Location"]
    step = client.post(login_page, {"username": "dept_admin", "password": PERSONA_PASSWORD, "next": target})
    assert step["Location"] == "/login/code"
    done = client.post("/login/code", {"code": pyotp.TOTP(PERSONA_TOTP_SECRET).now()})
    assert done["Location"] == target
    assert client.get(target).status_code == 200


def test_logout_accepts_an_expired_id_token_as_hint(login, citizen, sso, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ID_TOKEN_EXPIRE_SECONDS": -60}
    _code, _verifier, tokens = sign_in_flow(login, citizen, sso)
    params = {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT_TO}
    page = login(citizen).get("/o/logout/?" + urlencode(params))
    assert page.status_code == 200 and page.context["application"] == sso[0].application


def test_an_application_no_department_registered_is_no_client(login, citizen):
    from oauth2_provider.models import Application

    bare = Application.objects.create(
        name="unregistered",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
        algorithm=Application.RS256_ALGORITHM,
    )
    _verifier, challenge = pkce_pair()
    params = authorize_params(sso_stub(bare), challenge)
    page = login(citizen).get("/o/authorize/?" + urlencode(params))
    assert page.status_code == 400 and "Invalid client_id" in page.content.decode()
