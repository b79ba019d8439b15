"""The trust pages walked in Chromium on the demo data, as every demo account.

Each account of the demo (``yiwang.identity.demo``: the citizens, the officials of X and of the
data bureau, the two administrators with their TOTP code) signs in through the real door in a
browser, lands where sign-in sends it, and opens every licence, wallet, 亮证, verify, sealed
document, delivery and single sign-on page of the access table (``access_table.py``) with the
ids of real demo objects, plus the pages those pages link to in the same areas. A page the account
may open must answer 200 and pass axe; a page it may not must answer as the table says (403 or
404, never 500). The demo is the access walk's (``test_access_walk._build_demo``), built once,
committed so the live server sees it.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import pytest
from django.urls import resolve
from django.urls.exceptions import Resolver404

from yiwang.core.tests import access_table as table
from yiwang.core.tests.test_access_walk import _build_demo, _fill
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, axe_violations, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

# The routes of issue 10's pages: licences, the wallet and 亮证, verification, sealed documents
# and their delivery, single sign-on.
AREA = (
    "licences:",
    "wallet:",
    "applications:document",
    "applications:delivery",
    "oauth2_provider:authorize",
)
# Demo accounts the access table has no column for answer as the account they resemble: 钱奶奶
# as 赵大爷 (another older citizen), the self-declared 孙小明 as 李四 (a citizen with no licence).
AS_IN_TABLE = {"elder2": "elder", "newcomer": "citizen2"}
# Pages besides the table's rows (the table names a route once): the issue form of one type.
EXTRA = [("licences:issue", "/workbench/licences/issue/", "type=business-licence")]
OUTCOME = {200: table.OK, 403: table.DENIED, 404: table.HIDDEN, 400: "400", 410: "410"}
LINKS_PER_ROUTE = 2
# A browser opening a QR link gets a page sending it to the verify page (the presentation stays
# for the verifier's app): 200 where the table's client, a verifier, is told 410.
IN_A_BROWSER = {"wallet:presentation": table.OK}
# What answers with JSON or a PDF when allowed (fetched, not shown in the tab, which would
# download it; a refusal of these is the same HTML page as the others').
NOT_PAGES = (
    "licences:issuer_metadata",
    "licences:issuer",
    "licences:status_list",
    "licences:licence_pdf",
    "applications:document",
)


def _accounts() -> list[str]:
    from yiwang.identity import demo as identity_demo

    citizens = [c.username for c in identity_demo.CITIZENS]
    officials = [o[0] for o in identity_demo.OFFICIALS]
    return ["anonymous", *citizens, *officials, "admin"]


def _in_area(name: str) -> bool:
    return name.startswith(AREA)


def _rows() -> list[tuple[str, str, dict]]:
    """(route, path with query, outcomes) of every GET the walk opens."""
    rows = [
        (r.name, r.path + (f"?{r.query}" if r.query else ""), r.outcomes)
        for r in table.PAGES
        if r.method == "GET" and _in_area(r.name)
    ]
    by_name = {r.name: r.outcomes for r in table.PAGES if r.method == "GET"}
    rows += [(name, f"{path}?{query}", by_name[name]) for name, path, query in EXTRA]
    return rows


def _same_for_everyone(outcomes: dict) -> bool:
    """A row every account and the visitor get alike (public pages, a spent QR link): it is
    walked once, by the visitor, as the access walk does."""
    return len(set(outcomes.values())) == 1


def _sign_in(page, base: str, account: str, ids: dict) -> str:
    """Sign in through /login (and /login/code for the administrators), and act for the demo
    enterprise as the agent (on "My account"); where sign-in landed."""
    from yiwang.identity import demo as identity_demo
    from yiwang.identity import services as identity_services

    page.goto(base + "/login")
    page.locator("input[name=username]").fill(account)
    page.locator("input[name=password]").fill(identity_demo.DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/login/code":
        page.locator("input[name=code]").fill(pyotp.TOTP(identity_services.DEMO_TOTP_SECRET).now())
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    landing = page.url
    assert urlsplit(landing).path not in ("/login", "/login/code"), (account, landing)
    if account == "agent":
        page.goto(base + "/account")
        page.locator(f"form:has(input[name=enterprise][value='{ids['enterprise']}']) button").click()
        page.wait_for_load_state()
        page.goto(landing)
    return landing


def _open(page, base: str, path: str, *, quick: bool = False) -> tuple[int | str, bool]:
    """Open ``path`` in the tab, or when ``quick`` through the tab's request (JSON and PDFs
    too, which the tab would download); its status (``LOGIN`` or ``MOVED`` for a redirect) and
    whether the tab shows it."""
    if quick:
        response = page.request.get(base + path, max_redirects=0)
        if response.status in (301, 302, 303):
            return _redirect(response.headers["location"]), False
        return response.status, False
    shown = page.goto(base + path, wait_until="domcontentloaded")
    if shown.request.redirected_from is not None:
        return _redirect(page.url), False
    return shown.status, True


def _redirect(location: str) -> str:
    return table.LOGIN if urlsplit(location).path in ("/login", "/admin/login/") else table.MOVED


def _area_links(page) -> list[tuple[str, str]]:
    """(route, path) of the links in the page's main part that lead to the walk's areas."""
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('main a[href]')].map(a => a.getAttribute('href'))"
    )
    found = []
    for href in hrefs:
        if not href.startswith("/") or href.startswith("//"):
            continue
        path = href.split("#")[0]
        try:
            name = resolve(urlsplit(path).path).view_name
        except Resolver404:
            found.append(("no such route", path))
            continue
        if _in_area(name):
            found.append((name, path))
    return found


class _Axe:
    """axe-core once per kind of page (it takes about a second a page): each account's landing
    page, each route (and query) the first time it opens, each refusal status the first time."""

    def __init__(self):
        self.seen: set = set()
        self.problems: list[tuple] = []

    def check(self, page, key, where: str) -> None:
        if key in self.seen:
            return
        self.seen.add(key)
        found = axe_violations(page)
        if found:
            self.problems.append(("axe", where, found))


def _walk(page, base: str, account: str, ids: dict, axe: _Axe) -> list[tuple]:
    persona = AS_IN_TABLE.get(account, account)
    wrong: list[tuple] = []
    if account != "anonymous":
        landing = _sign_in(page, base, account, ids)
        axe.check(page, ("landing", account), landing)  # the header and navigation are its own
    links: dict[str, str] = {}
    walked = set()
    for name, raw, outcomes in _rows():
        if account != "anonymous" and _same_for_everyone(outcomes):
            continue
        path = _fill(raw, ids)
        walked.add(path)
        expected = IN_A_BROWSER.get(name, outcomes[persona])
        # A refusal is one template whoever meets it: shown (and checked with axe) the first
        # time its status comes up, fetched without the tab afterwards, which is quicker.
        quick = name in NOT_PAGES or (
            expected not in (table.OK, table.MOVED) and ("refused", expected) in axe.seen
        )
        status, shown = _open(page, base, path, quick=quick)
        got = OUTCOME.get(status, str(status))
        if got != expected:
            wrong.append((path, expected, status))
            continue
        if shown:
            axe.check(page, ("refused", got) if got != table.OK else (name, urlsplit(path).query), path)
            if status == 200:
                for link_name, link in _area_links(page):
                    links.setdefault(link, link_name)
    per_route: dict[str, int] = {}
    for link, name in sorted(links.items()):
        if link in walked:
            continue
        per_route[name] = per_route.get(name, 0) + 1
        if per_route[name] > LINKS_PER_ROUTE:
            continue
        status, shown = _open(page, base, link, quick=name in NOT_PAGES)
        if status != 200:
            wrong.append(("link", link, name, status))
        elif shown:
            axe.check(page, (name, status, "link"), link)
    return wrong


@pytest.fixture
def demo(settings, tmp_path):
    from yiwang.catalog import search

    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    yield _build_demo()
    search.clear_caches()


def test_every_demo_account_walks_the_trust_pages_without_a_500_or_an_axe_violation(
    browser,  # noqa: F811 — the fixture imported above
    live_server,
    demo,
):
    problems, axe = {}, _Axe()
    for account in _accounts():
        context = browser.new_context(
            locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"}
        )
        page = context.new_page()
        try:
            wrong = _walk(page, live_server.url, account, demo, axe)
        finally:
            context.close()
        if wrong:
            problems[account] = wrong
    if axe.problems:
        problems["axe"] = axe.problems
    assert problems == {}
