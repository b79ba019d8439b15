"""Run every benchmark in bench/ one after another (each prints a markdown table).

python bench/run_all.py            # SQLite in a temporary file
DATABASE_URL=postgres://... python bench/run_all.py
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n## {script.stem}\n", flush=True)
        failures += subprocess.call([sys.executable, str(script), *sys.argv[1:]]) != 0  # noqa: S603
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
