"""The GX side of the gate: Data Docs, quiet logs, anomalies that never block, and speed."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import time
from pathlib import Path

from pipelines.gate.gx_runtime import build_data_docs, gx_context
from pipelines.gate.validation import ReportedProtocol, validate_file
from tests.integration.validation_support import HEADER, csv_text, declaration, good_row, write

ELECTION = declaration()


def test_data_docs_are_built_for_every_run(tmp_path: Path) -> None:
    docs = tmp_path / "warehouse" / "data_docs"
    first_rows = [good_row("P-001"), good_row("P-002", amanat="1"), good_row("P-004", ak_zhol="l50")]
    first = write(tmp_path / "first.csv", csv_text(first_rows))
    second = write(tmp_path / "second.csv", csv_text([good_row("P-003")]))
    one = validate_file(first, display_name="first.csv", election=ELECTION, reported={}, data_docs_dir=docs)
    two = validate_file(second, display_name="second.csv", election=ELECTION, reported={}, data_docs_dir=docs)
    assert one.data_docs == two.data_docs == docs / "index.html"
    # The site is rendered once per ingest run, not per file.
    assert not (docs / "index.html").exists()
    assert build_data_docs(docs) == docs / "index.html"
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "first.csv" in index and "second.csv" in index
    pages = sorted((docs / "validations").rglob("*.html"))
    assert len(pages) == 2
    failed_page = next(p for p in pages if "first.csv" in str(p)).read_text(encoding="utf-8")
    assert "expect_column_pair_values_to_be_equal" in failed_page or "d__sum_of_parts" in failed_page
    # The file's two GX runs (row frame, cell frame) are on its one page: the cell rule shows its cell.
    assert "required_text" in failed_page and "l50" in failed_page and "ak_zhol" in failed_page
    assert {(r.row, r.rule, r.column) for r in one.rejections} == {
        (3, "does_not_add_up", "ballots_cast"),
        (4, "not_a_whole_number", "ak_zhol"),
    }


def test_no_docs_without_a_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", csv_text([good_row("P-001")]))
    assert validate_file(path, display_name="a.csv", election=ELECTION, reported={}).data_docs is None


QUIET_CHECK = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
import duckdb  # loaded before GX, as the pipeline does: its bindings report at exit what was not collected
from pipelines.gate.validation import validate_file
from tests.integration.validation_support import csv_text, declaration, good_row, write
path = write(Path(sys.argv[1]) / "a.csv", csv_text([good_row("P-001"), good_row("P-002", ak_zhol="x")]))
outcome = validate_file(path, display_name="a.csv", election=declaration(), reported={},
                        data_docs_dir=Path(sys.argv[1]) / "docs")
logging.getLogger("pipelines").info("validated")
print(len(outcome.rejections))
"""


def test_gx_is_quiet_in_a_fresh_process_that_logs_at_info(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", QUIET_CHECK, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "1\n"
    # INFO logging works in that process, but nothing of GX's (no "Skipping registering function",
    # no progress bar) reaches it, nor a leak report of DuckDB's at exit (GX's import is frozen out of
    # the cyclic collector, and thawed at exit).
    assert done.stderr.strip() == "INFO:pipelines:validated"


def test_progress_bars_are_off_in_the_context() -> None:
    assert gx_context().progress_bars.globally is False
    assert logging.getLogger("great_expectations").getEffectiveLevel() >= logging.WARNING


def test_anomalies_are_flagged_but_never_block(tmp_path: Path) -> None:
    header = (*HEADER, "version", "reason")
    rows = [
        good_row("P-001", registered_voters="600", ballots_issued="600"),  # 100% turnout
        good_row("P-002", invalid_ballots="70", amanat="340"),  # 11.7% invalid
        good_row("P-003", amanat="580", ak_zhol="5", auyl="5"),  # 98.3% for one list
        good_row("P-004", version="2", reason="recount", amanat="300", ak_zhol="250"),  # amanat 400 -> 300
    ]
    reported = {"P-004": ReportedProtocol(1, {"amanat": 400, "ak_zhol": 150, "auyl": 40})}
    path = write(tmp_path / "a.csv", csv_text(rows, header))
    outcome = validate_file(path, display_name="a.csv", election=ELECTION, reported=reported)
    assert outcome.rejections == [] and len(outcome.accepted) == 4
    found = {(a.row, a.precinct_id, a.kind) for a in outcome.anomalies}
    assert found == {
        (2, "P-001", "turnout_100"),
        (3, "P-002", "invalid_share_high"),
        (4, "P-003", "dominant_list"),
        (5, "P-004", "amendment_change"),
    }
    assert all(a.file == "a.csv" and a.detail for a in outcome.anomalies)


def test_anomalies_only_for_accepted_rows(tmp_path: Path) -> None:
    rows = [good_row("P-001", registered_voters="600", ballots_issued="600", amanat="1")]
    path = write(tmp_path / "a.csv", csv_text(rows))
    outcome = validate_file(path, display_name="a.csv", election=ELECTION, reported={})
    assert outcome.anomalies == [] and outcome.accepted.empty


def test_ten_thousand_rows_with_twenty_lists_in_one_suite_run(tmp_path: Path) -> None:
    lists = [f"list{i:02d}" for i in range(20)]
    precincts = {f"P{i:05d}": (f"r{i % 17}", 3000) for i in range(10_000)}
    election = declaration(lists=lists, precincts=precincts)
    rng = random.Random(5)
    header = [
        "election_id",
        "precinct_id",
        "region",
        "registered_voters",
        "ballots_cast",
        "invalid_ballots",
        *lists,
    ]
    lines, broken = [",".join(header)], set()
    for line, (precinct, (region, voters)) in enumerate(precincts.items(), start=2):
        votes = [rng.randint(0, 60) for _ in lists]
        invalid = rng.randint(0, 30)
        cast = sum(votes) + invalid
        if rng.random() < 0.01:
            cast += 1
            broken.add(line)
        lines.append(
            ",".join(["test-2021", precinct, region, str(voters), str(cast), str(invalid), *map(str, votes)])
        )
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gx_context()
    start = time.perf_counter()
    outcome = validate_file(path, display_name="big.csv", election=election, reported={})
    elapsed = time.perf_counter() - start
    assert {r.row for r in outcome.rejections} == broken
    assert {r.rule for r in outcome.rejections} == {"does_not_add_up"}
    assert len(outcome.accepted) == 10_000 - len(broken)
    assert elapsed < 60, f"10,000 rows took {elapsed:.1f}s"
