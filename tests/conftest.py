"""Suite-wide: the tests run on two workers (pytest-xdist); tests that share a costly session
fixture are kept on one worker, so it is built once."""

from __future__ import annotations

from pathlib import Path

import pytest

AIRFLOW_TESTS = Path(__file__).parent / "airflow"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if AIRFLOW_TESTS in Path(str(item.fspath)).parents:
            # One migrated Airflow home per worker costs half a minute: keep these together.
            item.add_marker(pytest.mark.xdist_group("airflow-home"))
