"""The OpenAPI document tells a client every refusal it can get, in the one error shape (issue 9 §7)."""

import jsonschema
import pytest

from config.api import api
from yiwang.core.api import ERROR_SCHEMA

SCHEMA = api.get_openapi_schema()
OPERATIONS = [
    (path, method, operation)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    if isinstance(operation, dict) and "responses" in operation
]


def test_the_error_shape_is_a_named_schema():
    assert SCHEMA["components"]["schemas"]["Error"] == ERROR_SCHEMA
    assert "X-CSRFToken" in SCHEMA["info"]["description"]


@pytest.mark.parametrize(
    ("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _o in OPERATIONS]
)
def test_every_operation_lists_its_refusals(path, method, operation):
    responses = {str(status): response for status, response in operation["responses"].items()}
    assert "422" in responses
    if operation.get("security"):
        assert {"401", "403"} <= set(responses)
    if "{" in path:
        assert "404" in responses
    if method in {"post", "put", "patch"}:
        assert {"400", "413"} <= set(responses)
    for status, response in responses.items():
        if status[0] == "4":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/applications/cases", 401),
        ("get", "/api/audit/entries?start=x&end=1", 422),
        ("get", "/api/catalog/items/NO-SUCH-ITEM", 404),
    ],
)
def test_real_refusals_have_the_documented_shape(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    jsonschema.validate(response.json(), ERROR_SCHEMA)
