"""Great Expectations, quietly: one ephemeral context per process (and per Data Docs folder), one suite run.

GX is imported lazily (it takes seconds) and never at import time of this module. Before the import its
loggers are set to WARNING, because its `public_api` decorator logs "Skipping registering function ..."
at INFO for dozens of functions, which floods the Airflow task log. Progress bars are switched off
through the context's `progress_bars` setting, which is what GX's Validator consults before it creates
a tqdm bar (great_expectations/validator/validator.py `_determine_progress_bars`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from pipelines.expectation_suites import ExpectationSpec

_GX_LOGGERS = ("great_expectations", "great_expectations._docs_decorators")
_DATASOURCE = "batches"
_ASSET = "frame"
_BATCH_DEFINITION = "whole_frame"
_SITE = "validation_docs"
# Validation results are kept beside the HTML so that the index lists every run made into the folder,
# across processes (GX drops index entries whose result it can no longer find).
RESULTS_SUBDIR = "_gx_validation_results"

_lock = threading.Lock()
_contexts: dict[Path | None, Any] = {}


@dataclass(frozen=True)
class ExpectationFailure:
    """Rows (by their `row` value) that broke one expectation."""

    spec: ExpectationSpec
    rows: tuple[int, ...]


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
    """The `great_expectations` module, imported with its loggers already quietened."""
    quiet_gx_logging()
    import great_expectations

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
        config.stores["validation_results_store"] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs_dir / RESULTS_SUBDIR),
            },
        }
        config.data_docs_sites = {
            _SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(_DATASOURCE).add_dataframe_asset(
        _ASSET
    ).add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
    return context


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
    frame: pd.DataFrame,
    *,
    suite_name: str,
    expectations: Sequence[ExpectationSpec],
    parameters: Mapping[str, Any],
    run_name: str,
    data_docs_dir: Path | None = None,
) -> SuiteRun:
    """Validate `frame` (which must have an int `row` column) against `expectations` in one GX run.

    Failures name rows by `row`. With `data_docs_dir` the result is stored there and the Data Docs site
    is rebuilt for it; `docs_index` is the site's index.html.
    """
    gx = import_gx()
    context = gx_context(data_docs_dir)
    configs = []
    for index, spec in enumerate(expectations):
        config = spec.as_gx_dict()
        config["meta"]["expectation_index"] = index
        configs.append(config)
    suite = gx.ExpectationSuite(name=suite_name, expectations=configs)
    batch_definition = (
        context.data_sources.get(_DATASOURCE).get_asset(_ASSET).get_batch_definition(_BATCH_DEFINITION)
    )
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row"]},
        expectation_parameters=dict(parameters),
    )
    failures: list[ExpectationFailure] = []
    # GX may evaluate expectations in another order than the suite lists them, hence the index in meta.
    for outcome in result.results:
        spec = expectations[int(outcome.expectation_config.meta["expectation_index"])]
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"GX could not evaluate rule {spec.rule} on {spec.column}: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if outcome.success:
            continue
        indexes = outcome.result.get("unexpected_index_list") or []
        rows = tuple(sorted({int(item["row"]) for item in indexes}))
        failures.append(ExpectationFailure(spec=spec, rows=rows))
    docs_index = None
    if data_docs_dir is not None:
        docs_index = _build_docs(context, result, suite_name=suite_name, run_name=run_name)
    return SuiteRun(failures=tuple(failures), evaluated=len(result.results), docs_index=docs_index)


def _build_docs(context: Any, result: Any, *, suite_name: str, run_name: str) -> Path:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    name = _safe_name(run_name)
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        run_id=RunIdentifier(run_name=name, run_time=datetime.now(UTC)),
        batch_identifier=name,
    )
    context.validation_results_store.set(key, result)
    urls: dict[str, str] = context.build_data_docs(site_names=[_SITE], resource_identifiers=[key])
    return Path(urls[_SITE].removeprefix("file://"))
