"""The credit demo: penalties, two listed fake entities (not the demo enterprise), computed
tiers and open warnings; its pages answer on it as the access table says for a few personas."""

import pytest

from yiwang.identity import demo as identity_demo
from yiwang.identity.models import Enterprise
from yiwang.supervision import demo
from yiwang.supervision.models import CreditScore, DishonestyEntry, Penalty, RiskWarning

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    with identity_demo.passwords_hashed_once():
        identity_demo.build()
        demo.build(entities=400)


def test_the_credit_demo_lists_two_fake_entities_and_opens_warnings(built, client):
    listed = DishonestyEntry.objects.filter(state="listed")
    assert listed.count() == 2
    demo_codes = set(Enterprise.objects.values_list("credit_code", flat=True))
    assert not listed.filter(entity__credit_code__in=demo_codes).exists()
    assert Penalty.objects.count() == 6 and Penalty.objects.filter(is_public=False).count() == 1
    assert CreditScore.objects.filter(tier="D").count() >= 2
    open_x = RiskWarning.objects.filter(department__code="610100-SCJG", state="dispatched")
    assert open_x.count() >= 2
    entry = listed.order_by("pk").first()
    assert client.get(f"/supervision/credit/{entry.entity.credit_code}/").status_code == 200
    assert client.get("/supervision/dishonesty-list/?removed=1").status_code == 200
    assert client.get(f"/supervision/dishonesty-list/{entry.pk}/repair").status_code == 302  # sign in
    demo.build(entities=400)  # again: nothing added
    assert DishonestyEntry.objects.count() == 2 and Penalty.objects.count() == 6


def test_the_credit_pages_answer_the_demo_personas(built, client):
    from django.contrib.auth import get_user_model

    from yiwang.conftest import force_sign_in

    entry = DishonestyEntry.objects.filter(state="listed").order_by("pk").first()
    warning = RiskWarning.objects.filter(department__code="610100-SCJG", state="dispatched").first()
    users = get_user_model().objects
    inspector = force_sign_in(client, users.get(username="inspector"))
    assert inspector.get(f"/workbench/supervision/credit/{entry.entity.credit_code}/").status_code == 200
    assert inspector.get("/workbench/supervision/warnings/").status_code == 200
    assert inspector.get(f"/workbench/supervision/warnings/{warning.pk}/").status_code == 200
    assert inspector.get(f"/supervision/dishonesty-list/{entry.pk}/repair").status_code == 404
    citizen = force_sign_in(client, users.get(username="citizen"))
    assert citizen.get("/workbench/supervision/warnings/").status_code == 403
    assert (
        citizen.post(f"/workbench/supervision/warnings/{warning.pk}/", {"to": "handling"}).status_code == 403
    )
    assert RiskWarning.objects.get(pk=warning.pk).state == "dispatched"
