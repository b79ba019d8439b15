"""Bound government facts in Chromium (issue 11 §4): the citizen's case page of the 秒批 demo
item 老年人便民摊点经营补贴申领 shows the data the government used, and the reviewer's task page
of a referred case shows it as evidence; each has one h1 and passes axe in normal and large-text
mode, in zh-Hans and in English, and fits a 390 px phone (``browser_pages.Walk``).

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
def facts_site(settings, tmp_path):
    """The identity, exchange, catalog (one city, 市场监管) and applications demos (a few cases
    of each scenario): 赵大爷's 秒批 case decided (and completed) on the population base data's facts, and a
    referred one waiting for the reviewer."""
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.applications import demo
    from yiwang.applications.models import Case, Task
    from yiwang.catalog import demo as catalog_demo
    from yiwang.catalog import search
    from yiwang.exchange import demo as exchange_demo
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import User

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        exchange_demo.build("small")
        search.clear_caches()
        catalog_demo.build(cities=1, counties=False, kinds=["SCJG"])
        search.clear_caches()
        demo.build(cases=20)
    instant = Case.objects.filter(item__code=demo.INSTANT_CODE).exclude(facts=[])
    approved = (
        instant.filter(applicant__username="elder", status=Case.Status.COMPLETED).order_by("pk").first()
    )
    task = (
        Task.objects.filter(case__in=instant, state=Task.State.OPEN, role="reviewer")
        .select_related("case__applicant")
        .order_by("pk")
        .first()
    )
    yield {
        "elder": approved.applicant,
        "approved": approved.number,
        "applicant": task.case.applicant,
        "referred": task.case.number,
        "task": task.pk,
        "reviewer": User.objects.get(username="reviewer"),
    }
    search.clear_caches()


def _shows_the_facts(heading: dict):
    def check(page, language):
        assert page.locator("#case-facts-h").inner_text() == heading[language]
        assert page.locator("section[aria-labelledby=case-facts-h] tbody tr").count() == 3

    return check


def test_the_bound_facts_read_on_the_case_and_task_pages(browser, live_server, facts_site):  # noqa: F811
    site, problems = facts_site, {}
    base = live_server.url
    used = _shows_the_facts({"zh-hans": "政府使用了以下数据", "en": "Data the government used"})
    evidence = _shows_the_facts(
        {"zh-hans": "证据：来自共享政务数据的事实", "en": "Evidence: facts from shared government data"}
    )
    with Walk(browser, base, problems) as walk:
        walk.as_(site["elder"])
        walk.check(f"/cases/{site['approved']}/", used)
        walk.as_(site["applicant"])
        walk.check(f"/cases/{site['referred']}/", used)
        walk.as_(site["reviewer"])
        walk.check(f"/workbench/tasks/{site['task']}/", evidence)
    assert problems == {}, report(problems)
