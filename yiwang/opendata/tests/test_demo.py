import pytest

from yiwang.exchange.models import ResourceField
from yiwang.opendata.models import Access, Application, Dataset

pytestmark = pytest.mark.django_db


def test_the_demo_publishes_at_least_105_datasets_of_many_organizations(portal):
    datasets = Dataset.objects.filter(state=Dataset.State.ACTIVE)
    assert datasets.count() >= 105
    assert datasets.values("organization").distinct().count() >= 40
    assert datasets.filter(access=Access.CONDITIONAL).count() >= 9
    assert (
        not ResourceField.objects.filter(resource__open_dataset__isnull=False).exclude(personal="").exists()
    )
    assert all(d.distributions.count() == 3 for d in datasets[:10])


def test_the_demo_is_idempotent_and_leaves_one_pending_application(portal):
    assert portal.build() == 0
    assert (
        Application.objects.filter(state=Application.State.PENDING, applicant__username="citizen").count()
        == 1
    )
    assert (
        Application.objects.filter(state=Application.State.APPROVED, applicant__username="agent").count() == 1
    )
