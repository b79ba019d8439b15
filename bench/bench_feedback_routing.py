"""Benchmark of 12345 routing: the quality of the suggested department and the routing throughput.

    python bench/bench_feedback_routing.py [--files 300] [--no-write]

Quality: top-1 and top-3 accuracy of the classifier (yiwang/feedback/classifier.py) on the
evaluation set ``feedback/data/feedback_eval.tsv`` (502 complaints kept apart: the model never
learns from them), overall and per category; the aim is top-1 ≥ 0.85.

Throughput, side by side in one run: bare jieba segmentation of the same texts (``jieba.lcut``,
the reference: no classifier can be faster than reading the words), the classifier's
tokenisation, one suggestion (tokens + scoring + explanation), and the whole filing service
(``services.item_file``: validation, suggestion, routing-table lookup, repeat check, insert and
audit entry, in one transaction) on a throwaway database (SQLite, or PostgreSQL with
DATABASE_URL), beside a bare audit append (``audit.record``) in the same transaction shape.
Figures are per text: median and p95, and texts per second.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchkit import pct, run_isolated, write_section  # noqa: E402 — after the path set-up

SECTION = "## Feedback routing (12345)"
TOP1_AIM = 0.85


def _timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _row(name: str, samples: list[float], reference: float | None) -> str:
    median = statistics.median(samples)
    rate = 1000 / statistics.fmean(samples)
    ratio = f"{median / reference:.1f}×" if reference else "1×"
    return f"| {name} | {median:.3f} | {pct(samples, 0.95):.3f} | {rate:,.0f} | {ratio} |"


def run(args) -> int:
    import jieba
    from django.core.management import call_command
    from django.db import connection, transaction

    from yiwang.audit import services as audit
    from yiwang.feedback import classifier, services
    from yiwang.feedback.models import Category, RoutingRule
    from yiwang.identity.models import Department, Region, User

    jieba.setLogLevel(60)
    t0 = time.perf_counter()
    jieba.initialize()
    jieba_init_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifier.model()
    train_s = time.perf_counter() - t0
    held_out = classifier.read_corpus(classifier.EVAL_FILE)
    train_size = len(classifier.read_corpus(classifier.TRAIN_FILE))

    # --- quality ---
    hits1: Counter[str] = Counter()
    hits3: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for label, text in held_out:
        suggestion = classifier.suggest(text)
        totals[label] += 1
        hits1[label] += suggestion.category == label
        hits3[label] += label in suggestion.top(3)
    top1 = sum(hits1.values()) / len(held_out)
    top3 = sum(hits3.values()) / len(held_out)

    # --- throughput of the pure parts (three passes over the evaluation texts) ---
    texts = [t for _l, t in held_out] * 3
    for t in texts[:50]:
        jieba.lcut(t)
        classifier.suggest(t)
    bare = _timed(jieba.lcut, texts)
    toks = _timed(classifier.tokens, texts)
    suggest = _timed(classifier.suggest, texts)

    # --- the filing service on a database ---
    call_command("migrate", verbosity=0)
    province = Region.objects.create(code="610000", name="陕西省", level="province")
    city = Region.objects.create(code="610100", name="西安市", level="city", parent=province)
    departments = {}
    for category, kind in (
        ("market", "SCJG"),
        ("security", "GAT"),
        ("housing", "ZJT"),
        ("transport", "JTT"),
        ("environment", "STHJ"),
        ("labour", "RST"),
        ("health", "WJW"),
        ("education", "JYT"),
        ("medical_insurance", "YBJ"),
        ("civil_affairs", "MZT"),
    ):
        departments[category] = Department.objects.create(code=f"610100-{kind}", name=kind, region=city)
        RoutingRule.objects.create(category=Category(category), region=city, department=departments[category])
    filers = [
        User.objects.create_user(username=f"bench{i}", password=None, email=f"bench{i}@example.org")
        for i in range(50)
    ]
    sample = [t for _l, t in held_out if len(t) >= services.MIN_TEXT][: args.files]

    def file(i_text):
        i, text = i_text
        services.item_file(kind="complaint", text=text, region=city, actor=filers[i % len(filers)])

    def bare_audit(i_text):
        i, _text = i_text
        with transaction.atomic():
            audit.record(actor=filers[i % len(filers)], event="feedback:bench:append", data={"i": i})

    audit_ms = _timed(bare_audit, list(enumerate(sample)))
    filing = _timed(file, list(enumerate(sample)))
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"

    per_category = " · ".join(
        f"{c} {hits1[c] / totals[c]:.2f}" for c in sorted(totals, key=lambda c: -hits1[c] / totals[c])
    )
    ref = statistics.median(bare)
    audit_ref = statistics.median(audit_ms)
    block = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()}, "
        f"{vendor}; {len(held_out)} evaluation complaints, {train_size} training complaints, "
        f"10 categories (departments).",
        "",
        "| quality (held-out set) | value | aim |",
        "|---|---|---|",
        f"| top-1 accuracy | **{top1:.3f}** | ≥ {TOP1_AIM} {'met' if top1 >= TOP1_AIM else 'not met'} |",
        f"| top-3 accuracy | **{top3:.3f}** | |",
        f"| training (once per process) | {train_s:.2f} s | jieba.initialize {jieba_init_s:.2f} s |",
        "",
        f"Top-1 by category: {per_category}.",
        "",
        "| per text | median ms | p95 ms | texts/s | × reference |",
        "|---|---|---|---|---|",
        _row("jieba.lcut (reference)", bare, None),
        _row("classifier tokens (words + bigrams)", toks, ref),
        _row("suggestion (tokens + scores + explanation)", suggest, ref),
        "",
        "| per filing, on the database | median ms | p95 ms | filings/s | × reference |",
        "|---|---|---|---|---|",
        _row("audit.record alone, one transaction (reference)", audit_ms, None),
        _row("services.item_file (suggestion, rules, repeat check, insert, audit)", filing, audit_ref),
    ]
    text = "\n".join(block)
    print(text)
    if not args.no_write:
        intro = (
            "Run `bench/bench_feedback_routing.py` (SQLite) and with `DATABASE_URL` (PostgreSQL). "
            "The classifier is explained in yiwang/feedback/classifier.py; its evaluation set is never "
            "used to train it. Throughput is per complaint, beside bare jieba segmentation and a bare "
            "audit append measured in the same run."
        )
        write_section(section=SECTION, key=f"feedback-routing:{vendor}", block=text, intro=intro)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=300, help="filings measured on the database")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args, _unknown = parser.parse_known_args()
    return run_isolated("feedback", run, args)


if __name__ == "__main__":
    raise SystemExit(main())
