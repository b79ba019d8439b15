"""A page check shared by the browser tests that walk many pages (issue 11's exchange, gateway,
open data and bound-facts pages): each page is opened on three screens, one tab per screen
(reused for each person the test signs in as), and must have a title without markup, one h1,
the reader's language on <html>, pass axe (``test_browser.AXE_TAGS``) and, on a phone, scroll no
wider than the screen.

The screens: a desktop in zh-Hans; a 390 px phone in zh-Hans in large-text mode (the care
cookie the header's button sets); a 390 px phone in English. So every page is checked in normal
and large-text mode, in both languages, and twice at 390 px, with three loads and three axe runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.test import Client

from yiwang.conftest import force_sign_in
from yiwang.core.context_processors import CARE_COOKIE
from yiwang.core.tests.test_browser import AXE_TAGS


def _axe_js() -> Path:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


def axe_violations(page) -> list[str]:
    """``test_browser.axe_violations`` for a tab whose context loads axe in every document (an
    init script, which the page's CSP does not govern either), asking axe for its violations
    only: the same findings in half the time."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


# (name, language, width, large text)
SCREENS = (
    ("zh desktop", "zh-hans", 1280, False),
    ("zh phone large", "zh-hans", 390, True),
    ("en phone", "en", 390, False),
)
LOCALES = {"zh-hans": ("zh-CN", "zh-CN,zh;q=0.9"), "en": ("en-GB", "en-GB,en;q=0.9")}


class Walk:
    """One tab on every screen, reused for each person the walk signs in as (``as_``);
    ``check`` opens a page on each and notes what is wrong in ``problems`` (asserted empty at
    the test's end)."""

    def __init__(self, browser, base: str, problems: dict):
        self.base, self.problems, self.who = base, problems, "anonymous"
        self.tabs = []
        for name, language, width, care in SCREENS:
            locale, accept = LOCALES[language]
            context = browser.new_context(
                viewport={"width": width, "height": 844},
                locale=locale,
                extra_http_headers={"Accept-Language": accept},
            )
            context.add_init_script(path=_axe_js())
            self.tabs.append((name, language, width, care, context.new_page()))
        self.as_(None)

    def as_(self, user) -> Walk:
        """Sign every tab in as ``user`` (second factor passed; None: signed out)."""
        self.who = getattr(user, "username", "anonymous")
        session = force_sign_in(Client(), user).cookies["sessionid"].value if user is not None else None
        for _name, _language, _width, care, page in self.tabs:
            page.context.clear_cookies()
            cookies = [{"name": CARE_COOKIE, "value": "1", "url": self.base}] if care else []
            if session is not None:
                cookies.append({"name": "sessionid", "value": session, "url": self.base})
            if cookies:
                page.context.add_cookies(cookies)
        return self

    def close(self) -> None:
        for *_, page in self.tabs:
            page.context.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check(self, path: str, then: Callable | None = None, *, status: int = 200, label: str = "") -> None:
        """Open ``path`` on every screen; ``then(page, language)`` acts on it (fills a form and
        sends it, say) and the page it leaves is the one checked. ``status``: of the opening."""
        for name, language, width, care, page in self.tabs:
            where = (self.who, label or path, name)
            found = []
            response = page.goto(self.base + path)
            if response.status != status:
                found.append(f"answered {response.status}, not {status}")
            if then is not None:
                then(page, language)
                page.wait_for_load_state()
            if care and not page.evaluate("document.documentElement.classList.contains('care')"):
                found.append("not in large-text mode")
            if page.evaluate("document.documentElement.lang") != language:
                found.append(f"lang is {page.evaluate('document.documentElement.lang')}")
            if not page.title().strip() or "<" in page.title():
                found.append(f"title {page.title()!r}")
            if page.locator("h1").count() != 1:
                found.append(f"{page.locator('h1').count()} h1")
            found += axe_violations(page)
            if width < 1000:
                wide = page.evaluate("document.scrollingElement.scrollWidth")
                if wide > width:
                    culprits = page.evaluate(WIDEST, width)
                    found.append(f"{wide} px wide on a {width} px screen: {culprits}")
            if found:
                self.problems[where] = found


# The elements that stick out of a narrow screen (their box or their content), deepest first,
# to name in a failure.
WIDEST = """(width) => {
  const out = (el) => el.getBoundingClientRect().left + Math.max(el.scrollWidth, el.offsetWidth) > width + 1;
  return [...document.querySelectorAll('main *')]
    .filter((el) => out(el) && ![...el.children].some(out))
    .slice(0, 4)
    .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
      + ' ' + JSON.stringify(el.textContent.trim().slice(0, 30)));
}"""


def report(problems: dict) -> str:
    """``problems`` one line each, for an assertion's message."""
    return "\n".join(f"{' · '.join(where)}: {'; '.join(found)}" for where, found in problems.items())
