"""An OpenID Connect client library (Authlib's OAuth2Client over httpx) completes the code flow
with PKCE against a running server: discovery, sign-in through /login, consent, token, the ID
token's signature checked against the JWKS, userinfo and sign-out; then the bad inputs."""

import re
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client.errors import OAuthError
from django.db import connection
from joserfc import jwt
from joserfc.jwk import KeySet

with warnings.catch_warnings():  # Authlib 1.9 asks for httpx2, which is not installed; httpx works
    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

from yiwang.conftest import PERSONA_PASSWORD
from yiwang.identity import oidc_services
from yiwang.identity.models import OidcSignIn

pytestmark = pytest.mark.django_db(transaction=True)
CALLBACK = "http://127.0.0.1:9/callback"  # never opened: the test reads the redirect itself


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def form_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def sign_in(browser: httpx.Client, username: str) -> None:
    """Through the platform's one door, as a person at a browser would."""
    page = browser.get("/login")
    token = form_fields(page.text)["csrfmiddlewaretoken"]
    done = browser.post(
        "/login", data={"username": username, "password": PERSONA_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302, done.text[:300]


def consent(browser: httpx.Client, url: str) -> str:
    """Open the authorization URL, agree, and return where the platform sends the browser."""
    page = browser.get(url)
    assert page.status_code == 200, page.text[:500]
    fields = form_fields(page.text) | {"allow": "true"}
    answer = browser.post("/o/authorize/", data=fields)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["location"]


@pytest.fixture
def rp(live_server, dept_admin, department_x):
    client, secret = oidc_services.client_register(
        actor=dept_admin,
        department=department_x,
        name="食品经营许可系统",
        redirect_uris=CALLBACK,
        post_logout_redirect_uris="http://127.0.0.1:9/bye",
    )
    metadata = httpx.get(f"{live_server.url}/.well-known/openid-configuration").json()
    session = OAuth2Client(
        client_id=client.application.client_id,
        client_secret=secret,
        scope="openid profile realname",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 — a method name
    )
    yield session, metadata
    session.close()


@pytest.fixture
def browser(live_server):
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as client:
        yield client


def start(rp_session, metadata) -> tuple[str, str, str]:
    verifier = generate_token(48)
    url, state = rp_session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce="live-nonce"
    )
    return url, state, verifier


def test_a_client_library_completes_the_code_flow_with_pkce_against_a_running_server(
    live_server, rp, browser, citizen
):
    session, metadata = rp
    assert metadata["issuer"] == live_server.url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    sign_in(browser, "citizen")
    url, state, verifier = start(session, metadata)
    callback = consent(browser, url)
    assert callback.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(callback).query)["iss"] == [live_server.url]  # RFC 9207
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    jwks = KeySet.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])  # raises on a bad signature
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": session.client_id},
        nonce={"essential": True, "value": "live-nonce"},
        exp={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    assert claims["name"] == "张三" and claims["realname_level"] == "L2"
    assert claims["acr"] == "urn:yiwang:realname:L2"
    info = session.get(metadata["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["name"] == "张三"
    # sign out, as the client asks (RP-initiated logout): confirm, back to the client
    page = browser.get(
        metadata["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/bye"},
    )
    assert page.status_code == 200
    bye = browser.post("/o/logout/", data=form_fields(page.text) | {"allow": "true"})
    assert bye.status_code == 302 and bye.headers["location"] == "http://127.0.0.1:9/bye"
    assert session.get(metadata["userinfo_endpoint"]).status_code == 401
    assert browser.get("/account").status_code == 302  # the platform session ended too


def _error(call) -> tuple[str, str]:
    with pytest.raises(OAuthError) as caught:
        call()
    return caught.value.error, caught.value.description or ""


def test_bad_input_from_a_running_client_gets_precise_oauth_errors(live_server, rp, browser, citizen):
    session, metadata = rp
    sign_in(browser, "citizen")
    fetch = metadata["token_endpoint"]

    url, state, verifier = start(session, metadata)
    callback = consent(browser, url)
    wrong = generate_token(48)
    assert (
        _error(
            lambda: session.fetch_token(
                fetch, authorization_response=callback, state=state, code_verifier=wrong
            )
        )[0]
        == "invalid_grant"
    )
    mismatch = lambda: session.fetch_token(  # noqa: E731
        fetch,
        authorization_response=callback,
        state=state,
        code_verifier=verifier,
        redirect_uri="http://127.0.0.1:9/else",
    )
    assert _error(mismatch)[0] == "invalid_grant"
    session.fetch_token(fetch, authorization_response=callback, state=state, code_verifier=verifier)
    assert session.get(metadata["userinfo_endpoint"]).status_code == 200
    error, description = _error(
        lambda: session.fetch_token(
            fetch, authorization_response=callback, state=state, code_verifier=verifier
        )
    )
    assert error == "invalid_grant" and "already used" in description
    assert session.get(metadata["userinfo_endpoint"]).status_code == 401  # revoked by the replay
    assert OidcSignIn.objects.get().revoked_at is not None

    stranger = OAuth2Client(client_id="no-such-client", client_secret="x", redirect_uri=CALLBACK)  # noqa: S106
    assert (
        _error(lambda: stranger.fetch_token(fetch, code="x", code_verifier=verifier))[0] == "invalid_client"
    )
    stranger.close()
    # a redirect address that is not registered: an error page at the platform, no redirect
    bad = re.sub(
        r"redirect_uri=[^&]+", "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fevil", start(session, metadata)[0]
    )
    page = browser.get(bad)
    assert page.status_code == 400 and "location" not in page.headers


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the test database is SQLite in memory, shared by the live server's threads, whose table "
    "locks fail at once instead of waiting; the lock is exercised on PostgreSQL (CI runs both)",
)
def test_two_racing_redemptions_of_one_code_give_one_set_of_tokens_then_none(
    live_server, rp, browser, citizen
):
    """The code is locked while it is redeemed: the second request waits, finds it used, and
    revokes what the first got (a code used twice is a replay, however close together)."""
    import threading

    from oauth2_provider.models import AccessToken

    session, metadata = rp
    sign_in(browser, "citizen")
    url, _state, verifier = start(session, metadata)
    code = parse_qs(urlsplit(consent(browser, url)).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    results, barrier = [], threading.Barrier(2)

    def redeem():
        barrier.wait()
        answer = httpx.post(
            metadata["token_endpoint"], data=data, auth=(session.client_id, session.client_secret)
        )
        results.append(
            (
                answer.status_code,
                answer.json().get("error") if answer.status_code < 500 else answer.text[:200],
            )
        )

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results, key=str) == [(200, None), (400, "invalid_grant")]
    assert not AccessToken.objects.exists()
