"""互联网+监管: market entities, the law library, supervision items and 双随机、一公开 draws.

Market entities are copied from the legal-entity register (the exchange's base resource A02001)
by ``services.entities_sync``; nobody types one in. ``credit_tier`` is a placeholder for the
credit scoring that comes later (issue 12 part 4): every entity has the default tier B, and only
the demo sets other tiers. A draw's sampling ratio per tier reads it.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CreditTier(models.TextChoices):
    A = "A", _("A (trustworthy)")
    B = "B", _("B (normal)")
    C = "C", _("C (watch)")
    D = "D", _("D (untrustworthy)")


TIERS = tuple(CreditTier.values)


class MarketEntity(models.Model):
    """A market entity (市场主体) as the legal-entity register has it, with the attributes
    supervision plans select by. Rows come only from the register (``entities_sync``)."""

    class Scale(models.TextChoices):
        MICRO = "micro", _("Micro")
        SMALL = "small", _("Small")
        MEDIUM = "medium", _("Medium")
        LARGE = "large", _("Large")
        UNKNOWN = "", _("Not recorded")

    class Risk(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=128)
    region_code = models.CharField(_("registered region (division code)"), max_length=6, db_index=True)
    # GB/T 4754 section letter (A–T) as the register records it; "" when it records none.
    industry = models.CharField(_("industry (GB/T 4754 section)"), max_length=4, blank=True, db_index=True)
    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, blank=True)
    risk = models.CharField(_("risk level"), max_length=8, choices=Risk.choices, default=Risk.LOW)
    # Set by nothing but the demo until credit scoring exists (issue 12 part 4): default B.
    credit_tier = models.CharField(_("credit tier"), max_length=1, choices=CreditTier.choices, default="B")
    registration_status = models.CharField(_("registration status"), max_length=16, blank=True)
    is_active = models.BooleanField(_("in business"), default=True)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enterprise account"),
    )
    synced_at = models.DateTimeField(_("last synced from the register"))

    class Meta:
        ordering = ["credit_code"]
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")
        constraints = [
            models.CheckConstraint(condition=Q(credit_tier__in=TIERS), name="entity_tier_known"),
        ]

    def __str__(self) -> str:
        return self.name


class Law(models.Model):
    """A law or regulation of the law library (法律法规库)."""

    class Kind(models.TextChoices):
        LAW = "law", _("Law")
        REGULATION = "regulation", _("Administrative regulation")
        LOCAL = "local", _("Local regulation")
        RULE = "rule", _("Department rule")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.LAW)
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("law")
        verbose_name_plural = _("laws")

    def __str__(self) -> str:
        return self.title


class Clause(models.Model):
    """One version of a clause (条/款) of a law. Amending a clause adds a version and ends the
    one before (``effective_until``, ``superseded_by``); repealing ends it with no successor.
    The current version of a number is the one with ``effective_until`` empty."""

    law = models.ForeignKey(Law, on_delete=models.PROTECT, related_name="clauses", verbose_name=_("law"))
    # e.g. "55" for 第五十五条, "55.2" for its second paragraph (款)
    number = models.CharField(_("article/clause"), max_length=16)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    text = models.TextField(_("text"))
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until"), null=True, blank=True)
    repealed = models.BooleanField(_("repealed"), default=False)
    superseded_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        ordering = ["law", "number", "version"]
        verbose_name = _("clause")
        verbose_name_plural = _("clauses")
        constraints = [
            models.UniqueConstraint(fields=["law", "number", "version"], name="clause_version_unique"),
            models.UniqueConstraint(
                fields=["law", "number"],
                condition=Q(effective_until__isnull=True),
                name="clause_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.law.code} §{self.number} v{self.version}"

    @property
    def reference(self) -> str:
        return f"{self.law.code}:{self.number}"

    @property
    def is_current(self) -> bool:
        return self.effective_until is None


class SupervisionItem(models.Model):
    """An entry of the supervision item catalog (监管事项目录清单) of a department, or of a regional
    implementation list (实施清单) when it ``implements`` a catalog entry for a region."""

    class Kind(models.TextChoices):
        INSPECTION = "inspection", _("Administrative inspection")  # 行政检查
        PENALTY = "penalty", _("Administrative penalty")  # 行政处罚
        ENFORCEMENT = "enforcement", _("Administrative enforcement")  # 行政强制
        OTHER = "other", _("Other supervision")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INSPECTION)
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="supervision_items",
        verbose_name=_("department"),
    )
    region = models.ForeignKey(
        "identity.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region (implementation list)"),
    )
    implements = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="implementations",
        verbose_name=_("implements catalog item"),
    )
    clauses = models.ManyToManyField(
        Clause, through="ItemBasis", related_name="items", verbose_name=_("basis")
    )
    # 监管与服务关联: an entity holding a licence of one of these service items is in the item's
    # post-approval scope.
    service_items = models.ManyToManyField(
        "catalog.ServiceItem", blank=True, related_name="+", verbose_name=_("service items followed")
    )
    publish_workdays = models.PositiveSmallIntegerField(
        _("results published within (working days)"), default=20
    )
    needs_review = models.BooleanField(_("basis changed: needs review"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["department", "code"]
        verbose_name = _("supervision item")
        verbose_name_plural = _("supervision items")

    def __str__(self) -> str:
        return self.name


class ItemBasis(models.Model):
    """A clause a supervision item rests on. ``flagged`` when that clause version was amended or
    repealed after the link was made, until the department confirms the basis again."""

    item = models.ForeignKey(SupervisionItem, on_delete=models.CASCADE, related_name="basis")
    clause = models.ForeignKey(Clause, on_delete=models.PROTECT, related_name="basis")
    flagged = models.BooleanField(_("clause changed"), default=False)

    class Meta:
        ordering = ["item", "clause"]
        constraints = [models.UniqueConstraint(fields=["item", "clause"], name="item_basis_unique")]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.clause_id}"


class InspectorRelation(models.Model):
    """A declared relation between an inspector and a market entity (利害关系): a conflict of
    interest that keeps the inspector from every draw over that entity."""

    official = models.ForeignKey(
        "identity.Official", on_delete=models.CASCADE, related_name="+", verbose_name=_("inspector")
    )
    entity = models.ForeignKey(
        MarketEntity, on_delete=models.CASCADE, related_name="relations", verbose_name=_("market entity")
    )
    reason = models.CharField(_("relation"), max_length=200)
    declared_at = models.DateTimeField(_("declared"), auto_now_add=True)

    class Meta:
        verbose_name = _("declared relation")
        verbose_name_plural = _("declared relations")
        constraints = [models.UniqueConstraint(fields=["official", "entity"], name="relation_unique")]

    def __str__(self) -> str:
        return f"{self.official_id} ~ {self.entity_id}"


class DrawPlan(models.Model):
    """A 双随机 plan: an item, a scope, sampling ratios per credit tier, inspectors per entity.

    Lifecycle (``draw.py`` and docs/supervision.md): draft → committed (the population, the
    inspector pool and the conflicts are fixed and their digest recorded in the audit log) →
    seeded (the seed is derived from a signed tree head taken after that entry, and recorded) →
    drawn (the result stored with its digest, in one transaction) → published.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COMMITTED = "committed", _("Inputs committed")
        SEEDED = "seeded", _("Seed fixed")
        DRAWN = "drawn", _("Drawn")
        PUBLISHED = "published", _("Published")

    item = models.ForeignKey(
        SupervisionItem, on_delete=models.PROTECT, related_name="plans", verbose_name=_("supervision item")
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    title = models.CharField(_("title"), max_length=200)
    scope_region = models.CharField(_("region (division code prefix)"), max_length=6, blank=True)
    scope_industry = models.CharField(_("industry (GB/T 4754 section)"), max_length=4, blank=True)
    post_approval_only = models.BooleanField(_("only holders of the followed service items' licences"))
    # sampling ratio per tier in basis points (1/10,000): {"A": 100, "B": 500, ...}
    ratios = models.JSONField(_("sampling ratios (basis points per tier)"))
    inspectors_per_entity = models.PositiveSmallIntegerField(_("inspectors per entity"), default=2)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    # the committed inputs: zlib-compressed canonical JSON (``draw.Inputs``) and its SHA-256
    inputs = models.BinaryField(null=True, editable=False)
    inputs_digest = models.CharField(max_length=64, blank=True)
    commit_leaf_index = models.PositiveBigIntegerField(null=True, blank=True)
    # the signed tree head the seed is derived from, and the seed
    sth_tree_size = models.PositiveBigIntegerField(null=True, blank=True)
    sth_root_hash = models.CharField(max_length=64, blank=True)
    sth_timestamp = models.PositiveBigIntegerField(null=True, blank=True)
    sth_signature = models.CharField(max_length=100, blank=True)
    sth_key_id = models.CharField(max_length=64, blank=True)
    seed = models.CharField(max_length=64, blank=True)
    seed_leaf_index = models.PositiveBigIntegerField(null=True, blank=True)
    result_digest = models.CharField(max_length=64, blank=True)
    draw_leaf_index = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    committed_at = models.DateTimeField(_("committed"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("drawn"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("draw plan")
        verbose_name_plural = _("draw plans")
        constraints = [
            models.CheckConstraint(condition=Q(inspectors_per_entity__gte=2), name="plan_two_inspectors"),
        ]

    def __str__(self) -> str:
        return self.title


class Inspection(models.Model):
    """One entity drawn by a plan, its inspectors, and the result recorded on the spot."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        RECORDED = "recorded", _("Result recorded")
        PUBLISHED = "published", _("Published")

    class Result(models.TextChoices):
        PASS = "pass", _("No problem found")  # 未发现问题
        RECTIFY = "rectify", _("Problems found, rectification ordered")  # 发现问题已责令整改
        FAIL = "fail", _("Violations found, case opened")  # 发现违法违规行为已立案
        ABSENT = "absent", _("Not found at the registered address")  # 未按规定公示/未找到

    plan = models.ForeignKey(DrawPlan, on_delete=models.PROTECT, related_name="inspections")
    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="inspections")
    position = models.PositiveIntegerField(_("order in the draw"))
    tier = models.CharField(_("credit tier at the draw"), max_length=1)
    inspectors = models.ManyToManyField(
        "identity.Official", through="InspectionInspector", related_name="+", verbose_name=_("inspectors")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.ASSIGNED)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    inspected_on = models.DateField(_("inspected on"), null=True, blank=True)
    publish_due = models.DateField(_("to be published by"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        constraints = [
            models.UniqueConstraint(fields=["plan", "entity"], name="inspection_entity_once"),
            models.UniqueConstraint(fields=["plan", "position"], name="inspection_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.position}"


class InspectionInspector(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="assignments")
    official = models.ForeignKey("identity.Official", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "official"], name="inspection_inspector_once"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id}:{self.official_id}"


# --- credit (issue 12 part 4): penalties, scores, the serious-dishonesty list, credit repair ------
# (docs/supervision.md § Credit; the rules are in credit.py, the writes in credit_services.py)


class Penalty(models.Model):
    """An administrative penalty decision (行政处罚决定) against a market entity. ``is_public`` says
    whether the decision is published (行政处罚信息公示); only public ones show on the entity's public
    credit record."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")  # 警告、通报批评
        FINE = "fine", _("Fine or confiscation")  # 罚款、没收违法所得
        SUSPENSION = "suspension", _("Suspension of business")  # 责令停产停业、限制开展生产经营活动
        REVOCATION = "revocation", _("Revocation of a licence")  # 吊销许可证件

    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, related_name="penalties", verbose_name=_("market entity")
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    decision_number = models.CharField(_("decision number"), max_length=64, unique=True)
    decided_on = models.DateField(_("decided on"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, default=0)
    is_public = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="penalty_amount_positive")]

    def __str__(self) -> str:
        return self.decision_number


class CreditScore(models.Model):
    """The entity's last computed credit score, its tier and the explanation (each record that
    counted and its points), written by ``credit_services.credit_recompute``."""

    entity = models.OneToOneField(MarketEntity, on_delete=models.CASCADE, related_name="credit")
    score = models.SmallIntegerField(_("score"))
    tier = models.CharField(_("credit tier"), max_length=1, choices=CreditTier.choices)
    # [{"kind": "inspection", "ref": "...", "on": "2026-01-01", "points": -15}, ...]
    explanation = models.JSONField(_("explanation"), default=list)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("credit score")
        verbose_name_plural = _("credit scores")

    def __str__(self) -> str:
        return f"{self.entity_id}: {self.tier} ({self.score})"


class DishonestyEntry(models.Model):
    """An entry of the serious-dishonesty list (严重失信主体名单). Removal (信用修复) ends it and keeps
    it: removed entries stay in the history. One listed entry per entity at a time."""

    class State(models.TextChoices):
        LISTED = "listed", _("Listed")
        REMOVED = "removed", _("Removed")

    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, related_name="dishonesty", verbose_name=_("market entity")
    )
    department = models.ForeignKey(
        "identity.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("deciding department"),
    )
    basis = models.CharField(_("legal basis"), max_length=300)
    reason = models.TextField(_("facts of the serious dishonesty"))
    decision_number = models.CharField(_("decision number"), max_length=64)
    listed_on = models.DateField(_("listed on"))
    # the earliest date the entity may apply for repair (信用修复); the list's own term
    repair_from = models.DateField(_("may apply for repair from"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.LISTED)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    # empty when the system (the demo, an import) listed it
    created_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-listed_on", "-pk"]
        verbose_name = _("serious-dishonesty list entry")
        verbose_name_plural = _("serious-dishonesty list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["entity"], condition=Q(state="listed"), name="dishonesty_one_listed_entry"
            ),
        ]

    def __str__(self) -> str:
        return self.decision_number


class RepairApplication(models.Model):
    """An application for credit repair (信用修复申请) of a list entry, made by the entity's legal
    representative or agent, decided by the deciding department's administrator or leader."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a decision")
        APPROVED = "approved", _("Approved: removed from the list")
        REFUSED = "refused", _("Refused")

    entry = models.ForeignKey(DishonestyEntry, on_delete=models.PROTECT, related_name="repairs")
    applicant = models.ForeignKey("identity.User", on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("what was corrected (statement)"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        "identity.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("reason for the decision"), blank=True)
    created_at = models.DateTimeField(_("applied"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("credit repair application")
        verbose_name_plural = _("credit repair applications")
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=Q(state="pending"), name="repair_one_pending_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.state}"


# --- risk warnings (issue 12 part 5): rules and the anomaly detector make tasks (risk.py) ----------


class RiskWarning(models.Model):
    """A risk warning (风险预警) and the task it became: 派发 → 处置 → 反馈 → 办结 (risk.TRANSITIONS),
    due in working days. ``key`` makes raising the same warning twice a no-op."""

    class Rule(models.TextChoices):
        EXPIRED_COMPLAINTS = "expired_complaints", _("Licence expired while complaints continue")
        FAILED_INSPECTIONS = "failed_inspections", _("Repeated failed inspections")
        COMPLAINT_SPIKE = "complaint_spike", _("Complaint spike in an area and topic")
        ANOMALY = "anomaly", _("Unusual number of complaints (statistical detector)")

    class State(models.TextChoices):
        DISPATCHED = "dispatched", _("Dispatched")  # 派发
        HANDLING = "handling", _("Being handled")  # 处置
        FEEDBACK = "feedback", _("Feedback given")  # 反馈
        CLOSED = "closed", _("Closed")  # 办结

    key = models.CharField(max_length=120, unique=True)
    rule = models.CharField(_("rule"), max_length=24, choices=Rule.choices)
    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, null=True, blank=True, related_name="warnings"
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    region_code = models.CharField(_("area (division code)"), max_length=6, blank=True)
    topic = models.CharField(_("topic"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DISPATCHED)
    due_date = models.DateField(_("due"))
    note = models.TextField(_("handling notes"), blank=True)
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("risk warning")
        verbose_name_plural = _("risk warnings")

    def __str__(self) -> str:
        return self.key
