"""`yiwang rotate-keys` covers licences' encrypted fields (claims, credentials, issuer keys,
presentations) and the e-seal keys: after a rotation, with the old key removed, a licence still
verifies, a presentation still reads, a seal still signs and a new licence is still issued."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from yiwang.audit.models import AuditEntry
from yiwang.core import encrypted_fields
from yiwang.lib import crypto
from yiwang.licences import pdf, presentations, seals, services, vault, verify
from yiwang.licences.models import IssuerKey, Licence, Presentation, SealAuthority, SealCertificate

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = bytes(range(32)), bytes(range(100, 132))


def test_every_licences_field_is_registered_for_rotation():
    registered = set(encrypted_fields.registered())
    assert set(vault.ENCRYPTED_FIELDS) | set(seals.ENCRYPTED_FIELDS) <= registered
    # every binary field of licences' models named *_ciphertext is in the registry
    for model in apps.get_app_config("licences").get_models():
        for field in model._meta.fields:
            if field.name.endswith("_ciphertext"):
                assert any(r[:2] == (model._meta.label, field.name) for r in registered), field


def test_the_registry_refuses_one_field_under_two_purposes():
    with pytest.raises(ValueError, match="registered with purpose"):
        encrypted_fields.register([("licences.Licence", "claims_ciphertext", "another.purpose")])
    with pytest.raises(ValueError):
        encrypted_fields.register([("Licence", "claims_ciphertext", vault.CLAIMS_PURPOSE)])


def _keys_in_use() -> dict:
    """field -> the key ids its stored values are under."""
    used: dict = {}
    for label, field, purpose in encrypted_fields.registered():
        if not label.startswith("licences."):
            continue
        model = apps.get_model(label)
        for blob in model.objects.filter(**{f"{field}__isnull": False}).values_list(field, flat=True):
            used.setdefault(f"{label}.{field}", set()).add(crypto.open_value(blob, purpose).key_id)
    return used


def test_rotation_re_encrypts_licences_seals_and_presentations(
    settings, types, citizen, dog_licence, business_licence, department_gat, trust
):
    # the fixtures (personas, two licences) are under the test settings' key; what follows under A
    before = tuple(settings.FIELD_ENCRYPTION_KEYS)
    assert {kid for kid, _key in before}.isdisjoint({"A", "B"})
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A), *before)
    licence = services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={"dog": "柯基犬"},
        actor="system:test",
    )
    seal = seals.seal_for(department_gat)
    shown = presentations.presentation_create(licence=licence, disclose=["owner"], actor=citizen)
    assert _keys_in_use()["licences.Licence.claims_ciphertext"] == {"A", before[0][0]}
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A), *before)
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "licences.licence.claims_ciphertext" in out.getvalue()
    assert "licences.presentation.text_ciphertext" in out.getvalue()
    assert "licences.sealcertificate.private_key_ciphertext" in out.getvalue()
    used = _keys_in_use()
    for name in (
        "licences.Licence.claims_ciphertext",
        "licences.Licence.credential_ciphertext",
        "licences.IssuerKey.private_ciphertext",
        "licences.Presentation.text_ciphertext",
        "licences.SealAuthority.private_key_ciphertext",
        "licences.SealCertificate.private_key_ciphertext",
    ):
        assert used[name] == {"B"}, name
    fields = {e.data["field"] for e in AuditEntry.objects.filter(event="identity:field_key:rotate")}
    assert "licences.presentation.text_ciphertext" in fields

    # the old keys are gone: everything still works under B alone
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)
    licence = Licence.objects.get(pk=licence.pk)
    assert services.licence_claims(licence)["dog"] == "柯基犬"
    result = verify.verify(services.licence_credential(licence), trust)
    assert result.verdict == verify.Verdict.VALID, result.message
    taken = presentations.presentation_take(token=shown.token, actor=None, via="link")
    assert presentations.sha256_b64(taken.text) == shown.sha256
    assert verify.verify(taken.text, trust).verdict == verify.Verdict.VALID
    citizen.person.refresh_from_db()  # the fixture's object holds the ciphertext from before
    renewed = services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={"dog": "中华田园犬"},
        actor="system:test",
    )
    assert renewed.issuer_key_id == licence.issuer_key_id  # the rotated issuer key still signs
    assert verify.verify(services.licence_credential(renewed), trust).verdict == verify.Verdict.VALID
    body, place = pdf.render(pdf.Document(title="测试", issuer=department_gat.name, date="2026年12月1日"))
    signed = seals.seal_pdf(body, seal=SealCertificate.objects.get(pk=seal.pk), place=place)
    assert seals.validate_pdf(signed).ok
    assert Presentation.objects.filter(pk=shown.pk, text_ciphertext__isnull=True).exists()
    assert IssuerKey.objects.exists() and SealAuthority.objects.exists()
    for old in (dog_licence, business_licence):
        assert verify.verify(services.licence_credential(Licence.objects.get(pk=old.pk)), trust).ok
