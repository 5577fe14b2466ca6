"""Render protocol-v1 and annulment-v1 CSV files (schemas/protocol_csv.md) and write files atomically."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.gate.protocol_format import ANNULMENT_COLUMNS, PROTOCOL_COLUMNS
from pipelines.synthetic.precinct_synthesis import PrecinctTable


@dataclass(frozen=True)
class ProtocolRow:
    """One precinct's result protocol; `votes` in ballot order of the election's lists."""

    election_id: str
    precinct_id: str
    region: str
    registered_voters: int
    ballots_issued: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    votes: tuple[int, ...]
    version: int = 1
    reason: str = ""

    def adds_up(self) -> bool:
        """The protocol rule: lists + against all + invalid = cast <= issued <= registered."""
        counted = sum(self.votes) + self.against_all + self.invalid_ballots
        return (
            counted == self.ballots_cast
            and 0 <= self.ballots_cast <= self.ballots_issued <= self.registered_voters
            and min((self.invalid_ballots, self.against_all, *self.votes), default=0) >= 0
        )

    def moved_votes(self, source: int, target: int, count: int, *, version: int, reason: str) -> ProtocolRow:
        """The same protocol with `count` votes moved between two lists (still adds up)."""
        count = min(count, self.votes[source])
        votes = list(self.votes)
        votes[source] -= count
        votes[target] += count
        return replace(self, votes=tuple(votes), version=version, reason=reason)

    def cells(self) -> list[str | int]:
        return [
            self.election_id,
            self.precinct_id,
            self.region,
            self.registered_voters,
            self.ballots_issued,
            self.ballots_cast,
            self.invalid_ballots,
            self.against_all,
            self.version,
            self.reason,
            *self.votes,
        ]


@dataclass(frozen=True)
class Annulment:
    election_id: str
    precinct_id: str
    reason: str
    decided_by: str


def table_rows(election_id: str, table: PrecinctTable) -> list[ProtocolRow]:
    """Version-1 protocol rows of every precinct of a synthetic table, in table order."""
    columns = zip(
        table.registered_voters.tolist(),
        table.ballots_issued.tolist(),
        table.ballots_cast.tolist(),
        table.invalid_ballots.tolist(),
        table.against_all.tolist(),
        table.votes.tolist(),
        strict=True,
    )
    return [
        ProtocolRow(
            election_id=election_id,
            precinct_id=table.precinct_ids[i],
            region=table.region_id(i),
            registered_voters=registered,
            ballots_issued=issued,
            ballots_cast=cast,
            invalid_ballots=invalid,
            against_all=against,
            votes=tuple(votes),
        )
        for i, (registered, issued, cast, invalid, against, votes) in enumerate(columns)
    ]


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def protocol_csv(rows: Iterable[ProtocolRow], list_ids: Sequence[str]) -> bytes:
    return _csv_bytes([*PROTOCOL_COLUMNS, *list_ids], (row.cells() for row in rows))


def annulment_csv(rows: Iterable[Annulment]) -> bytes:
    return _csv_bytes(
        ANNULMENT_COLUMNS, ([a.election_id, a.precinct_id, a.reason, a.decided_by] for a in rows)
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a hidden temporary name, then rename: a watcher never sees a half-written file."""
    temporary = path.with_name(f".{path.name}.partial")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
