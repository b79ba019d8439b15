"""Demo data for the audit log (called by `yiwang demo`).

The other apps' demo builders already append entries through ``audit.record``; ``build`` only signs and
keeps a tree head so the transparency page has one. ``build_large`` fills the log to 1,000,000 entries
with ``bulk_load`` for benchmarks.
"""

import random

from yiwang.audit import selectors, services

LARGE_SIZE = 1_000_000
_EVENTS = [
    "applications:case:submit",
    "applications:case:accept",
    "applications:case:approve",
    "licences:licence:issue",
    "exchange:data:access",
    "feedback:rating:create",
]


def build(*, stdout=None) -> None:
    head = services.tree_head_sign(persist=True)
    if stdout:
        stdout.write(f"audit: log holds {head.tree_size} entries; tree head signed.")


def build_large(*, stdout=None, size: int = LARGE_SIZE) -> None:
    missing = size - selectors.tree_size()
    if missing <= 0:
        return
    rng = random.Random(2026)
    services.bulk_load(
        {
            "actor": "system:demo",
            "event": rng.choice(_EVENTS),
            "target": ("demo.case", rng.randrange(1, 200_000)),
            "data": {"demo": True, "n": i},
        }
        for i in range(missing)
    )
    services.tree_head_sign(persist=True)
    if stdout:
        stdout.write(f"audit: added {missing} demo entries (log size {size}).")
