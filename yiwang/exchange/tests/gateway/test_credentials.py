"""Department API keys (credentials.py): shown once, stored as a digest, expiry, revocation."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from yiwang.audit.models import AuditEntry
from yiwang.conftest import make_official
from yiwang.exchange import credentials
from yiwang.exchange.errors import InvalidInput, NotAllowed, WrongState
from yiwang.exchange.models import ApiCredential
from yiwang.identity.models import Role

pytestmark = pytest.mark.django_db


def test_a_new_key_is_shown_once_and_only_its_digest_is_kept(steward_x, department_x):
    new = credentials.credential_create(department=department_x, name="登记系统", actor=steward_x)
    assert new.key.startswith("yw_") and new.key.startswith(new.credential.prefix + "_")
    stored = ApiCredential.objects.get()
    assert stored.key_hash == credentials.digest(new.key) and new.key not in stored.key_hash
    assert stored.expires_at > timezone.now() + dt.timedelta(days=365)
    entry = AuditEntry.objects.get(event="exchange:credential:create")
    assert entry.data["prefix"] == stored.prefix
    assert new.key.split("_")[-1] not in json.dumps(entry.data)
    assert credentials.authenticate(new.key) == stored


def test_two_keys_differ(steward_x, department_x):
    one = credentials.credential_create(department=department_x, name="a", actor=steward_x)
    two = credentials.credential_create(department=department_x, name="b", actor=steward_x)
    assert one.key != two.key and one.credential.prefix != two.credential.prefix


def test_only_the_departments_stewards_manage_its_keys(
    steward_x, department_x, department_x_child, department_y, official_x
):
    with pytest.raises(NotAllowed):
        credentials.credential_create(department=department_x, name="a", actor=official_x)
    with pytest.raises(NotAllowed):
        credentials.credential_create(department=department_y, name="a", actor=steward_x)
    # a steward's role reaches the departments under theirs
    assert credentials.credential_create(department=department_x_child, name="a", actor=steward_x).key
    steward_child = make_official("steward_child", department_x_child, [Role.DATA_STEWARD])
    with pytest.raises(NotAllowed):
        credentials.credential_create(department=department_x, name="a", actor=steward_child)
    assert not AuditEntry.objects.filter(actor_id=str(official_x.pk)).exists()


@pytest.mark.parametrize(
    ("name", "expires", "field"),
    [
        ("", None, "name"),
        ("x" * 129, None, "name"),
        ("ok", dt.timedelta(days=-1), "expires_at"),
        ("ok", dt.timedelta(days=4000), "expires_at"),
    ],
)
def test_bad_key_requests_name_the_field_to_fix(steward_x, department_x, name, expires, field):
    with pytest.raises(InvalidInput) as caught:
        credentials.credential_create(
            department=department_x,
            name=name,
            actor=steward_x,
            expires_at=timezone.now() + expires if expires else None,
        )
    assert field in caught.value.errors
    assert not ApiCredential.objects.exists()


def test_a_revoked_key_is_refused_saying_so_and_cannot_be_revoked_twice(steward_x, department_x, key_x):
    credential = credentials.authenticate(key_x)
    credentials.credential_revoke(credential=credential, actor=steward_x, reason="系统下线")
    with pytest.raises(credentials.CredentialRefused) as caught:
        credentials.authenticate(key_x)
    assert "revoked" in caught.value.message and caught.value.credential == credential
    with pytest.raises(WrongState):
        credentials.credential_revoke(credential=credential, actor=steward_x)
    assert AuditEntry.objects.filter(event="exchange:credential:revoke").count() == 1


def test_another_department_cannot_revoke_a_key(key_x, official_y):
    with pytest.raises(NotAllowed):
        credentials.credential_revoke(credential=credentials.authenticate(key_x), actor=official_y)


def test_an_expired_key_is_refused_saying_so(key_x):
    credential = credentials.authenticate(key_x)
    later = credential.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(credentials.CredentialRefused) as caught:
        credentials.authenticate(key_x, at=later)
    assert "expired" in caught.value.message and caught.value.status == 401


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda k: None, "Send your department's API key"),
        (lambda k: "hello", "not an API key"),
        (lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), "not known"),  # right prefix, wrong secret
        (lambda k: "yw_" + "a" * 10 + k[13:], "not known"),  # unknown prefix
    ],
)
def test_keys_that_are_not_ours_are_refused(key_x, mangle, words):
    with pytest.raises(credentials.CredentialRefused) as caught:
        credentials.authenticate(mangle(key_x))
    assert words in caught.value.message and caught.value.credential is None


def test_last_use_is_noted_at_most_once_a_minute(key_x):
    first = credentials.authenticate(key_x)
    noted = ApiCredential.objects.get().last_used_at
    assert noted is not None
    credentials.authenticate(key_x, at=first.last_used_at + dt.timedelta(seconds=10))
    assert ApiCredential.objects.get().last_used_at == noted
    credentials.authenticate(key_x, at=noted + dt.timedelta(minutes=2))
    assert ApiCredential.objects.get().last_used_at > noted


def test_the_authorization_header_or_x_api_key_carries_the_key():
    assert credentials.parse_authorization("Bearer yw_abc", None) == "yw_abc"
    assert credentials.parse_authorization("bearer  yw_abc ", None) == "yw_abc"
    assert credentials.parse_authorization("Basic Zm9v", None) is None
    assert credentials.parse_authorization(None, " yw_x ") == "yw_x"
