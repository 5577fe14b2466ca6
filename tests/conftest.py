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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every NIST export any test wrote must validate against NIST's schema: the folders of all
    workers lie under this process's base temporary folder, so the controller checks them once."""
    if hasattr(session.config, "workerinput"):
        return
    from tests.support.nist_exports import invalid_exports

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    checked, problems = invalid_exports(factory.getbasetemp())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"NIST SP 1500-100 exports written by the tests and checked: {checked}")
        for line in problems[:50]:
            reporter.write_line(f"INVALID NIST export: {line}", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
