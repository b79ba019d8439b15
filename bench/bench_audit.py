"""Benchmark of the audit log: append rate, proof time at scale, verify_log time.

    python bench/bench_audit.py [--entries 1000000] [--appends 2000]

SQLite by default (a temporary file). With DATABASE_URL=postgres://... the benchmark creates a fresh
temporary database on that server and drops it afterwards. Each figure is printed next to the limit it is
compared with, measured in the same run: appends beside a bare single-row insert, proofs beside raw SHA-256,
verify_log beside hashing the same bytes in a tight loop. Output is a markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated  # noqa: E402 — after the path set-up


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for proofs and verify_log")
    parser.add_argument("--appends", type=int, default=2000, help="single-transaction appends to time")
    parser.add_argument("--proofs", type=int, default=2000, help="inclusion proofs to time")
    args = parser.parse_args()

    return run_isolated("audit", run, args)


def run(args) -> int:
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yiwang.audit import selectors, services, verify
    from yiwang.identity.models import LoginFailure

    call_command("migrate", verbosity=0)
    rows: list[tuple[str, str, str, str]] = []  # (measure, value, compared with, ratio)
    vendor = connection.vendor

    # --- appends, each in its own transaction ------------------------------------------
    def timed(fn, n):
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            fn(i)
            samples.append(time.perf_counter() - t0)
        return samples

    timed(lambda i: LoginFailure.objects.create(username_key=f"warm{i}", client_ip="192.0.2.1"), 50)
    timed(lambda i: services.record(actor="system:bench", event="bench:audit:warm", data={"i": i}), 50)
    # Alternate the two so that noise from other work on the machine falls on both alike.
    bare, appends = [], []
    for i in range(args.appends):
        t0 = time.perf_counter()
        LoginFailure.objects.create(username_key=f"user{i % 97}", client_ip="192.0.2.1")
        t1 = time.perf_counter()
        services.record(
            actor="system:bench", event="bench:audit:append", target=("bench.thing", i), data={"i": i}
        )
        t2 = time.perf_counter()
        bare.append(t1 - t0)
        appends.append(t2 - t1)
    bare_rate, append_rate = 1 / statistics.median(bare), 1 / statistics.median(appends)
    rows.append(
        (
            "audit append (own transaction), median",
            f"{append_rate:,.0f} records/s ({statistics.median(appends) * 1e3:.2f} ms)",
            f"bare single-row insert: {bare_rate:,.0f} rows/s ({statistics.median(bare) * 1e3:.2f} ms)",
            f"{append_rate / bare_rate:.2f} (aim ≥ 0.33)",
        )
    )
    with CaptureQueriesContext(connection) as ctx:
        services.record(actor="system:bench", event="bench:audit:append", data={})
    rows.append(("queries per append", str(len(ctx.captured_queries)), "", ""))

    # --- bulk load to the target size ------------------------------------------------------
    missing = args.entries - selectors.tree_size()
    t0 = time.perf_counter()
    services.bulk_load(
        {
            "actor": "system:bench",
            "event": "bench:audit:load",
            "target": ("bench.thing", i),
            "data": {"i": i, "note": "benchmark entry"},
        }
        for i in range(missing)
    )
    load_s = time.perf_counter() - t0
    size = selectors.tree_size()
    rows.append(("bulk_load", f"{missing:,} entries in {load_s:.1f} s ({missing / load_s:,.0f}/s)", "", ""))

    # --- raw SHA-256 -----------------------------------------------------------------------
    block = os.urandom(64)
    sha = hashlib.sha256
    n_hash = 1_000_000
    t0 = time.perf_counter()
    for _ in range(n_hash):
        sha(block).digest()
    hash_s = (time.perf_counter() - t0) / n_hash
    depth = max(1, (size - 1).bit_length())

    # --- inclusion proofs at full size -----------------------------------------------------
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(args.proofs)]
    samples = []
    for index in indices:
        t0 = time.perf_counter()
        selectors.inclusion_proof(leaf_index=index, size=size)
        samples.append(time.perf_counter() - t0)
    with CaptureQueriesContext(connection) as ctx:
        selectors.inclusion_proof(leaf_index=indices[0], size=size)
    proof_queries = len(ctx.captured_queries)
    rows.append(
        (
            f"inclusion proof at {size:,} entries (selector) p50 / p95",
            f"{statistics.median(samples) * 1e3:.2f} / {pct(samples, 0.95) * 1e3:.2f} ms, "
            f"{proof_queries} queries",
            f"raw SHA-256 of 64 bytes: {hash_s * 1e6:.2f} µs ({1 / hash_s:,.0f}/s); "
            f"{depth} of them: {depth * hash_s * 1e3:.3f} ms",
            f"p50 = {statistics.median(samples) / (depth * hash_s):.0f}× the {depth} hashes (aim < 5 ms)",
        )
    )
    client = Client()
    http = []
    for index in indices[:500]:
        t0 = time.perf_counter()
        response = client.get("/api/audit/proof/inclusion", {"leaf_index": index, "tree_size": size})
        http.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content
    rows.append(
        (
            "GET /api/audit/proof/inclusion (in-process client) p50 / p95",
            f"{statistics.median(http) * 1e3:.2f} / {pct(http, 0.95) * 1e3:.2f} ms",
            "",
            "",
        )
    )
    consistency = []
    for index in indices[:500]:
        t0 = time.perf_counter()
        selectors.consistency_proof(first=max(1, index), second=size)
        consistency.append(time.perf_counter() - t0)
    rows.append(
        (
            "consistency proof (selector) p50 / p95",
            f"{statistics.median(consistency) * 1e3:.2f} / {pct(consistency, 0.95) * 1e3:.2f} ms",
            "",
            "",
        )
    )

    # --- verify_log ------------------------------------------------------------------------
    services.tree_head_sign(persist=True)
    reset_queries()
    result = verify.verify_log()
    assert result.ok, result.problem
    per_million = result.seconds * 1_000_000 / size
    from yiwang.audit.models import AuditEntry

    leaf_inputs = [
        bytes(x) for x in AuditEntry.objects.order_by("leaf_index").values_list("leaf_input", flat=True)
    ]
    node_block = b"\x01" + os.urandom(64)
    t0 = time.perf_counter()
    for raw in leaf_inputs:
        sha(b"\x00" + raw).digest()
    for _ in range(size - 1):
        sha(node_block).digest()
    tight = time.perf_counter() - t0
    rows.append(
        (
            f"verify_log of {size:,} entries",
            f"{result.seconds:.1f} s ({per_million:.1f} s per million)",
            f"hashing the same bytes in a tight loop: {tight:.2f} s",
            f"{result.seconds / tight:.1f}×",
        )
    )
    leaf_s = sum(len(x) for x in leaf_inputs) / size
    del leaf_inputs

    print(f"## Audit log benchmark — {vendor}, {size:,} entries\n")
    print(
        f"{time.strftime('%Y-%m-%d')}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; mean leaf_input {leaf_s:.0f} bytes\n"
    )
    print("| measure | value | compared with | ratio |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
