"""The public log, fetched whole from a demo instance, names nobody and links nothing to a person.

Builds the demo (identity, a slice of the catalog, cases in every state), adds a registration, sign-ins
and a wrong password through the pages, then reads every entry through the public API the way an
attacker would and looks for every demo person's name, user name, identity-number and phone digits
(whole, masked or the last four), and every case number.
"""

import base64
import datetime as dt
import re

import pytest

from yiwang.applications import demo as applications_demo
from yiwang.applications.models import Case
from yiwang.audit import leaf
from yiwang.catalog import demo as catalog_demo
from yiwang.catalog import search
from yiwang.identity import demo as identity_demo
from yiwang.identity import pii
from yiwang.identity.models import Person, Role, User
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.masking import mask_id_number, mask_phone

pytestmark = pytest.mark.django_db

PUBLIC_KEYS = {"v", "ts", "event", "actor", "object", "commitment"}


def _public_entries(client) -> list[dict]:
    size = client.get("/api/audit/sth").json()["tree_size"]
    entries: list[dict] = []
    while len(entries) < size:
        body = client.get("/api/audit/entries", {"start": len(entries), "end": size - 1}).json()
        entries.extend(body["entries"])
    return entries


def _secrets() -> set[str]:
    found: set[str] = set()
    for person in Person.objects.all():
        number = pii.id_number_of(person)
        found |= {person.name, number, mask_id_number(number), number[-4:], number[:6] + number[-4:]}
        if person.phone:
            found |= {person.phone, mask_phone(person.phone), person.phone[-4:]}
    role_codes = set(Role.values)
    found |= {u for u in User.objects.values_list("username", flat=True) if u not in role_codes}
    found |= set(Case.objects.exclude(number="").values_list("number", flat=True))
    return {s for s in found if s}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_the_whole_public_log_of_a_demo_instance_holds_no_personal_data(client):
    identity_demo.build()
    search.clear_caches()
    catalog_demo.build(cities=1, kinds=["SCJG"], counties=False)
    applications_demo.build(cases=40)
    number = make_id_number("610102", dt.date(1991, 2, 3), 77)
    client.post(
        "/register",
        {
            "name": "隐私测试",
            "id_number": number,
            "phone": "13612345678",
            "username": "privacy-probe",
            "password1": "a-long-password-2026",
            "password2": "a-long-password-2026",
            "email": "probe@example.org",
        },
    )
    assert User.objects.filter(username="privacy-probe").exists()  # the registration went through
    client.post("/logout")
    client.post("/login", {"username": "citizen", "password": "wrong-password"})
    client.post("/login", {"username": "citizen", "password": "yiwang-demo-2026"})
    assert client.get("/api/identity/me").status_code == 200  # signed in: a sign-in entry was written

    entries = _public_entries(client)
    assert len(entries) > 150
    secrets = _secrets()
    assert "张三" in secrets and "citizen" in secrets and any(re.match(r"\d{6}-", s) for s in secrets)
    events = set()
    for entry in entries:
        published = leaf.decode_leaf_input(base64.b64decode(entry["leaf_input"]))
        assert set(published) == PUBLIC_KEYS
        assert set(entry) == {
            "leaf_index",
            "leaf_input",
            "timestamp",
            "event",
            "actor",
            "object",
            "commitment",
        }
        assert re.fullmatch(r"[0-9a-f]{64}", published["commitment"])
        events.add(published["event"])
        readable = [s for s in _strings({k: v for k, v in published.items() if k != "commitment"})]
        for text in readable:
            leaks = [s for s in secrets if s in text and text != published["ts"]]
            assert not leaks, f"entry {entry['leaf_index']} publishes {leaks} in {text!r}"
        obj = published["object"]
        if obj and obj["id"]:
            assert obj["type"] in leaf.PUBLIC_OBJECT_TYPES
    assert {"applications:case:submit", "applications:case:decide", "restricted"} <= events
