"""The local Airflow home: its environment, its kept secrets and the `elections airflow up` command line."""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path

import pytest

from pipelines.cli.airflow_command import data_folders
from pipelines.cli.main import build_parser
from pipelines.orchestration.local_airflow import AirflowProcesses, prepare_home


def test_environment_configures_a_local_executor_home_and_drops_foreign_airflow_settings(
    tmp_path: Path,
) -> None:
    dags = tmp_path / "dags"
    airflow = prepare_home(tmp_path / "home", dags_folder=dags, api_port=18123)
    env = airflow.environment(
        {"PATH": "/bin", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW__CORE__LOAD_EXAMPLES": "True"}
    )
    assert env["PATH"] == "/bin"
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(dags)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'home' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC" not in env  # SQLite has its async driver


def test_tasks_fork_from_a_forkserver_that_preloads_modules_that_exist(tmp_path: Path) -> None:
    # multiprocessing skips a preload module it cannot import without a word: a misspelt name would
    # quietly give every task its ~5 s of imports back.
    env = prepare_home(tmp_path).environment({})
    assert env["AIRFLOW__SCHEDULER__MP_START_METHOD"] == "forkserver"
    modules = env["AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD"].split(",")
    assert "pipelines.orchestration.task_imports" in modules
    assert [m for m in modules if importlib.util.find_spec(m) is None] == []


def test_settings_override_the_defaults(tmp_path: Path) -> None:
    airflow = prepare_home(tmp_path, settings={"AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2", "X": "y"})
    env = airflow.environment({})
    assert env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] == "2"
    assert env["X"] == "y"


def test_postgres_home_without_asyncpg_disables_only_the_async_engine(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://u:p@127.0.0.1:5432/airflow"
    env = prepare_home(tmp_path, database_url=url).environment({})
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == url
    expected = "" if importlib.util.find_spec("asyncpg") is None else None
    assert env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC") == expected


def test_a_home_keeps_its_keys_and_admin_password_across_restarts(tmp_path: Path) -> None:
    first = prepare_home(tmp_path)
    env_before, password_before = first.environment({}), first.admin_password
    second = prepare_home(tmp_path)
    env_after = second.environment({})
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert env_before[key] == env_after[key]
    assert second.admin_password == password_before
    assert len(password_before) >= 16
    # Fresh homes get fresh keys, and only their owner may read them.
    other = prepare_home(tmp_path / "other").environment({})
    assert other["AIRFLOW__API_AUTH__JWT_SECRET"] != env_before["AIRFLOW__API_AUTH__JWT_SECRET"]
    passwords = json.loads((tmp_path / "simple_auth_manager_passwords.json.generated").read_text())
    assert passwords == {"admin": password_before}
    for name in ("elections-local-secrets.json", "simple_auth_manager_passwords.json.generated"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_unknown_components_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="webserver"):
        AirflowProcesses(prepare_home(tmp_path), ("scheduler", "webserver"))


def test_airflow_up_parses_port_home_and_database(tmp_path: Path) -> None:
    args = build_parser().parse_args(["airflow", "up", "--port", "9090", "--home", str(tmp_path)])
    assert (args.port, args.home, args.database_url) == (9090, tmp_path, None)
    assert build_parser().parse_args(["airflow", "up"]).port == 8080


def test_data_folders_are_absolute_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ELECTIONS_INBOX", "relative/inbox")
    monkeypatch.delenv("ELECTIONS_WAREHOUSE", raising=False)
    folders = data_folders()
    assert folders["ELECTIONS_INBOX"] == str(tmp_path / "relative" / "inbox")
    assert Path(folders["ELECTIONS_WAREHOUSE"]).is_absolute()
    assert Path(folders["ELECTIONS_WAREHOUSE"]).name == "warehouse"
