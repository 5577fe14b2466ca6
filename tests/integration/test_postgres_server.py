"""The scheduler harness itself: a private PostgreSQL server, `airflow db migrate` against it, and a
real scheduler, dag-processor, triggerer and API server running a DAG in the single-writer pool and a
DAG that an asset watcher starts when a marker file appears."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pipelines.orchestration.local_airflow import (
    LocalAirflow,
    api_token,
    migrate_database,
    prepare_home,
    running_airflow,
    trigger_dag_run,
    wait_for_dag,
    wait_for_dag_run,
)
from tests.integration.postgres_server import PostgresServer, free_loopback_port, running_postgres

PROBE_DAG = "harness_probe"
WATCHER_DAG = "harness_watcher"


def probe_dags_source(marker: Path, ready: Path, watched: Path) -> str:
    """Two DAGs: a manual one whose task runs in the writer pool and writes its conf to `marker`, and
    one that the triggerer starts when `ready` appears (an asset watcher), which writes `watched`."""
    return textwrap.dedent(
        f"""
        from pathlib import Path

        import pendulum
        from airflow.providers.standard.triggers.file import FileDeleteTrigger
        from airflow.sdk import Asset, AssetWatcher, dag, get_current_context, task

        START = pendulum.datetime(2024, 1, 1, tz="UTC")


        @dag(dag_id="{PROBE_DAG}", schedule=None, start_date=START)
        def harness_probe():
            @task(pool="warehouse_writer", retries=0)
            def leave_marker():
                Path({str(marker)!r}).write_text(get_current_context()["dag_run"].conf["word"])

            leave_marker()


        ready = Asset(
            name="harness_ready",
            uri="file://{ready}",
            watchers=[AssetWatcher(name="ready", trigger=FileDeleteTrigger({str(ready)!r}, poke_interval=1))],
        )


        @dag(dag_id="{WATCHER_DAG}", schedule=[ready], start_date=START)
        def harness_watcher():
            @task(retries=0)
            def leave_watched():
                Path({str(watched)!r}).write_text("watched")

            leave_watched()


        harness_probe()
        harness_watcher()
        """
    )


def wait_for_file(path: Path, timeout: float) -> float:
    started = time.monotonic()
    while not path.exists():
        assert time.monotonic() - started < timeout, f"{path} did not appear within {timeout:.0f}s"
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.mark.timeout(60)
def test_private_postgres_accepts_connections_and_is_removed_afterwards() -> None:
    with running_postgres(database="probe") as server:
        with psycopg2.connect(server.dsn) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_setting('server_version_num')::int")
            database, version = cursor.fetchone()
        data_dir = server.data_dir
        assert server.sqlalchemy_url.startswith("postgresql+psycopg2://")
    assert database == "probe"
    assert version >= 150000
    assert not data_dir.exists()


@pytest.mark.timeout(30)
def test_private_postgres_is_removed_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError, match="body failed"), running_postgres() as server:
        data_dir = server.data_dir
        raise RuntimeError("body failed")
    assert not data_dir.exists()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(server.dsn, connect_timeout=2)


@pytest.mark.airflow
@pytest.mark.timeout(240)
def test_real_scheduler_on_postgres_runs_triggered_and_watched_dags(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dags, marker = tmp_path / "dags", tmp_path / "marker.txt"
    ready, watched = tmp_path / "_READY", tmp_path / "watched.txt"
    dags.mkdir()
    (dags / "harness_dags.py").write_text(probe_dags_source(marker, ready, watched))
    airflow: LocalAirflow = prepare_home(
        tmp_path / "airflow-home",
        dags_folder=dags,
        database_url=postgres.sqlalchemy_url,
        api_port=free_loopback_port(),
        settings={"AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2"},
    )

    began = time.monotonic()
    migrate_database(airflow)
    migrated = time.monotonic()
    with psycopg2.connect(postgres.dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT slots, description FROM slot_pool WHERE pool = 'warehouse_writer'")
        assert cursor.fetchone() == (1, "single DuckDB writer")

    with running_airflow(airflow, timeout=120) as processes:
        healthy = time.monotonic()
        token = api_token(airflow)
        wait_for_dag(airflow, PROBE_DAG, token, timeout=60)
        run_id = trigger_dag_run(airflow, PROBE_DAG, token, conf={"word": "scheduled"})
        state = wait_for_dag_run(airflow, PROBE_DAG, run_id, token, timeout=90)
        finished = time.monotonic()
        ready.write_text("")
        marker_to_run = wait_for_file(watched, timeout=60)
        log_files = [processes.log_file(c) for c in processes.components]

    print(
        f"\nairflow db migrate + pool: {migrated - began:.1f}s; "
        f"components healthy: {healthy - migrated:.1f}s; parse + trigger + run: {finished - healthy:.1f}s; "
        f"marker to watched task done: {marker_to_run:.1f}s"
    )
    assert state == "success", f"run {run_id} ended {state}; logs in {airflow.home}"
    assert marker.read_text() == "scheduled"  # the task ran on the LocalExecutor, with the run's conf
    assert not ready.exists()  # the triggerer's watcher consumed the marker
    assert all(path.stat().st_size > 0 for path in log_files)
