"""Publishing: only a published, not negative-listed resource of open class 无条件开放 or 有条件开放,
stored in the platform and without personal fields, becomes a dataset, by the provider's data
steward; every publish, withdrawal, application decision and key is audited."""

import pytest
from django.utils import translation

from yiwang.audit.models import AuditEntry
from yiwang.exchange.errors import InvalidInput, NotAllowed, WrongState
from yiwang.exchange.models import DataResource, ResourceField
from yiwang.identity.models import Department, User
from yiwang.opendata import services
from yiwang.opendata.models import Access, Application, Dataset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _resource(code="C77001", **changes) -> DataResource:
    provider = Department.objects.get(code="610000-SJJ")
    values = {
        "code": code,
        "name": "测试资源",
        "provider": provider,
        "kind": "department",
        "share_class": "unconditional",
        "open_class": "unconditional",
        "update_frequency": "monthly",
        "state": "published",
    } | changes
    resource = DataResource.objects.create(**values)
    ResourceField.objects.create(resource=resource, name="count", label_zh="数量", type="integer", grade=1)
    return resource


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"state": "draft"}, "not published"),
        ({"on_negative_list": True}, "negative list"),
        ({"open_class": "none"}, "不予开放"),
        ({"source_kind": "http", "upstream_url": "https://example.org/x"}, "stored in the platform"),
    ],
)
def test_an_unfit_resource_is_refused_and_nothing_is_saved(portal, changes, words):
    resource = _resource(**changes)
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.dataset_publish(resource=resource, actor="system:test")
    assert words in refused.value.message
    assert not Dataset.objects.filter(resource=resource).exists()
    assert AuditEntry.objects.count() == entries


def test_a_resource_with_a_personal_field_is_never_opened(portal):
    resource = _resource()
    ResourceField.objects.create(resource=resource, name="holder", label_zh="姓名", grade=3, personal="name")
    with pytest.raises(InvalidInput) as refused:
        services.dataset_publish(resource=resource, actor="system:test")
    assert "holder" in refused.value.message


def test_only_the_providers_steward_publishes(portal):
    resource = _resource()
    with pytest.raises(NotAllowed):
        services.dataset_publish(resource=resource, actor=User.objects.get(username="clerk"))
    dataset = services.dataset_publish(
        resource=resource, actor=User.objects.get(username="steward"), themes=["government"]
    )
    assert dataset.access == Access.OPEN and dataset.name == "c77001"
    assert dataset.distributions.count() == 3 and [t.name for t in dataset.themes.all()] == ["government"]
    assert AuditEntry.objects.filter(event="opendata:dataset:publish", target_id=str(dataset.pk)).exists()


def test_bad_names_and_themes_are_named(portal):
    with pytest.raises(InvalidInput) as bad:
        services.dataset_publish(resource=_resource(), actor="system:test", name="Not A Name")
    assert "name" in bad.value.errors
    with pytest.raises(InvalidInput) as bad:
        services.dataset_publish(resource=_resource("C77002"), actor="system:test", themes=["nope"])
    assert bad.value.errors == {"themes": "nope"}
    with pytest.raises(InvalidInput) as bad:
        services.dataset_publish(resource=_resource("C77003"), actor="system:test", name="610100-bus-lines")
    assert "name" in bad.value.errors


def test_withdraw_then_republish(portal):
    dataset = Dataset.objects.get(name="610100-schools")
    with pytest.raises(InvalidInput):
        services.dataset_withdraw(dataset=dataset, actor="system:test", reason=" ")
    services.dataset_withdraw(dataset=dataset, actor="system:test", reason="数据更新中")
    with pytest.raises(WrongState):
        services.dataset_withdraw(dataset=dataset, actor="system:test", reason="again")
    again = services.dataset_publish(resource=dataset.resource, actor="system:test", name=dataset.name)
    assert again.pk == dataset.pk and again.state == Dataset.State.ACTIVE


def test_applications_only_for_conditional_datasets_and_decided_once(portal):
    elder = User.objects.get(username="elder")
    with pytest.raises(WrongState):
        services.application_submit(
            dataset=Dataset.objects.get(name="610100-schools"),
            actor=elder,
            organization="x",
            purpose="足够长的使用目的说明",
        )
    dataset = Dataset.objects.get(name="610100-service-ratings")
    with pytest.raises(InvalidInput) as bad:
        services.application_submit(dataset=dataset, actor=elder, organization="", purpose="短")
    assert set(bad.value.errors) == {"organization", "purpose"}
    application = services.application_submit(
        dataset=dataset, actor=elder, organization="老年大学", purpose="研究老年人使用政务服务的满意度。"
    )
    with pytest.raises(
        NotAllowed
    ):  # 西安市数据和政务服务局 is under the demo steward's department, not the clerk's
        services.application_decide(
            application=application, actor=User.objects.get(username="clerk"), approve=True
        )
    services.application_decide(
        application=application, actor=User.objects.get(username="steward"), approve=True
    )
    with pytest.raises(WrongState):
        services.application_decide(application=application, actor="system:test", approve=False, reason="x")
    assert Application.objects.get(pk=application.pk).state == Application.State.APPROVED


def test_a_presented_key_is_found_only_by_its_digest(portal):
    agent = User.objects.get(username="agent")
    record, key = services.api_key_create(actor=agent, name="k")
    assert services.api_key_for(key) == record
    assert services.api_key_for("Bearer " + key) == record
    assert services.api_key_for(key + "x") is None
    assert services.api_key_for("ywod_" + record.prefix + "_guess") is None
    assert services.api_key_for("") is None
    with pytest.raises(InvalidInput):
        services.api_key_create(actor=agent, name="")
