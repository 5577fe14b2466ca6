"""An election night of the small election, ingested through the real path once per test process.

Four ingestions give four provisional publications: a first batch, a second batch, an amendment of
one precinct and an annulment of another; two precincts never report. Names are hostile on purpose
(markup, quotes, a spreadsheet formula) and one declared colour is an injection attempt.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingestion.ingest import ingest_paths
from tests.support.small_election import (
    ELECTION_ID,
    LISTS,
    declaration,
    precinct_ids,
    protocol,
    write_annulment,
    write_protocols,
)

HOSTILE_LIST_NAME = '<script>alert("x")</script> "Beta" & Sons'
HOSTILE_REGION_NAME = '=HYPERLINK("http://example.invalid","North")'
DECLARED_COLOR = "#AA3377"
INJECTED_COLOR = "red;}</style><script>alert(1)</script>"
AMENDED_PRECINCT = "P002"
ANNULLED_PRECINCT = "P009"
PENDING_PRECINCTS = ("P011", "P012")


def first_batch() -> list[dict[str, object]]:
    return [protocol(pid, (400 + 5 * i, 100 + 3 * i, 60, 20)) for i, pid in enumerate(precinct_ids()[:6])]


def second_batch() -> list[dict[str, object]]:
    return [protocol(pid, (250, 300 - 10 * i, 80, 30)) for i, pid in enumerate(precinct_ids()[6:10])]


def amendment() -> dict[str, object]:
    return protocol(AMENDED_PRECINCT, (300, 250, 60, 20), version=2, reason="recount ordered by the TEC")


@dataclass
class ElectionNight:
    warehouse: Path
    inbox: Path
    publications: list[str] = field(default_factory=list)  # in the order they were published

    def rows_in_force(self) -> list[dict[str, object]]:
        """Protocols counted at the end of the night: the oracle for totals."""
        rows = {str(r["precinct_id"]): r for r in [*first_batch(), *second_batch()]}
        rows[AMENDED_PRECINCT] = amendment()
        del rows[ANNULLED_PRECINCT]
        return list(rows.values())


def write_night_declaration(folder: Path) -> Path:
    data = declaration()
    lists = data["lists"]
    assert isinstance(lists, list)
    lists[0]["color"] = DECLARED_COLOR
    lists[1]["name"] = HOSTILE_LIST_NAME
    lists[2]["color"] = INJECTED_COLOR
    regions = data["regions"]
    assert isinstance(regions, list)
    regions[0]["name"] = HOSTILE_REGION_NAME
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ELECTION_ID}.election.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


_BUILT: dict[str, ElectionNight] = {}


def election_night(base: Path) -> ElectionNight:
    """Build the night once per process (GX validation is slow to start); later calls reuse it."""
    if "night" in _BUILT:
        return _BUILT["night"]
    inbox = base / "inbox"
    night = ElectionNight(base / "warehouse", inbox)
    steps = [
        [write_night_declaration(inbox), write_protocols(inbox, "first.csv", first_batch())],
        [write_protocols(inbox, "second.csv", second_batch())],
        [write_protocols(inbox, "amend.csv", [amendment()])],
        [write_annulment(inbox, "annul.csv", ANNULLED_PRECINCT)],
    ]
    for paths in steps:
        summary = ingest_paths(paths, warehouse=night.warehouse)
        assert [p.status for p in summary.publications] == ["provisional"], summary.lines()
        night.publications.append(summary.publications[0].publication_id)
    _BUILT["night"] = night
    return night


def copy_of(night: ElectionNight, target: Path) -> Path:
    """A private copy of the night's warehouse for a test that writes to it."""
    shutil.copytree(night.warehouse, target, symlinks=True)
    return target


__all__ = ["LISTS", "ElectionNight", "copy_of", "election_night"]
