"""The licences demo: a few licences for the demo citizens and enterprise, idempotent."""

import pytest

from yiwang.licences import demo, services, verify
from yiwang.licences.models import Licence
from yiwang.licences.selectors import DatabaseTrust, licences_for_user


@pytest.fixture
def demo_people(db, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit.pem"
    from yiwang.identity import demo as identity_demo

    with identity_demo.passwords_hashed_once():
        identity_demo.build()


def test_the_demo_issues_a_few_licences_once(demo_people):
    from yiwang.identity.models import User

    assert demo.build() == len(demo.PLAN)
    assert demo.build() == 0
    assert Licence.objects.count() == len(demo.PLAN)
    citizen = User.objects.get(username="citizen")
    assert {lic.type.code for lic in licences_for_user(citizen)} == {
        "resident-identity",
        "dog-registration",
        "individual-business-licence",
    }
    agent = User.objects.get(username="agent")
    assert {"business-licence", "food-business-licence", "drug-business-licence"} <= {
        lic.type.code for lic in licences_for_user(agent)
    }


def test_the_demo_shows_each_state_to_a_verifier(demo_people):
    demo.build()
    trust = DatabaseTrust()
    verdicts = {
        lic.type.code + ":" + lic.state: verify.verify(services.licence_credential(lic), trust).verdict
        for lic in Licence.objects.filter(state__in=["suspended", "revoked"])
    }
    assert verdicts == {"dog-registration:suspended": "suspended", "drug-business-licence:revoked": "revoked"}
