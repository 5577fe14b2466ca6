"""GX's Expectation kwargs read once per call (pipelines.gx_runtime): the gate's stored results and
rejections are the same as with GX's own methods, on a file that breaks row and cell rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.gx_runtime import REPLACED_GX_METHODS, RESULTS_SUBDIR, import_gx
from pipelines.validation import ValidationOutcome, validate_file
from tests.integration.validation_support import csv_text, declaration, good_row, write

ELECTION = declaration()
# Fields of a stored result that name the run, not what was found.
_RUN_FIELDS = {
    "run_id",
    "run_time",
    "validation_time",
    "batch_id",
    "active_batch_definition",
    "id",
    "ge_load_time",
}


def _breaking_file(folder: Path) -> Path:
    rows = [
        good_row("P-001"),
        good_row("P-002", amanat="1"),  # does not add up
        good_row("P-003", ak_zhol="l50"),  # not a whole number
        good_row("P-004", ballots_cast="2000"),  # more cast than registered
        good_row("P-009"),  # not declared
    ]
    return write(folder / "broken.csv", csv_text(rows))


def _validated(folder: Path) -> tuple[ValidationOutcome, Any]:
    folder.mkdir()
    docs = folder / "docs"
    outcome = validate_file(
        _breaking_file(folder), display_name="broken.csv", election=ELECTION, reported={}, data_docs_dir=docs
    )
    (stored,) = (docs / RESULTS_SUBDIR).rglob("*.json")
    return outcome, _without_run_fields(json.loads(stored.read_text(encoding="utf-8")))


def _without_run_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_fields(v) for k, v in value.items() if k not in _RUN_FIELDS}
    if isinstance(value, list):
        return [_without_run_fields(v) for v in value]
    return value


def test_replaced_methods_give_the_same_stored_result_and_rejections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_gx()
    from great_expectations.expectations.expectation import Expectation

    assert set(REPLACED_GX_METHODS) == {
        "_get_success_kwarg",
        "_get_domain_kwargs",
        "_get_success_kwargs",
        "_get_runtime_kwargs",
    }
    assert all(getattr(Expectation, name) is not gx for name, gx in REPLACED_GX_METHODS.items())
    fast, fast_result = _validated(tmp_path / "replaced")
    for name, gx in REPLACED_GX_METHODS.items():
        monkeypatch.setattr(Expectation, name, gx)
    own, own_result = _validated(tmp_path / "gx_own")
    assert {r.rule for r in fast.rejections} >= {"does_not_add_up", "not_a_whole_number", "unknown_precinct"}
    assert fast.rejections == own.rejections
    assert fast.anomalies == own.anomalies
    assert fast.expectations_run == own.expectations_run > 0
    assert fast_result["results"] and not fast_result["success"]
    assert fast_result == own_result


def test_a_result_stored_without_a_context_is_read_back_by_the_data_docs_context(tmp_path: Path) -> None:
    from pipelines.gx_runtime import build_data_docs, gx_context

    tmp_path.joinpath("run").mkdir()
    docs = tmp_path / "run" / "docs"
    outcome = validate_file(
        _breaking_file(tmp_path / "run"),
        display_name="broken.csv",
        election=ELECTION,
        reported={},
        data_docs_dir=docs,
    )
    store = gx_context(docs).validation_results_store
    (key,) = store.list_keys()
    result = store.get(key)
    assert result.suite_name == "protocol-v1"
    assert len(result.results) == outcome.expectations_run
    assert not result.success
    assert build_data_docs(docs) == docs / "index.html"
    assert "broken.csv" in (docs / "index.html").read_text(encoding="utf-8")
