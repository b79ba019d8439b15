"""Fixtures of the licences tests: the shipped licence types, a GAT department of 西安市, and
helpers to issue and present licences."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiwang.conftest import _department, make_official
from yiwang.identity.models import Role
from yiwang.licences import jose, services
from yiwang.licences.models import LicenceType
from yiwang.licences.selectors import DatabaseTrust


@pytest.fixture
def types(db):
    services.licence_types_sync(actor="system:test")
    return {lt.code: lt for lt in LicenceType.objects.all()}


@pytest.fixture
def department_gat(region):
    return _department("610100-GAT", "西安市公安局", region)


@pytest.fixture
def approver_x(department_x):
    return make_official("approver_x", department_x, [Role.APPROVER])


@pytest.fixture
def approver_y(department_y):
    return make_official("approver_y", department_y, [Role.APPROVER])


@pytest.fixture
def trust():
    return DatabaseTrust()


@pytest.fixture
def holder_key(citizen):
    private = Ed25519PrivateKey.generate()
    services.holder_key_register(user=citizen, jwk=jose.public_jwk(jose.public_x(private)), actor=citizen)
    return private


@pytest.fixture
def business_licence(types, enterprise, department_x):
    return services.licence_issue(
        licence_type=types["business-licence"],
        holder=enterprise,
        department=department_x,
        claims={"business_scope": "餐饮服务"},
        actor="system:test",
    )


@pytest.fixture
def dog_licence(types, citizen, department_gat):
    return services.licence_issue(
        licence_type=types["dog-registration"],
        holder=citizen.person,
        department=department_gat,
        claims={"dog": "中华田园犬，黄色"},
        actor="system:test",
    )
