"""The page walk of ``browser_pages`` finds what it is there to find: a page broken on purpose
(an image without a text, a second h1, a line wider than a phone) is reported on each screen.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see test_browser.py)."""

import pytest

from yiwang.core.tests.browser_pages import Walk
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
BREAK = """() => document.querySelector('main').insertAdjacentHTML(
  'beforeend', '<img src="/static/none.png"><h1>2</h1><pre>' + 'x'.repeat(200) + '</pre>')"""


def test_the_walk_reports_a_broken_page_on_every_screen(browser, live_server):  # noqa: F811
    problems = {}
    with Walk(browser, live_server.url, problems) as walk:
        walk.check("/login")
        assert problems == {}
        walk.check("/login", lambda page, _: page.evaluate(BREAK), label="broken")
    assert set(problems) == {
        ("anonymous", "broken", screen) for screen in ("zh desktop", "zh phone large", "en phone")
    }
    for (*_, screen), found in problems.items():
        assert "2 h1" in found
        assert any(f.startswith("image-alt") for f in found)
        assert any("px wide on a 390 px screen: ['pre" in f for f in found) == (screen != "zh desktop")
