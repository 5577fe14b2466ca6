"""OpenElections precinct files: pseudo-rows apart, defects visible, plurality and totals exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.errors import InputError
from pipelines.gate.openelections import (
    Choice,
    Contest,
    candidate_variants,
    contest_results,
    county_totals,
    parse_openelections,
    parse_openelections_text,
    reported_total_mismatches,
    state_totals,
)

BASIC = """county,precinct,office,district,party,candidate,votes
Adams,P1,Governor,,DEM,Ann Smith,120
Adams,P1,Governor,,REP,Bob Jones,100
Adams,P2,Governor,,DEM,Ann Smith,30
Adams,P2,Governor,,REP,Bob Jones,80
Adams,P1,Governor,,,Over Votes,3
Adams,P1,Governor,,,Under Votes,11
Adams,P1,Registered Voters,,,,400
Adams,P1,Ballots Cast,,,,235
Adams,Total,Governor,,DEM,Ann Smith,150
Adams,,Governor,,REP,Bob Jones,181
Baker,B1,Governor,,DEM,Ann Smith,10
Baker,B1,Governor,,REP,Bob Jones,10
Baker,B1,Governor,,,Total,20
Baker,B1,State House,5,DEM,Carl Lee,9
Baker,B1,State House,5,REP,Dora Kim,11
Baker,B2,State House,,REP,Dora Kim,4
Baker,B2,State House,6,REP,Eve Post,
Baker,B2,State House,6,REP,Eve Post,7
Baker,B2,State House,6,REP,Eve Post,7
Baker,B2,U.S Senate,,DEM,Fay Rho,5
Baker,B2,U.S. Senate,,DEM,Fay Rho,6
"""


def test_pseudo_rows_are_kept_apart_and_never_counted() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    kinds = sorted(p.kind for p in parsed.pseudo_rows)
    assert kinds == [
        "ballots_cast",
        "contest_total",
        "county_total",
        "county_total",
        "over_votes",
        "registered_voters",
        "under_votes",
    ]
    assert all(r.choice.candidate not in {"Over Votes", "Under Votes", "Total", ""} for r in parsed.rows)
    assert all(r.precinct not in {"Total", ""} for r in parsed.rows)


def test_plurality_winner_and_tie() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    results = {r.contest: r for r in contest_results(parsed)}
    governor = results[Contest("Governor", "")]
    # Adams 150 + 180 (pseudo rows excluded), Baker 10 + 10
    assert [(c.choice.candidate, c.votes) for c in governor.ranking] == [
        ("Bob Jones", 190),
        ("Ann Smith", 160),
    ]
    assert governor.winners == (Choice("Bob Jones", "REP"),) and not governor.tied
    tie = parse_openelections_text(
        "county,precinct,office,district,party,candidate,votes\nA,1,Mayor,,X,Al,5\nA,2,Mayor,,Y,Bo,5\n"
    )
    (mayor,) = contest_results(tie)
    assert mayor.tied and {c.candidate for c in mayor.winners} == {"Al", "Bo"}


def test_totals_by_county_and_state() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    governor, ann = Contest("Governor", ""), Choice("Ann Smith", "DEM")
    by_county = county_totals(parsed)
    assert by_county[("Adams", governor, ann)] == 150
    assert by_county[("Baker", governor, ann)] == 10
    assert state_totals(parsed)[(governor, ann)] == 160


def test_defects_are_reported_with_line_column_rule_and_value() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    problems = {(p.line, p.column, p.counted) for p in parsed.problems}
    assert (17, "district", False) in problems  # State House without district where it has districts
    assert (18, "votes", False) in problems  # votes missing
    assert (20, "candidate", False) in problems  # the same choice twice in one precinct
    text = parsed.problems[0].describe("basic.csv")
    assert "basic.csv" in text and "row" in text and "rule" in text
    house = {r.contest for r in parsed.rows if r.contest.office == "State House"}
    assert house == {Contest("State House", "5"), Contest("State House", "6")}


def test_office_spelling_variants_are_reported_not_merged() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    (variant,) = parsed.office_variants
    assert {s for s, _ in variant.spellings} == {"U.S Senate", "U.S. Senate"}
    results = {r.contest for r in contest_results(parsed)}
    assert Contest("U.S Senate", "") in results and Contest("U.S. Senate", "") in results


def test_candidate_spelling_variants_within_a_contest() -> None:
    parsed = parse_openelections_text(
        "county,precinct,office,district,party,candidate,votes\n"
        "A,1,President,,REP,Donald J. Trump,5\n"
        "A,2,President,,REP,Donald Trump,4\n"
        "A,2,President,,DEM,Ann Lee,4\n"
    )
    (variant,) = candidate_variants(parsed)[Contest("President", "")]
    assert {s for s, _ in variant.spellings} == {"Donald J. Trump", "Donald Trump"}


def test_vote_mode_columns_are_read_and_checked() -> None:
    parsed = parse_openelections_text(
        "county,precinct,office,district,party,candidate,votes,early_voting,election_day,absentee,provisional\n"
        "A,1,Governor,,D,Al,10,2,6,1,1\n"
        "A,1,Governor,,R,Bo,9,2,6,1,1\n"
    )
    assert parsed.vote_modes == ("early_voting", "election_day", "absentee", "provisional")
    assert dict(parsed.rows[0].modes) == {
        "early_voting": 2,
        "election_day": 6,
        "absentee": 1,
        "provisional": 1,
    }
    ((line, rule, counted),) = {(p.line, p.rule, p.counted) for p in parsed.problems}
    assert (line, rule, counted) == (3, "vote modes add up to votes", True)


def test_reported_county_totals_are_cross_checked() -> None:
    parsed = parse_openelections_text(BASIC, file="basic.csv")
    mismatches = reported_total_mismatches(parsed)
    assert len(mismatches) == 1 and "Bob Jones" in mismatches[0] and "181" in mismatches[0]


def test_columns_in_any_order_and_quoted_precincts(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        'county,precinct,office,district,candidate,party,votes\nC,"EDEN, PHIPPS",Governor,,Al,D,3\n',
        encoding="utf-8",
    )
    parsed = parse_openelections(path)
    assert parsed.rows[0].precinct == "EDEN, PHIPPS" and parsed.rows[0].choice == Choice("Al", "D")


def test_a_file_of_another_format_is_a_plain_input_error(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("election_id,precinct_id,votes\nx,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"other\.csv.*county"):
        parse_openelections(path)
