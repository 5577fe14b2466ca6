"""The production docker-compose.yml, Dockerfile and .env.example, checked without a Docker engine."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
LONG_RUNNING = ("postgres", "redis", *AIRFLOW_SERVICES[1:])
INBOX_IN_CONTAINER = "/var/lib/elections/inbox"
WAREHOUSE_IN_CONTAINER = "/var/lib/elections/warehouse"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|SQL_ALCHEMY_CONN|BROKER_URL|RESULT_BACKEND")
REQUIRED_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]*\}")
ANY_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?[^}]*\}")
PLACEHOLDER = "<required-from-env>"


def load_compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    versions = [p["version"] for p in lock["package"] if p["name"] == package]
    assert len(versions) == 1, f"{package} locked {len(versions)} times"
    return str(versions[0])


def project_python() -> str:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.search(r"3\.(\d+)", requires)
    assert match, requires
    return f"3.{match.group(1)}"


def dockerfile_bases() -> list[str]:
    text = (REPO / "Dockerfile").read_text()
    return re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def strings(node: object) -> list[str]:
    """Every string in the parsed file, with compose's `$$` escapes (a literal `$`) taken out."""
    if isinstance(node, str):
        return [node.replace("$$", "")]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


def variable_references(compose: dict[str, Any]) -> list[re.Match[str]]:
    return [m for text in strings(compose) for m in ANY_REF.finditer(text)]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping, so that secrets can be checked by name"
    return {str(k): str(v) for k, v in env.items()}


def secret_leaks(compose: dict[str, Any]) -> list[str]:
    """Secret-bearing settings whose value (or URL password) is not a required `${VAR:?...}` reference."""
    leaks = []
    for name, service in compose["services"].items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key):
                continue
            masked = REQUIRED_REF.sub(PLACEHOLDER, value)
            secret = urlsplit(masked).password if "://" in masked else masked
            if secret != PLACEHOLDER:
                leaks.append(f"{name}: {key}={value}")
    return leaks


def mount_targets(service: dict[str, Any]) -> set[str]:
    targets = set()
    for volume in service.get("volumes", []):
        spec = ANY_REF.sub("HOST", volume) if isinstance(volume, str) else volume["target"]
        targets.add(spec.split(":")[1] if isinstance(volume, str) else spec)
    return targets


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    return {name: spec["condition"] for name, spec in deps.items()}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def test_every_service_of_the_deployment_is_defined(compose: dict[str, Any]) -> None:
    missing = {"postgres", "redis", *AIRFLOW_SERVICES} - set(compose["services"])
    assert not missing


def test_airflow_runs_celery_and_reaches_the_execution_api_by_service_name(compose: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        env = environment(compose["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (api.hostname, api.port, api.path) == ("airflow-apiserver", 8080, "/execution/"), name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/elections/dags"
    assert "8080:8080" in compose["services"]["airflow-apiserver"]["ports"]


def test_dockerfile_base_image_is_the_locked_airflow_on_the_project_python() -> None:
    expected = f"apache/airflow:{locked_version('apache-airflow')}-python{project_python()}"
    assert dockerfile_bases()[-1] == expected  # the last stage is the image that runs


def test_compose_builds_the_dockerfile_and_tags_it_with_the_locked_versions(compose: dict[str, Any]) -> None:
    expected_tag = f"{locked_version('apache-airflow')}-python{project_python()}"
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"]["dockerfile"] == "Dockerfile", name
        assert service["image"].endswith(":" + expected_tag), name


def test_dockerfile_installs_from_the_lock_with_the_makefiles_uv() -> None:
    text = (REPO / "Dockerfile").read_text()
    uv_version = re.search(r"^UV_VERSION\s*:=\s*(\S+)", (REPO / "Makefile").read_text(), flags=re.M)
    assert uv_version
    assert f"ghcr.io/astral-sh/uv:{uv_version.group(1)}" in dockerfile_bases()
    assert re.search(r"uv export --frozen --no-dev", text)
    assert "COPY --chown=airflow:0 pyproject.toml uv.lock" in text
    # The build must stop when the lock's Airflow is not the image's.
    assert 'grep -qxF "apache-airflow==${AIRFLOW_VERSION}"' in text


def test_inbox_and_warehouse_are_mounted_where_the_environment_points(compose: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        env = environment(service)
        assert env["ELECTIONS_INBOX"] == INBOX_IN_CONTAINER, name
        assert env["ELECTIONS_WAREHOUSE"] == WAREHOUSE_IN_CONTAINER, name
        assert {INBOX_IN_CONTAINER, WAREHOUSE_IN_CONTAINER} <= mount_targets(service), name
    host_sides = " ".join(v for v in compose["services"]["airflow-worker"]["volumes"] if isinstance(v, str))
    assert "${ELECTIONS_HOST_INBOX:?" in host_sides
    assert "${ELECTIONS_HOST_WAREHOUSE:?" in host_sides


def test_postgres_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    volume = compose["services"]["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_no_secret_has_a_literal_or_default_value(compose: dict[str, Any]) -> None:
    assert secret_leaks(compose) == []
    optional = {m["name"] for m in variable_references(compose) if m["op"] not in (":?", "?")}
    assert optional <= {"AIRFLOW_UID"}  # a host uid, not a secret


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("POSTGRES_PASSWORD", "airflow"),
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2://airflow:airflow@postgres/airflow"),
        ("AIRFLOW__CORE__FERNET_KEY", "${AIRFLOW_FERNET_KEY:-abc}"),
        ("AIRFLOW__CELERY__BROKER_URL", "redis://:@redis:6379/0"),
    ],
)
def test_the_secret_check_catches_literal_and_defaulted_secrets(
    compose: dict[str, Any], key: str, value: str
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["airflow-worker"]["environment"][key] = value
    assert f"airflow-worker: {key}={value}" in secret_leaks(broken)


def test_admin_account_and_all_secrets_come_from_required_variables(compose: dict[str, Any]) -> None:
    init = environment(compose["services"]["airflow-init"])
    assert init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    for key in ("_AIRFLOW_WWW_USER_USERNAME", "_AIRFLOW_WWW_USER_PASSWORD"):
        assert REQUIRED_REF.fullmatch(init[key]), key
    worker = environment(compose["services"]["airflow-worker"])
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert REQUIRED_REF.fullmatch(worker[key]), key


def test_env_example_names_every_required_variable_with_a_placeholder(compose: dict[str, Any]) -> None:
    required = {m["name"] for m in variable_references(compose) if m["op"] == ":?"}
    example = env_example()
    assert required <= set(example), f"missing from .env.example: {sorted(required - set(example))}"
    for name in required:
        if SECRET_NAME.search(name) or name.startswith("AIRFLOW_ADMIN"):
            assert "CHANGE-ME" in example[name], f"{name} in .env.example looks usable: {example[name]!r}"


def test_init_refuses_placeholders_migrates_and_creates_the_single_writer_pool(
    compose: dict[str, Any],
) -> None:
    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"])
    assert "CHANGE-ME" in script and "exit 1" in script
    assert environment(init)["_AIRFLOW_DB_MIGRATE"] == "true"
    assert re.search(r'^\s*airflow pools set warehouse_writer 1 "single DuckDB writer"$', script, re.M)


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        test = compose["services"][name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_airflow_services_wait_for_init_and_healthy_backends(compose: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES[1:]:
        deps = depends_on(compose["services"][name])
        assert deps.get("airflow-init") == "service_completed_successfully", name
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("redis") == "service_healthy", name
    assert "airflow-init" not in depends_on(compose["services"]["airflow-init"])


def test_env_file_stays_out_of_the_image() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
