import pytest

from yiwang.identity import demo as identity_demo
from yiwang.supervision import demo, services
from yiwang.supervision.models import DrawPlan, Inspection, MarketEntity, SupervisionItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build(entities=400)


def test_the_demo_has_entities_items_of_several_departments_and_a_published_draw(built):
    assert MarketEntity.objects.count() == 400 + 2  # and identity's two demo enterprises
    assert set(MarketEntity.objects.values_list("credit_tier", flat=True)) == {"A", "B", "C", "D"}
    assert SupervisionItem.objects.values("department").distinct().count() >= 3
    assert SupervisionItem.objects.filter(needs_review=True).exists()
    plan = DrawPlan.objects.get(state=DrawPlan.State.PUBLISHED)
    assert services.replay(plan)[0] is True
    assert Inspection.objects.filter(plan=plan, state=Inspection.State.PUBLISHED).exists()
    assert Inspection.objects.filter(plan=plan, assignments__official__user__username="inspector").exists()
    assert DrawPlan.objects.filter(state=DrawPlan.State.DRAFT).exists()


def test_the_demo_builds_again_without_adding_anything(built):
    before = (MarketEntity.objects.count(), DrawPlan.objects.count(), Inspection.objects.count())
    demo.build(entities=400)
    assert (MarketEntity.objects.count(), DrawPlan.objects.count(), Inspection.objects.count()) == before
