"""Great Expectations, quietly: one ephemeral context per process (and per Data Docs folder) runs a suite.

GX is imported lazily (it takes seconds) and never at import time of this module. Before the import its
loggers are set to WARNING, because its `public_api` decorator logs "Skipping registering function ..."
at INFO for dozens of functions, which floods the Airflow task log. Progress bars are switched off
through the context's `progress_bars` setting, which is what GX's Validator consults before it creates
a tqdm bar (great_expectations/validator/validator.py `_determine_progress_bars`).
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from pipelines.core.paths import gx_template_cache
from pipelines.gate.expectation_suites import ExpectationSpec

_GX_LOGGERS = ("great_expectations", "great_expectations._docs_decorators")
_DATASOURCE = "batches"
_ASSET = "frame"
_BATCH_DEFINITION = "whole_frame"
_SITE = "validation_docs"
# Validation results are kept beside the HTML so that the index lists every run made into the folder,
# across processes (GX drops index entries whose result it can no longer find).
RESULTS_SUBDIR = "_gx_validation_results"
_RECORD = "record"  # the index GX names failing records by

_lock = threading.Lock()
_contexts: dict[Path | None, Any] = {}
# The results store of each Data Docs folder, built without a context for storing (see _results_store).
_results_stores: dict[Path, Any] = {}
# Results stored by this process whose Data Docs page is not rendered yet, per Data Docs folder.
_unrendered: dict[Path, list[Any]] = {}


@dataclass(frozen=True)
class ExpectationFailure:
    """Where one expectation failed: the `row` of each failing record and, on a cell frame, its `column`.

    `columns` is parallel to `rows` on a frame indexed by ("row", "column") and empty otherwise.
    """

    spec: ExpectationSpec
    rows: tuple[int, ...]
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameCheck:
    """One GX run: `frame` against `expectations`, failures named by `index_columns` of the frame.

    The index columns must tell the records apart (one record per value, or per combination of values).
    """

    frame: pd.DataFrame
    expectations: Sequence[ExpectationSpec]
    index_columns: tuple[str, ...] = ("row",)


@dataclass(frozen=True)
class SuiteRun:
    failures: tuple[ExpectationFailure, ...]
    evaluated: int
    docs_index: Path | None


def quiet_gx_logging() -> None:
    """Keep GX's INFO chatter out of logs; called before GX is first imported."""
    for name in _GX_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def import_gx() -> ModuleType:
    """The `great_expectations` module, imported with its loggers already quietened.

    GX fingerprints every pandas batch under 1 GB (an md5 over pandas' hash of every row, ~45 ms per
    100,000-row frame, two or three frames per file) only to label the batch in the stored result; the
    gate's results are named by file and run time, so the fingerprint is switched off.
    """
    quiet_gx_logging()
    first = "great_expectations" not in sys.modules
    import great_expectations
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    if first:
        # What the import leaves (GX, scipy, altair, sqlalchemy: ~1M objects) lives as long as the
        # process; frozen out of the cyclic collector, a full collection no longer walks it all again
        # (~0.15 s of an 85-file delivery's ingest). Reference counting still frees what dies. Thawed
        # at exit, so that finalization collects it as before (DuckDB's bindings report leaks else).
        gc.freeze()
        atexit.register(gc.unfreeze)
    return great_expectations


def _new_context(data_docs_dir: Path | None) -> Any:
    gx = import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    if data_docs_dir is not None:
        config.stores["validation_results_store"] = _results_store_config(data_docs_dir)
        config.data_docs_sites = {
            _SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "view": _cached_view("CachedIndexPageView"),
                },
                "site_section_builders": {
                    section: {"view": _cached_view("CachedPageView")}
                    for section in ("expectations", "validations", "profiling")
                },
            }
        }
    context = gx.get_context(mode="ephemeral", project_config=config)
    if data_docs_dir is not None:
        return context  # renders the site from stored results: no data source to read batches from
    # An ephemeral context "saves" its project config as YAML into an in-memory store that nothing reads,
    # three times while the data source is added (~20 ms of the first validation in a process).
    context._save_project_config = lambda: None
    try:
        context.data_sources.add_pandas(_DATASOURCE).add_dataframe_asset(
            _ASSET
        ).add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
    finally:
        del context._save_project_config
    return context


def _cached_view(class_name: str) -> dict[str, str]:
    """A site view that renders from templates compiled once and kept on disk (`data_docs_views`)."""
    return {
        "module_name": "pipelines.gate.data_docs_views",
        "class_name": class_name,
        "bytecode_cache": str(gx_template_cache()),
    }


def _results_store_config(data_docs_dir: Path) -> dict[str, Any]:
    return {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(data_docs_dir / RESULTS_SUBDIR),
        },
    }


def _results_store(data_docs_dir: Path) -> Any:
    """The store a Data Docs context of `data_docs_dir` keeps results in, built the way GX builds it.

    Storing a result needs no context: building one (with its datasource) cost ~20 ms of the first
    file's validation in a process, and the site is rendered later, once per run, by `build_data_docs`.
    """
    key = data_docs_dir.resolve()
    with _lock:
        if key not in _results_stores:
            import_gx()
            from great_expectations.data_context.store.store import Store

            _results_stores[key] = Store.build_store_from_config(
                name="validation_results_store",
                config=_results_store_config(key),
                runtime_environment={"root_directory": None},
            )
        return _results_stores[key]


def gx_context(data_docs_dir: Path | None = None) -> Any:
    """The process's ephemeral GX context for `data_docs_dir` (None: no Data Docs), built on first use."""
    key = data_docs_dir.resolve() if data_docs_dir is not None else None
    with _lock:
        if key not in _contexts:
            _contexts[key] = _new_context(key)
        return _contexts[key]


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "file"


def run_suite(
    checks: Sequence[FrameCheck],
    *,
    suite_name: str,
    parameters: Mapping[str, Any],
    run_name: str,
    data_docs_dir: Path | None = None,
) -> SuiteRun:
    """Validate each check's frame (every one has an int `row` column) with GX.

    Every expectation runs first with `BOOLEAN_ONLY` (cheap: no lists of failing records); those that
    fail run again with `COMPLETE`, which names the failing rows by `row` (and cells by `column`). With
    `data_docs_dir` the runs' results are stored there as one validation result; the site itself is
    rendered by `build_data_docs`, once per ingest run, and `docs_index` is the index it writes.
    """
    failures: list[ExpectationFailure] = []
    results: list[Any] = []
    for number, check in enumerate(checks):
        name = f"{suite_name}.{number}"
        every = range(len(check.expectations))
        result = _validate(check, every, complete=False, suite_name=name, parameters=parameters)
        failed = [_spec_index(outcome) for outcome in result.results if not _passed(check, outcome)]
        if failed:
            labelled = _labelled(check)
            detailed = _validate(
                FrameCheck(labelled, check.expectations, (_RECORD,)),
                failed,
                complete=True,
                suite_name=name,
                parameters=parameters,
            )
            by_index = {_spec_index(outcome): outcome for outcome in detailed.results}
            result.results = [by_index.get(_spec_index(outcome), outcome) for outcome in result.results]
            failures.extend(_failures(check, labelled.index, detailed))
        results.append(result)
    evaluated = sum(len(result.results) for result in results)
    docs_index = None
    if data_docs_dir is not None:
        merged = _merged_result(results, suite_name=suite_name)
        docs_index = _store_result(data_docs_dir, merged, suite_name=suite_name, run_name=run_name)
    return SuiteRun(failures=tuple(failures), evaluated=evaluated, docs_index=docs_index)


@lru_cache(maxsize=64)
def _suite(name: str, configs_json: str) -> Any:
    """A GX suite for these configurations, built once: files of one election share it."""
    gx = import_gx()
    return gx.ExpectationSuite(name=name, expectations=json.loads(configs_json))


def _spec_index(outcome: Any) -> int:
    # GX may evaluate expectations in another order than the suite lists them, hence the index in meta.
    return int(outcome.expectation_config.meta["expectation_index"])


def _passed(check: FrameCheck, outcome: Any) -> bool:
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        spec = check.expectations[_spec_index(outcome)]
        raise RuntimeError(
            f"GX could not evaluate rule {spec.rule} on {spec.column}: "
            f"{outcome.exception_info.get('exception_message')}"
        )
    return bool(outcome.success)


def _validate(
    check: FrameCheck,
    indexes: Iterable[int],
    *,
    complete: bool,
    suite_name: str,
    parameters: Mapping[str, Any],
) -> Any:
    """GX's result for the expectations of `check` at `indexes`; `complete` lists the failing records."""
    # GX's own validator behind `Batch.validate`, given the batch parameters directly: `get_batch()` and
    # then `validate()` would load the frame twice, and loading fingerprints (hashes) the whole frame.
    import_gx()  # first, so that GX's loggers are quiet before any of its modules loads
    from great_expectations.validator.v1_validator import Validator

    chosen = list(indexes)
    configs = []
    for index in chosen:
        config = check.expectations[index].as_gx_dict()
        config["meta"]["expectation_index"] = index
        configs.append(config)
    suite = _suite(suite_name, json.dumps(configs, sort_keys=True))
    context = gx_context(None)
    batch_definition = (
        context.data_sources.get(_DATASOURCE).get_asset(_ASSET).get_batch_definition(_BATCH_DEFINITION)
    )
    result_format: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}
    if complete:
        result_format = {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": list(check.index_columns),
            # The pandas "query" is a string of every failing index; nothing reads it.
            "return_unexpected_index_query": False,
        }
    validator = Validator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": check.frame},
        result_format=result_format,
    )
    return validator.validate_expectation_suite(suite, dict(parameters))


def _labelled(check: FrameCheck) -> pd.DataFrame:
    """The frame indexed by one label per record, named `_RECORD`, made of its index columns.

    With a named index GX reads each failing record's label from the index; given index columns instead,
    it looks each of their cells up one by one (three lookups per failing cell, seconds for 100,000).
    """
    names = check.index_columns
    if len(names) == 1:
        labels = pd.Index(check.frame[names[0]].to_numpy(), name=_RECORD)
    else:
        text = [f"{name}=" + check.frame[name].astype("str") for name in names]
        joined = text[0].str.cat(text[1:], sep=", ")
        labels = pd.Index(joined.to_numpy(dtype=object), name=_RECORD)
    return check.frame.set_axis(labels, axis="index")


def _failures(check: FrameCheck, labels: pd.Index, result: Any) -> list[ExpectationFailure]:
    """Each failed expectation's records, named by the check's index columns (found by their labels)."""
    by_cell = "column" in check.index_columns
    failures: list[ExpectationFailure] = []
    for outcome in result.results:
        spec = check.expectations[_spec_index(outcome)]
        if _passed(check, outcome):
            continue
        found = [item[_RECORD] for item in outcome.result.get("unexpected_index_list") or []]
        positions = labels.get_indexer(pd.Index(found, dtype=labels.dtype))
        rows = check.frame["row"].to_numpy()[positions]
        if by_cell:
            columns = check.frame["column"].to_numpy()[positions]
            cells = sorted({(int(row), str(column)) for row, column in zip(rows, columns, strict=True)})
            failures.append(
                ExpectationFailure(spec, tuple(row for row, _ in cells), tuple(column for _, column in cells))
            )
        else:
            failures.append(ExpectationFailure(spec, tuple(sorted({int(row) for row in rows}))))
    return failures


def _merged_result(results: Sequence[Any], *, suite_name: str) -> Any:
    """The runs of one file as one validation result, so that Data Docs show one page per file."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    every = [outcome for result in results for outcome in result.results]
    statistics = calc_validation_statistics(every)
    return ExpectationSuiteValidationResult(
        results=every,
        success=statistics.success,
        suite_name=suite_name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=results[0].meta,
        batch_id=results[0].batch_id,
    )


def _result_key(suite_name: str, run_name: str) -> Any:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    name = _safe_name(run_name)
    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        run_id=RunIdentifier(run_name=name, run_time=datetime.now(UTC)),
        batch_identifier=name,
    )


def _store_result(data_docs_dir: Path, result: Any, *, suite_name: str, run_name: str) -> Path:
    """Keep one file's result for the site; the index.html that `build_data_docs` will write."""
    key = _result_key(suite_name, run_name)
    _results_store(data_docs_dir).set(key, result)
    with _lock:
        _unrendered.setdefault(data_docs_dir.resolve(), []).append(key)
    return data_docs_dir / "index.html"


def _without_page(data_docs_dir: Path, keys: Iterable[Any]) -> list[Any]:
    """The stored results among `keys` whose page the site lacks (found by GX's own page naming)."""
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend

    pages = TupleFilesystemStoreBackend(
        base_directory=str(data_docs_dir),
        filepath_prefix="validations",
        filepath_suffix=".html",
        suppress_store_backend_id=True,
    )
    return [key for key in keys if not pages.has_key(key.to_tuple())]


def build_data_docs(data_docs_dir: Path) -> Path | None:
    """Render the Data Docs site in `data_docs_dir`: a page per stored result lacking one, and the index.

    Call once at the end of an ingest run (rendering per file cost about a second each). Results stored
    by other processes are found through their missing pages. None when no result was ever stored there.
    """
    folder = data_docs_dir.resolve()
    if not (folder / RESULTS_SUBDIR).is_dir():
        return None
    context = gx_context(folder)
    with _lock:
        pending = _unrendered.pop(folder, [])
    known = set(pending)
    stored = [key for key in context.validation_results_store.list_keys() if key not in known]
    pending.extend(_without_page(folder, stored))
    index = folder / "index.html"
    if not pending and index.is_file():
        return index
    # An empty list would render every stored result again.
    urls: dict[str, str] = context.build_data_docs(site_names=[_SITE], resource_identifiers=pending or None)
    return Path(urls[_SITE].removeprefix("file://"))
