"""`elections reconcile` on a small real warehouse: a summary that agrees, a changed figure, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli.main import main
from pipelines.core.errors import EXIT_BAD_INPUT, EXIT_DIFFERENCES, EXIT_OK
from tests.support.small_election import precinct_ids, protocol, write_declaration, write_protocols

# Six of twelve declared precincts report (1000 registered voters each), 20 invalid ballots in each:
# P001 and P004 are in the north. Seats by hand (98 list seats, 7% of 3480 valid votes, Hare among
# alpha, beta, gamma: quota 3360/98, quotients 69.56, 17.94, 10.5, remainders to beta then alpha).
AGREEING = """scope,region,measure,list,value,note
national,,precincts,,12,declared polling stations
national,,registered_voters,,12000,
national,,ballots_cast,,3600,
national,,invalid_ballots,,120,
national,,against_all,,0,
national,,votes,alpha,2385,
national,,votes,Beta,615,by name
national,,votes,gamma,360,
national,,votes,delta,120,
national,,seats,alpha,70,
national,,seats,beta,18,
national,,seats,gamma,10,
national,,seats,delta,0,
region,North,registered_voters,,4000,by name
region,north,ballots_cast,,1200,
region,north,votes,alpha,797,400 + 397
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reconcile")
    rows = [protocol(pid, (400 - i, 100 + i, 60, 20)) for i, pid in enumerate(precinct_ids(6))]
    write_declaration(folder / "inbox")
    write_protocols(folder / "inbox", "batch.csv", rows)
    assert main(["ingest", str(folder / "inbox"), "--warehouse", str(folder / "warehouse")]) == EXIT_OK
    return folder / "warehouse"


def reconcile(warehouse: Path, summary: Path, *options: str) -> int:
    return main(["reconcile", str(summary), "--warehouse", str(warehouse), *options])


def test_a_summary_that_agrees_exits_0_and_names_the_seat_table_compared(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "official.csv"
    summary.write_text(AGREEING, encoding="utf-8")
    assert reconcile(warehouse, summary) == EXIT_OK
    out = capsys.readouterr().out
    assert "all 16 figures agree" in out
    assert "seats: the provisional seat table in force (test-mazhilis--provisional--" in out
    # As of a position past the head the log is counted instead, and the seats computed: the same figures.
    assert reconcile(warehouse, summary, "--as-of", "1000000") == EXIT_OK
    assert "seats: computed as of log position 1000000 under rules" in capsys.readouterr().out


def test_a_changed_figure_exits_1_with_both_figures(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "official.csv"
    summary.write_text(
        AGREEING.replace("region,north,ballots_cast,,1200", "region,north,ballots_cast,,1250").replace(
            "national,,seats,beta,18", "national,,seats,beta,17"
        ),
        encoding="utf-8",
    )
    assert reconcile(warehouse, summary, "--format", "csv") == EXIT_DIFFERENCES
    assert capsys.readouterr().out.splitlines() == [
        "row,area,measure,list,summary,warehouse,difference",
        "12,national,seats,Beta (beta),17,18,-1",
        "16,North (north),ballots_cast,,1250,1200,50",
    ]
    assert reconcile(warehouse, summary) == EXIT_DIFFERENCES
    assert "2 of 16 figures differ" in capsys.readouterr().out


def test_a_malformed_summary_exits_2_naming_file_row_column_and_value(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "official.csv"
    summary.write_text(
        AGREEING.replace("national,,votes,gamma,360", "national,,votes,gamma,36O"), encoding="utf-8"
    )
    assert reconcile(warehouse, summary) == EXIT_BAD_INPUT
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: file {summary}, row 9, column 'value': must be a whole number")
    assert line.endswith("[rule: integer] [value: '36O']")
