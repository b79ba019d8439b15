"""Writes of the open data portal: publishing datasets, applications for datasets open on
conditions, the applicants' API keys, and the portal's view and download counts.

Every accountable write appends to the audit log in the same transaction. Refusals raise
``OpenDataError`` subclasses (from the exchange's family of refusals) with a message naming what
to fix.
"""

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.exchange.errors import ExchangeError, InvalidInput, NotAllowed, NotFound, WrongState
from yiwang.exchange.models import DataResource, OpenClass, ResourceState, SourceKind
from yiwang.identity.models import Role, User
from yiwang.identity.permissions import has_role
from yiwang.opendata.models import (
    Access,
    ApiKey,
    Application,
    Dataset,
    Distribution,
    DistributionFormat,
    Tag,
    Theme,
)

OpenDataError = ExchangeError
KEY_PREFIX = "ywod_"
APPLICATION_DAYS = 365
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")

__all__ = [
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "OpenDataError",
    "WrongState",
    "api_key_create",
    "api_key_for",
    "api_key_revoke",
    "application_decide",
    "application_submit",
    "count_download",
    "count_view",
    "dataset_publish",
    "dataset_withdraw",
    "reasons_not_openable",
]


# --- which resources may be opened: the one rule -----------------------------------------------


def reasons_not_openable(resource: DataResource, fields: Sequence | None = None) -> list[str]:
    """Why ``resource`` may not be published as open data (empty: it may). A dataset is only ever
    a published resource, not on the negative list (负面清单), of open class 无条件开放 or
    有条件开放, stored in the platform, without any personal field."""
    fields = list(resource.fields.all()) if fields is None else list(fields)
    reasons = []
    if resource.state != ResourceState.PUBLISHED:
        reasons.append(_("The resource is not published in the catalog."))
    if resource.on_negative_list:
        reasons.append(_("The resource is on the negative list (负面清单) and is never opened."))
    if resource.open_class not in (OpenClass.UNCONDITIONAL, OpenClass.CONDITIONAL):
        reasons.append(_("The resource's open class is 不予开放 (not open)."))
    if resource.source_kind != SourceKind.TABLE:
        reasons.append(_("Only resources whose rows are stored in the platform can be opened."))
    personal = [f.name for f in fields if f.is_personal]
    if personal:
        reasons.append(
            _("Fields with personal information cannot be opened: %(fields)s.")
            % {"fields": ", ".join(personal)}
        )
    if not fields:
        reasons.append(_("The resource has no fields."))
    return reasons


def can_manage(user, department) -> bool:
    """Whether ``user`` is a data steward of ``department`` (or of a department above it)."""
    return isinstance(user, User) and has_role(user, Role.DATA_STEWARD, department)


def _dataset_name(resource: DataResource) -> str:
    return resource.code.lower()


@transaction.atomic
def dataset_publish(
    *,
    resource: DataResource,
    actor,
    themes: Sequence[str] = (),
    name: str = "",
    title: str = "",
    notes: str = "",
    tags: Sequence[str] | None = None,
) -> Dataset:
    """Publish ``resource`` as an open dataset (or republish a withdrawn one) with CSV, JSON and
    XLSX downloads. ``actor``: a data steward of the provider, or a ``"system:..."`` label (the
    demo). Raises NotAllowed, InvalidInput (naming what makes the resource unfit)."""
    if isinstance(actor, User) and not can_manage(actor, resource.provider_id):
        raise NotAllowed(_("Only a data steward of the provider may publish its data."))
    resource = DataResource.objects.select_for_update().get(pk=resource.pk)
    reasons = reasons_not_openable(resource)
    if reasons:
        raise InvalidInput(" ".join(reasons), {"resource": " ".join(reasons)})
    name = (name or _dataset_name(resource)).strip().lower()
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            _("The name must be 2 to 100 lowercase letters, digits, - or _."),
            {"name": _("Use lowercase letters, digits, - or _.")},
        )
    theme_objs = list(Theme.objects.filter(name__in=list(themes)))
    unknown = sorted(set(themes) - {t.name for t in theme_objs})
    if unknown:
        raise InvalidInput(
            _("Unknown themes: %(names)s.") % {"names": ", ".join(unknown)}, {"themes": ", ".join(unknown)}
        )
    tag_names = [str(t).strip()[:64] for t in (resource.tags if tags is None else tags) if str(t).strip()]
    access = Access.OPEN if resource.open_class == OpenClass.UNCONDITIONAL else Access.CONDITIONAL
    defaults = {
        "name": name,
        "organization_id": resource.provider_id,
        "title": (title or resource.name)[:200],
        "notes": notes or resource.description,
        "access": access,
        "conditions": resource.open_conditions,
        "frequency": resource.update_frequency,
        "state": Dataset.State.ACTIVE,
    }
    try:
        with transaction.atomic():
            dataset, created = Dataset.objects.update_or_create(resource=resource, defaults=defaults)
    except IntegrityError:
        raise InvalidInput(
            _("Another dataset is already named “%(name)s”.") % {"name": name},
            {"name": _("Choose another name.")},
        ) from None
    dataset.themes.set(theme_objs)
    existing = {t.name: t for t in Tag.objects.filter(name__in=tag_names)}
    missing = [Tag(name=n) for n in dict.fromkeys(tag_names) if n not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    dataset.tags.set(Tag.objects.filter(name__in=tag_names))
    have = set(dataset.distributions.values_list("format", flat=True))
    Distribution.objects.bulk_create(
        [
            Distribution(dataset=dataset, format=fmt, position=i)
            for i, fmt in enumerate(DistributionFormat.values)
            if fmt not in have
        ]
    )
    audit.record(
        actor=actor,
        event="opendata:dataset:publish",
        target=dataset,
        data={"resource": resource.code, "name": name, "access": access, "new": created},
    )
    return dataset


@transaction.atomic
def dataset_withdraw(*, dataset: Dataset, actor, reason: str) -> Dataset:
    """Take a dataset off the portal (its downloads and API answers stop at once)."""
    if isinstance(actor, User) and not can_manage(actor, dataset.organization_id):
        raise NotAllowed(_("Only a data steward of the provider may withdraw its data."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for withdrawing."), {"reason": _("This field is required.")})
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.state == Dataset.State.WITHDRAWN:
        raise WrongState(_("The dataset is already withdrawn."))
    dataset.state = Dataset.State.WITHDRAWN
    dataset.save(update_fields=["state", "metadata_modified"])
    audit.record(
        actor=actor, event="opendata:dataset:withdraw", target=dataset, data={"reason": reason[:500]}
    )
    return dataset


# --- counts (not audited: anonymous reads of public data) ----------------------------------------


def count_view(dataset: Dataset) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(view_count=F("view_count") + 1)


def count_download(distribution: Distribution) -> None:
    with transaction.atomic():
        Distribution.objects.filter(pk=distribution.pk).update(download_count=F("download_count") + 1)
        Dataset.objects.filter(pk=distribution.dataset_id).update(download_count=F("download_count") + 1)


# --- applications for datasets open on conditions ------------------------------------------------


@transaction.atomic
def application_submit(*, dataset: Dataset, actor: User, organization: str, purpose: str) -> Application:
    """Apply to use a dataset open on conditions. One pending or approved application per
    applicant and dataset (a second submit returns WrongState)."""
    errors = {}
    organization, purpose = (organization or "").strip(), (purpose or "").strip()
    if not organization:
        errors["organization"] = _("Name the organization that will use the data.")
    elif len(organization) > 200:
        errors["organization"] = _("Use at most 200 characters.")
    if len(purpose) < 10:
        errors["purpose"] = _("Describe the purpose of use in at least 10 characters.")
    elif len(purpose) > 2000:
        errors["purpose"] = _("Use at most 2000 characters.")
    if errors:
        raise InvalidInput(_("Some values are not valid."), errors)
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.state != Dataset.State.ACTIVE:
        raise WrongState(_("The dataset is no longer published."))
    if dataset.access != Access.CONDITIONAL:
        raise WrongState(_("This dataset is open to everyone: no application is needed."))
    if Application.objects.filter(
        dataset=dataset, applicant=actor, state__in=[Application.State.PENDING, Application.State.APPROVED]
    ).exists():
        raise WrongState(_("You have already applied for this dataset."))
    application = Application.objects.create(
        dataset=dataset, applicant=actor, organization=organization, purpose=purpose
    )
    audit.record(
        actor=actor,
        event="opendata:application:submit",
        target=application,
        data={"dataset": dataset.name, "organization": organization},
    )
    return application


@transaction.atomic
def application_decide(*, application: Application, actor, approve: bool, reason: str = "") -> Application:
    """A data steward of the dataset's organization approves (for APPLICATION_DAYS) or refuses
    (with a reason) a pending application."""
    application = Application.objects.select_for_update().select_related("dataset").get(pk=application.pk)
    if isinstance(actor, User) and not can_manage(actor, application.dataset.organization_id):
        raise NotAllowed(_("Only a data steward of the dataset's organization may decide."))
    if application.state != Application.State.PENDING:
        raise WrongState(_("This application has already been decided."))
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput(_("Give the reason for refusing."), {"reason": _("This field is required.")})
    application.state = Application.State.APPROVED if approve else Application.State.REFUSED
    application.decided_by = actor if isinstance(actor, User) else None
    application.decided_at = timezone.now()
    application.reason = reason[:2000]
    if approve:
        application.valid_until = timezone.localdate() + dt.timedelta(days=APPLICATION_DAYS)
    application.save(update_fields=["state", "decided_by", "decided_at", "reason", "valid_until"])
    audit.record(
        actor=actor,
        event="opendata:application:decide",
        target=application,
        data={"dataset": application.dataset.name, "state": application.state},
        subject=application.applicant,
    )
    return application


# --- API keys ------------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, actor: User, name: str) -> tuple[ApiKey, str]:
    """A new API key for ``actor`` (who must hold an approved application); returns the record
    and the key, which is shown this once and stored only as its digest."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            _("Name the key (1 to 100 characters)."), {"name": _("Name the key (1 to 100 characters).")}
        )
    if not Application.objects.filter(applicant=actor, state=Application.State.APPROVED).exists():
        raise NotAllowed(_("An API key needs an approved application for a dataset open on conditions."))
    if ApiKey.objects.filter(user=actor, revoked_at=None).count() >= 5:
        raise WrongState(_("You hold 5 keys in force: revoke one first."))
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    record = ApiKey.objects.create(user=actor, name=name, prefix=prefix, key_hash=_digest(key))
    audit.record(actor=actor, event="opendata:apikey:create", target=record, data={"prefix": prefix})
    return record, key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.user_id != actor.pk:
        raise NotFound(_("No such key."))
    if key.revoked_at is not None:
        raise WrongState(_("The key is already revoked."))
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit.record(actor=actor, event="opendata:apikey:revoke", target=key, data={"prefix": key.prefix})
    return key


def api_key_for(presented: str) -> ApiKey | None:
    """The key in force that ``presented`` is (compared by digest in constant time), else None."""
    presented = (presented or "").strip()
    if presented.lower().startswith("bearer "):
        presented = presented[7:].strip()
    parts = presented.split("_")
    if len(parts) < 3 or not presented.startswith(KEY_PREFIX):
        return None
    record = ApiKey.objects.select_related("user").filter(prefix=parts[1], revoked_at=None).first()
    if record is None or not secrets.compare_digest(record.key_hash, _digest(presented)):
        return None
    if not record.user.is_active:
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > dt.timedelta(minutes=1):
        ApiKey.objects.filter(pk=record.pk).update(last_used_at=now)
    return record


def key_may_read(key: ApiKey | None, dataset: Dataset) -> bool:
    """Whether the holder of ``key`` may read the rows of ``dataset`` through the API."""
    if dataset.access == Access.OPEN:
        return True
    if key is None:
        return False
    return Application.objects.filter(
        applicant_id=key.user_id,
        dataset=dataset,
        state=Application.State.APPROVED,
        valid_until__gte=timezone.localdate(),
    ).exists()
