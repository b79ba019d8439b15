"""12345 feedback: complaints, suggestions and consultations (投诉、建议、咨询), their routing to
departments, replies and the filer's rating of the reply.

What is personal stays here and is never published: the filer (an account, or the contact an
Open311 client sent), the precise location (point and address) and the photos. What is public
of an item is its number, kind, category, coarse area (the region, and the point rounded to
about a kilometre), the department, the dates and the public reply.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """What an item is about; with the region it decides the department (``RoutingRule``)."""

    MARKET = "market", _("Markets, food safety and consumer rights")  # 市场监管
    SECURITY = "security", _("Public order and household registration")  # 公安
    HOUSING = "housing", _("Housing, building and property management")  # 住建
    TRANSPORT = "transport", _("Public transport and roads")  # 交通
    ENVIRONMENT = "environment", _("Pollution and the environment")  # 生态环境
    LABOUR = "labour", _("Wages, employment and social insurance")  # 人社
    HEALTH = "health", _("Hospitals and public health")  # 卫健
    EDUCATION = "education", _("Schools and education")  # 教育
    MEDICAL_INSURANCE = "medical_insurance", _("Medical insurance")  # 医保
    CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs: elderly care, assistance, marriage")  # 民政


# The department kind (the suffix of a demo department's code) each category usually goes to; the
# routing table says which department exactly, region by region.
CATEGORY_KINDS = {
    Category.MARKET: "SCJG",
    Category.SECURITY: "GAT",
    Category.HOUSING: "ZJT",
    Category.TRANSPORT: "JTT",
    Category.ENVIRONMENT: "STHJ",
    Category.LABOUR: "RST",
    Category.HEALTH: "WJW",
    Category.EDUCATION: "JYT",
    Category.MEDICAL_INSURANCE: "YBJ",
    Category.CIVIL_AFFAIRS: "MZT",
}


class RoutingRule(models.Model):
    """Items of ``category`` filed in ``region`` (or a region under it without a rule of its own)
    go to ``department``. Kept by the administrators of the department a rule names."""

    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    region = models.ForeignKey(
        "identity.Region", on_delete=models.PROTECT, related_name="feedback_rules", verbose_name=_("region")
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="feedback_rules",
        verbose_name=_("department"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["region__code", "category"]
        constraints = [
            models.UniqueConstraint(fields=["category", "region"], name="feedback_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.region_id} → {self.department_id}"


class Item(models.Model):
    """One complaint, suggestion or consultation (a 12345 工单)."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")  # 投诉
        SUGGESTION = "suggestion", _("Suggestion")  # 建议
        CONSULTATION = "consultation", _("Consultation")  # 咨询

    class Status(models.TextChoices):
        FILED = "filed", _("Filed, waiting to be routed")
        ROUTED = "routed", _("Routed to a department")
        ACCEPTED = "accepted", _("Accepted by the department")
        TRANSFERRED = "transferred", _("Transferred to another department")
        REPLIED = "replied", _("Replied")
        RATED = "rated", _("Rated")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        WEB = "web", _("Web site")
        OPEN311 = "open311", _("Open311 client")
        HOTLINE = "hotline", _("12345 hotline")

    class Rating(models.IntegerChoices):
        VERY_SATISFIED = 5, _("Very satisfied")  # 非常满意
        SATISFIED = 4, _("Satisfied")  # 满意
        FAIR = 3, _("Fairly satisfied")  # 基本满意
        DISSATISFIED = 2, _("Dissatisfied")  # 不满意
        VERY_DISSATISFIED = 1, _("Very dissatisfied")  # 非常不满意

    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.FILED)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.WEB)
    text = models.TextField(_("text"))
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    region = models.ForeignKey(
        "identity.Region", on_delete=models.PROTECT, related_name="feedback_items", verbose_name=_("region")
    )
    # Personal: never published (the public sees the region and a rounded point).
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    filer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
        verbose_name=_("filed by"),
    )
    # What an Open311 client sent about the person (personal, never published).
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.CharField(_("contact e-mail"), max_length=254, blank=True)
    client = models.ForeignKey(
        "exchange.ApiCredential",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed through"),
    )
    case = models.ForeignKey(
        "applications.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_items",
        verbose_name=_("case"),
    )
    # The market entity the item is about, by its unified social credit code (read by supervision).
    entity_credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("repeat of"),
    )
    # Routing: what the classifier suggested, then what the routing officer decided.
    suggested_category = models.CharField(_("suggested category"), max_length=32, blank=True)
    suggested_department = models.ForeignKey(
        "identity.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suggestion_words = models.JSONField(_("words that weighed most"), default=list, blank=True)
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
        verbose_name=_("department"),
    )
    filed_at = models.DateTimeField(_("filed"))
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    due_date = models.DateField(_("reply due"), null=True, blank=True)
    reply = models.TextField(_("public reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_late = models.BooleanField(_("replied after the deadline"), default=False)
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices, null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("feedback item")
        verbose_name_plural = _("feedback items")
        ordering = ["-filed_at", "-pk"]
        indexes = [
            models.Index(fields=["department", "status"], name="feedback_queue_idx"),
            models.Index(fields=["status", "region"], name="feedback_routing_idx"),
            models.Index(fields=["filer", "filed_at"], name="feedback_filer_idx"),
            models.Index(fields=["entity_credit_code"], name="feedback_entity_idx"),
            models.Index(fields=["region", "category", "filed_at"], name="feedback_count_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_5"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="feedback_point_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class Photo(models.Model):
    """A photo of an item, re-encoded on upload (no EXIF, no GPS). Seen by the filer and the
    department, never published."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="photos", verbose_name=_("item"))
    content = models.BinaryField(_("image"))
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.item} photo {self.pk}"


class Transfer(models.Model):
    """A department sends a misrouted item on, with the reason (转办)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("item"))
    from_department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("transferred"))

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.item}: {self.from_department_id} → {self.to_department_id}"
