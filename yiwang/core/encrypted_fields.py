"""The registry of stored encrypted fields, which ``yiwang rotate-keys`` re-encrypts.

Each app that stores a value encrypted with the platform's field keys (``yiwang.lib.crypto``)
registers its fields here from its ``AppConfig.ready()``: ``(model label, field, purpose)``.
The key rotation (``yiwang.identity.keyrotation``) walks what is registered, so it covers the
apps above identity (licences' claims, credentials, issuer and seal keys, presentations) without
identity importing them. A field registered twice with the same purpose counts once; the same
field under two purposes is a mistake and refused.
"""

from __future__ import annotations

from collections.abc import Iterable

Field = tuple[str, str, str]  # (model label "app.Model", field name, encryption purpose)

_fields: dict[tuple[str, str], str] = {}


def register(fields: Iterable[Field]) -> None:
    """Add ``(model label, field, purpose)`` rows (call from ``AppConfig.ready()``)."""
    for label, field, purpose in fields:
        if not (label and field and purpose) or label.count(".") != 1:
            raise ValueError(f"not a (model label, field, purpose) row: {(label, field, purpose)!r}")
        known = _fields.get((label, field))
        if known is not None and known != purpose:
            raise ValueError(f"{label}.{field} is registered with purpose {known!r}, not {purpose!r}")
        _fields[(label, field)] = purpose


def registered() -> tuple[Field, ...]:
    """Every registered field, in the order of registration (the apps' order)."""
    return tuple((label, field, purpose) for (label, field), purpose in _fields.items())
