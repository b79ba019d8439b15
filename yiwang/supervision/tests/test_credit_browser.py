"""The credit and warning pages in Chromium on the demo (a small one): the public record and the
list signed out, the officials' credit page and the warnings as the department's administrator:
one h1, axe clean in normal and large-text mode, zh-Hans and English, 390 px wide
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
    from yiwang.supervision.models import DishonestyEntry, RiskWarning

    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build(entities=300)
    entry = DishonestyEntry.objects.order_by("pk").first()
    return {
        "deptadmin": User.objects.get(username="deptadmin"),
        "code": entry.entity.credit_code,
        "warning": RiskWarning.objects.filter(department__code="610100-SCJG").order_by("pk").first().pk,
    }


def test_the_credit_pages_pass_axe_and_fit_a_phone(browser, live_server, site):  # noqa: F811
    problems: dict = {}
    with Walk(browser, live_server.url, problems) as walk:
        walk.check(f"/supervision/credit/{site['code']}/")
        walk.check("/supervision/dishonesty-list/?removed=1")
        walk.as_(site["deptadmin"])
        walk.check(f"/workbench/supervision/credit/{site['code']}/")
        walk.check("/workbench/supervision/warnings/")
        walk.check(f"/workbench/supervision/warnings/{site['warning']}/")
    assert not problems, report(problems)
