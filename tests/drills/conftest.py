"""Fault drills replay GX outcomes they have already computed, so that dozens of trials fit in minutes.

The gate is deterministic: the same file bytes, declaration, accepted protocols and policy give the same
outcome. Each distinct input still goes through GX once (the first, clean run); a repeat gets the
stored outcome. The drills test what happens around the gate (archive, log, projections, snapshot).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import pipelines.ingestion.ingest
from pipelines.domain.election import ElectionDeclaration
from pipelines.domain.events import canonical_json
from pipelines.gate.validation import FileToValidate, ValidationOutcome, validate_files
from pipelines.ingestion.ingest import ingest_paths
from tests.drills.support import SeatRows, precinct_votes, seat_table, write_election
from tests.support.small_election import protocol, write_annulment, write_protocols


def _election_key(election: ElectionDeclaration) -> str:
    """Equal for equal elections, whether parsed from the file or read back from the log (any order)."""
    form = election.to_json_dict()
    form["precincts"].sort(key=lambda p: p["precinct_id"])
    return canonical_json(form)


@pytest.fixture(scope="session")
def gx_outcomes() -> dict[Any, ValidationOutcome]:
    return {}


@pytest.fixture(scope="module", autouse=True)
def gx_outcomes_reused(gx_outcomes: dict[Any, ValidationOutcome]) -> Iterator[None]:
    """Active only while a drill module runs, so other tests on the same worker always run the gate."""
    memo = gx_outcomes

    def key(file: FileToValidate, policy: Any) -> tuple[Any, ...]:
        reported = file.reported
        return (
            hashlib.sha256(file.path.read_bytes()).hexdigest(),
            file.display_name,
            _election_key(file.election),
            repr(sorted((pid, p.version, sorted(p.figures.items())) for pid, p in reported.items())),
            policy,
        )

    def validate_once(files: Sequence[FileToValidate], **kwargs: Any) -> list[ValidationOutcome]:
        keys = [key(file, kwargs.get("policy")) for file in files]
        missing = [(file, k) for file, k in zip(files, keys, strict=True) if k not in memo]
        if missing:  # each file's outcome is the same whichever files it is validated with
            outcomes = validate_files([file for file, _ in missing], **kwargs)
            memo.update((k, outcome) for (_, k), outcome in zip(missing, outcomes, strict=True))
        return [memo[k] for k in keys]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipelines.ingestion.ingest, "validate_files", validate_once)
        yield


@pytest.fixture(scope="session")
def election_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The drills' election: a declaration and three protocol files, arriving in that order."""
    files = write_election(tmp_path_factory.mktemp("election"), precincts=60, files=3)
    _arrive_in_order(files)
    return files


@pytest.fixture(scope="session")
def later_files(election_files: list[Path]) -> list[Path]:
    """What comes after: an amendment of P002 and the annulment of P004."""
    folder = election_files[0].parent
    amended = protocol("P002", (250, 170, 79, 25), version=2, reason="recount")
    files = [
        write_protocols(folder, "zz-amendment.csv", [amended]),
        write_annulment(folder, "zz-annul.csv", "P004"),
    ]
    _arrive_in_order(files, after=election_files[-1])
    return files


def _arrive_in_order(files: list[Path], after: Path | None = None) -> None:
    start = (after.stat().st_mtime if after else time.time()) + 1
    for offset, path in enumerate(files):
        os.utime(path, (start + offset, start + offset))


@pytest.fixture(scope="session")
def clean_result(
    election_files: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeatRows, SeatRows]:
    """Seat table and precinct votes of one uninterrupted ingest of `election_files`."""
    warehouse = tmp_path_factory.mktemp("clean") / "warehouse"
    ingest_paths(election_files, warehouse=warehouse)
    return seat_table(warehouse), precinct_votes(warehouse)
