"""The service catalog: items with their national standard elements, life-event bundles, themes.

A *basic* item (``basic_item`` is null) is an entry of the basic catalog (基本目录); an
*implementation* item (实施清单) is derived from one for a concrete region and department and
carries a code derived from the basic code. ``search_title`` and ``search_body`` hold the
jieba-segmented text that the database full-text index covers (see yiwang/catalog/search.py).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yiwang.core.validation import PortableModel
from yiwang.identity.models import RealNameLevel


class Audience(models.TextChoices):
    PERSONAL = "personal", _("Individuals")
    ENTERPRISE = "enterprise", _("Enterprises")


class Theme(models.Model):
    """A browsing theme (主题), e.g. 生育收养, 开办企业."""

    Audience = Audience

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=64)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return self.name


class ServiceItem(PortableModel):
    """A government service item (政务服务事项) with every standard element."""

    class ItemType(models.TextChoices):
        LICENSING = "licensing", _("Administrative licensing")  # 行政许可
        PAYMENT = "payment", _("Administrative payment")  # 行政给付
        CONFIRMATION = "confirmation", _("Administrative confirmation")  # 行政确认
        LEVY = "levy", _("Administrative levy")  # 行政征收
        ADJUDICATION = "adjudication", _("Administrative adjudication")  # 行政裁决
        REWARD = "reward", _("Administrative reward")  # 行政奖励
        OTHER_POWER = "other_power", _("Other administrative power")  # 其他行政权力
        PUBLIC_SERVICE = "public_service", _("Public service")  # 公共服务

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    class OnlineDepth(models.IntegerChoices):
        INFORMATION = 1, _("Information published")  # 信息公开
        PRE_REVIEW = 2, _("Online pre-review")  # 在线预审
        ONLINE_ACCEPTANCE = 3, _("Online acceptance")  # 在线受理
        FULLY_ONLINE = 4, _("Fully online")  # 全程网办

    class ServiceObject(models.TextChoices):
        PERSONAL = "personal", _("Individuals")
        ENTERPRISE = "enterprise", _("Enterprises")
        BOTH = "both", _("Individuals and enterprises")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("item code"), max_length=64, unique=True)
    item_type = models.CharField(_("item type"), max_length=20, choices=ItemType.choices)
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="service_items",
        verbose_name=_("department"),
    )
    region = models.ForeignKey(
        "identity.Region", on_delete=models.PROTECT, related_name="service_items", verbose_name=_("region")
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    basic_item = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="implementations",
        verbose_name=_("basic catalog item"),
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    process_steps = models.JSONField(_("process steps"), default=list, blank=True)
    statutory_limit_days = models.PositiveIntegerField(_("statutory time limit (working days)"), default=0)
    promised_limit_days = models.PositiveIntegerField(_("promised time limit (working days)"), default=0)
    fee_description = models.TextField(_("fees"), blank=True)
    is_free = models.BooleanField(_("free of charge"), default=True)
    visits_needed = models.PositiveIntegerField(_("visits needed"), default=0)
    online_depth = models.PositiveSmallIntegerField(
        _("online depth"), choices=OnlineDepth.choices, default=OnlineDepth.INFORMATION
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    consult_phone = models.CharField(_("consulting phone"), max_length=64, blank=True)
    complaint_phone = models.CharField(_("complaint phone"), max_length=64, blank=True)
    service_object = models.CharField(
        _("service object"), max_length=16, choices=ServiceObject.choices, default=ServiceObject.PERSONAL
    )
    # Applying needs an identity checked against the population register unless the department
    # decides otherwise; browsing and following a case need no level.
    realname_level = models.PositiveSmallIntegerField(
        _("real-name level needed to apply"), choices=RealNameLevel.choices, default=RealNameLevel.REGISTER
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    hours = models.CharField(_("office hours"), max_length=255, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    aliases = models.TextField(
        _("aliases"), blank=True, help_text=_("Other names people use, comma separated.")
    )
    description = models.TextField(_("description"), blank=True)
    popularity = models.PositiveIntegerField(_("popularity"), default=0)
    themes = models.ManyToManyField(Theme, blank=True, related_name="items", verbose_name=_("themes"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # jieba-segmented text the full-text index covers; written by yiwang.catalog.search only.
    search_title = models.TextField(_("segmented title"), blank=True, editable=False)
    search_body = models.TextField(_("segmented body"), blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        indexes = [
            models.Index(fields=["status", "department"], name="catalog_item_status_dept"),
            models.Index(fields=["status", "-popularity"], name="catalog_item_status_pop"),
            # Search counts each shown service's implementations from the index alone.
            models.Index(fields=["basic_item", "status"], name="catalog_item_basic_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(online_depth__gte=1, online_depth__lte=4),
                name="catalog_item_online_depth_1_4",
            ),
            models.CheckConstraint(
                condition=models.Q(realname_level__gte=1, realname_level__lte=3),
                name="catalog_item_realname_level_1_3",
            ),
        ]

    # What an item must state before citizens see it (item_publish, the admin, the import).
    PUBLISH_REQUIRED = ("legal_basis", "conditions", "consult_phone", "process_steps")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        """The item's own rules, wherever it is written (services, admin, import): the promise
        is never longer than the law allows, and a published item states its core elements."""
        if (
            self.promised_limit_days
            and self.statutory_limit_days
            and self.promised_limit_days > self.statutory_limit_days
        ):
            raise ValidationError(
                {"promised_limit_days": _("The promised time limit cannot be longer than the statutory one.")}
            )
        if self.status == self.Status.PUBLISHED:
            missing = self.missing_for_publishing()
            if missing:
                raise ValidationError(
                    _("Fill in these elements before publishing: %(fields)s")
                    % {"fields": ", ".join(str(self._meta.get_field(f).verbose_name) for f in missing)},
                    code="unpublishable",
                )

    def missing_for_publishing(self) -> list[str]:
        return [f for f in self.PUBLISH_REQUIRED if not getattr(self, f)]

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", kwargs={"code": self.code})

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.replace("，", ",").split(",") if a.strip()]


class Material(PortableModel):
    """A document the applicant provides (申请材料)."""

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("Prepared by the applicant")  # 申请人自备
        GOVERNMENT = "government", _("Issued by a government department")  # 政府部门核发
        INTERMEDIARY = "intermediary", _("Issued by an intermediary")  # 中介机构出具
        OTHER = "other", _("Other")

    class Form(models.TextChoices):
        ORIGINAL = "original", _("Original")  # 原件
        COPY = "copy", _("Copy")  # 复印件
        ELECTRONIC = "electronic", _("Electronic")  # 电子

    item = models.ForeignKey(
        ServiceItem, on_delete=models.CASCADE, related_name="materials", verbose_name=_("item")
    )
    name = models.CharField(_("name"), max_length=200)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.APPLICANT)
    form = models.CharField(_("form"), max_length=16, choices=Form.choices, default=Form.ORIGINAL)
    copies = models.PositiveIntegerField(_("copies"), default=1)
    required = models.BooleanField(_("required"), default=True)
    licence_replaceable = models.BooleanField(
        _("replaceable by an electronic licence"),
        default=False,
        help_text=_("The applicant need not submit it: the electronic licence is used instead (免提交)."),
    )
    licence_type = models.CharField(_("electronic licence type"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.name

    @property
    def applicant_submits(self) -> bool:
        """The one rule of what an applicant uploads, for the guide and the application alike: all
        but what a government department issued (the platform already holds it). A material an
        electronic licence may replace (``licence_replaceable``) is promised as 免提交 only when the
        platform issues licences of its ``licence_type`` (``selectors.replaced_by_licence``), and
        replaced on a case only with the holder's consent (applications.licence_materials)."""
        return self.source != self.Source.GOVERNMENT


class LifeEvent(models.Model):
    """A life-event bundle (一件事一次办): several items done together."""

    Audience = Audience

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("Comma separated."))
    items = models.ManyToManyField(
        ServiceItem, through="BundleItem", related_name="bundles", verbose_name=_("items")
    )
    themes = models.ManyToManyField(Theme, blank=True, related_name="bundles", verbose_name=_("themes"))
    popularity = models.PositiveIntegerField(_("popularity"), default=0)
    search_text = models.TextField(_("segmented text"), blank=True, editable=False)

    class Meta:
        ordering = ["-popularity", "code"]
        verbose_name = _("life-event bundle")
        verbose_name_plural = _("life-event bundles")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:bundle", kwargs={"code": self.code})


class BundleItem(models.Model):
    """One item of a bundle, in the order the citizen does them."""

    bundle = models.ForeignKey(
        LifeEvent, on_delete=models.CASCADE, related_name="entries", verbose_name=_("bundle")
    )
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("item"))
    order = models.PositiveIntegerField(_("order"), default=0)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["bundle", "order", "id"]
        verbose_name = _("bundle item")
        verbose_name_plural = _("bundle items")
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="catalog_bundle_item_unique")]

    def __str__(self) -> str:
        return f"{self.bundle_id}:{self.order}"


class Synonym(models.Model):
    """A search synonym: a term people type and what it should also find."""

    term = models.CharField(_("term"), max_length=50, unique=True)
    expansions = models.TextField(_("expansions"), help_text=_("Comma separated words or phrases."))

    class Meta:
        ordering = ["term"]
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")

    def __str__(self) -> str:
        return self.term

    @property
    def expansion_list(self) -> list[str]:
        return [e.strip() for e in self.expansions.replace("，", ",").split(",") if e.strip()]
