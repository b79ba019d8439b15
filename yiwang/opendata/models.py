"""Open data portal (公共数据开放).

A ``Dataset`` is a published, open exchange ``DataResource`` (only one that is published, not on the
negative list, open unconditionally or on conditions, and without personal fields: the one rule is
``services.reasons_not_openable``); its organization is the provider department; ``Theme`` are
the portal's groups (CKAN groups, DCAT themes); ``Distribution`` are its downloads (CKAN resources,
DCAT distributions). A dataset open on conditions (有条件开放) is read through the API only with an
``ApiKey`` of an applicant whose ``Application`` the provider's data steward approved.

Written only through ``yiwang.opendata.services``; read through ``yiwang.opendata.selectors``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.TextChoices):
    """How a dataset is open (the exchange's open classes that may be published)."""

    OPEN = "unconditional", _("Open to everyone (无条件开放)")
    CONDITIONAL = "conditional", _("Open on conditions (有条件开放)")


class DistributionFormat(models.TextChoices):
    CSV = "CSV", "CSV"
    JSON = "JSON", "JSON"
    XLSX = "XLSX", "XLSX"


# The licence every dataset of the portal is published under (one definition, also in DCAT).
LICENCES = {
    "cc-by-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
}
DEFAULT_LICENCE = "cc-by-4.0"


class Theme(models.Model):
    """A theme of the portal (数据主题): a CKAN group, a DCAT theme."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=100)
    title_en = models.CharField(_("title (English)"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    name = models.CharField(_("tag"), max_length=64, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """An open dataset (开放数据集), published from one exchange resource."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(_("name"), max_length=100, unique=True)
    resource = models.OneToOneField(
        "exchange.DataResource",
        on_delete=models.PROTECT,
        related_name="open_dataset",
        verbose_name=_("data resource"),
    )
    organization = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="open_datasets",
        verbose_name=_("organization"),
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("description"), blank=True)
    access = models.CharField(_("access"), max_length=16, choices=Access.choices)
    conditions = models.TextField(_("conditions of use"), blank=True)
    license_id = models.CharField(_("licence"), max_length=32, default=DEFAULT_LICENCE)
    frequency = models.CharField(_("update frequency"), max_length=16, blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="datasets", verbose_name=_("themes"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets", verbose_name=_("tags"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ACTIVE)
    metadata_created = models.DateTimeField(_("published"), auto_now_add=True)
    metadata_modified = models.DateTimeField(_("updated"), auto_now=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("open dataset")
        verbose_name_plural = _("open datasets")
        indexes = [
            models.Index(fields=["state", "organization"], name="dataset_state_org"),
            models.Index(fields=["state", "metadata_modified"], name="dataset_state_modified"),
        ]

    def __str__(self) -> str:
        return self.title


class Distribution(models.Model):
    """One download of a dataset (a CKAN resource, a DCAT distribution): its rows in a format."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="distributions", verbose_name=_("dataset")
    )
    format = models.CharField(_("format"), max_length=8, choices=DistributionFormat.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["dataset", "position"]
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "format"], name="distribution_dataset_format")
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name}.{self.format.lower()}"


class Application(models.Model):
    """A request to use a dataset open on conditions (有条件开放申请), decided by a data steward of
    the dataset's organization."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting the data steward")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="applications", verbose_name=_("dataset")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("applicant")
    )
    organization = models.CharField(_("applying organization"), max_length=200)
    purpose = models.TextField(_("purpose of use"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("application for open data")
        verbose_name_plural = _("applications for open data")
        indexes = [models.Index(fields=["applicant", "dataset", "state"], name="odapp_applicant")]

    def __str__(self) -> str:
        return f"{self.dataset.name} · {self.state}"


class ApiKey(models.Model):
    """A key an applicant calls the portal's API with (shown once, stored as a SHA-256 digest).
    It reads the datasets open on conditions the holder's approved applications cover."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("holder")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("open data API key")
        verbose_name_plural = _("open data API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
