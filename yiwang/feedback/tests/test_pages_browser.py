"""The 12345 pages in Chromium on the feedback demo: filing (blank and with errors), my items, an
item as its filer and as department X's clerk (with the reply and transfer forms), the routing
officer's queue and an item to route, the department's queue and the public pages — one h1,
axe clean in normal and large-text mode, zh-Hans and English, fitting a 390 px phone
(``browser_pages.Walk``).

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

from __future__ import annotations

import pytest

from yiwang.core.tests.browser_pages import Walk, report
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def feedback_site(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.feedback import demo
    from yiwang.feedback.models import Item
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import User

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build(items=30)
    mine = Item.objects.filter(filer__username="citizen").order_by("pk")
    return {
        "users": {u.username: u for u in User.objects.filter(username__in=["citizen", "clerk", "admin"])},
        "replied": mine.filter(status__in=("rated", "closed")).first().pk,
        "open": mine.filter(status="accepted").first().pk,
        "filed": mine.filter(status="filed").first().pk,
    }


def _too_short(page, language):
    page.locator("#fb-text").fill("短")
    page.locator("main form[method=post] button[type=submit]").last.click()


def test_the_feedback_pages_pass_axe_and_fit_a_phone(browser, live_server, feedback_site):  # noqa: F811
    ids, users, problems = feedback_site, feedback_site["users"], {}
    with Walk(browser, live_server.url, problems) as walk:
        walk.as_(users["citizen"])
        walk.check("/feedback/new/")
        walk.check("/feedback/new/", _too_short, label="new, errors")
        walk.check("/feedback/mine/")
        walk.check(f"/feedback/items/{ids['replied']}/")
        walk.as_(users["clerk"])
        walk.check("/workbench/feedback/")
        walk.check(f"/feedback/items/{ids['open']}/")
        walk.as_(users["admin"])
        walk.check("/workbench/feedback/routing/")
        walk.check(f"/feedback/items/{ids['filed']}/")
        walk.check("/feedback/")
        walk.check(f"/feedback/replies/{ids['replied']}/")
    assert problems == {}, report(problems)
