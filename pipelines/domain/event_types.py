"""Typed events: one frozen class per event type, with the version of its payload.

A typed event holds three kinds of field:

- the envelope (`election_id`, `occurred_at`, `batch_id`): columns of the `events` table;
- its payload: every other plain field, stored as canonical JSON under the field's name (a field
  with `KEY_WHEN_SET` metadata is left out while it is None, so that payloads which never had the
  key keep their bytes, and so their hashes);
- its figures (`STORED_AS_FIGURES` metadata: a protocol's facts, a declaration's precincts, an
  OpenElections file's rows): stored in typed tables under the event's position, never in the JSON.

`class_version` is the version of a type's payload. A type whose payload changed records it in the
payload as `version` (ElectionDeclared, version 2, since the rules were embedded); a payload without
`version` is version 1. Older versions are brought to the current one by the upcasters of
`pipelines.store.event_codec`, which also turns stored rows into these classes and back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final

import pandas as pd

from pipelines.domain.election import PrecinctTable
from pipelines.domain.events import (
    BATCH_QUARANTINED,
    BATCH_RECEIVED,
    CERTIFICATION_OVERRIDDEN,
    CERTIFICATION_REVOKED,
    CONTEST_RESULTS_REPORTED,
    CONTESTS_DECLARED,
    ELECTION_DECLARED,
    PRECINCT_ANNULLED,
    PROTOCOL_AMENDED,
    PROTOCOL_REPORTED,
    RESULTS_CERTIFIED,
    RESULTS_PUBLISHED,
    ROW_QUARANTINED,
    RULES_AMENDED,
    ProtocolFacts,
    batch_stream,
    election_stream,
    precinct_stream,
)

# Where a field goes when the event is stored (dataclass field metadata).
ENVELOPE: Final = "envelope"
FIGURES: Final = "figures"
OPTIONAL_KEY: Final = "optional_key"
VERSION_KEY: Final = "version"  # the payload key of a version after the first


# Field metadata: stored in typed tables, not in the payload (None when read back from the payload).
STORED_AS_FIGURES: Final = {FIGURES: True}
# Field metadata: a payload key written only when not None, so payloads made before it keep their bytes.
KEY_WHEN_SET: Final = {OPTIONAL_KEY: True}


JsonList = tuple[Any, ...]  # a JSON array (a tuple, so that the event stays immutable at the top)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """What every event has: its election, when the fact happened, the file that carried it."""

    event_type: ClassVar[str]
    class_version: ClassVar[int] = 1
    records_version: ClassVar[bool] = False  # the payload carries `version` (types past version 1)
    repeated_in_payload: ClassVar[tuple[str, ...]] = ()  # envelope fields the payload repeats

    election_id: str = field(metadata={ENVELOPE: True})
    occurred_at: datetime = field(metadata={ENVELOPE: True})
    batch_id: str | None = field(default=None, metadata={ENVELOPE: True})

    @property
    def stream_id(self) -> str:
        return election_stream(self.election_id)

    def payload(self) -> dict[str, Any]:
        """The payload as stored (before canonical JSON): every payload field by name."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self.repeated_in_payload}
        for f in dataclasses.fields(self):
            if f.metadata.get(ENVELOPE) or f.metadata.get(FIGURES):
                continue
            value = getattr(self, f.name)
            if value is None and f.metadata.get(OPTIONAL_KEY):
                continue
            out[f.name] = value
        if self.records_version:
            out[VERSION_KEY] = self.class_version
        return out


def payload_fields(cls: type[DomainEvent]) -> dict[str, dataclasses.Field[Any]]:
    """The fields of `cls` stored in its payload, by name."""
    return {
        f.name: f
        for f in dataclasses.fields(cls)
        if not f.metadata.get(ENVELOPE) and not f.metadata.get(FIGURES)
    }


# -- an election and its rules ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ElectionDeclared(DomainEvent):
    """A declaration file: lists in ballot order, regions, the rules embedded; precincts as figures."""

    event_type: ClassVar[str] = ELECTION_DECLARED
    class_version: ClassVar[int] = 2  # 2: the rule profile's content and SHA-256 embedded
    records_version: ClassVar[bool] = True
    repeated_in_payload: ClassVar[tuple[str, ...]] = ("election_id",)

    name: str
    date: str
    rule_profile: str  # the reference the declaration named, for display
    against_all_on_ballot: bool
    synthetic: bool
    source_note: str
    lists: JsonList
    regions: JsonList
    file_name: str
    rules: Mapping[str, Any]
    rules_sha256: str
    rule_profile_file_sha256: str | None = field(
        default=None, metadata=KEY_WHEN_SET
    )  # the profile came as a file beside it
    precincts_csv_sha256: str | None = field(
        default=None, metadata=KEY_WHEN_SET
    )  # the precincts came as a CSV beside it
    upcast_from: int | None = field(
        default=None, metadata=KEY_WHEN_SET
    )  # read from an older version (never stored)
    precincts: PrecinctTable | None = field(
        default=None, compare=False, repr=False, metadata=STORED_AS_FIGURES
    )


@dataclass(frozen=True, kw_only=True)
class RulesAmended(DomainEvent):
    """New rules for a declared election from `effective_position` on (`elections amend-rules`)."""

    event_type: ClassVar[str] = RULES_AMENDED

    rule_profile: str
    rules: Mapping[str, Any]
    rules_sha256: str
    previous_rules_sha256: str
    reason: str
    decided_by: str
    effective_position: int
    source: str


# -- received files --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BatchEvent(DomainEvent):
    """An event of one received file's stream (`batch:<sha256>`)."""

    @property
    def stream_id(self) -> str:
        if self.batch_id is None:
            raise ValueError(f"{self.event_type} needs the batch id of its file")
        return batch_stream(self.batch_id)


@dataclass(frozen=True, kw_only=True)
class BatchReceived(BatchEvent):
    """What arrived and what became of its rows."""

    event_type: ClassVar[str] = BATCH_RECEIVED
    repeated_in_payload: ClassVar[tuple[str, ...]] = ("election_id",)

    file_name: str
    file_format: str
    size_bytes: int
    rows_total: int = 0
    rows_applied: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    quarantined_whole: bool = False
    anomalies: JsonList = ()
    # A commission's own file read through a native layout: the layout's canonical content and its
    # SHA-256 (docs/layouts.md). Absent for every other file, so their payloads are as before.
    layout: Mapping[str, Any] | None = field(default=None, metadata=KEY_WHEN_SET)
    layout_sha256: str | None = field(default=None, metadata=KEY_WHEN_SET)


@dataclass(frozen=True, kw_only=True)
class BatchQuarantined(BatchEvent):
    """A file refused whole; a path refused before it was read also says what `lstat` saw."""

    event_type: ClassVar[str] = BATCH_QUARANTINED

    file_name: str
    rule: str
    message: str
    kind: str | None = field(default=None, metadata=KEY_WHEN_SET)
    size_bytes: int | None = field(default=None, metadata=KEY_WHEN_SET)
    read: bool | None = field(default=None, metadata=KEY_WHEN_SET)  # False: refused unread (nothing archived)


@dataclass(frozen=True, kw_only=True)
class RowQuarantined(BatchEvent):
    """One refused row: file, row, column, rule, value and message (any format)."""

    event_type: ClassVar[str] = ROW_QUARANTINED

    file_name: str
    row: int
    column: str | None
    rule: str
    value: Any  # the cell as read (text), or None
    message: str
    precinct_id: str | None


# -- precinct results ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PrecinctEvent(DomainEvent):
    """An event of one precinct's stream (`precinct:<election>/<precinct>`)."""

    precinct_id: str = field(metadata={ENVELOPE: True})

    @property
    def stream_id(self) -> str:
        return precinct_stream(self.election_id, self.precinct_id)


@dataclass(frozen=True, kw_only=True)
class ProtocolReported(PrecinctEvent):
    """A precinct's first protocol; its figures go to `protocol_facts` and `protocol_votes`."""

    event_type: ClassVar[str] = PROTOCOL_REPORTED

    file_name: str
    row: int
    protocol: ProtocolFacts | None = field(
        default=None, compare=False, repr=False, metadata=STORED_AS_FIGURES
    )


@dataclass(frozen=True, kw_only=True)
class ProtocolAmended(PrecinctEvent):
    """A later protocol version of a precinct, with the reason and the version it supersedes."""

    event_type: ClassVar[str] = PROTOCOL_AMENDED

    file_name: str
    row: int
    reason: str
    supersedes_version: int
    protocol: ProtocolFacts | None = field(
        default=None, compare=False, repr=False, metadata=STORED_AS_FIGURES
    )


@dataclass(frozen=True, kw_only=True)
class PrecinctAnnulled(PrecinctEvent):
    """A precinct's results annulled by a deciding body."""

    event_type: ClassVar[str] = PRECINCT_ANNULLED
    repeated_in_payload: ClassVar[tuple[str, ...]] = ("precinct_id",)

    reason: str
    decided_by: str
    file_name: str
    row: int


# -- publications and certification ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ResultsPublished(DomainEvent):
    """A seat table published: what it rests on (log position, rules) and the table itself."""

    event_type: ClassVar[str] = RESULTS_PUBLISHED

    publication_id: str
    status: str
    based_on_position: int
    rule_profile: str
    rules: Mapping[str, Any]
    rules_sha256: str
    table_sha256: str
    precincts_counted: int
    ballots_cast: int
    invalid_ballots: int
    against_all: int
    seats: JsonList
    allocation: JsonList
    explanation: JsonList
    nist_cdf_precincts: bool | None = field(
        default=None, metadata=KEY_WHEN_SET
    )  # its NIST export lists every precinct
    # The format of its folder (publishing/publication_layout.py); None (no key): format 1, written
    # before formats were recorded.
    publication_format: int | None = field(default=None, metadata=KEY_WHEN_SET)
    # The electorate the threshold was measured on; recorded only under the base `registered_voters`.
    registered_voters: int | None = field(default=None, metadata=KEY_WHEN_SET)
    # From format 4: what was outstanding (declared precincts with neither protocol nor annulment, and
    # their registered voters) and what the quarantine named (its entries, the declared precincts named,
    # their registered voters and what their protocols in force counted), the inputs of the certainty
    # bounds and the quarantine's materiality its folder states (publishing/publication_certainty.py).
    outstanding: Mapping[str, Any] | None = field(default=None, metadata=KEY_WHEN_SET)
    quarantined: Mapping[str, Any] | None = field(default=None, metadata=KEY_WHEN_SET)


@dataclass(frozen=True, kw_only=True)
class ResultsCertified(ResultsPublished):
    """The final seat table of an election (same content as a publication)."""

    event_type: ClassVar[str] = RESULTS_CERTIFIED


@dataclass(frozen=True, kw_only=True)
class CertificationOverridden(DomainEvent):
    """Certification before every precinct reported: who decided it, and why."""

    event_type: ClassVar[str] = CERTIFICATION_OVERRIDDEN

    reason: str
    operator: str
    missing_precincts: int
    missing_sample: JsonList


@dataclass(frozen=True, kw_only=True)
class CertificationRevoked(DomainEvent):
    """The certification in force revoked: results may change again."""

    event_type: ClassVar[str] = CERTIFICATION_REVOKED

    publication_id: str
    certified_position: int
    based_on_position: int
    reason: str
    decided_by: str
    operator: str


# -- OpenElections ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContestsDeclared(DomainEvent):
    """An OpenElections election, or counties and contests of it, first seen in a file."""

    event_type: ClassVar[str] = CONTESTS_DECLARED

    file_name: str
    source: str
    state: str | None
    date: str | None
    counties: JsonList
    contests: JsonList


@dataclass(frozen=True, kw_only=True)
class ContestResultsReported(DomainEvent):
    """One OpenElections file's counted rows and pseudo-rows (figures: `oe_results`, `oe_pseudo_rows`)."""

    event_type: ClassVar[str] = CONTEST_RESULTS_REPORTED

    file_name: str
    rows: int
    pseudo_rows: int
    vote_modes: JsonList
    office_variants: JsonList
    oe_results: pd.DataFrame | None = field(
        default=None, compare=False, repr=False, metadata=STORED_AS_FIGURES
    )  # the columns of `oe_results` but `position`
    oe_pseudo_rows: pd.DataFrame | None = field(
        default=None, compare=False, repr=False, metadata=STORED_AS_FIGURES
    )  # the columns of `oe_pseudo_rows` but `position`


EVENT_CLASSES: Final[Mapping[str, type[DomainEvent]]] = {
    cls.event_type: cls
    for cls in (
        ElectionDeclared,
        RulesAmended,
        BatchReceived,
        BatchQuarantined,
        RowQuarantined,
        ProtocolReported,
        ProtocolAmended,
        PrecinctAnnulled,
        ResultsPublished,
        ResultsCertified,
        CertificationOverridden,
        CertificationRevoked,
        ContestsDeclared,
        ContestResultsReported,
    )
}
