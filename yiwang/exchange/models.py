"""Government data sharing exchange (政务数据共享交换).

The resource catalog (政务信息资源目录) with the three inventories (三张清单: information systems,
data resources, data demands); the rows of resources loaded into the platform; access requests,
grants and the API credentials consumers call the gateway with; the call log, the data subjects
each call touched (for the citizen's own data-use record) and citizens' questions about a use.

Written only through ``yiwang.exchange.services`` (catalog, requests, grants) and
``yiwang.exchange.gateway`` (calls); other apps read through ``yiwang.exchange.selectors``.
The vocabularies (kinds, classes, grades, states) are defined here once and used by the admin,
the import, the pages and the API alike.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# =============================================================================================
# Vocabularies
# =============================================================================================


class ResourceKind(models.TextChoices):
    """The three kinds of the national resource catalog (基础 / 主题 / 部门信息资源)."""

    BASIC = "basic", _("Basic resource (基础信息资源)")
    THEME = "theme", _("Thematic resource (主题信息资源)")
    DEPARTMENT = "department", _("Departmental resource (部门信息资源)")


class ShareClass(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Shared unconditionally (无条件共享)")
    CONDITIONAL = "conditional", _("Shared on conditions (有条件共享)")
    NONE = "none", _("Not shared (不予共享)")


class OpenClass(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Open unconditionally (无条件开放)")
    CONDITIONAL = "conditional", _("Open on conditions (有条件开放)")
    NONE = "none", _("Not open (不予开放)")


class Grade(models.IntegerChoices):
    """Sensitivity grade of a field (数据分级), lowest first."""

    PUBLIC = 1, _("Grade 1 · public (公开)")
    INTERNAL = 2, _("Grade 2 · internal (内部)")
    SENSITIVE = 3, _("Grade 3 · sensitive (敏感)")
    CORE = 4, _("Grade 4 · important (重要)")


class FieldType(models.TextChoices):
    STRING = "string", _("Text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")


class PersonalKind(models.TextChoices):
    """What kind of personal information a field holds; the masking rule follows from it
    (``yiwang.exchange.masking``). ``none``: not personal information."""

    NONE = "", _("Not personal information")
    ID_NUMBER = "id_number", pgettext_lazy("exchange", "Identity number")
    PHONE = "phone", _("Phone number")
    NAME = "name", _("Person's name")
    ADDRESS = "address", pgettext_lazy("exchange", "Address")
    OTHER = "other", _("Other personal information")


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", _("Real time")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")
    IRREGULAR = "irregular", _("Irregular")


class SourceKind(models.TextChoices):
    TABLE = "table", _("Table loaded into the platform (CSV/XLSX)")
    HTTP = "http", _("Upstream HTTP endpoint of the department's system")


class ResourceState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", pgettext_lazy("exchange", "Retired")


class RequestState(models.TextChoices):
    PENDING = "pending", _("Awaiting the provider")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DemandState(models.TextChoices):
    OPEN = "open", pgettext_lazy("exchange", "Open")
    MATCHED = "matched", _("Matched by a resource")
    CLOSED = "closed", pgettext_lazy("exchange", "Closed")


class CallOutcome(models.TextChoices):
    OK = "ok", _("Answered")
    DENIED = "denied", _("Refused: no grant in force")
    INVALID = "invalid", _("Refused: bad request")
    NOT_FOUND = "not_found", _("Refused: unknown resource")
    RATE_LIMITED = "rate_limited", _("Refused: over the grant's rate limit")
    UPSTREAM_ERROR = "upstream_error", _("Upstream system failed")
    UPSTREAM_TIMEOUT = "upstream_timeout", _("Upstream system timed out")


class Channel(models.TextChoices):
    API = "api", _("Gateway API (a department's system)")
    PLATFORM = "platform", _("Within the platform (forms and rules)")


class QuestionState(models.TextChoices):
    OPEN = "open", _("Awaiting the data steward")
    ANSWERED = "answered", _("Answered")


# =============================================================================================
# The three inventories (三张清单) and the resource catalog
# =============================================================================================


class InformationSystem(models.Model):
    """One entry of the information systems inventory (信息系统清单)."""

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="information_systems",
        verbose_name=_("department"),
    )
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    network = models.CharField(_("network"), max_length=64, blank=True)  # 政务外网 / 互联网 / 专网
    contact = models.CharField(_("contact"), max_length=128, blank=True)
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["department__code", "code"]
        verbose_name = _("information system")
        verbose_name_plural = _("information systems inventory")

    def __str__(self) -> str:
        return self.name


class DataResource(models.Model):
    """A data resource of the catalog (政务信息资源目录 / 数据资源清单).

    Rows of a ``table`` resource are stored as ``ResourceRow``; an ``http`` resource is answered by
    the department's own system at ``upstream_url``. ``key_field`` names the field consumers look
    a row up by (an identity number, a credit code); when that field is personal the row's key is
    stored as a blind index, never in clear.
    """

    code = models.CharField(_("resource code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    provider = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="data_resources",
        verbose_name=_("provider"),
    )
    system = models.ForeignKey(
        InformationSystem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resources",
        verbose_name=_("information system"),
    )
    kind = models.CharField(_("resource kind"), max_length=16, choices=ResourceKind.choices)
    share_class = models.CharField(_("share class"), max_length=16, choices=ShareClass.choices)
    share_conditions = models.TextField(_("conditions of sharing"), blank=True)
    no_share_basis = models.TextField(_("basis for not sharing"), blank=True)
    open_class = models.CharField(
        _("open class"), max_length=16, choices=OpenClass.choices, default=OpenClass.NONE
    )
    open_conditions = models.TextField(_("conditions of opening"), blank=True)
    # 负面清单: never opened, whatever the open class says (the catalog rules refuse it).
    on_negative_list = models.BooleanField(_("on the negative list"), default=False)
    negative_list_basis = models.TextField(_("basis of the negative listing"), blank=True)
    update_frequency = models.CharField(_("update frequency"), max_length=16, choices=UpdateFrequency.choices)
    source_kind = models.CharField(
        _("where the data comes from"), max_length=8, choices=SourceKind.choices, default=SourceKind.TABLE
    )
    upstream_url = models.URLField(_("upstream endpoint"), max_length=500, blank=True)
    upstream_timeout_ms = models.PositiveIntegerField(_("upstream timeout (ms)"), default=3000)
    key_field = models.CharField(_("key field"), max_length=64, blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ResourceState.choices, default=ResourceState.DRAFT
    )
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    loaded_at = models.DateTimeField(_("last loaded"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("data resource")
        verbose_name_plural = _("data resources")
        indexes = [models.Index(fields=["provider", "state"], name="resource_provider_state")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ResourceField(models.Model):
    """One field (信息项) of a resource: its type, sensitivity grade and personal-information kind."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="fields", verbose_name=_("resource")
    )
    name = models.CharField(_("field name"), max_length=64)  # identifier: [a-z][a-z0-9_]*
    label_zh = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices, default=FieldType.STRING)
    grade = models.PositiveSmallIntegerField(
        _("sensitivity grade"), choices=Grade.choices, default=Grade.INTERNAL
    )
    personal = models.CharField(
        _("personal information"), max_length=16, choices=PersonalKind.choices, blank=True, default=""
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["resource", "position", "pk"]
        verbose_name = _("resource field")
        verbose_name_plural = _("resource fields")
        constraints = [models.UniqueConstraint(fields=["resource", "name"], name="resource_field_unique")]

    def __str__(self) -> str:
        return f"{self.resource.code}.{self.name}"

    @property
    def is_personal(self) -> bool:
        return bool(self.personal)


class ResourceRow(models.Model):
    """One row of a resource loaded into the platform.

    ``data`` holds the fields that are not personal information; ``sealed`` the personal ones,
    encrypted (``vault``). ``key`` is the key field's value, or its blind index when the key field
    is personal.
    """

    resource = models.ForeignKey(DataResource, on_delete=models.CASCADE, related_name="rows")
    row_no = models.PositiveIntegerField()
    key = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    sealed = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["resource", "row_no"]
        constraints = [models.UniqueConstraint(fields=["resource", "row_no"], name="resource_row_unique")]
        # A lookup by key is answered in row order (rowquery sorts by row_no): with row_no in the
        # index neither SQLite nor PostgreSQL scans the resource's rows or sorts them.
        indexes = [models.Index(fields=["resource", "key", "row_no"], name="resource_row_key_no")]

    def __str__(self) -> str:
        return f"{self.resource_id}#{self.row_no}"


class DataDemand(models.Model):
    """One entry of the data demands inventory (数据需求清单): what a department needs."""

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="data_demands",
        verbose_name=_("department"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what data is needed"))
    purpose = models.TextField(_("purpose"))
    wanted_fields = models.TextField(_("fields wanted"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=DemandState.choices, default=DemandState.OPEN)
    matched_resources = models.ManyToManyField(
        DataResource, blank=True, related_name="demands", verbose_name=_("matching resources")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("filed by")
    )
    created_at = models.DateTimeField(_("filed"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("data demand")
        verbose_name_plural = _("data demands inventory")

    def __str__(self) -> str:
        return self.title


# =============================================================================================
# Requests, grants, credentials
# =============================================================================================


class AccessRequest(models.Model):
    """A consuming department's request for chosen fields of a resource, for a purpose and a time."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.PROTECT, related_name="requests", verbose_name=_("resource")
    )
    consumer = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="data_requests",
        verbose_name=_("consumer"),
    )
    demand = models.ForeignKey(
        DataDemand, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.TextField(_("purpose"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    valid_until = models.DateField(_("needed until"))
    state = models.CharField(
        _("state"), max_length=16, choices=RequestState.choices, default=RequestState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        indexes = [models.Index(fields=["resource", "state"], name="request_resource_state")]

    def __str__(self) -> str:
        return f"{self.consumer} → {self.resource.code}"


class Grant(models.Model):
    """A consuming department's right to read chosen fields of a resource for a purpose until a date.

    ``unmasked_fields`` (a subset of ``fields``) are personal fields the provider agreed to hand
    over in clear for this purpose; every other personal field is masked. ``standing`` grants are
    the ones the platform's own forms and rules fetch facts under (一次录入、多渠道共用).
    """

    resource = models.ForeignKey(
        DataResource, on_delete=models.PROTECT, related_name="grants", verbose_name=_("resource")
    )
    consumer = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="data_grants",
        verbose_name=_("consumer"),
    )
    request = models.OneToOneField(
        AccessRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="grant"
    )
    fields = models.JSONField(_("fields"), default=list)
    unmasked_fields = models.JSONField(_("fields handed over unmasked"), default=list, blank=True)
    purpose = models.TextField(_("purpose"))
    standing = models.BooleanField(_("standing grant for the platform's forms and rules"), default=False)
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"))
    rate_limit_per_minute = models.PositiveIntegerField(_("calls per minute"), default=600)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("granted"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        indexes = [models.Index(fields=["consumer", "resource"], name="grant_consumer_resource")]

    def __str__(self) -> str:
        return f"{self.consumer} → {self.resource.code}"

    def in_force(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.valid_from <= at < self.valid_until


class ApiCredential(models.Model):
    """The key a consuming department's system calls the gateway with (shown once, stored hashed)."""

    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="api_credentials",
        verbose_name=_("department"),
    )
    system = models.ForeignKey(
        InformationSystem, on_delete=models.SET_NULL, null=True, blank=True, related_name="credentials"
    )
    name = models.CharField(_("name"), max_length=128)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=128, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["department__code", "name"]
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# =============================================================================================
# Calls and what citizens see of them
# =============================================================================================


class CallLog(models.Model):
    """One call to the gateway, answered or refused (also appended to the audit log)."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    consumer = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("consumer"),
    )
    credential = models.ForeignKey(ApiCredential, on_delete=models.SET_NULL, null=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    grant = models.ForeignKey(Grant, on_delete=models.SET_NULL, null=True, related_name="calls")
    resource = models.ForeignKey(DataResource, on_delete=models.SET_NULL, null=True, related_name="calls")
    resource_code = models.CharField(_("resource code"), max_length=64)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.TextField(_("purpose"), blank=True)
    # What the platform fetched it for, e.g. "case:<number>" (channel platform).
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    latency_ms = models.FloatField(_("latency (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("gateway call")
        verbose_name_plural = _("gateway calls")
        indexes = [
            models.Index(fields=["resource", "at"], name="call_resource_at"),
            models.Index(fields=["consumer", "at"], name="call_consumer_at"),
            models.Index(fields=["grant", "at"], name="call_grant_at"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_code} @ {self.at:%Y-%m-%d %H:%M:%S} · {self.outcome}"


class CallSubject(models.Model):
    """A person whose personal data a call returned, by the blind index of their identity number
    (``vault.key_index``): what the citizen's own data-use record (我的数据) is read from."""

    call = models.ForeignKey(CallLog, on_delete=models.CASCADE, related_name="subjects")
    subject_index = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["subject_index", "call"], name="call_subject_index")]
        constraints = [models.UniqueConstraint(fields=["call", "subject_index"], name="call_subject_unique")]

    def __str__(self) -> str:
        return f"call {self.call_id} · {self.subject_index[:8]}"


class UseQuestion(models.Model):
    """A citizen's question about one use of their data; it reaches the provider's data stewards."""

    call = models.ForeignKey(CallLog, on_delete=models.PROTECT, related_name="questions")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("identity.Department", on_delete=models.PROTECT, related_name="+")
    question = models.TextField(_("question"))
    state = models.CharField(
        _("state"), max_length=16, choices=QuestionState.choices, default=QuestionState.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-pk"]
        verbose_name = _("question about a data use")
        verbose_name_plural = _("questions about data uses")
        indexes = [models.Index(fields=["provider", "state"], name="question_provider_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="open") | ~Q(answer=""), name="question_answered_has_answer"
            )
        ]

    def __str__(self) -> str:
        return f"question on call {self.call_id} · {self.state}"
