"""Benchmark of the 双随机 draw: 1,000,000 market entities, 500 inspectors, replay identical.

    python bench/bench_supervision_draw.py [--entities 1000000] [--inspectors 500] [--rounds 3]
                                           [--demo-entities 20000] [--write-docs]

The draw runs on its published inputs held in memory (``yiwang.supervision.draw``: the same
function the service, the replay command and the API's replay bundle use); no database is on
that path. Measured in the same run, side by side: the floor, raw HMAC-SHA256 of every credit
code (``hmac.digest``, and the pad-once form the draw uses); the draw itself (median of
``--rounds``); its replay (must be identical) and the rule check; packing the inputs as
published. Then, on a temporary database (SQLite, or a throwaway PostgreSQL database with
DATABASE_URL), the demo's entity build: ``--demo-entities`` put into A02001 and synced. Target:
a draw over 1,000,000 entities with 500 inspectors under 5 s.
"""

from __future__ import annotations

import argparse
import hmac
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import run_isolated, write_section  # noqa: E402 — after the path set-up

TARGET_S = 5.0
RATIOS = {"A": 100, "B": 300, "C": 1000, "D": 3000}  # 1%, 3%, 10%, 30%


def _tier(i: int) -> str:
    slot = i % 20
    return "A" if slot < 4 else "B" if slot < 16 else "C" if slot < 19 else "D"


def _timed(fn):
    """(CPU seconds of this process, value); the wall seconds go to ``_timed.wall``. On a machine
    shared with other suites the wall clock includes the time spent waiting for a core, so the
    figures and the target are CPU time, with the wall time beside them."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    _timed.wall = time.perf_counter() - t0
    return time.process_time() - c0, value


def measure_draw(args) -> tuple[list[str], dict]:
    from yiwang.lib.uscc import check_char
    from yiwang.supervision import draw

    n, pool_size = args.entities, args.inspectors
    # valid GB 32100 codes: authority 9, kind 1, a region, a GB 11714 body, the check character
    bodies = (f"91{610100 + i % 30:06d}{i:09d}" for i in range(n))
    codes = [b + check_char(b) for b in bodies]
    entities = [(code, _tier(i)) for i, code in enumerate(codes)]
    inspectors = [f"I{i}" for i in range(pool_size)]
    conflicts = [(f"I{(i * 7) % pool_size}", codes[(i * 104_729) % n]) for i in range(5 * pool_size)]
    inputs = draw.make_inputs(
        plan=1, ratios=RATIOS, k=2, entities=entities, inspectors=inspectors, conflicts=conflicts
    )
    seed = "5eed" * 16
    key = bytes.fromhex(seed)

    raw, _ = _timed(lambda: [hmac.digest(key, b"entity:" + c.encode(), "sha256") for c in codes])
    padded, _ = _timed(lambda: draw.ranks(key, b"entity:", codes))
    runs, walls, result = [], [], None
    for _ in range(args.rounds):
        seconds, result = _timed(lambda: draw.run(inputs, seed))
        runs.append(seconds)
        walls.append(_timed.wall)
    replay_s, replayed = _timed(lambda: draw.run(draw.unpack(draw.pack(inputs)), seed))
    check_s, broken = _timed(lambda: draw.violations(inputs, result))
    pack_s, blob = _timed(lambda: draw.pack(inputs))
    median = statistics.median(runs)
    figures = {
        "raw": raw,
        "padded": padded,
        "median": median,
        "worst": max(runs),
        "replay": replay_s,
        "identical": replayed == result,
        "check": check_s,
        "broken": len(broken),
        "pack": pack_s,
        "packed_mb": len(blob) / 1e6,
        "drawn": len(result),
    }
    met = "met" if median < TARGET_S else "**missed**"
    rows = [
        f"| raw HMAC-SHA256 of {n:,} codes (`hmac.digest`) | {raw:.2f} s | | the floor of a keyed rank |",
        f"| the same, pads hashed once (`draw.ranks`, the draw's form) | {padded:.2f} s | | "
        f"{raw / padded:.1f}× faster than `hmac.digest` |",
        f"| **draw** ({n:,} entities, {pool_size} inspectors, {len(inputs['conflicts']):,} conflicts, "
        f"{len(result):,} drawn × 2 inspectors) | **{median:.2f} s** | {max(runs):.2f} s | "
        f"**target < {TARGET_S:.0f} s: {met}**; {median / raw:.1f}× the raw HMACs; wall clock "
        f"{statistics.median(walls):.2f} s |",
        f"| replay from the packed inputs (unpack + draw) | {replay_s:.2f} s | | "
        f"identical: **{'yes' if replayed == result else 'NO'}** |",
        f"| rule check (k inspectors, pool, conflicts, quotas) | {check_s:.2f} s | | "
        f"{len(broken)} rules broken |",
        f"| pack the inputs as published (canonical JSON + zlib) | {pack_s:.2f} s | | "
        f"{len(blob) / 1e6:.1f} MB |",
    ]
    return rows, figures


def measure_demo(args) -> list[str]:
    def run(_args) -> int:
        from django.core.management import call_command

        from yiwang.identity.models import Department, Region
        from yiwang.supervision import demo
        from yiwang.supervision.models import MarketEntity

        call_command("migrate", verbosity=0)
        province = Region.objects.create(code="610000", name="陕西省", level="province")
        Department.objects.create(code="610000-SCJG", name="陕西省市场监督管理局", region=province)
        seconds = demo.build_entities(args.demo_entities)  # wall clock: the database's work counts
        count = MarketEntity.objects.count()
        measure_demo.row = (
            f"| demo: {count:,} entities put into A02001 (bulk, 5,000 a batch) and synced | "
            f"{seconds:.1f} s (wall) | | {count / seconds:,.0f} entities/s |"
        )
        return 0

    run_isolated("supervision", run, args)
    return [measure_demo.row]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--inspectors", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--demo-entities", type=int, default=20_000)
    parser.add_argument("--write-docs", action="store_true", help="write the figures into docs/benchmarks.md")
    args, _unknown = parser.parse_known_args()  # run_all.py passes every script the same arguments
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("YIWANG_DEV", "1")
    rows, figures = measure_draw(args)
    rows += measure_demo(args)
    db = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    table = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')}, CPython {platform.python_version()}, "
            f"{platform.machine()}, "
            f"{os.cpu_count()} cores shared with other agents' test suites; the demo row on {db}.",
            "",
            "Times are CPU seconds of the benchmark's process (the wall clock, which also counts the "
            "waits for a core the other suites hold, is given for the draw).",
            "",
            "| measure | median (CPU) | worst | compared with (same run) |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    print(table)
    if args.write_docs:
        write_section(
            section="## Supervision draws (双随机)",
            key=f"supervision:{db}",
            block=table,
            intro=(
                "`bench/bench_supervision_draw.py`: the draw of `yiwang.supervision.draw` over in-memory "
                "inputs (1,000,000 entities with valid credit codes, tiers A/B/C/D 20/60/15/5 %, ratios "
                "1/3/10/30 %, 500 inspectors, 2 per entity), beside raw HMAC-SHA256 of the same codes; "
                "then the demo's entity build on a temporary database."
            ),
        )
    ok = figures["identical"] and figures["broken"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
