"""The NIST export as a pure function of a publication's results: valid for any declared text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from pipelines.publishing.nist_cdf import election_report, report_bytes
from pipelines.publishing.nist_schema import validation_errors
from pipelines.publishing.precinct_figures import PrecinctFigures
from pipelines.publishing.published_results import TOTAL_FIELDS, AreaTotals, ListInfo, PublishedResults

LISTS = ("a", "b")
PRECINCT_IDS = ("p1", '"x"', "0" * 32 + "-0", "п<4>")  # the third looks like a deferred-item marker


def results(*, election_date: str = "2021-01-10", precincts: bool = True) -> PublishedResults:
    figures = dict.fromkeys(TOTAL_FIELDS, 0)
    figures.update(precincts_expected=len(PRECINCT_IDS), precincts_reported=len(PRECINCT_IDS))
    region = AreaTotals("r", "R", figures, {"a": 40, "b": 20})
    lists = [ListInfo(lid, lid.upper(), order, None) for order, lid in enumerate(LISTS, 1)]
    rows = [PrecinctFigures(pid, "r", "reported", 100, 60, 0, 0, {"a": 10, "b": 5}) for pid in PRECINCT_IDS]
    return PublishedResults(
        publication_id="e--provisional--000000002",
        election_id="e",
        election_name="E",
        election_date=election_date,
        status="provisional",
        position=3,
        based_on_position=2,
        based_on_hash="0" * 64,
        published_at=datetime(2021, 1, 11, 3, 4, 5, tzinfo=UTC),
        rule_profile="kz-mazhilis-2021",
        rules={},
        table_sha256="0" * 64,
        allocation=[{"list_id": "a", "seats": 2, "vacant_seats": 0}, {"list_id": "b", "seats": 1}],
        allocation_inputs={},
        explanation=[],
        lists=lists,
        national=replace(region, region_id=None, name="E"),
        regions=[region],
        history=[],
        synthetic=False,
        precincts=rows if precincts else None,
    )


@pytest.mark.parametrize("declared", ["", "next Sunday", "2021-02-30", "2021-1-10"])
def test_an_election_without_a_calendar_date_still_exports_validly_and_says_why(declared: str) -> None:
    report = election_report(results(election_date=declared))
    assert validation_errors(report) == []
    assert report["Election"][0]["StartDate"] == report["Election"][0]["EndDate"] == "2021-01-11"
    assert "no calendar date" in report["Notes"]


def test_a_declared_date_is_the_elections_date() -> None:
    report = election_report(results())
    assert report["Election"][0]["StartDate"] == "2021-01-10"
    assert "no calendar date" not in report["Notes"]


def test_precinct_items_written_one_by_one_equal_the_whole_document() -> None:
    whole = json.dumps(election_report(results()), ensure_ascii=False, separators=(",", ":")) + "\n"
    assert report_bytes(results()) == whole.encode("utf-8")
    assert validation_errors(json.loads(whole)) == []


def test_the_national_export_is_indented_and_lists_no_precinct() -> None:
    data = report_bytes(results(precincts=False))
    assert data.startswith(b"{\n  ")
    report = json.loads(data)
    assert report["Format"] == "summary-contest"
    assert {u["Type"] for u in report["GpUnit"]} == {"country", "other"}
