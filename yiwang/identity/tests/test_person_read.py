"""``selectors.person_of``: one prepared statement that gives what the ORM gave, and, in a
request, tells ``official_of`` that a citizen has no official record (issue 9 §9)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.conftest import make_official, make_person
from yiwang.core import context
from yiwang.identity.models import Official, Person, RealNameLevel, Role, User
from yiwang.identity.permissions import OFFICIAL_MEMO_ATTR, official_of
from yiwang.identity.selectors import person_of

pytestmark = pytest.mark.django_db


def _orm_person(user) -> Person:
    return Person.objects.filter(user=user).select_related("region").first()


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.fixture
def in_request():
    token = context.bind(context.RequestContext(request_id="req-person-read", client_ip="127.0.0.1"))
    yield
    context.reset(token)


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # a new object, as each request loads its own


@pytest.mark.parametrize("with_region", [True, False])
def test_the_prepared_read_gives_what_the_orm_gave(region, with_region):
    person = make_person("reader", "赵六", seq=44, level=RealNameLevel.IN_PERSON)
    if with_region:
        Person.objects.filter(pk=person.pk).update(region=region)
    expected = _orm_person(person.user)
    got = person_of(_fresh(person.user))
    assert type(got) is Person and not got._state.adding and got._state.db == expected._state.db
    assert _fields(got) == _fields(expected)  # dates, levels, the ciphertext's bytes: as the ORM converts
    assert bytes(got.id_number_ciphertext) == bytes(expected.id_number_ciphertext)
    assert got.verified_at == expected.verified_at and got.created_at == expected.created_at
    with CaptureQueriesContext(connection) as ctx:
        loaded = got.region  # loaded with the person, or known to be unset: no query
    assert not ctx.captured_queries
    if with_region:
        assert _fields(loaded) == _fields(region) and loaded == expected.region
    else:
        assert loaded is None and expected.region is None


def test_accounts_without_a_person_and_visitors_have_none(official_x):
    from django.contrib.auth.models import AnonymousUser

    assert person_of(_fresh(official_x)) is None
    assert person_of(AnonymousUser()) is None
    assert person_of(None) is None


def test_in_a_request_a_citizens_missing_official_record_is_not_read_again(citizen, in_request):
    user = _fresh(citizen)
    with CaptureQueriesContext(connection) as ctx:
        assert person_of(user) is not None
        assert official_of(user) is None
    assert len(ctx.captured_queries) == 1


def test_an_official_with_a_person_is_still_read_with_their_department(department_x, in_request):
    user = make_official("clerk_with_person", department_x, [Role.CLERK])
    Person.objects.filter(pk=make_person("p_of_clerk", "钱七", seq=55).pk).update(user=user)
    User.objects.filter(username="p_of_clerk").delete()
    user = _fresh(user)
    assert person_of(user) is not None
    assert not hasattr(user, OFFICIAL_MEMO_ATTR)  # nothing assumed for an official
    official = official_of(user)
    assert official is not None and official.department == department_x


def test_an_inactive_official_record_counts_as_none(department_x, in_request):
    user = make_official("former_clerk", department_x, [Role.CLERK])
    Official.objects.filter(user=user).update(is_active=False)
    Person.objects.filter(pk=make_person("p_of_former", "孙八", seq=66).pk).update(user=user)
    User.objects.filter(username="p_of_former").delete()
    user = _fresh(user)
    assert person_of(user) is not None
    with CaptureQueriesContext(connection) as ctx:
        assert official_of(user) is None
    assert not ctx.captured_queries


def test_outside_a_request_nothing_is_memoised(citizen, department_x):
    user = _fresh(citizen)
    assert not context.current().request_id
    assert person_of(user) is not None
    assert not hasattr(user, OFFICIAL_MEMO_ATTR)
    Official.objects.create(user=citizen, department=department_x)  # made an official since
    assert official_of(user) is not None  # read as before


def test_a_memo_already_there_is_left_alone(citizen, department_x, in_request):
    user = _fresh(citizen)
    Official.objects.create(user=citizen, department=department_x)
    official = official_of(user)
    assert official is not None
    assert person_of(user) is not None
    assert official_of(user) is official
