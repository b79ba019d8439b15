"""The feedback demo: a month of items, routed, replied, some overdue, some rated."""

import pytest
from django.utils import timezone

from yiwang.feedback import demo, workflow
from yiwang.feedback.models import Item, RoutingRule

pytestmark = pytest.mark.django_db


def test_the_demo_builds_a_month_of_items_in_every_state_and_is_idempotent():
    from yiwang.identity import demo as identity_demo

    identity_demo.build()
    demo.build(items=60)
    items = Item.objects.all()
    assert items.count() == 60
    statuses = set(items.values_list("status", flat=True))
    assert {"filed", "routed", "accepted", "replied", "rated"} <= statuses | {"closed"}
    assert items.filter(rating__isnull=False).exists()
    assert items.filter(status__in=workflow.OPEN, due_date__lt=timezone.localdate()).exists()
    assert items.filter(transfers__isnull=False).exists() or items.count() < 100
    mine = items.filter(filer__username="citizen", department__code="610100-SCJG")
    assert mine.filter(status__in=("rated", "replied", "closed")).exists()
    assert mine.filter(status="accepted").exists()
    assert RoutingRule.objects.filter(region__code="610100", category="market").exists()
    demo.build(items=60)
    assert Item.objects.count() == 60
