"""The store's command line as a user runs it: ingest, seats, verify, rebuild, sql."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_QUARANTINED
from pipelines.core.paths import WarehousePaths
from tests.support.small_election import precinct_ids, protocol, write_declaration, write_protocols

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    rows = [protocol(pid, (400 - i, 100 + i, 60, 20)) for i, pid in enumerate(precinct_ids(6))]
    write_declaration(folder / "inbox")
    write_protocols(folder / "inbox", "batch.csv", rows)
    warehouse = folder / "warehouse"
    assert main(["ingest", str(folder / "inbox"), "--warehouse", str(warehouse)]) == 0
    return warehouse


def test_ingest_prints_counts_and_seats_prints_the_table(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seats", "--warehouse", str(loaded), "--format", "json"]) == 0
    seats = json.loads(capsys.readouterr().out)
    assert sum(s["seats"] for s in seats) == 98
    assert [s["list_id"] for s in seats] == ["alpha", "beta", "gamma", "delta"]


def test_seats_projection_prints_an_estimate_labelled_as_such(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 6 of 12 precincts reported, every region's half: the projection is read from the snapshot like the
    # table, labelled above and below, and its json records each say what they are.
    assert main(["seats", "--warehouse", str(loaded), "--projection", "--replicates", "50"]) == 0
    out = capsys.readouterr().out
    projection = out.split(
        "PROJECTION, NOT A RESULT: estimated final seats from 6 of 12 precinct(s) reported", 1
    )[1]
    assert "(50.00% of registered voters), stratified by 3 region(s)" in projection
    assert "90% interval from 50 bootstrap replicates" in projection
    assert projection.rstrip().endswith("projection, not a result: only the count decides seats")
    assert (
        main(["seats", "--warehouse", str(loaded), "--projection", "--replicates", "50", "--format", "json"])
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [r["list_id"] for r in records] == ["alpha", "beta", "gamma", "delta"]
    assert {r["label"] for r in records} == {"projection, not a result"}
    assert sum(r["projected_seats"] for r in records) == 98
    assert all(r["interval_low"] <= r["projected_seats"] <= r["interval_high"] for r in records)


def test_seats_prints_what_the_outstanding_precincts_can_still_change(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 6 of the 12 declared precincts reported (1,000 registered voters each): the bounds are read from
    # the snapshot as of the table's position and contain the table's seats.
    assert main(["seats", "--warehouse", str(loaded)]) == 0
    out = capsys.readouterr().out
    assert "Certainty bounds (provisional): 6 precinct(s) outstanding, at most 6,000 more ballot(s)" in out
    table, bounds = out.split("Certainty bounds", 1)
    seats = {
        line.split()[1]: int(line.split()[-1]) for line in table.splitlines() if line[:12].strip().isdigit()
    }
    intervals = {
        line.split()[0]: (int(line.split()[-2]), int(line.split()[-1]))
        for line in bounds.splitlines()
        if line.split() and line.split()[0] in seats
    }
    assert intervals.keys() == seats.keys()
    assert all(low <= seats[i] <= high for i, (low, high) in intervals.items())
    decided = sum(low for low, _ in intervals.values())
    assert f"decided: {decided} of 98 seats" in out


def test_seats_says_whether_the_quarantine_could_change_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [protocol(pid, (400 - i, 100 + i, 60, 20)) for i, pid in enumerate(precinct_ids(6))]
    write_declaration(tmp_path / "inbox")
    write_protocols(tmp_path / "inbox", "batch.csv", rows)
    warehouse = str(tmp_path / "warehouse")
    assert main(["ingest", str(tmp_path / "inbox"), "--warehouse", warehouse]) == 0
    bad = protocol("P007", (400, 100, 60, 20))
    bad["beta"] = -5
    assert main(["ingest", str(write_protocols(tmp_path, "bad.csv", [bad])), "--warehouse", warehouse]) == 4
    capsys.readouterr()
    assert main(["seats", "--warehouse", warehouse]) == 0
    # P007's 1,000 registered voters, all on one list, move seats among 3,480 counted votes
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 1
    assert warnings[0].endswith(
        "naming 1 precinct(s) of 1,000 registered voters: once corrected, they could change the seat "
        "table, e.g. the precincts at stake: 1,000 to alpha."
    )


def test_sql_reads_and_refuses_writes(loaded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "sql",
                "SELECT count(*) AS n FROM proj_precinct_results",
                "--warehouse",
                str(loaded),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip().splitlines() == ["n", "6"]
    assert main(["sql", "DELETE FROM events", "--warehouse", str(loaded)]) == 2
    assert "read-only" in capsys.readouterr().err


def test_quarantine_lists_each_bad_row_and_the_whole_file_policy_keeps_them(
    loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = protocol("P002", (400, 100, 60, 20), version=2, reason="recount")
    bad["beta"] = -5
    good = protocol("P003", (380, 120, 60, 20), version=2, reason="recount")
    path = write_protocols(tmp_path, "amendments.csv", [good, bad])
    assert main(["ingest", str(path), "--policy", "file", "--warehouse", str(loaded)]) == EXIT_QUARANTINED
    out = capsys.readouterr().out
    assert "quarantined        amendments.csv" in out
    assert "amendments.csv row 3 column 'beta'" in out
    assert main(["quarantine", "--warehouse", str(loaded), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {(q["file_name"], q["row_number"], q["column_name"]) for q in listed} >= {
        ("amendments.csv", 3, "beta")
    }
    assert any(q["row_number"] is None and q["rule"] == "rows_rejected_under_file_policy" for q in listed)
    # The good amendment in the refused file did not count.
    assert (
        main(
            [
                "sql",
                "SELECT protocol_version FROM proj_precinct_results WHERE precinct_id = 'P003'",
                "--warehouse",
                str(loaded),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.split() == ["protocol_version", "1"]


def test_rebuild_prints_checksums_that_do_not_change(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rebuild", "--warehouse", str(loaded)]) == 0
    first = capsys.readouterr().out.splitlines()[1:]
    assert main(["rebuild", "--warehouse", str(loaded)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1:] == first
    assert "rebuild: done, 3/3 steps (100%)" in captured.err  # its progress, on stderr (not a terminal)
    assert any(line.endswith("proj_precinct_results") for line in first)


def test_sql_answers_while_an_ingest_holds_the_writer(loaded: Path, tmp_path: Path) -> None:
    rows = [protocol(pid) for pid in precinct_ids(1500)[6:]]
    write_declaration(tmp_path / "big", 1500, election_id="second-election")
    big = write_protocols(
        tmp_path / "big", "big.csv", [{**r, "election_id": "second-election"} for r in rows]
    )
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli.main",
            "ingest",
            str(tmp_path / "big" / "second-election.election.json"),
            str(big),
            "--warehouse",
            str(loaded),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    answered = 0
    try:
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            with duckdb.connect(str(WarehousePaths(loaded).snapshot), read_only=True) as conn:
                answered += conn.execute("SELECT count(*) FROM events").fetchall()[0][0] > 0
            time.sleep(0.2)
    finally:
        assert writer.wait(timeout=120) == 0
    assert answered > 0


def test_verify_names_the_altered_event(
    loaded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "tampered"
    shutil.copytree(loaded, copy)
    database = WarehousePaths(copy).database
    assert main(["verify", "--warehouse", str(copy)]) == 0
    assert "intact" in capsys.readouterr().out
    with duckdb.connect(str(database)) as conn:
        target = conn.execute("SELECT min(position) FROM protocol_facts").fetchall()[0][0]
        conn.execute(
            "UPDATE protocol_votes SET votes = votes + 1000 WHERE position = ? AND list_id = 'beta'", [target]
        )
    assert main(["verify", "--warehouse", str(copy)]) == 1
    assert f"TAMPERED at position {target}" in capsys.readouterr().out
