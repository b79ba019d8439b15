"""How a restricted record is shown to the people entitled to it, with what they need to check it.

An auditor sees every column. A person sees their own actions in full — record, salt and commitment —
so they can recompute ``SHA-256(salt || record)`` and compare it with the public leaf themselves. Of an
entry about them that somebody else made (an official deciding their case) they see what was done and
by which department and role, but not that official's account, request or address; the platform checks
the commitment for them.
"""

from __future__ import annotations

import base64

from yiwang.audit import leaf
from yiwang.audit.models import AuditEntry


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


def is_own_action(entry: AuditEntry, user) -> bool:
    return entry.actor_type == AuditEntry.ActorType.USER and entry.actor_id == str(getattr(user, "pk", ""))


def record_out(entry: AuditEntry, *, full: bool) -> dict:
    """The record as the API and pages show it. ``full``: every column, the salt and the record bytes."""
    raw_record = leaf.record_of(entry)
    published = leaf.decode_leaf_input(entry.leaf_input)
    commitment = leaf.commitment(entry.salt, raw_record)
    out = {
        "leaf_index": entry.leaf_index,
        "timestamp": published["ts"],
        "event": entry.event,
        "public_leaf": bytes(entry.leaf_input).decode("utf-8"),
        "actor": {"type": entry.actor_type, "id": entry.actor_id, "label": entry.actor_label},
        "acting": {"kind": entry.actor_kind, "department": entry.actor_department, "role": entry.actor_role},
        "target": {"type": entry.target_type, "id": entry.target_id} if entry.target_type else None,
        "subject_id": entry.subject_id,
        "data": entry.data,
        "request_id": entry.request_id,
        "ip": entry.client_ip,
        "commitment": published["commitment"],
        "matches_leaf": commitment == published["commitment"],
        "complete": full,
        "salt": _b64(entry.salt) if full else None,
        "record": _b64(raw_record) if full else None,
    }
    if not full:
        out["actor"] = {"type": entry.actor_type, "id": "", "label": ""}
        out["request_id"] = out["ip"] = ""
    return out
