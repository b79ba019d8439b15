"""The open data portal (/data/) in Chromium on the demo data, signed out and as citizens, and
the data steward's page (/workbench/open-data/): every page, and the pages its forms answer with
(an application's errors, a new API key shown once), has one h1 and passes axe in normal and
large-text mode, in zh-Hans and in English, and fits a 390 px phone (``browser_pages.Walk``).
One demo build and one test, so the live server's database is set up once.

Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1 (see yiwang/core/tests/test_browser.py)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from yiwang.core.tests.browser_pages import Walk, report
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def portal_site(settings, tmp_path):
    """The identity and open data demos (105 datasets, 张三's pending application, the agent's
    approved one)."""
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import User
    from yiwang.opendata import demo
    from yiwang.opendata.models import Access, Dataset

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build()
    active = Dataset.objects.filter(state=Dataset.State.ACTIVE).order_by("name")
    shown = active.filter(access=Access.OPEN).first()
    return {
        **{u.username: u for u in User.objects.filter(username__in=["citizen", "agent", "steward"])},
        "dataset": shown,
        "conditional": active.get(name="610000-service-volumes"),  # 张三 has not applied for it
        "organization": shown.organization.code,
        "theme": shown.themes.first().name,
        "tag": shown.tags.first().name,
    }


def _two_facets(page, language):
    for facet in ("organization", "tags"):
        page.locator(f"main section[aria-labelledby=facet-{facet}] a").first.click()
        page.wait_for_load_state()
    assert page.locator("main .facets a[aria-current=true]").count() == 2


def _apply_without_a_purpose(page, language):
    page.locator("main form[method=post] button[type=submit]").last.click()


def _new_key(page, language):
    page.locator("main input[name=name]").fill(f"课程论文 {language}")
    page.locator("main form:has(input[name=name]) button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("main [role=status] code").count() == 1  # shown once, on this answer


def test_the_open_data_portal_passes_axe_and_fits_a_phone(browser, live_server, portal_site):  # noqa: F811
    """A form's page is checked as its answer with errors (which holds all the blank form
    does); the keys page as it shows a new key, with the list of keys."""
    site, problems = portal_site, {}
    base = live_server.url
    dataset, conditional = site["dataset"], site["conditional"]
    with Walk(browser, base, problems) as walk:
        walk.check("/data/")
        walk.check(f"/data/?q={quote(dataset.title[:2])}", _two_facets, label="search with two facets chosen")
        walk.check(f"/data/datasets/{dataset.name}/")  # with its preview
        walk.check(f"/data/datasets/{conditional.name}/")
        walk.check("/data/organizations/")
        walk.check(f"/data/organizations/{site['organization']}/")
        walk.check("/data/themes/")
        walk.check(f"/data/themes/{site['theme']}/")
        walk.check("/data/tags/")
        walk.check("/data/statistics/")
        walk.as_(site["citizen"])
        walk.check(f"/data/datasets/{conditional.name}/")
        walk.check(
            f"/data/datasets/{conditional.name}/apply/", _apply_without_a_purpose, label="apply, errors"
        )
        walk.check("/data/account/")  # a pending application, no key yet
        walk.as_(site["agent"])
        walk.check("/data/account/", _new_key, label="keys, new key")
        walk.as_(site["steward"])
        walk.check("/workbench/open-data/")
    assert problems == {}, report(problems)
