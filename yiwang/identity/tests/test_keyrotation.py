"""Rotating the field encryption key (`yiwang rotate-keys`) and rebuilding blind indexes."""

import datetime as dt
import os
from io import StringIO

import pyotp
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.management import CommandError, call_command

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_person, make_user, with_two_factor
from yiwang.core import encrypted_fields
from yiwang.identity import keyrotation, legalentities, pii, selectors, services
from yiwang.identity.models import AccountNotice, Person, RealNameLevel
from yiwang.identity.tests.registers import put_legal_entity, put_resident
from yiwang.lib import crypto
from yiwang.lib.idnumbers import make_id_number
from yiwang.lib.uscc import make_credit_code

KEY_A, KEY_B = bytes(range(32)), bytes(range(100, 132))
REP_NUMBER = make_id_number("610102", dt.date(1970, 5, 5), 77)
NEWCOMER_NUMBER = make_id_number("610113", dt.date(1992, 2, 29), 457)


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def stored_values() -> dict:
    """Every stored encrypted value: (model, pk, field) -> bytes."""
    values = {}
    for label, field, _purpose in encrypted_fields.registered():
        model = apps.get_model(label)
        for pk, blob in model.objects.filter(**{f"{field}__isnull": False}).values_list("pk", field):
            values[(label, pk, field)] = bytes(blob)
    return values


def keys_in_use() -> set:
    purposes = {(label, field): purpose for label, field, purpose in encrypted_fields.registered()}
    return {
        ("legacy " if opened.legacy else "") + opened.key_id
        for (label, _pk, field), blob in stored_values().items()
        for opened in [crypto.open_value(blob, purposes[label, field])]
    }


def legacy_blob(value: str, purpose: str, key: bytes) -> bytes:
    """A value as stored before key ids: nonce, then ciphertext and tag."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, value.encode(), purpose.encode())


@pytest.fixture
def under_a(settings):
    settings.FIELD_ENCRYPTION_KEYS = (("A", KEY_A),)
    return settings


@pytest.fixture
def population(under_a, region):
    """Verified persons, one self-declared, a two-factor account, a legal-entity register entry and
    the resident register entry of the self-declared person, all under key A."""
    verified = [make_person(f"p{i}", f"人{i}", seq=100 + i) for i in range(5)]
    declared = make_person("declared", "陈七", level=RealNameLevel.SELF_DECLARED, seq=200)
    put_resident("陈七", pii.id_number_of(declared))
    two_factor = with_two_factor(make_user("twofactor"))
    put_legal_entity(make_credit_code("610100", 9), "演示企业", "赵六", REP_NUMBER)
    numbers = {p.pk: pii.id_number_of(p) for p in [*verified, declared]}
    return {"verified": verified, "declared": declared, "two_factor": two_factor, "numbers": numbers}


def assert_everything_works(population):
    """Every value reads back and every blind-index lookup finds what it found before."""
    for person in Person.objects.all():
        assert pii.id_number_of(person) == population["numbers"][person.pk]
    for person in population["verified"]:
        assert selectors.person_lookup_by_id_number(population["numbers"][person.pk]) == person
    user = population["two_factor"]
    user.refresh_from_db()
    assert services.totp_verify(user=user, code=pyotp.TOTP(services.totp_secret_of(user)).now())
    entity = legalentities.lookup(credit_code=make_credit_code("610100", 9))
    assert entity.representative_id_number == REP_NUMBER
    # The population base data still confirms the self-declared person.
    declared = population["declared"]
    number = population["numbers"][declared.pk]
    services.person_verify(person=declared, name="陈七", id_number=number, actor=declared.user)
    declared.refresh_from_db()
    assert declared.realname_level == RealNameLevel.REGISTER
    # Registration still finds the verified holder of a number and warns them.
    holder = population["verified"][0]
    services.person_register(
        name="冒名",
        id_number=population["numbers"][holder.pk],
        phone="13612345678",
        username="impostor",
        password="a-long-enough-pass",
    )
    assert AccountNotice.objects.filter(user=holder.user).exists()


@pytest.mark.django_db
def test_rotation_moves_every_value_to_the_new_key_and_the_old_key_can_then_be_removed(population, settings):
    assert keys_in_use() == {"A"}
    indexes = dict(Person.objects.values_list("pk", "id_number_index"))
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))

    out = rotate()

    assert keys_in_use() == {"B"}
    assert "identity.person.id_number_ciphertext: 6 values, changed 6" in out
    assert "Retired keys ('A') are no longer needed" in out
    assert dict(Person.objects.values_list("pk", "id_number_index")) == indexes  # blind indexes untouched
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)
    assert_everything_works(population)


@pytest.mark.django_db
def test_a_second_run_finds_nothing_left_to_do(population, settings):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    rotate()
    before, entries = stored_values(), AuditEntry.objects.count()
    out = rotate()
    assert stored_values() == before
    assert AuditEntry.objects.count() == entries
    assert "changed 0, 6 already current" in out


@pytest.mark.django_db
def test_values_stored_before_key_ids_are_read_and_rotated(population, settings):
    person = population["verified"][1]
    number = population["numbers"][person.pk]
    Person.objects.filter(pk=person.pk).update(
        id_number_ciphertext=legacy_blob(number, pii.ID_NUMBER_PURPOSE, KEY_A)
    )
    person.refresh_from_db()
    assert crypto.open_value(person.id_number_ciphertext, pii.ID_NUMBER_PURPOSE) == (number, "A", True)
    assert pii.id_number_of(person) == number
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))

    out = rotate()

    assert "1 stored without a key id" in out
    assert keys_in_use() == {"B"}
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)
    assert_everything_works(population)


@pytest.mark.django_db
def test_a_current_key_given_without_a_key_id_reads_and_rewrites_legacy_values(under_a, region):
    """An existing deployment keeps FIELD_ENCRYPTION_KEY (id "0"): its old values read, and rotate."""
    person = make_person("old", "老王", seq=300)
    number = pii.id_number_of(person)
    Person.objects.filter(pk=person.pk).update(
        id_number_ciphertext=legacy_blob(number, pii.ID_NUMBER_PURPOSE, KEY_A)
    )
    under_a.FIELD_ENCRYPTION_KEYS = (("0", KEY_A),)
    rotate()
    person.refresh_from_db()
    assert crypto.open_value(person.id_number_ciphertext, pii.ID_NUMBER_PURPOSE) == (number, "0", False)


@pytest.mark.django_db
def test_a_dry_run_changes_nothing_and_writes_no_audit_entry(population, settings):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    before, entries = stored_values(), AuditEntry.objects.count()

    out = rotate("--dry-run")

    assert stored_values() == before
    assert AuditEntry.objects.count() == entries
    assert "would change 6" in out and "Dry run: nothing was changed." in out
    assert keys_in_use() == {"A"}


@pytest.mark.django_db
def test_a_missing_key_is_named_and_everything_readable_is_still_rotated(population, settings):
    person = population["verified"][2]
    settings.FIELD_ENCRYPTION_KEYS = (("C", bytes(32)),)
    Person.objects.filter(pk=person.pk).update(
        id_number_ciphertext=crypto.encrypt(population["numbers"][person.pk], pii.ID_NUMBER_PURPOSE)
    )
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))  # "C" is not configured

    with pytest.raises(CommandError) as excinfo:
        rotate()

    message = str(excinfo.value)
    assert "1 values are under key ids that are not configured ('C': 1)" in message
    assert "add those keys to FIELD_ENCRYPTION_KEYS" in message
    person.refresh_from_db()
    with pytest.raises(crypto.MissingKeyError) as missing:
        pii.id_number_of(person)
    assert missing.value.key_id == "C"
    others = {k: v for k, v in stored_values().items() if k[1] != person.pk or k[0] != "identity.Person"}
    purposes = {(label, field): purpose for label, field, purpose in encrypted_fields.registered()}
    assert {crypto.open_value(b, purposes[k[0], k[2]]).key_id for k, b in others.items()} == {"B"}


@pytest.mark.django_db
def test_a_value_no_key_opens_is_reported_and_left_as_it_is(population, settings):
    person = population["verified"][3]
    Person.objects.filter(pk=person.pk).update(id_number_ciphertext=b"\x00" * 40)
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    with pytest.raises(CommandError, match="1 values do not open under any configured key"):
        rotate()
    person.refresh_from_db()
    assert bytes(person.id_number_ciphertext) == b"\x00" * 40


@pytest.mark.django_db
def test_each_batch_is_its_own_transaction_and_a_rerun_resumes(population, settings, monkeypatch):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    real, calls = crypto.encrypt_many, []

    def failing_third_time(values, purpose):
        calls.append(purpose)
        if len(calls) == 3:
            raise RuntimeError("the server went away")
        return real(values, purpose)

    monkeypatch.setattr(crypto, "encrypt_many", failing_third_time)
    with pytest.raises(RuntimeError):
        keyrotation.field_keys_rotate(actor="system:test", batch_size=2)
    purposes = {"identity.Person": pii.ID_NUMBER_PURPOSE}
    persons = {k: v for k, v in stored_values().items() if k[0] == "identity.Person"}
    under = sorted(crypto.open_value(b, purposes[k[0]]).key_id for k, b in sorted(persons.items()))
    assert under == ["A", "A", "B", "B", "B", "B"]  # two batches of two committed, the third rolled back
    assert AuditEntry.objects.filter(event="identity:field_key:rotate").count() == 2

    monkeypatch.setattr(crypto, "encrypt_many", real)
    report = keyrotation.field_keys_rotate(actor="system:test", batch_size=2)
    assert report.fields[0].changed == 2 and report.fields[0].current == 4
    assert keys_in_use() == {"B"}


@pytest.mark.django_db
def test_rotation_is_audited_per_batch_without_personal_data(population, settings):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B), ("A", KEY_A))
    rotate("--batch-size", "4")
    entries = list(AuditEntry.objects.filter(event="identity:field_key:rotate").order_by("leaf_index"))
    assert [(e.target_type, e.data["count"]) for e in entries] == [
        ("identity.person", 4),
        ("identity.person", 2),
        ("identity.user", 1),
        ("exchange.resourcerow", 2),
    ]
    assert entries[0].actor_label == "system:rotate_keys"
    assert entries[0].data == {
        "field": "identity.person.id_number_ciphertext",
        "to_key": "B",
        "from_keys": {"A": 4},
        "without_key_id": 0,
        "count": 4,
    }
    leaves, data = str([bytes(e.leaf_input) for e in entries]), str([e.data for e in entries])
    for number in [*population["numbers"].values(), REP_NUMBER]:
        assert number not in leaves and number not in data and number[-4:] not in data


@pytest.mark.django_db
def test_a_bad_batch_size_is_refused_clearly(population):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        rotate("--batch-size", "0")


@pytest.mark.django_db
def test_after_a_new_blind_index_key_the_reindex_makes_lookups_work_again(population, settings):
    numbers = population["numbers"]
    settings.BLIND_INDEX_KEY = bytes(range(200, 232))
    first = population["verified"][0]
    assert selectors.person_lookup_by_id_number(numbers[first.pk]) is None  # old indexes: not found

    before = stored_values()
    out = rotate("--reindex", "--dry-run")
    assert "would change 6" in out
    assert selectors.person_lookup_by_id_number(numbers[first.pk]) is None

    out = rotate("--reindex")
    assert "identity.person.id_number_index: 6 values, changed 6" in out
    assert stored_values() == before  # the ciphertexts are left alone
    for person in population["verified"]:
        assert selectors.person_lookup_by_id_number(numbers[person.pk]) == person
    assert AuditEntry.objects.filter(event="identity:blind_index:rebuild").count() == 1


@pytest.mark.django_db
def test_a_dry_run_names_a_missing_key_too_and_changes_nothing(population, settings):
    settings.FIELD_ENCRYPTION_KEYS = (("B", KEY_B),)  # "A" removed before rotating
    before = stored_values()
    with pytest.raises(CommandError) as excinfo:
        rotate("--dry-run")
    assert "9 values are under key ids that are not configured ('A': 9)" in str(excinfo.value)
    assert "Nothing was changed (dry run)." in str(excinfo.value)
    assert stored_values() == before
