"""What every benchmark here shares: a throwaway database and percentiles.

``run_isolated(label, run, args)`` points Django at a fresh database for the run — a SQLite file
in a temporary folder, or, when DATABASE_URL names a PostgreSQL server, a new database on it that
is dropped afterwards — so a benchmark never touches the developer's data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


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
