"""bench/benchkit.write_section: every benchmark writes its figures into docs/benchmarks.md the
same way, replacing its last run and nothing else."""

import importlib.util
from pathlib import Path

import pytest

BENCHKIT = Path(__file__).resolve().parents[3] / "bench" / "benchkit.py"


@pytest.fixture(scope="module")
def benchkit():
    spec = importlib.util.spec_from_file_location("benchkit", BENCHKIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOC = """# Benchmarks

## Wallet

Hand-written intro.

<!-- wallet:sqlite -->
old sqlite figures
<!-- /wallet:sqlite -->

A note after the figures.

## Audit log

<!-- audit:sqlite -->
audit figures
<!-- /audit:sqlite -->
"""


def test_a_run_replaces_its_own_figures_and_nothing_else(benchkit, tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC, encoding="utf-8")
    benchkit.write_section(section="## Wallet", key="wallet:sqlite", block="new\n", intro="-", path=doc)
    assert doc.read_text(encoding="utf-8") == DOC.replace("old sqlite figures", "new")


def test_a_first_run_on_another_database_goes_at_the_end_of_its_section(benchkit, tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC, encoding="utf-8")
    benchkit.write_section(section="## Wallet", key="wallet:postgresql", block="pg", intro="-", path=doc)
    text = doc.read_text(encoding="utf-8")
    assert text.replace("<!-- wallet:postgresql -->\npg\n<!-- /wallet:postgresql -->\n\n", "") == DOC
    assert text.index("A note after") < text.index("wallet:postgresql") < text.index("## Audit log")


def test_a_missing_section_is_added_at_the_end_with_its_intro(benchkit, tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC, encoding="utf-8")
    benchkit.write_section(section="## Seals", key="seals:sqlite", block="s", intro="Run it.", path=doc)
    assert doc.read_text(encoding="utf-8") == (
        DOC + "\n## Seals\n\nRun it.\n\n<!-- seals:sqlite -->\ns\n<!-- /seals:sqlite -->\n"
    )
    benchkit.write_section(section="## Seals", key="seals:sqlite", block="t", intro="Run it.", path=doc)
    assert doc.read_text(encoding="utf-8").count("## Seals") == 1
    assert "<!-- seals:sqlite -->\nt\n<!-- /seals:sqlite -->\n" in doc.read_text(encoding="utf-8")
