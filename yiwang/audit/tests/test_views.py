import base64

import pytest
from django.urls import reverse

from yiwang.audit import merkle, services

pytestmark = [pytest.mark.django_db, pytest.mark.urls("yiwang.audit.tests.urls")]


@pytest.fixture
def log(django_user_model):
    user = django_user_model.objects.create(username="zhangsan-demo", display_name="张三丰")
    services.record(actor=user, event="identity:user:register", target=user)
    for i in range(24):
        services.record(actor="system:demo", event="catalog:item:publish", target=("catalog.item", i))
    return user


def test_transparency_page_shows_the_signed_head_key_and_latest_twenty_entries(client, log):
    response = client.get(reverse("audit:transparency"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<caption>" in html
    assert html.count('<th scope="row">') == 20
    assert '<th scope="row">24</th>' in html and '<th scope="row">5</th>' in html
    assert '<th scope="row">4</th>' not in html
    assert response.context["head"]["tree_size"] == 25


def test_the_page_never_shows_a_persons_name(client, log):
    services.record(actor=log, event="identity:user:update", target=log)
    html = client.get(reverse("audit:transparency"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "张三丰" not in html
    assert "zhangsan" not in html
    assert f"#{log.pk}<" not in html and f"user#{log.pk}" not in html
    assert "citizen or enterprise" in html


def test_looking_up_an_entry_shows_an_inclusion_proof_that_verifies(client, log):
    response = client.get(reverse("audit:transparency"), {"leaf_index": 0}, HTTP_ACCEPT_LANGUAGE="en")
    lookup = response.context["lookup"]
    assert lookup["verified"] is True
    head = response.context["head"]
    path = [base64.b64decode(h) for h in lookup["audit_path"]]
    leaf = base64.b64decode(lookup["leaf_hash"])
    assert merkle.verify_inclusion(0, head["tree_size"], leaf, path, base64.b64decode(head["root_hash"]))
    assert "张三丰" not in response.content.decode()


@pytest.mark.parametrize(
    ("value", "fragment"), [("999", "no entry number 999"), ("abc", "whole number"), ("-1", "")]
)
def test_a_bad_lookup_shows_an_error_summary_linked_to_the_field(client, log, value, fragment):
    response = client.get(reverse("audit:transparency"), {"leaf_index": value}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'href="#id_leaf_index"' in html
    assert 'aria-invalid="true"' in html
    assert fragment in html
    assert response.context["lookup"] is None


def test_the_page_is_in_chinese_by_default(client, log):
    html = client.get(reverse("audit:transparency")).content.decode()
    assert "Transparency log" not in html
