"""The fast gate finds what GX finds on every cell: distinct cells, two-pass results, partial declarations."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.domain.election import ElectionDeclaration
from pipelines.gate import gx_runtime
from pipelines.gate.expectation_suites import cell_suite
from pipelines.gate.gx_runtime import FrameCheck, build_data_docs, run_suite
from pipelines.gate.validation import ReportedProtocol, validate_file
from tests.integration.validation_support import HEADER, LISTS, csv_text, declaration, good_row, write

ELECTION = declaration()
CELL_RULES = {"not_a_whole_number", "negative_count", "count_too_large", "formula_in_text"}
# Cell texts that pass or break the cell rules, several times each so that rows share them.
COUNT_TEXTS = ["0", "7", "400", "-3", "x", "1.5", "", "+2", "99999999", "l50"]
TEXT_CELLS = ["P-001", "=SUM(A1)", "@x", "north", "-north"]


def every_cell_frame(path: Path, optional: tuple[str, ...]) -> pd.DataFrame:
    """The cell frame before distinct cells: one record per file row and column (the reference)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    counts = ["registered_voters", "ballots_cast", "invalid_ballots", *LISTS]
    texts = ["election_id", "precinct_id", "region", *(["reason"] if "reason" in raw else [])]
    records = []
    for index, row in raw.iterrows():
        for column in (*counts, *optional, *texts):
            text = row[column].strip()
            parsed = float(text) if text.lstrip("+-").isdigit() else np.nan
            if column == "ballots_issued" and text == "":
                cast = row["ballots_cast"].strip()
                parsed = float(cast) if cast.lstrip("+-").isdigit() else np.nan
            records.append(
                {
                    "row": index + 2,
                    "column": column,
                    "required_text": text if column in counts else None,
                    "optional_text": text if column in optional else None,
                    "free_text": text if column in texts else None,
                    "count": parsed if column in (*counts, "ballots_issued", "against_all") else np.nan,
                }
            )
    return pd.DataFrame(records)


@pytest.mark.parametrize("seed", range(6))
def test_cell_rejections_are_those_of_gx_on_every_cell(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    header = (*HEADER, "against_all")
    rows = []
    for number in range(60):
        row = good_row(f"P-{number:03d}")
        for column in ("registered_voters", "ballots_issued", "ballots_cast", "amanat", "against_all"):
            if rng.random() < 0.3:
                row[column] = rng.choice(COUNT_TEXTS)
        if rng.random() < 0.2:
            row["precinct_id"] = rng.choice(TEXT_CELLS)
        rows.append(row)
    path = write(tmp_path / "a.csv", csv_text(rows, header))
    outcome = validate_file(path, display_name="a.csv", election=ELECTION, reported={})
    found = {(r.row, r.column, r.rule) for r in outcome.rejections if r.rule in CELL_RULES}

    frame = every_cell_frame(path, ("ballots_issued", "against_all"))
    run = run_suite(
        [FrameCheck(frame, cell_suite("protocol-v1"), ("row", "column"))],
        suite_name="reference",
        parameters={"count_cap": 10_000_000},
        run_name="reference",
    )
    expected = {
        (row, spec.column_for(column), spec.rule)
        for failure in run.failures
        for spec in [failure.spec]
        for row, column in zip(failure.rows, failure.columns, strict=True)
    }
    assert expected, "the random file should break some cell rule"
    assert found == expected


def test_a_bad_value_shared_by_many_rows_rejects_each_of_them(tmp_path: Path) -> None:
    rows = [good_row(f"P-{n:03d}", ak_zhol="l50" if n % 3 == 0 else "150") for n in range(1, 31)]
    path = write(tmp_path / "a.csv", csv_text(rows))
    outcome = validate_file(path, display_name="a.csv", election=ELECTION, reported={})
    bad = [
        (r.row, r.column, r.value, r.precinct_id)
        for r in outcome.rejections
        if r.rule == "not_a_whole_number"
    ]
    assert bad == [(n + 1, "ak_zhol", "l50", f"P-{n:03d}") for n in range(3, 31, 3)]


def test_an_empty_ballots_issued_takes_its_rows_ballots_cast(tmp_path: Path) -> None:
    # Same text "" in both rows, but the count it stands for differs: only row 3's is negative.
    rows = [
        good_row("P-001", ballots_issued=""),
        good_row("P-002", ballots_issued="", ballots_cast="-5"),
    ]
    path = write(tmp_path / "a.csv", csv_text(rows))
    outcome = validate_file(path, display_name="a.csv", election=ELECTION, reported={})
    negative = {(r.row, r.column) for r in outcome.rejections if r.rule == "negative_count"}
    assert negative == {(3, "ballots_cast"), (3, "ballots_issued")}
    assert list(outcome.accepted["precinct_id"]) == ["P-001"]


def partial(election: ElectionDeclaration, precinct_ids: list[str]) -> ElectionDeclaration:
    return election.with_precincts(election.precinct_table().subset(precinct_ids))


@pytest.mark.parametrize("spare", [0, 50])
def test_a_declaration_of_only_the_files_precincts_gives_the_same_outcome(tmp_path: Path, spare: int) -> None:
    precincts = {f"P-{n:03d}": ("north" if n % 2 else "south", 1000) for n in range(1, 61)}
    full = declaration(precincts=precincts)
    rows = [good_row("P-001", region="north"), good_row("P-002", region="north"), good_row("P-777")]
    rows.append(good_row("P-004", region="south", version="2", reason="recount"))
    header = (*HEADER, "version", "reason")
    path = write(tmp_path / "a.csv", csv_text(rows, header))
    reported = {"P-004": ReportedProtocol(1, {"amanat": 400, "ak_zhol": 150, "auyl": 40})}
    named = ["P-001", "P-002", "P-004", *(f"P-{n:03d}" for n in range(10, 10 + spare))]
    whole = validate_file(path, display_name="a.csv", election=full, reported=reported)
    part = validate_file(path, display_name="a.csv", election=partial(full, named), reported=reported)
    assert part.rejections == whole.rejections
    assert {(r.row, r.rule) for r in part.rejections} == {(3, "region_mismatch"), (4, "unknown_precinct")}
    pd.testing.assert_frame_equal(part.accepted, whole.accepted)


def test_clean_results_are_kept_without_lists_and_failed_ones_with_them(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    rows = [good_row("P-001"), good_row("P-002", amanat="1")]
    path = write(tmp_path / "a.csv", csv_text(rows))
    validate_file(path, display_name="a.csv", election=ELECTION, reported={}, data_docs_dir=docs)
    store = gx_runtime.gx_context(docs).validation_results_store
    (key,) = store.list_keys()
    outcomes = store.get(key).results
    failed = [o for o in outcomes if not o.success]
    assert [o.expectation_config.meta["rule"] for o in failed] == ["does_not_add_up"]
    assert [item["record"] for item in failed[0].result["unexpected_index_list"]] == [3]
    assert all("unexpected_index_list" not in o.result for o in outcomes if o.success)


def test_build_data_docs_renders_what_other_processes_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    assert build_data_docs(docs) is None
    path = write(tmp_path / "a.csv", csv_text([good_row("P-001")]))
    validate_file(path, display_name="a.csv", election=ELECTION, reported={}, data_docs_dir=docs)
    # As if another process had stored the result: this one has nothing left to render.
    monkeypatch.setattr(gx_runtime, "_unrendered", {})
    index = build_data_docs(docs)
    assert index == docs / "index.html" and "a.csv" in index.read_text(encoding="utf-8")
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 1
    before = pages[0].stat().st_mtime_ns
    assert build_data_docs(docs) == index
    assert pages[0].stat().st_mtime_ns == before  # rendered once, not again
