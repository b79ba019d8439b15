"""The outside verifier of docs/licences.md ("Checking a licence with no platform code") works on
what the platform publishes: it is run here against a licence, the metadata and the status list."""

import re
from pathlib import Path

import pytest

from yiwang.licences import services

DOC = Path(__file__).resolve().parents[3] / "docs" / "licences.md"


def _outside_verifier():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- outside-verifier.*?-->\n```python\n(.*?)```", text, re.S)
    assert block, "docs/licences.md lost its outside verifier"
    namespace: dict = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)  # noqa: S102 — the repository's own doc
    return namespace["check"]


def test_the_documented_outside_verifier_checks_a_platform_licence(dog_licence, citizen, login, approver_x):
    check = _outside_verifier()
    client = login(None)
    gat = dog_licence.department
    jwks = client.get(f"/.well-known/jwt-vc-issuer/licences/issuers/{gat.code}").json()["jwks"]
    url = f"/licences/status/{gat.code}/1"
    presentation = services.licence_present(licence=dog_licence, disclose=["owner"], actor=citizen)
    claims = check(presentation, jwks, client.get(url).content.decode())
    assert claims["owner"] == citizen.person.name and "owner_id_number" not in claims
    tampered = presentation.replace(presentation.split("~")[1], presentation.split("~")[1][:-1] + "Q")
    with pytest.raises(ValueError, match="not part of the signed licence"):
        check(tampered, jwks, client.get(url).content.decode())
    services.licence_suspend(licence=dog_licence, actor="system:test", reason="核查")
    with pytest.raises(ValueError, match="suspended"):
        check(presentation, jwks, client.get(url).content.decode())
