"""Single sign-on in a real browser (Chromium): the consent form's answer is a redirect to the
client's own origin, which the site's ``form-action 'self'`` would block; the consent page opens
``form-action`` for that one registered origin. The browser must arrive at the client with a
code, and the consent page must pass axe in both languages.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

import base64
import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.test import Client

from yiwang.conftest import PERSONA_PASSWORD, force_sign_in
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — fixture
from yiwang.identity import oidc_services

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


class _Callback(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 — the name http.server calls
        type(self).seen.append(self.path)
        body = b"<!doctype html><title>relying party</title><p>signed in</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def relying_party():
    """A department's system on another origin (another port): it only records its callbacks."""
    _Callback.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Callback.seen
    server.shutdown()
    server.server_close()


def _authorize_url(base: str, client, redirect_uri: str, verifier: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return (
        base
        + "/o/authorize/?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": client.application.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile realname",
                "state": "browser-state",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )


@pytest.mark.parametrize(
    ("locale", "agree", "sign_in"),
    [("zh-CN", "同意并登录", "登录"), ("en-GB", "Agree and sign in", "Sign in")],
)
def test_consent_in_the_browser_reaches_the_client_despite_form_action_self(
    browser,  # noqa: F811 — the fixture imported above
    live_server,
    relying_party,
    citizen,
    dept_admin,
    department_x,
    settings,
    tmp_path,
    locale,
    agree,
    sign_in,
):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    origin, seen = relying_party
    callback = origin + "/callback"
    client, secret = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="食品经营许可系统", redirect_uris=callback
    )
    verifier = secrets.token_urlsafe(48)
    language = locale.split("-")[0]
    context = browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"}
    )
    page = context.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(_authorize_url(live_server.url, client, callback, verifier))
        assert urlsplit(page.url).path == "/login"  # the platform's one door first
        page.locator("input[name=username]").fill("citizen")
        page.locator("input[name=password]").fill(PERSONA_PASSWORD)
        page.locator("main").get_by_role("button", name=sign_in, exact=True).click()
        page.wait_for_url(f"{live_server.url}/o/authorize/**")
        assert "西安市市场监督管理局" in page.content()
        assert axe_violations(page) == []
        page.locator("main").get_by_role("button", name=agree).click()
        page.wait_for_url(f"{callback}?**")
    finally:
        context.close()
    assert not blocked, blocked
    seen = [p for p in seen if p.startswith("/callback")]
    assert len(seen) == 1
    query = parse_qs(urlsplit(seen[0]).query)
    assert query["state"] == ["browser-state"]
    token = httpx.post(
        f"{live_server.url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        auth=(client.application.client_id, secret),
    )
    assert token.status_code == 200 and "id_token" in token.json()


@pytest.mark.parametrize(("width", "care"), [(1280, True), (390, False), (390, True)])
def test_the_consent_page_passes_axe_in_large_text_mode_and_fits_a_phone(
    browser,  # noqa: F811 — the fixture imported above
    live_server,
    citizen,
    dept_admin,
    department_x,
    settings,
    tmp_path,
    width,
    care,
):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    callback = "http://127.0.0.1:9/callback"
    client, _secret = oidc_services.client_register(
        actor=dept_admin, department=department_x, name="食品经营许可系统", redirect_uris=callback
    )
    context = browser.new_context(
        viewport={"width": width, "height": 844},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    session = force_sign_in(Client(), citizen).cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto(_authorize_url(live_server.url, client, callback, secrets.token_urlsafe(48)))
        if care:
            if width == 390:
                page.locator("header").get_by_role("button", name="菜单").click()  # folded on a phone
            page.locator("header form[action='/preferences/care-mode'] button").click()
            page.wait_for_load_state()
            assert page.evaluate("document.documentElement.classList.contains('care')")
        assert urlsplit(page.url).path == "/o/authorize/"
        assert page.locator("main").get_by_role("button", name="同意并登录").is_visible()
        assert axe_violations(page) == []
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    finally:
        context.close()
