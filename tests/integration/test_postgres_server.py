"""The scheduler harness itself: a private PostgreSQL server, `airflow db migrate` against it, and a
real scheduler, dag-processor and API server running a DAG that must take the single-writer pool."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pipelines.local_airflow import (
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


def probe_dag_source(marker: Path) -> str:
    """A DAG whose one task runs in the writer pool and leaves `marker` behind with its conf."""
    return textwrap.dedent(
        f"""
        from pathlib import Path

        import pendulum
        from airflow.sdk import dag, get_current_context, task


        @dag(dag_id="{PROBE_DAG}", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
        def harness_probe():
            @task(pool="warehouse_writer", retries=0)
            def leave_marker():
                Path({str(marker)!r}).write_text(get_current_context()["dag_run"].conf["word"])

            leave_marker()


        harness_probe()
        """
    )


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
def test_real_scheduler_on_postgres_runs_a_triggered_dag_in_the_writer_pool(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dags, marker = tmp_path / "dags", tmp_path / "marker.txt"
    dags.mkdir()
    (dags / "harness_probe.py").write_text(probe_dag_source(marker))
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

    components = ("scheduler", "dag-processor", "api-server")
    with running_airflow(airflow, components, timeout=120) as processes:
        healthy = time.monotonic()
        token = api_token(airflow)
        wait_for_dag(airflow, PROBE_DAG, token, timeout=60)
        run_id = trigger_dag_run(airflow, PROBE_DAG, token, conf={"word": "scheduled"})
        state = wait_for_dag_run(airflow, PROBE_DAG, run_id, token, timeout=90)
        finished = time.monotonic()
        log_files = [processes.log_file(c) for c in components]

    print(
        f"\nairflow db migrate + pool: {migrated - began:.1f}s; "
        f"components healthy: {healthy - migrated:.1f}s; parse + trigger + run: {finished - healthy:.1f}s"
    )
    assert state == "success", f"run {run_id} ended {state}; logs in {airflow.home}"
    assert marker.read_text() == "scheduled"  # the task ran on the LocalExecutor, with the run's conf
    assert all(path.stat().st_size > 0 for path in log_files)
