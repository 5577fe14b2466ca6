"""A small declared election written as real files: the fixture of the store and ingestion tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pipelines.gate.protocol_format import PROTOCOL_COLUMNS

ELECTION_ID = "test-mazhilis"
LISTS = ("alpha", "beta", "gamma", "delta")
REGIONS = ("north", "south", "east")
PROTOCOL_HEADER = (*PROTOCOL_COLUMNS, *LISTS)


def precinct_ids(count: int = 12) -> list[str]:
    return [f"P{i:03d}" for i in range(1, count + 1)]


def region_of(precinct_id: str) -> str:
    return REGIONS[(int(precinct_id[1:]) - 1) % len(REGIONS)]


def declaration(count: int = 12, *, election_id: str = ELECTION_ID) -> dict[str, object]:
    return {
        "election_id": election_id,
        "name": "Test election",
        "date": "2021-01-10",
        "rule_profile": "kz-mazhilis-2021",
        "lists": [{"list_id": lid, "name": lid.title(), "ballot_order": i} for i, lid in enumerate(LISTS, 1)],
        "regions": [
            {"region_id": r, "name": r.title(), "utc_offset_hours": 5 if r == "east" else 6} for r in REGIONS
        ],
        "precincts": [
            {"precinct_id": pid, "region_id": region_of(pid), "registered_voters": 1000}
            for pid in precinct_ids(count)
        ],
    }


def write_declaration(folder: Path, count: int = 12, *, election_id: str = ELECTION_ID) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{election_id}.election.json"
    path.write_text(json.dumps(declaration(count, election_id=election_id)), encoding="utf-8")
    return path


def protocol(
    precinct_id: str,
    votes: Sequence[int] = (400, 100, 60, 20),
    *,
    invalid: int = 20,
    version: int = 1,
    reason: str = "",
    election_id: str = ELECTION_ID,
) -> dict[str, object]:
    """A protocol that adds up: cast = sum of votes + invalid, all of 1000 registered voters."""
    cast = sum(votes) + invalid
    row: dict[str, object] = {
        "election_id": election_id,
        "precinct_id": precinct_id,
        "region": region_of(precinct_id),
        "registered_voters": 1000,
        "ballots_issued": cast,
        "ballots_cast": cast,
        "invalid_ballots": invalid,
        "against_all": 0,
        "version": version,
        "reason": reason,
    }
    row.update(dict(zip(LISTS, votes, strict=True)))
    return row


def protocol_csv(rows: Iterable[Mapping[str, object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PROTOCOL_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_protocols(folder: Path, name: str, rows: Iterable[Mapping[str, object]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(protocol_csv(rows))
    return path


def write_annulment(folder: Path, name: str, precinct_id: str, *, election_id: str = ELECTION_ID) -> Path:
    path = folder / name
    path.write_text(
        "election_id,precinct_id,reason,decided_by\n"
        f"{election_id},{precinct_id},ballot stuffing observed,Territorial Election Commission North\n",
        encoding="utf-8",
    )
    return path


def expected_totals(rows: Iterable[Mapping[str, object]]) -> dict[str, int]:
    """Votes per list summed straight from protocol rows: the test oracle for projections."""
    totals = dict.fromkeys(LISTS, 0)
    for row in rows:
        for lid in LISTS:
            totals[lid] += int(str(row[lid]))
    return totals
