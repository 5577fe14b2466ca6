"""Hostile SQL: every statement of the corpus is refused by its rule and nothing on disk changes.

A real warehouse (ingested election, its publication, the readers' snapshot) sits beside a folder
"outside" it holding a sentinel file. Each statement goes through `elections sql` as an analyst would
run it; afterwards every file under both is byte-identical and no file has appeared (a COPY target, an
export, an installed extension or a stored secret under $HOME). The locked snapshot connection is also
attacked directly, without the check in front of it, to show it stands on its own.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipelines.cli.main import main
from pipelines.core.paths import REPO_ROOT, WarehousePaths
from pipelines.ingestion.ingest import ingest_paths
from pipelines.store.event_store import open_read_only

CORPUS = Path(__file__).parent / "hostile_sql" / "corpus.yaml"
DOC = REPO_ROOT / "docs" / "warehouse.md"
pytestmark = pytest.mark.xdist_group("drills")


def _corpus() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return data


HOSTILE = _corpus()["hostile"]
ALLOWED = _corpus()["allowed"]


class Site:
    """The warehouse under attack and everything around it that must not change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths = WarehousePaths(root / "warehouse")
        self.outside = root / "outside"
        self.sentinel = self.outside / "sentinel.csv"
        self.initial: dict[str, str] = {}

    def sql(self, template: str) -> str:
        return (
            template.replace("@SENTINEL@", str(self.sentinel))
            .replace("@OUTSIDE@", str(self.outside))
            .replace("@LIVE@", str(self.paths.database))
            .replace("@SNAPSHOT@", str(self.paths.snapshot))
        )

    def fingerprint(self) -> dict[str, str]:
        """Every file and folder under the site: its SHA-256, or 'dir'."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            key = str(path.relative_to(self.root))
            found[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        return found


@pytest.fixture(scope="module")
def site(election_files: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("hostile-sql")
    built = Site(root)
    ingest_paths(election_files, warehouse=built.paths.root)
    built.outside.mkdir()
    built.sentinel.write_text("a,b\n1,2\n", encoding="utf-8")
    (root / "home").mkdir()
    built.initial = built.fingerprint()
    with pytest.MonkeyPatch.context() as patch:
        # Where DuckDB would install an extension or store a secret: inside the fingerprinted site.
        patch.setenv("HOME", str(root / "home"))
        yield built


def test_the_site_is_real(site: Site) -> None:
    assert site.paths.database.is_file() and site.paths.snapshot.is_file()
    assert any(site.paths.publications.iterdir()), "the drill needs a publication to protect"
    assert len(HOSTILE) >= 25
    assert {entry["id"] for entry in HOSTILE}.__len__() == len(HOSTILE)


@pytest.mark.parametrize("entry", HOSTILE, ids=[e["id"] for e in HOSTILE])
def test_hostile_statement_is_refused_by_its_rule_and_changes_nothing(
    site: Site, entry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sql", site.sql(entry["sql"]), "--warehouse", str(site.paths.root)])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"refused [rule: {entry['rule']}]: "), lines[0]
    assert site.fingerprint() == site.initial


@pytest.mark.parametrize(
    "entry", [e for e in HOSTILE if e.get("engine")], ids=[e["id"] for e in HOSTILE if e.get("engine")]
)
def test_the_locked_connection_refuses_it_without_the_check(site: Site, entry: dict[str, Any]) -> None:
    with open_read_only(site.paths.snapshot) as conn, pytest.raises(duckdb.Error):
        conn.execute(site.sql(entry["sql"])).fetchall()
    assert site.fingerprint() == site.initial


def test_the_corpus_covers_every_class_the_issue_names() -> None:
    rules = {entry["rule"] for entry in HOSTILE}
    assert {"file-access", "attach", "extension", "settings", "write", "secret", "call"} <= rules
    engine_rules = {entry["rule"] for entry in HOSTILE if entry.get("engine")}
    assert {"file-access", "attach", "extension", "settings", "write"} <= engine_rules


def test_every_read_path_gets_the_locked_connection(site: Site) -> None:
    with open_read_only(site.paths.snapshot) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
                "'lock_configuration', 'autoload_known_extensions', 'autoinstall_known_extensions', "
                "'access_mode')"
            ).fetchall()
        )
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            conn.execute("RESET lock_configuration")
    assert settings == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "access_mode": "read_only",
    }


@pytest.mark.parametrize("entry", ALLOWED, ids=[e["sql"][:40] for e in ALLOWED])
def test_analysts_queries_still_answer(
    site: Site, entry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", entry["sql"], "--warehouse", str(site.paths.root), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split(",")[0] == entry["expect"], out[:200]
    assert site.fingerprint() == site.initial


def test_every_example_in_the_warehouse_guide_passes_the_check(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert examples
    for sql in examples:
        code = main(["sql", sql, "--warehouse", str(site.paths.root), "--format", "csv"])
        assert code == 0, (sql, capsys.readouterr().err)
    capsys.readouterr()
    assert site.fingerprint() == site.initial


def test_other_read_commands_work_on_the_locked_snapshot(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_read_only(site.paths.snapshot) as conn:
        head = str(conn.execute("SELECT max(position) FROM events").fetchall()[0][0])
    for command in (["seats"], ["seats", "--as-of", head], ["quarantine"], ["publications"]):
        assert main([*command, "--warehouse", str(site.paths.root)]) == 0, command
    capsys.readouterr()
    assert site.fingerprint() == site.initial


def test_the_refusal_is_one_line_and_exit_2_from_the_real_entry_point(site: Site) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli.main", "sql", site.sql("COPY events TO '@OUTSIDE@/x.csv'"),
         "--warehouse", str(site.paths.root)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "refused [rule: file-access]: COPY reads or writes a file; "
        "elections sql reads the warehouse snapshot only"
    ]
    assert site.fingerprint() == site.initial
