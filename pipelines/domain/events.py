"""The event vocabulary: what can happen to an election, as immutable facts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import pandas as pd

from pipelines.domain.election import PrecinctTable

ELECTION_DECLARED: Final = "ElectionDeclared"
BATCH_RECEIVED: Final = "BatchReceived"
BATCH_QUARANTINED: Final = "BatchQuarantined"
ROW_QUARANTINED: Final = "RowQuarantined"
PROTOCOL_REPORTED: Final = "ProtocolReported"
PROTOCOL_AMENDED: Final = "ProtocolAmended"
PRECINCT_ANNULLED: Final = "PrecinctAnnulled"
RESULTS_PUBLISHED: Final = "ResultsPublished"
RESULTS_CERTIFIED: Final = "ResultsCertified"
CERTIFICATION_OVERRIDDEN: Final = "CertificationOverridden"
# `elections decertify`: the certification in force no longer is; results may change again.
CERTIFICATION_REVOKED: Final = "CertificationRevoked"
# A declared election's rules replaced from an effective log position on, by an explicit command.
RULES_AMENDED: Final = "RulesAmended"
# OpenElections files: an election declared from the file itself (counties and contests seen), and a
# file's counted rows and pseudo-rows (figures in oe_results / oe_pseudo_rows).
CONTESTS_DECLARED: Final = "ContestsDeclared"
CONTEST_RESULTS_REPORTED: Final = "ContestResultsReported"

EVENT_TYPES: Final = frozenset(
    {
        ELECTION_DECLARED,
        BATCH_RECEIVED,
        BATCH_QUARANTINED,
        ROW_QUARANTINED,
        PROTOCOL_REPORTED,
        PROTOCOL_AMENDED,
        PRECINCT_ANNULLED,
        RESULTS_PUBLISHED,
        RESULTS_CERTIFIED,
        CERTIFICATION_OVERRIDDEN,
        CERTIFICATION_REVOKED,
        RULES_AMENDED,
        CONTESTS_DECLARED,
        CONTEST_RESULTS_REPORTED,
    }
)


def canonical_json(value: object) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept. Payloads are stored in this form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def election_stream(election_id: str) -> str:
    return f"election:{election_id}"


PRECINCT_STREAM_PREFIX = "precinct:"


def precinct_stream(election_id: str, precinct_id: str) -> str:
    return f"{PRECINCT_STREAM_PREFIX}{election_id}/{precinct_id}"


def batch_stream(batch_id: str) -> str:
    return f"batch:{batch_id}"


@dataclass(frozen=True)
class ProtocolFacts:
    """The figures of one precinct protocol: stored in typed tables, not in the JSON payload."""

    precinct_id: str
    region_id: str
    protocol_version: int
    registered_voters: int
    ballots_issued: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    votes: tuple[tuple[str, int], ...]  # (list_id, votes) in ballot order

    def figures(self) -> dict[str, int]:
        out = {
            "registered_voters": self.registered_voters,
            "ballots_issued": self.ballots_issued,
            "ballots_cast": self.ballots_cast,
            "invalid_ballots": self.invalid_ballots,
            "against_all": self.against_all,
        }
        out.update(dict(self.votes))
        return out


@dataclass(frozen=True)
class NewEvent:
    """A typed event serialized for the log (`pipelines.store.event_codec.serialize`): the store
    assigns position, stream version, recording time and hashes."""

    stream_id: str
    event_type: str
    election_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    batch_id: str | None = None
    protocol: ProtocolFacts | None = None
    precincts: PrecinctTable | None = field(default=None, repr=False)  # ElectionDeclared: stored columnar
    # ContestResultsReported: the rows of `oe_results` and `oe_pseudo_rows`, without their position.
    oe_results: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    oe_pseudo_rows: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.event_type!r}")


@dataclass(frozen=True)
class StoredEvent:
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    election_id: str
    occurred_at: datetime
    recorded_at: datetime
    batch_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    event_hash: str


# A ResultsPublished payload key: the publication's NIST export lists every precinct (`--precincts`).
PRECINCTS_IN_EXPORT: Final = "nist_cdf_precincts"
