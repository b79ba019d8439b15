"""Key rotation: re-encrypt every stored encrypted value (the fields registered in
``yiwang.core.encrypted_fields``) under the current field key, and rebuild the blind indexes after
the blind-index key changed. ``yiwang rotate-keys`` runs these.

Both walk each table in primary-key order, one batch per transaction: a batch locks its rows,
rewrites those that need it and appends one audit entry (counts and key ids, never a value), so an
interrupted run leaves every value either old and readable or new, and running again resumes where
it stopped (values already under the current key are left alone). ``dry_run`` reads and counts only.
A value that cannot be read (its key is not configured, or it does not authenticate) is left as it
is and counted; the report says which key ids are missing.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from yiwang.audit import services as audit
from yiwang.core import encrypted_fields
from yiwang.identity import pii
from yiwang.lib import crypto

DEFAULT_BATCH_SIZE = 1000


@dataclass
class FieldReport:
    """What one run found in (and did to) one stored field."""

    name: str  # "identity.person.id_number_ciphertext"
    scanned: int = 0
    changed: int = 0  # re-encrypted or re-indexed (in a dry run: would be)
    current: int = 0  # already under the current key
    from_keys: Counter = field(default_factory=Counter)  # key id -> values changed from it
    without_key_id: int = 0  # of the changed values, those stored before key ids
    missing_keys: Counter = field(default_factory=Counter)  # key id not configured -> values
    unreadable: int = 0  # values no configured key opens

    @property
    def problems(self) -> int:
        return self.unreadable + sum(self.missing_keys.values())


@dataclass
class Report:
    key_id: str  # the current field key's id
    dry_run: bool
    fields: list[FieldReport] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(f.problems for f in self.fields)

    @property
    def changed(self) -> int:
        return sum(f.changed for f in self.fields)

    def missing_keys(self) -> Counter:
        total: Counter = Counter()
        for f in self.fields:
            total.update(f.missing_keys)
        return total


def _next_batch(model, field_name: str, *, after, batch_size: int, lock: bool, extra: tuple[str, ...] = ()):
    """The next rows (pk, the field, ``extra``) after pk ``after``, in pk order; call in a transaction."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    rows = model._base_manager.filter(**{f"{field_name}__isnull": False}).order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    if lock:
        rows = rows.select_for_update()
    return list(rows.only("pk", field_name, *extra)[:batch_size])


def _open(report: FieldReport, blob, purpose: str) -> crypto.Opened | None:
    try:
        return crypto.open_value(blob, purpose)
    except crypto.MissingKeyError as exc:
        report.missing_keys[exc.key_id] += 1
    except crypto.DecryptionError:
        report.unreadable += 1
    return None


def field_keys_rotate(
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[FieldReport], None] | None = None,
) -> Report:
    """Re-encrypt every value of the registered encrypted fields (``yiwang.core.encrypted_fields``:
    identity's ``pii.ENCRYPTED_FIELDS`` and those of the apps above it) not under the current key.

    Audits ``identity:field_key:rotate`` once per rewritten batch (field, key ids, count), in the
    batch's transaction. ``progress`` is called with the field's report after each batch.
    """
    key_id = crypto.current_key_id()
    report = Report(key_id=key_id, dry_run=dry_run)
    for label, field_name, purpose in encrypted_fields.registered():
        model = apps.get_model(label)
        name = f"{model._meta.label_lower}.{field_name}"
        fr = FieldReport(name=name)
        report.fields.append(fr)
        last = None
        while True:
            with transaction.atomic():
                batch = _next_batch(model, field_name, after=last, batch_size=batch_size, lock=not dry_run)
                if not batch:
                    break
                last = batch[-1].pk
                _rotate_batch(
                    model, field_name, purpose, batch, fr, actor=actor, key_id=key_id, dry_run=dry_run
                )
            if progress is not None:
                progress(fr)
    return report


def _rotate_batch(model, field_name, purpose, batch, fr: FieldReport, *, actor, key_id: str, dry_run: bool):
    todo, from_keys, legacy = [], Counter(), 0
    for row in batch:
        opened = _open(fr, getattr(row, field_name), purpose)
        if opened is None:
            continue
        if opened.key_id == key_id and not opened.legacy:
            fr.current += 1
            continue
        from_keys[opened.key_id] += 1
        legacy += opened.legacy
        todo.append((row, opened.value))
    fr.scanned += len(batch)
    fr.changed += len(todo)
    fr.from_keys.update(from_keys)
    fr.without_key_id += legacy
    if todo and not dry_run:
        blobs = crypto.encrypt_many([value for _row, value in todo], purpose)
        for (row, _value), blob in zip(todo, blobs, strict=True):
            setattr(row, field_name, blob)
        model._base_manager.bulk_update([row for row, _value in todo], [field_name])
        audit.record(
            actor=actor,
            event="identity:field_key:rotate",
            target=(model._meta.label_lower, ""),
            data={
                "field": fr.name,
                "to_key": key_id,
                "from_keys": dict(sorted(from_keys.items())),
                "without_key_id": legacy,
                "count": len(todo),
            },
        )


def blind_indexes_rebuild(
    *,
    actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[FieldReport], None] | None = None,
) -> Report:
    """Recompute every person's identity-number blind index under the current ``BLIND_INDEX_KEY``
    (after that key was changed), from the decrypted number.

    Audits ``identity:blind_index:rebuild`` once per rewritten batch. (The registers people are
    checked against live in the exchange's base data, whose keys the exchange keeps.)
    """
    person = apps.get_model("identity", "Person")
    report = Report(key_id=crypto.current_key_id(), dry_run=dry_run)
    fr = FieldReport(name="identity.person.id_number_index")
    report.fields.append(fr)
    last = None
    while True:
        with transaction.atomic():
            batch = _next_batch(
                person,
                "id_number_ciphertext",
                after=last,
                batch_size=batch_size,
                lock=not dry_run,
                extra=("id_number_index",),
            )
            if not batch:
                break
            last = batch[-1].pk
            _reindex_batch(person, batch, fr, actor=actor, dry_run=dry_run)
        if progress is not None:
            progress(fr)
    return report


def _reindex_batch(person, batch, fr: FieldReport, *, actor, dry_run: bool):
    todo = []
    for row in batch:
        opened = _open(fr, row.id_number_ciphertext, pii.ID_NUMBER_PURPOSE)
        if opened is None:
            continue
        index = pii.id_number_index(opened.value)
        if index == row.id_number_index:
            fr.current += 1
            continue
        row.id_number_index = index
        todo.append(row)
    fr.scanned += len(batch)
    fr.changed += len(todo)
    if todo and not dry_run:
        person._base_manager.bulk_update(todo, ["id_number_index"])
        audit.record(
            actor=actor,
            event="identity:blind_index:rebuild",
            target=("identity.person", ""),
            data={"field": fr.name, "count": len(todo)},
        )
