"""Publishing a seat table: a ResultsPublished (or ResultsCertified) event that records what it was
based on (log position, rule profile) and the checksum of the exact table published; once the event
has committed, the publication's immutable folder of files is written beside the warehouse.

Certification is the last publication of an election: refused while declared precincts are missing,
unless an operator overrides with a reason, which is itself recorded as an event first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pipelines.errors import PipelineError, RulesCannotDecide
from pipelines.event_store import EventStore, utc_now
from pipelines.events import (
    CERTIFICATION_OVERRIDDEN,
    RESULTS_CERTIFIED,
    RESULTS_PUBLISHED,
    NewEvent,
    canonical_json,
    election_stream,
)
from pipelines.migrations import first_row
from pipelines.projections import update_projections
from pipelines.publication_files import RESULT_EVENTS, check_folder_name, warehouse_of, write_publication
from pipelines.rule_profiles import profile_to_dict
from pipelines.seat_allocation import Allocation
from pipelines.seat_table import allocate_totals, election_profile, national_totals

Status = Literal["provisional", "certified"]


@dataclass(frozen=True)
class Publication:
    publication_id: str
    election_id: str
    status: Status
    based_on_position: int
    table_sha256: str
    allocation: Allocation


def publication_id(election_id: str, status: Status, based_on: int) -> str:
    return f"{election_id}--{status}--{based_on:09d}"


def table_checksum(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(records).encode("utf-8")).hexdigest()


# How far back from the log's head the last result event is looked for before the whole log is read.
_RECENT_POSITIONS = 10_000


def last_result_position(store: EventStore, election_id: str) -> int:
    """The last event that changed this election's results: what a publication is based on.

    Usually one of the latest events: those are read first (a few ms at a million events instead of a
    scan of every event); the whole log only when none of them changed this election's results.
    """
    marks = ", ".join("?" for _ in RESULT_EVENTS)
    matching = f"election_id = ? AND event_type IN ({marks})"
    recent = first_row(
        store.conn.execute(
            f"SELECT max(position) FROM events WHERE {matching} "
            "AND position > (SELECT coalesce(max(position), 0) FROM events) - ?",
            [election_id, *RESULT_EVENTS, _RECENT_POSITIONS],
        )
    )
    if recent is not None and recent[0] is not None:
        return int(str(recent[0]))
    row = first_row(
        store.conn.execute(
            f"SELECT coalesce(max(position), 0) FROM events WHERE {matching}", [election_id, *RESULT_EVENTS]
        )
    )
    return int(str(row[0])) if row else 0


def _statuses_at(store: EventStore, election_id: str, based_on: int) -> set[str]:
    rows = store.conn.execute(
        "SELECT status FROM proj_publications WHERE election_id = ? AND based_on_position = ?",
        [election_id, based_on],
    ).fetchall()
    return {str(r[0]) for r in rows}


def publish(
    store: EventStore,
    election_id: str,
    *,
    status: Status = "provisional",
    extra: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Publication | None:
    """Allocate over the current totals and record the publication; None when these results are
    already published with this status (or certified). Raises RulesCannotDecide (nothing is published).

    `occurred_at` (default: now) is the publication's time in the log; a replay passes the time the
    original run published, so that its tables equal the original's."""
    based_on = last_result_position(store, election_id)
    existing = _statuses_at(store, election_id, based_on)
    covering = status if status in existing else "certified" if "certified" in existing else None
    if covering is not None:
        # Nothing new to publish; a folder lost to a crash after the commit is written now.
        write_publication_folder(store, publication_id(election_id, covering, based_on))
        return None
    profile = election_profile(store.conn, election_id)
    totals = national_totals(store.conn, election_id)
    if totals.precincts_counted == 0:
        raise RulesCannotDecide(
            f"no precinct of {election_id} has reported yet: there is nothing to allocate"
        )
    allocation = allocate_totals(totals, profile)
    records = allocation.to_records()
    checksum = table_checksum(records)
    pub_id = publication_id(election_id, status, based_on)
    check_folder_name(pub_id)
    payload: dict[str, Any] = {
        "publication_id": pub_id,
        "status": status,
        "based_on_position": based_on,
        "rule_profile": profile.profile_id,
        "rules": profile_to_dict(profile),
        "table_sha256": checksum,
        "precincts_counted": totals.precincts_counted,
        "ballots_cast": totals.ballots_cast,
        "invalid_ballots": totals.invalid_ballots,
        "against_all": totals.against_all,
        "seats": [
            {
                "list_id": r.list_id,
                "name": r.name,
                "ballot_order": r.ballot_order,
                "votes": r.votes,
                "seats": r.seats,
            }
            for r in allocation.rows
        ],
        "allocation": records,
        "explanation": list(allocation.explanation),
        **(extra or {}),
    }
    event_type = RESULTS_CERTIFIED if status == "certified" else RESULTS_PUBLISHED
    with store.transaction():
        store.append(
            [
                NewEvent(
                    election_stream(election_id), event_type, election_id, payload, occurred_at or utc_now()
                )
            ]
        )
        update_projections(store.conn)
    write_publication_folder(store, pub_id)
    return Publication(pub_id, election_id, status, based_on, checksum, allocation)


def write_publication_folder(store: EventStore, pub_id: str) -> None:
    """Write the publication's files unless they exist; nothing for an in-memory warehouse."""
    paths = warehouse_of(store.conn)
    if paths is not None:
        write_publication(paths, store.conn, pub_id)


class CertificationRefused(PipelineError):
    """Certification is not possible now (precincts missing, or already certified)."""


def missing_precincts(store: EventStore, election_id: str) -> list[str]:
    """Declared precincts that have neither reported nor been annulled."""
    rows = store.conn.execute(
        "SELECT p.precinct_id FROM proj_precincts p WHERE p.election_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM proj_precinct_results r "
        "                WHERE r.election_id = p.election_id AND r.precinct_id = p.precinct_id) "
        "AND NOT EXISTS (SELECT 1 FROM proj_annulments a "
        "                WHERE a.election_id = p.election_id AND a.precinct_id = p.precinct_id) "
        "ORDER BY p.precinct_id",
        [election_id],
    ).fetchall()
    return [str(r[0]) for r in rows]


def certify(
    store: EventStore,
    election_id: str,
    *,
    override_reason: str | None = None,
    operator: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Publication:
    """Publish the certified seat table, once per election, when every declared precinct has reported
    or been annulled; `override_reason` certifies anyway and records a CertificationOverridden event."""
    certified = first_row(
        store.conn.execute(
            "SELECT publication_id FROM proj_publications WHERE election_id = ? AND status = 'certified'",
            [election_id],
        )
    )
    if certified is not None:
        raise CertificationRefused(
            f"{election_id} is already certified ({certified[0]}); a certified result is published once"
        )
    election_profile(store.conn, election_id)  # a plain error when the election is not declared
    missing = missing_precincts(store, election_id)
    if missing and override_reason is None:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise CertificationRefused(
            f"cannot certify {election_id}: {len(missing)} declared precinct(s) have neither reported nor "
            f"been annulled ({shown}); wait for them, annul them, or certify with an override reason"
        )
    if missing:
        reason = (override_reason or "").strip()
        if not reason:
            raise CertificationRefused("an override needs a reason that says why certification goes ahead")
        with store.transaction():
            store.append(
                [
                    NewEvent(
                        election_stream(election_id),
                        CERTIFICATION_OVERRIDDEN,
                        election_id,
                        {
                            "reason": reason,
                            "operator": operator or "unknown",
                            "missing_precincts": len(missing),
                            "missing_sample": missing[:20],
                        },
                        utc_now(),
                    )
                ]
            )
            update_projections(store.conn)
    publication = publish(store, election_id, status="certified", extra=extra)
    assert publication is not None  # no certified publication exists, so publish always publishes
    return publication
