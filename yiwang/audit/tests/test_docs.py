"""The outside auditor's program in docs/audit.md runs against the API as documented."""

import base64
import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from yiwang.audit import services

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[3] / "docs" / "audit.md"


@pytest.fixture
def auditor(client):
    code = re.search(r"```python\nimport base64.*?\n```", DOC.read_text(encoding="utf-8"), re.S).group(0)
    namespace = {"__name__": "auditor"}
    exec(compile(code.strip("`").removeprefix("python\n"), str(DOC), "exec"), namespace)  # noqa: S102
    namespace["get"] = lambda path, **params: client.get(f"/api/audit{path}", params).json()
    return namespace


def test_the_documented_auditor_checks_inclusion_signature_and_consistency(auditor):
    for i in range(7):
        services.record(actor="system:test", event="audit:test:run", data={"i": i, "名": "值"})
    first = auditor["audit"](3)
    for i in range(7, 30):
        services.record(actor="system:test", event="audit:test:run", data={"i": i})
    second = auditor["audit"](21, previous_sth=first)
    assert (first["tree_size"], second["tree_size"]) == (7, 30)


def test_the_documented_auditor_rejects_a_forged_tree_head(auditor):
    for i in range(4):
        services.record(actor="system:test", event="audit:test:run", data={"i": i})
    first = auditor["audit"](0)
    forged = {**first, "tree_size": 3}
    with pytest.raises(InvalidSignature):
        auditor["audit"](1, previous_sth=forged)


def test_the_documented_record_check_confirms_a_persons_own_record(auditor, client, citizen):
    entry = services.record(actor=citizen, event="applications:case:submit", data={"名": "值"})
    client.force_login(citizen)
    mine = client.get("/api/audit/my-records").json()["records"]
    record = auditor["check_my_record"](next(r for r in mine if r["leaf_index"] == entry.leaf_index))
    assert record["data"] == {"名": "值"} and record["actor"]["id"] == str(citizen.pk)
    forged = {**mine[0], "record": base64.b64encode(b'{"data":{}}').decode()}
    with pytest.raises(AssertionError, match="differs from what the public leaf commits to"):
        auditor["check_my_record"](forged)
