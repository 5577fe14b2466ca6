"""Where a warehouse keeps its parts: the DuckDB file, the raw archive, snapshots, publications and
their forensic reports."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The one place that knows where the repository is: every other path is derived from these.
REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "warehouse"
SCHEMAS_DIR = REPO_ROOT / "schemas"
RULES_DIR = SCHEMAS_DIR / "rules"
RULE_PROFILE_SCHEMA = SCHEMAS_DIR / "rule_profile.schema.json"
LAYOUTS_DIR = SCHEMAS_DIR / "layouts"
LAYOUT_SCHEMA = SCHEMAS_DIR / "layout.schema.json"
HISTORY_DIR = SCHEMAS_DIR / "history"
EXPECTATIONS_DIR = SCHEMAS_DIR / "expectations"
DAGS_DIR = REPO_ROOT / "dags"
LOCAL_AIRFLOW_HOME = REPO_ROOT / ".airflow"


def gx_template_cache() -> Path:
    """Where GX's Data Docs templates are kept compiled (jinja2 bytecode): the user's cache folder
    (`$XDG_CACHE_HOME`, else `~/.cache`), safe to delete. Never inside a warehouse: the entries are code
    the writer runs, and a warehouse folder is data that moves between machines and hands (a rerun of
    an election received from elsewhere), so code must not travel with it. A relative `$XDG_CACHE_HOME`
    is ignored, as the XDG base directory spec says: it would follow the working directory, which may
    be a warehouse's folder."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "elections" / "gx-templates"


def default_warehouse_dir() -> Path:
    """`$ELECTIONS_WAREHOUSE`, else `./warehouse` (the repository's folder, whose data files git ignores)."""
    return Path(os.environ.get("ELECTIONS_WAREHOUSE", "warehouse"))


@dataclass(frozen=True)
class WarehousePaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "elections.duckdb"

    @property
    def archive(self) -> Path:
        return self.root / "data" / "archive"

    @property
    def snapshot(self) -> Path:
        return self.root / "data" / "snapshot" / "elections.duckdb"

    @property
    def publications(self) -> Path:
        return self.root / "data" / "publications"

    @property
    def forensics(self) -> Path:
        """The forensic report of each publication, `<publication_id>/`, written after it (never inside
        its folder: the seat table never waits for screening)."""
        return self.root / "data" / "forensics"

    @property
    def data_docs(self) -> Path:
        return self.root / "data" / "data_docs"

    @property
    def log_heads(self) -> Path:
        """Append-only record of the log's head after every commit: what a hash chain cannot
        know by itself, that its newest events were cut off."""
        return self.root / "data" / "log_heads.jsonl"

    @property
    def writer_lock(self) -> Path:
        return self.root / "data" / "writer.lock"

    def ensure(self) -> None:
        for folder in (self.root, self.archive, self.snapshot.parent, self.publications, self.data_docs):
            folder.mkdir(parents=True, exist_ok=True)
