"""One migrated Airflow home (SQLite) per test session: migrating takes half a minute."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.orchestration.local_airflow import LocalAirflow, migrate_database, prepare_home


@pytest.fixture(scope="session")
def migrated_airflow_home(tmp_path_factory: pytest.TempPathFactory) -> LocalAirflow:
    airflow = prepare_home(tmp_path_factory.mktemp("airflow-template") / "home")
    migrate_database(airflow)
    return airflow


@pytest.fixture
def airflow_home(migrated_airflow_home: LocalAirflow, tmp_path: Path) -> Iterator[LocalAirflow]:
    """A private copy of the migrated home, so tests never see each other's runs."""
    home = tmp_path / "airflow-home"
    shutil.copytree(migrated_airflow_home.home, home)
    yield prepare_home(home)
