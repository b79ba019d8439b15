"""The real-name migration keeps existing data sensible: persons the old registration marked
verified become L2 (still one per number), unverified ones L1; self-declared enterprises stay
declared and their agents (never checked against a register) end."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from yiwang.identity import pii
from yiwang.lib.idnumbers import make_id_number

BEFORE = [("identity", "0002_alter_rolegrant_role")]
AFTER = [("identity", "0003_realname_levels_and_registers")]


@pytest.mark.django_db(transaction=True)
def test_existing_verified_persons_become_l2_and_declared_agents_end():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("identity", "User").objects.create(username="legacy", password="!")
    verified = old.get_model("identity", "Person").objects.create(
        user=user,
        name="旧用户",
        verified_at=timezone.now(),
        **pii.id_number_fields(make_id_number("610113", dt.date(1980, 1, 1), 1)),
    )
    bulk = old.get_model("identity", "Person").objects.create(
        name="批量", **pii.id_number_fields(make_id_number("610113", dt.date(1981, 1, 1), 2))
    )
    enterprise = old.get_model("identity", "Enterprise").objects.create(
        name="自报公司", credit_code="91610100000000001X"
    )
    agents = old.get_model("identity", "EnterpriseAgent")
    rep = agents.objects.create(enterprise=enterprise, person=verified, role="legal_rep")
    agent = agents.objects.create(enterprise=enterprise, person=bulk, role="agent")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    persons = new.get_model("identity", "Person").objects
    assert persons.get(pk=verified.pk).realname_level == 2
    assert persons.get(pk=bulk.pk).realname_level == 1
    assert new.get_model("identity", "Enterprise").objects.get(pk=enterprise.pk).source == "declared"
    agents = new.get_model("identity", "EnterpriseAgent").objects
    assert agents.get(pk=agent.pk).revoked_at is not None
    assert agents.get(pk=rep.pk).revoked_at is None  # kept, but a declared enterprise acts for nobody

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the schema as the suite expects
