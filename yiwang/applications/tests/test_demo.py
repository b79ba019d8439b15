"""The applications demo: every status, the three kinds of process, a bundle, live queues, once.

One test builds the demo once (on the market-regulation slice of the demo catalog) and checks it
all, to keep the suite fast."""

import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from yiwang.applications import demo, duties, licence_materials, selectors, services
from yiwang.applications.models import BundleCase, Case, CaseEvent, Rating, Rectification, Task
from yiwang.catalog import demo as catalog_demo
from yiwang.catalog import search
from yiwang.catalog.models import ServiceItem
from yiwang.identity import demo as identity_demo
from yiwang.identity.models import User

pytestmark = pytest.mark.django_db


def test_demo_builds_every_status_process_and_bundle_once():
    identity_demo.build()
    search.clear_caches()
    catalog_demo.build(cities=1, kinds=["SCJG"], counties=False)
    counts = demo.build(cases=40)
    assert counts["cases"] == Case.objects.count()

    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    supplement = Case.objects.filter(process__bpmn__contains='id="yiwang_supplement"')
    waiting = supplement.filter(status=Case.Status.SUPPLEMENT, tasks__role="applicant", tasks__state="open")
    assert waiting.exists()
    instant = Case.objects.filter(process__dmn__contains='id="instant_check"')
    assert instant.filter(status=Case.Status.COMPLETED, tasks=None).exists()  # 秒批: no one touched it
    assert instant.filter(status=Case.Status.IN_REVIEW, tasks__role="reviewer").exists()  # referred
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INSTANT).exists()

    bundle_case = BundleCase.objects.get()
    assert bundle_case.cases.count() >= 2
    assert len(set(bundle_case.cases.values_list("status", flat=True))) >= 2

    assert Rating.objects.filter(level__lte=2).exists()
    assert Rectification.objects.filter(state=Rectification.State.REPLIED).count() == 1

    clerk = User.objects.get(username="clerk")
    accept = list(selectors.queue(clerk, "accept"))
    assert accept
    # Waits of different lengths — hours, a day, days, most of a week — at whatever hour the test
    # runs: lengths of time, not dates (the Beijing date turns at 16:00 UTC).
    now = timezone.now()
    waited_days = sorted({(now - t.opened_at).days for t in accept})
    assert {0, 1, 3, 6} <= set(waited_days), waited_days
    assert Task.objects.filter(state=Task.State.OPEN, flag=Task.Flag.OVERDUE).exists()
    first = Case.objects.exclude(submitted_at=None).order_by("submitted_at").first()
    assert first.number.split("-")[1] == f"{timezone.localdate(first.submitted_at):%Y%m%d}"
    assert first.submitted_at < timezone.now() - dt.timedelta(days=2)

    # 四眼原则 holds in the demo's history too: nobody did two duties on one case.
    done = Task.objects.filter(state=Task.State.DONE, role__in=duties.DUTIES).exclude(closed_by=None)
    pairs = done.values("case_id", "closed_by_id").annotate(n=Count("role", distinct=True))
    assert [p for p in pairs if p["n"] > 1] == []
    assert done.values("closed_by_id").distinct().count() >= 3

    # 免证办: 张三's form for the stall allowance offers his licence instead of an upload.
    citizen = User.objects.get(username="citizen")
    draft = services.case_start(actor=citizen, item=ServiceItem.objects.get(code=demo.INSTANT_CODE))
    offered = [(o.material.name, len(o.licences)) for o in licence_materials.offers(draft).rows]
    assert offered == [(demo.LICENCE_MATERIAL, 1)]
    services.case_discard(actor=citizen, case=draft)

    assert demo.build()["cases"] == 0  # idempotent
    assert Case.objects.count() == counts["cases"]
