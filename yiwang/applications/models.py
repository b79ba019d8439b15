"""Applications (一网通办): cases, their tasks and timeline, materials, ratings and notices.

A case is one application for one service item. It starts as a draft the applicant can come back
to, gets a case number when submitted, and then runs its item's BPMN process (see engine.py);
the workflow state is stored on the case so a restart loses nothing. The open user tasks are
mirrored into ``Task`` rows so officials' queues are plain indexed queries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Decision(models.TextChoices):
    """What a person decides on a task: the one list the engine checks diagrams against, the
    forms offer and the timeline shows."""

    ACCEPT = "accept", _("Accept (受理)")
    REJECT = "reject", _("Do not accept (不予受理)")
    SUPPLEMENT = "supplement", _("Ask for a supplement (补正)")
    PASS = "pass", _("Pass review")
    APPROVE = "approve", _("Approve")
    NOT_APPROVE = "not_approve", _("Do not approve")
    COMPLETE = "complete", _("Complete and deliver the result (办结)")
    RESUBMIT = "resubmit", _("Resubmit")
    # only on the task a stopped process leaves for a clerk (services.HALT_TASK), never in a diagram
    RESTART = "restart", _("Run the process again from the start (current version)")


DECISION_LABELS = dict(Decision.choices)
# The decisions a process diagram may offer on a user task.
PROCESS_DECISIONS = tuple(d for d in Decision if d != Decision.RESTART)
# Decisions the applicant must be told the reason for.
REASONED_DECISIONS = frozenset({Decision.REJECT, Decision.NOT_APPROVE, Decision.SUPPLEMENT})
# The role of the applicant's own steps (补正) in a process; officials' roles are identity's.
APPLICANT_ROLE = "applicant"


class FormDefinition(models.Model):
    """The application form of an item, as JSON Schema (see schemaforms.py for the subset)."""

    item = models.OneToOneField(
        "catalog.ServiceItem",
        on_delete=models.CASCADE,
        related_name="form_definition",
        verbose_name=_("item"),
    )
    schema = models.JSONField(_("JSON Schema"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("application form")
        verbose_name_plural = _("application forms")

    def __str__(self) -> str:
        return str(self.item)


class Process(models.Model):
    """A BPMN 2.0 process (and optional DMN decision table) attached to an item. Versions are
    kept: a running case keeps the version it started with (its workflow state embeds it)."""

    item = models.ForeignKey(
        "catalog.ServiceItem", on_delete=models.CASCADE, related_name="processes", verbose_name=_("item")
    )
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    bpmn = models.TextField(_("BPMN 2.0 XML"))
    dmn = models.TextField(_("DMN XML"), blank=True)
    key = models.CharField(_("content hash"), max_length=64, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("process")
        verbose_name_plural = _("processes")
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="process_item_version_unique"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(is_active=True), name="process_one_active_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class BundleCase(models.Model):
    """One application for a life-event bundle: its items' cases run in parallel (并联审批)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")  # every case ended, not all of them approved

    bundle = models.ForeignKey(
        "catalog.LifeEvent", on_delete=models.PROTECT, related_name="applications", verbose_name=_("bundle")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bundle_cases",
        verbose_name=_("applicant"),
    )
    enterprise = models.ForeignKey(
        "identity.Enterprise", on_delete=models.PROTECT, null=True, blank=True, related_name="bundle_cases"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("bundle application")
        verbose_name_plural = _("bundle applications")

    def __str__(self) -> str:
        return f"{self.bundle} #{self.pk}"


class Case(models.Model):
    """One application (办件)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted, awaiting acceptance")
        IN_REVIEW = "in_review", _("Under review")
        SUPPLEMENT = "supplement", _("Needs supplement")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not accepted")
        NOT_APPROVED = "not_approved", _("Not approved")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW, Status.SUPPLEMENT, Status.APPROVED)
    ENDED_STATUSES = (Status.REJECTED, Status.NOT_APPROVED, Status.COMPLETED, Status.WITHDRAWN)
    # A case in one of these has been approved: its item's licences are issued (the licences app,
    # below this one, asks the case: ``is_approved``).
    APPROVED_STATUSES = (Status.APPROVED, Status.COMPLETED)

    number = models.CharField(_("case number"), max_length=32, unique=True, null=True, blank=True)
    item = models.ForeignKey(
        "catalog.ServiceItem", on_delete=models.PROTECT, related_name="cases", verbose_name=_("item")
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="cases", verbose_name=_("department")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", verbose_name=_("applicant")
    )
    enterprise = models.ForeignKey(
        "identity.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("on behalf of"),
    )
    bundle_case = models.ForeignKey(
        BundleCase, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    process = models.ForeignKey(
        Process, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    data = models.JSONField(_("form data"), default=dict, blank=True)
    provided = models.JSONField(_("fields provided by the government"), default=list, blank=True)
    # The bound government facts used (applications.facts): per field its resource, provider,
    # source field, time and gateway call, or why it could not be fetched.
    facts = models.JSONField(_("government facts used"), default=list, blank=True, editable=False)
    workflow = models.JSONField(_("workflow state"), null=True, blank=True, editable=False)
    rule_hits = models.JSONField(_("decisive rules"), default=list, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    request_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    paused_on = models.DateField(_("clock stopped since"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="case_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="case_applicant_idx"),
            models.Index(fields=["department", "status"], name="case_department_status_idx"),
            # The drafts quota counts one person's drafts on every start and submit: without it
            # the count walked all their earlier cases (issue 9 §9).
            models.Index(fields=["applicant"], condition=Q(status="draft"), name="case_applicant_draft_idx"),
        ]

    def __str__(self) -> str:
        return self.number or _("draft #%(pk)s") % {"pk": self.pk}

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def has_ended(self) -> bool:
        return self.status in self.ENDED_STATUSES

    @property
    def is_approved(self) -> bool:
        return self.status in self.APPROVED_STATUSES


class CaseSequence(models.Model):
    """The last case number used per region and day (case numbers are region-date-sequence)."""

    region_code = models.CharField(max_length=6)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region_code", "day"], name="case_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day} #{self.last}"


class Task(models.Model):
    """An open or finished user task of a case's workflow, mirrored for the queues."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Flag(models.TextChoices):
        NONE = "", _("On time")
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("case"))
    spiff_id = models.CharField(max_length=36)
    name = models.CharField(_("step id"), max_length=100)
    title = models.CharField(_("step"), max_length=200)
    role = models.CharField(_("role"), max_length=16)
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_status = models.CharField(max_length=16)
    decisions = models.JSONField(default=list)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    flag = models.CharField(_("deadline"), max_length=16, choices=Flag.choices, default=Flag.NONE, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=16, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.UniqueConstraint(fields=["case", "spiff_id"], name="task_case_spiff_unique")]
        indexes = [
            models.Index(fields=["state", "department", "role", "opened_at"], name="task_queue_idx"),
            models.Index(fields=["state", "department", "role", "due_date"], name="task_queue_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.title}"


class CaseEvent(models.Model):
    """One line of a case's timeline, shown to the applicant and to officials."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        DECIDED = "decided", _("Step completed")
        INSTANT = "instant", _("Checked by rules")
        STATUS = "status", _("Status changed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        RATED = "rated", _("Rated")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status after"), max_length=16, choices=Case.Status.choices)
    step = models.CharField(_("step"), max_length=200, blank=True)
    decision = models.CharField(_("decision"), max_length=16, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_idx")]

    def __str__(self) -> str:
        return f"{self.case} {self.kind}"


class Blob(models.Model):
    """Uploaded content, stored once by its SHA-256 (a retried upload is stored once)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_name(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256}"


class Attachment(models.Model):
    """A material the applicant uploaded for a case."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("case")
    )
    material = models.ForeignKey(
        "catalog.Material", on_delete=models.PROTECT, related_name="+", verbose_name=_("material")
    )
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.UniqueConstraint(fields=["case", "material", "blob"], name="attachment_unique"),
        ]

    def __str__(self) -> str:
        return self.filename


class Rating(models.Model):
    """好差评: the applicant's rating of a finished case, on the five standard levels."""

    class Level(models.IntegerChoices):
        VERY_SATISFIED = 5, _("Very satisfied")  # 非常满意
        SATISFIED = 4, _("Satisfied")  # 满意
        FAIR = 3, _("Fairly satisfied")  # 基本满意
        DISSATISFIED = 2, _("Dissatisfied")  # 不满意
        VERY_DISSATISFIED = 1, _("Very dissatisfied")  # 非常不满意

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating", verbose_name=_("case"))
    level = models.PositiveSmallIntegerField(_("rating"), choices=Level.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")

    def __str__(self) -> str:
        return f"{self.case}: {self.get_level_display()}"


class Rectification(models.Model):
    """A poor rating opens a rectification (整改) for the department, with a deadline."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        REPLIED = "replied", _("Replied")

    rating = models.OneToOneField(
        Rating, on_delete=models.CASCADE, related_name="rectification", verbose_name=_("rating")
    )
    department = models.ForeignKey(
        "identity.Department", on_delete=models.PROTECT, related_name="rectifications"
    )
    due_date = models.DateField(_("due"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        indexes = [models.Index(fields=["department", "state"], name="rectification_queue_idx")]

    def __str__(self) -> str:
        return f"{self.rating.case}"


class Notice(models.Model):
    """An in-site message to a user about one of their cases (also sent by email)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("user")
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="notices")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # The message as a key and parameters (notice_texts), rendered in the reader's language;
    # ``subject`` keeps its zh-Hans rendering for email and for rows without a key.
    message_key = models.CharField(_("message key"), max_length=64, blank=True)
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="notice_user_idx")]

    def __str__(self) -> str:
        return self.subject

    @property
    def subject_text(self) -> str:
        """The subject in the reader's language."""
        from . import notice_texts

        return (
            notice_texts.subject(self.message_key, self.params) if self.message_key else ""
        ) or self.subject

    @property
    def body_text(self) -> str:
        """The text in the reader's language (rule texts), or as a person wrote it."""
        from . import notice_texts

        return notice_texts.body(self.params, self.body)


class ResultDelivery(models.Model):
    """How the applicant wants the paper result of a decided case (办结) delivered: download only,
    by post to an address, or picked up at the department's window. Chosen by the applicant
    (delivery.py), shown to the department's handlers; each choice and change is audited."""

    class Method(models.TextChoices):
        DOWNLOAD = "download", _("Download only (电子送达)")
        POST = "post", _("Post it to an address (邮寄送达)")
        WINDOW = "window", _("Pick it up at the window (窗口领取)")

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, related_name="result_delivery", verbose_name=_("case")
    )
    method = models.CharField(_("delivery"), max_length=16, choices=Method.choices)
    recipient = models.CharField(_("recipient"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("postal address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("chosen by")
    )
    chosen_at = models.DateTimeField(_("chosen"), default=timezone.now)

    class Meta:
        verbose_name = _("result delivery")
        verbose_name_plural = _("result deliveries")
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="post") | (~Q(address="") & ~Q(recipient="") & ~Q(phone="")),
                name="result_delivery_post_has_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.method}"


# =============================================================================================
# 免证办: electronic licences used instead of materials (yiwang.applications.licence_materials).
# =============================================================================================


class CaseLicence(models.Model):
    """A material of a case replaced by one of the applicant's electronic licences, with the
    applicant's consent (免证办): the material is neither uploaded nor pre-reviewed, and the
    officials see and verify the licence instead. The licence's number and type are copied so
    the record reads the same after the licence is renewed or revoked."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="licences", verbose_name=_("case"))
    material = models.ForeignKey(
        "catalog.Material", on_delete=models.PROTECT, related_name="+", verbose_name=_("material")
    )
    licence = models.ForeignKey(
        "licences.Licence", on_delete=models.PROTECT, related_name="+", verbose_name=_("licence")
    )
    licence_number = models.CharField(_("licence number"), max_length=40)
    licence_type = models.CharField(_("licence type"), max_length=200)  # 中文 | English
    consented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("consent of")
    )
    consented_at = models.DateTimeField(_("consent given"), default=timezone.now)

    class Meta:
        verbose_name = _("licence used for a material")
        verbose_name_plural = _("licences used for materials")
        constraints = [
            models.UniqueConstraint(fields=["case", "material"], name="caselicence_one_per_material"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.licence_number}"
