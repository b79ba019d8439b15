"""Supervision's pages in Chromium on the demo (a small one): the public draw pages signed out,
the workbench as the department's administrator and as its inspector, and a form answering with
its errors: one h1, axe clean in normal and large-text mode, zh-Hans and English, 390 px wide
(``browser_pages.Walk``). Skipped without Chromium unless YIWANG_REQUIRE_BROWSER=1."""

from __future__ import annotations

import pytest

from yiwang.core.tests.browser_pages import Walk, report
from yiwang.core.tests.test_browser import HAVE_CHROMIUM, browser  # noqa: F401 — a fixture

pytestmark = [
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def site(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.identity import demo as identity_demo
    from yiwang.identity.models import User
    from yiwang.supervision import demo
    from yiwang.supervision.models import DrawPlan, Inspection, Law, SupervisionItem

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build(entities=300)
    plan = DrawPlan.objects.get(state="published")
    mine = Inspection.objects.filter(plan=plan, assignments__official__user__username="inspector").first()
    return {
        "users": {u.username: u for u in User.objects.filter(username__in=["deptadmin", "inspector"])},
        "plan": plan.pk,
        "draft": DrawPlan.objects.get(state="draft").pk,
        "item": SupervisionItem.objects.get(code="XA-SCJG-JC-002").pk,
        "law": Law.objects.get(code="product-quality-law").pk,
        "inspection": mine.pk,
        "entity": plan.inspections.first().entity.credit_code,
    }


def _bad_plan(page, _language):
    page.fill("#id_title", "x")
    page.fill("#id_ratio_B", "20000")
    page.locator("main form button[type=submit]").click()


def test_the_supervision_pages_pass_axe_and_fit_a_phone(browser, live_server, site):  # noqa: F811
    problems: dict = {}
    with Walk(browser, live_server.url, problems) as walk:
        walk.check("/supervision/?q=演示")
        walk.check(f"/supervision/draws/{site['plan']}/")
        walk.check("/supervision/results/")
        walk.check(f"/supervision/entities/{site['entity']}/")
        walk.as_(site["users"]["deptadmin"])
        walk.check("/workbench/supervision/")
        walk.check(f"/workbench/supervision/items/{site['item']}/")
        walk.check("/workbench/supervision/laws/")
        walk.check(f"/workbench/supervision/laws/{site['law']}/")
        walk.check(f"/workbench/supervision/plans/{site['plan']}/")
        walk.check(f"/workbench/supervision/plans/{site['draft']}/")
        walk.check("/workbench/supervision/plans/new", _bad_plan, label="plan, errors")
        walk.check("/workbench/supervision/items/new")
        walk.as_(site["users"]["inspector"])
        walk.check("/workbench/supervision/")
        walk.check(f"/workbench/supervision/inspections/{site['inspection']}/")
    assert not problems, report(problems)
