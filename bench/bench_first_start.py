"""How long `make run` takes before the first page answers: first start and second start.

Each run starts `yiwang serve --demo` (what `make run` runs: migrate, the demo unless the database
holds it already, then gunicorn) in a fresh temporary data folder (SQLite) and times it until
`GET /` answers 200, stops it, starts it again on the same database and times that. Alternated
with the runs, in the same run, the references: a bare interpreter with Django set up (every
start pays it), and a bare `yiwang migrate` on a fresh database. The machine is shared and noisy:
medians of ``--runs`` rounds are what to read. ``--before REV`` adds, in each round, the first
start of the code at git revision REV (its files unpacked in a temporary folder), so a change is
measured against what it replaced under the same load.

python bench/bench_first_start.py [--runs 3] [--before REV] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchkit import write_section

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## First start (`make run`)"
INTRO = "`bench/bench_first_start.py` (see its docstring)."
SETUP_ONLY = "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()"
PHASES = {
    "identity": re.compile(r"identity: demo accounts ready in ([\d.]+) s"),
    "catalog": re.compile(r"Catalog: .* in ([\d.]+) s\."),
    "applications": re.compile(r"Applications: .* in ([\d.]+) s\."),
    "demo": re.compile(r"Demo data ready in ([\d.]+) s\."),
}


def _env(var_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # SQLite, as `make run`
    env.update(YIWANG_DEV="1", YIWANG_VAR_DIR=var_dir, WEB_CONCURRENCY="2", PYTHONUNBUFFERED="1")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(args: list[str], env: dict) -> float:
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    return time.monotonic() - started


def start_until_answer(var_dir: str, timeout: float = 600, root: Path = ROOT) -> tuple[float, str]:
    """Seconds from starting `yiwang serve --demo` until `GET /` answers 200; the output."""
    port = _free_port()
    log = Path(var_dir) / f"serve-{port}.log"
    started = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "yiwang.cli", "serve", "--demo", f"127.0.0.1:{port}"],
            cwd=root,
            env=_env(var_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the server stopped:\n{log.read_text()[-3000:]}")
                if time.monotonic() - started > timeout:
                    raise RuntimeError("no answer in time")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except OSError:
                    time.sleep(0.05)
            elapsed = time.monotonic() - started
        finally:
            server.send_signal(signal.SIGTERM)  # gunicorn's master (it replaced our child): stops its workers
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return elapsed, log.read_text()


def _phases(output: str) -> dict:
    phases = {}
    for name, pattern in PHASES.items():
        found = pattern.search(output)
        phases[name] = float(found.group(1)) if found else float("nan")
    return phases


def one_round(before: Path | None = None) -> dict:
    extra = {}
    if before is not None:
        with tempfile.TemporaryDirectory(prefix="yiwang-bench-before-") as var_dir:
            first, output = start_until_answer(var_dir, root=before)
        extra = {"before_first": first, **{f"before_{k}": v for k, v in _phases(output).items()}}
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-start-") as var_dir:
        env = _env(var_dir)
        django_setup = _timed([sys.executable, "-c", SETUP_ONLY], env)
        first, output = start_until_answer(var_dir)
        second, second_output = start_until_answer(var_dir)
        assert "up to date" in second_output, second_output[-2000:]
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-migrate-") as var_dir:
        migrate = _timed([sys.executable, "-m", "yiwang.cli", "migrate"], _env(var_dir))
    phases = _phases(output)
    return {
        "first": first,
        "second": second,
        "django_setup": django_setup,
        "migrate": migrate,
        **phases,
        **extra,
    }


def render(rounds: list[dict], before: str = "") -> str:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def each(key: str) -> str:
        return ", ".join(f"{r[key]:.1f}" for r in rounds)

    today, python = time.strftime("%Y-%m-%d"), platform.python_version()
    rows = [
        ("first `make run` (empty database) until `GET /` answers", "first", "< 30 s", True),
        ("of which the demo build (`Demo data ready in`)", "demo", "", False),
        ("· identity", "identity", "", False),
        ("· catalog", "catalog", "", False),
        ("· applications", "applications", "", False),
        ("second `make run` (demo up to date) until `GET /` answers", "second", "a few seconds", True),
        ("reference: bare `yiwang migrate` on an empty database", "migrate", "same run", False),
        ("reference: interpreter + `django.setup()`", "django_setup", "same run", False),
    ]
    if before:
        rows += [
            (
                f"reference: first `make run` of the code before (`{before}`)",
                "before_first",
                "same run",
                False,
            ),
            ("· its applications demo", "before_applications", "same run", False),
            ("· its catalog demo", "before_catalog", "same run", False),
        ]
    lines = [
        f"### SQLite, {len(rounds)} rounds ({today}, CPython {python}, {platform.machine()}, "
        f"{os.cpu_count()} cores)",
        "",
        "| measure | median | each round | limit / compared with |",
        "|---|---|---|---|",
    ]
    for label, key, limit, bold in rows:
        median = f"**{med(key):.1f} s**" if bold else f"{med(key):.1f} s"
        lines.append(f"| {label} | {median} | {each(key)} s | {limit} |")
    return "\n".join(lines)


@contextlib.contextmanager
def _checkout(rev: str):
    """The files of git revision ``rev`` in a temporary folder (``git archive``; removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="yiwang-bench-rev-") as folder:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True)  # noqa: S603, S607
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)  # noqa: S603, S607
        yield Path(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    parser.add_argument("--before", default="", help="also time the first start of this git revision")
    args = parser.parse_args()
    rounds = []
    with contextlib.ExitStack() as stack:
        before = stack.enter_context(_checkout(args.before)) if args.before else None
        for n in range(args.runs):
            rounds.append(one_round(before))
            print(f"round {n + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in rounds[-1].items()), flush=True)  # noqa: T201
    block = render(rounds, args.before)
    print(block)  # noqa: T201
    if not args.no_write:
        print(f"written to {write_section(section=SECTION, key='first-start', block=block, intro=INTRO)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
