"""The shipped commission summaries say what the official history files say, figure for figure."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.core.paths import REPO_ROOT
from pipelines.gate.reconcile_summary import read_summary

HISTORY = REPO_ROOT / "schemas" / "history"
SUMMARIES = sorted((REPO_ROOT / "schemas" / "reconcile").glob("*.csv"))
# Summary measure -> column of kz_mazhilis_elections.csv.
ELECTION_COLUMNS = {
    "precincts": "polling_stations",
    "registered_voters": "registered_voters",
    "ballots_cast": "ballots_cast",
    "invalid_ballots": "invalid_ballots",
    "against_all": "against_all",
}


def official(election_id: str) -> dict[tuple[str, str | None], int]:
    with (HISTORY / "kz_mazhilis_elections.csv").open(encoding="utf-8") as file:
        (election,) = [row for row in csv.DictReader(file) if row["election_id"] == election_id]
    figures: dict[tuple[str, str | None], int] = {
        (measure, None): int(election[column])
        for measure, column in ELECTION_COLUMNS.items()
        if election[column]
    }
    with (HISTORY / "kz_mazhilis_results.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["election_id"] == election_id:
                figures[("votes", row["party_lineage"])] = int(row["votes"])
                figures[("seats", row["party_lineage"])] = int(row["official_list_seats"])
    return figures


@pytest.mark.parametrize("path", SUMMARIES, ids=[p.stem for p in SUMMARIES])
def test_a_shipped_summary_is_every_official_national_figure_of_its_election(path: Path) -> None:
    summary = read_summary(path)
    assert all(figure.scope == "national" for figure in summary)
    assert {(f.measure, f.list): f.value for f in summary} == official(path.stem)


def test_the_2021_and_2023_summaries_ship() -> None:
    assert [p.stem for p in SUMMARIES] == ["kz-mazhilis-2021", "kz-mazhilis-2023"]
