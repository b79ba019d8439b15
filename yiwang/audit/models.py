"""The append-only audit log: entries (leaves), the stored Merkle tree, its head and signed tree heads.

Rows are written only by ``yiwang.audit.services``; the ORM refuses to change or delete them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImmutableRowError(Exception):
    """Raised when code tries to change or delete an audit row through the ORM."""


class _AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRowError("Audit rows are append-only.")

    def delete(self):
        raise ImmutableRowError("Audit rows are append-only.")


class _AppendOnlyModel(models.Model):
    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRowError("Audit rows are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Audit rows are append-only.")


class AuditEntry(_AppendOnlyModel):
    """One entry of the log: its public leaf and its restricted record in one row.

    ``leaf_input`` is the exact byte string that was hashed: the public part (event, time, object type,
    the actor's kind, department and role) and a salted commitment to the record. The other columns are
    the record (who acted, the target's id, the details, the request id and client address) and the
    salt; they are readable only by auditors and by the person they belong to. ``verify_log``
    re-derives the leaf from the columns and compares.
    """

    class ActorType(models.TextChoices):
        USER = "user", _("user")
        SYSTEM = "system", _("system")
        ANONYMOUS = "anonymous", _("anonymous visitor")
        # Other model instances acting are recorded with their "<app_label>.<model_name>" as type.

    leaf_index = models.BigIntegerField(_("leaf index"), primary_key=True)
    created_at = models.DateTimeField(_("recorded at"))
    actor_type = models.CharField(_("actor type"), max_length=64)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    event = models.CharField(_("event"), max_length=100)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=100, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    client_ip = models.CharField(_("client address"), max_length=45, blank=True)
    # The user whose record this is when somebody else acted (e.g. the applicant of a case an official
    # decided); empty otherwise. The actor's own entries are found by actor_type/actor_id.
    subject_id = models.CharField(_("subject user id"), max_length=64, blank=True)
    # Public description of the actor, fixed when the entry is written (officials move departments).
    actor_kind = models.CharField(_("actor kind"), max_length=32, blank=True)
    actor_department = models.CharField(_("acting department"), max_length=32, blank=True)
    actor_role = models.CharField(_("acting role"), max_length=64, blank=True)
    salt = models.BinaryField(_("commitment salt"), max_length=16)
    leaf_input = models.BinaryField(_("leaf input"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["leaf_index"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_entry_target_idx"),
            models.Index(fields=["event"], name="audit_entry_event_idx"),
            models.Index(
                fields=["actor_id"], condition=models.Q(actor_type="user"), name="audit_entry_actor_user_idx"
            ),
            models.Index(
                fields=["subject_id"], condition=~models.Q(subject_id=""), name="audit_entry_subject_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(leaf_index__gte=0), name="audit_entry_leaf_index_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.leaf_index} {self.event}"


class AuditNode(_AppendOnlyModel):
    """The hash of one complete perfect subtree (level 0: a leaf hash).

    The primary key is :func:`yiwang.audit.merkle.node_key`, the subtree's position in completion order,
    so appends go to the end of the index and a proof fetches its nodes with one ``pk IN (...)``.
    """

    key = models.BigIntegerField(_("key"), primary_key=True)
    level = models.PositiveSmallIntegerField(_("level"))
    index = models.BigIntegerField(_("index"))
    hash = models.BinaryField(_("hash"))

    class Meta:
        verbose_name = _("tree node")
        verbose_name_plural = _("tree nodes")
        constraints = [
            models.CheckConstraint(condition=models.Q(level__lte=62), name="audit_node_level_lte_62"),
            models.CheckConstraint(condition=models.Q(index__gte=0), name="audit_node_index_gte_0"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditHead(models.Model):
    """The single row holding the tree size; appenders lock it to take turns."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    tree_size = models.BigIntegerField(_("tree size"), default=0)

    class Meta:
        verbose_name = _("log head")
        verbose_name_plural = _("log head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_head_singleton"),
            models.CheckConstraint(condition=models.Q(tree_size__gte=0), name="audit_head_tree_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"tree size {self.tree_size}"


class SignedTreeHead(_AppendOnlyModel):
    """A tree head the log signed and kept, so later states can be checked against it."""

    tree_size = models.BigIntegerField(_("tree size"))
    root_hash = models.BinaryField(_("root hash"))
    timestamp = models.BigIntegerField(_("timestamp (ms since 1970)"))
    signature = models.BinaryField(_("signature"))
    key_id = models.CharField(_("key id"), max_length=64)

    class Meta:
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["timestamp"], name="audit_sth_timestamp_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(tree_size__gte=0), name="audit_sth_tree_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"STH size {self.tree_size} at {self.timestamp}"


# The columns of an entry in leaf order of storage: what bulk writes insert and verify-log reads.
ENTRY_COLUMNS = (
    "leaf_index",
    "created_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "event",
    "target_type",
    "target_id",
    "data",
    "request_id",
    "client_ip",
    "subject_id",
    "actor_kind",
    "actor_department",
    "actor_role",
    "salt",
    "leaf_input",
)
