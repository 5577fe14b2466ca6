"""A file's GX result is stored without building a Data Docs context, and the Data Docs context
(built only when the site is rendered) reads it back and renders it."""

from __future__ import annotations

from pathlib import Path

from pipelines.gate.validation import validate_file
from tests.integration.validation_support import csv_text, declaration, good_row, write

ELECTION = declaration()


def _breaking_file(folder: Path) -> Path:
    rows = [
        good_row("P-001"),
        good_row("P-002", amanat="1"),  # does not add up
        good_row("P-003", ak_zhol="l50"),  # not a whole number
        good_row("P-004", ballots_cast="2000"),  # more cast than registered
        good_row("P-009"),  # not declared
    ]
    return write(folder / "broken.csv", csv_text(rows))


def test_a_result_stored_without_a_context_is_read_back_by_the_data_docs_context(tmp_path: Path) -> None:
    from pipelines.gate.gx_runtime import build_data_docs, gx_context

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
