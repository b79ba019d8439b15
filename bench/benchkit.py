"""What every benchmark here shares: a throwaway database, percentiles and its docs section.

``run_isolated(label, run, args)`` points Django at a fresh database for the run — a SQLite file
in a temporary folder, or, when DATABASE_URL names a PostgreSQL server, a new database on it that
is dropped afterwards — so a benchmark never touches the developer's data.

``write_section(section=..., key=..., block=..., intro=...)`` puts a run's figures into its
section of docs/benchmarks.md, between ``<!-- key -->`` and ``<!-- /key -->``, replacing the
figures of the last run and leaving the rest of the file (the hand-written text) alone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pg_temp_database(url: str, label: str) -> tuple[str, Callable[[], None]]:
    """Create ``yiwang_bench_<label>_<pid>`` next to the database of ``url``; return its URL and a
    function that drops it."""
    import psycopg

    parts = urlsplit(url)
    name = f"yiwang_bench_{label}_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def run_isolated(label: str, run: Callable[[object], int], args) -> int:
    """Set up Django (development settings) on a throwaway database, call ``run(args)``, clean up."""
    tmp = tempfile.TemporaryDirectory(prefix=f"yiwang-bench-{label}-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["YIWANG_DEV"] = "1"
    os.environ["YIWANG_VAR_DIR"] = tmp.name
    drop = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        os.environ["DATABASE_URL"], drop = pg_temp_database(url, label)
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"

    import django

    django.setup()
    try:
        return run(args)
    finally:
        if drop:
            drop()
        tmp.cleanup()


def markers(key: str) -> tuple[str, str]:
    """The comments that fence one run's figures in docs/benchmarks.md."""
    return f"<!-- {key} -->", f"<!-- /{key} -->"


def write_section(*, section: str, key: str, block: str, intro: str, path: Path = DOCS) -> Path:
    """Put ``block`` between the ``key`` markers (see ``markers``) in docs/benchmarks.md: where
    those markers are, replacing what they held; else at the end of ``section`` (a ``## `` heading
    line); a missing section is added at the end of the file, ``intro`` under its heading.
    Returns the path written."""
    begin, end = markers(key)
    fenced = f"{begin}\n{block.strip()}\n{end}"
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else "# Benchmarks\n\nFigures measured by `bench/`.\n"
    )
    start = text.find(begin)
    stop = text.find(end, start) if start != -1 else -1
    if stop != -1:
        text = text[:start] + fenced + text[stop + len(end) :]
    else:
        if section not in text:
            text = text.rstrip() + f"\n\n{section}\n\n{intro.strip()}\n"
        start = text.index(section)
        following = text.find("\n## ", start + len(section))
        stop = len(text) if following == -1 else following
        rest = "\n\n" + text[stop:].lstrip("\n") if following != -1 else "\n"
        text = text[:stop].rstrip() + "\n\n" + fenced + rest
    path.write_text(text, encoding="utf-8")
    return path
