"""Publishing a seat table: a ResultsPublished (or ResultsCertified) event that records what it was
based on (log position, the rules in force there, read from the log) and the checksum of the exact
table published; once the event has committed, the publication's immutable folder of files is
written beside the warehouse.

Certification is the last publication of an election: refused while declared precincts are missing,
unless an operator overrides with a reason, which is itself recorded as an event first. Certified means
final: nothing is published after it (and ingestion quarantines every result sent to the election)
until a deciding body revokes it, which is its own event (CertificationRevoked) with its reason. The
revocation comes with a provisional publication of the same table, appended in the same transaction,
so that the latest publication of the election, which every reader takes as the result in force, is
never a revoked certification."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pipelines.core.errors import InputError, PipelineError, RulesCannotDecide
from pipelines.core.timestamps import utc_now
from pipelines.domain.event_types import (
    CertificationOverridden,
    CertificationRevoked,
    DomainEvent,
    ResultsCertified,
    ResultsPublished,
)
from pipelines.domain.events import CERTIFICATION_REVOKED, RESULTS_CERTIFIED, canonical_json
from pipelines.domain.list_kinds import PARTY
from pipelines.publishing.publication_certainty import recorded_inputs
from pipelines.publishing.publication_files import check_folder_name, warehouse_of, write_publication
from pipelines.publishing.publication_layout import (
    CERTAINTY_FORMAT,
    CURRENT_PUBLICATION_FORMAT,
    FIRST_PUBLICATION_FORMAT,
)
from pipelines.publishing.published_results import RESULT_EVENTS
from pipelines.publishing.seat_table import allocate_totals, national_totals
from pipelines.rules.rule_profiles import profile_to_dict
from pipelines.rules.seat_allocation import Allocation
from pipelines.store.certification import Certification, certification_in_force
from pipelines.store.election_rules import RulesInForce, rules_in_force
from pipelines.store.event_store import EventStore
from pipelines.store.migrations import first_row
from pipelines.store.projections import update_projections
from pipelines.store.queries import query

Status = Literal["provisional", "certified"]


@dataclass(frozen=True)
class Publication:
    publication_id: str
    election_id: str
    status: Status
    based_on_position: int
    table_sha256: str
    allocation: Allocation


def publication_id(
    election_id: str, status: Status, based_on: int, *, certification: int = 1, revocation: int = 0
) -> str:
    """The publication's id and folder name. A certification after a revoked one carries its number
    (`--2`, `--3`...): it may rest on the same log position, and the revoked one keeps its folder.
    The provisional publication a revocation makes carries the revocation's number (`--r1`, `--r2`...):
    it rests on the revoked certification's position, where a provisional one may exist already."""
    base = f"{election_id}--{status}--{based_on:09d}"
    if revocation:
        return f"{base}--r{revocation}"
    return base if certification == 1 else f"{base}--{certification}"


def table_checksum(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(records).encode("utf-8")).hexdigest()


# How far back from the log's head the last result event is looked for before the whole log is read.
_RECENT_POSITIONS = 10_000


def last_result_position(store: EventStore, election_id: str) -> int:
    """The last event that changed this election's results: what a publication is based on.

    The rules count as results: the position from which the rules in force apply (the declaration,
    an amendment, or the position a scheduled amendment named, once the log has reached it).

    Usually one of the latest events: those are read first (a few ms at a million events instead of a
    scan of every event); the whole log only when none of them changed this election's results.
    """
    return _last_result(store, election_id)[0]


def _last_result(store: EventStore, election_id: str) -> tuple[int, RulesInForce | None]:
    """`last_result_position`, and the rules in force at the head (None: the election is not declared)."""
    params = {"election": election_id, "result_events": list(RESULT_EVENTS)}
    recent = first_row(
        store.conn.execute(query("last_result_position_recent"), {**params, "recent": _RECENT_POSITIONS})
    )
    at_head = _rules_at_head(store, election_id)
    rules_from = at_head.effective_from if at_head is not None else 0
    if recent is not None and recent[0] is not None:
        return max(int(str(recent[0])), rules_from), at_head
    row = first_row(store.conn.execute(query("last_result_position"), params))
    return max(int(str(row[0])) if row else 0, rules_from), at_head


def _rules_at_head(store: EventStore, election_id: str) -> RulesInForce | None:
    try:
        return rules_in_force(store.conn, election_id)
    except InputError:
        return None


def _rules_at(
    store: EventStore, election_id: str, based_on: int, at_head: RulesInForce | None
) -> RulesInForce:
    """The rules in force at `based_on` (at most the head), without reading the log again when the
    head's stood there already: the rules at a position are the latest in effect among those set by
    then (`election_rules`), so rules set and in effect by `based_on` that are the latest at the head
    are the latest at `based_on` too. (A publication is based at or after its rules' effective
    position, so that is every publication; the log is read again only for one it cannot be.) Each
    read scans the log for the election's rule events: ~0.07 s at a million events."""
    if at_head is not None and at_head.set_at <= based_on and at_head.effective_from <= based_on:
        return at_head
    return rules_in_force(store.conn, election_id, based_on)


def _published_at(store: EventStore, election_id: str, based_on: int) -> dict[str, str]:
    """The latest publication of each status already based on that position: status -> its id."""
    rows = store.conn.execute(
        query("publications_at"), {"election": election_id, "based_on": based_on}
    ).fetchall()
    return {str(status): str(pub_id) for status, pub_id in rows}


def publish(
    store: EventStore,
    election_id: str,
    *,
    status: Status = "provisional",
    extra: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    publication_format: int = CURRENT_PUBLICATION_FORMAT,
) -> Publication | None:
    """Allocate over the current totals and record the publication; None when these results are
    already published with this status, or while the election's certification is in force (nothing
    is published after it). Raises RulesCannotDecide (nothing is published).

    `occurred_at` (default: now) is the publication's time in the log; a replay passes the time the
    original run published, so that its tables equal the original's, and the format its folder had
    (`publication_format`, recorded in the event from format 2 on; 1 leaves the key out as it was)."""
    based_on, at_head = _last_result(store, election_id)
    # Nothing new to publish; a folder lost to a crash after the commit is written now.
    in_force = certification_in_force(store.conn, election_id)
    if in_force is not None:
        write_publication_folder(store, in_force.publication_id)
        return None
    published = _published_at(store, election_id, based_on).get(status)
    if status == "provisional" and published is not None:
        write_publication_folder(store, published)
        return None
    number = _count(store, election_id, RESULTS_CERTIFIED) + 1 if status == "certified" else 1
    pub_id = publication_id(election_id, status, based_on, certification=number)
    rules = _rules_at(store, election_id, based_on, at_head)
    event, publication = _publication_event(
        store, election_id, pub_id, rules, status, based_on, extra, occurred_at, publication_format
    )
    with store.transaction():
        store.append([event])
        update_projections(store.conn)
    write_publication_folder(store, pub_id)
    return publication


def _publication_event(
    store: EventStore,
    election_id: str,
    pub_id: str,
    rules: RulesInForce,
    status: Status,
    based_on: int,
    extra: dict[str, Any] | None,
    occurred_at: datetime | None,
    publication_format: int,
) -> tuple[ResultsPublished | ResultsCertified, Publication]:
    """The event that publishes the current totals' allocation under `pub_id` by `rules` (those in
    force at `based_on`), not yet appended. Raises RulesCannotDecide when there is nothing to allocate."""
    profile = rules.profile
    totals = national_totals(store.conn, election_id)
    if totals.precincts_counted == 0:
        raise RulesCannotDecide(
            f"no precinct of {election_id} has reported yet: there is nothing to allocate"
        )
    allocation = allocate_totals(totals, profile)
    kinds = {x.list_id: x.kind for x in totals.list_votes}
    records = allocation.to_records()
    checksum = table_checksum(records)
    check_folder_name(pub_id)
    # The totals are the projections' now, so are what is outstanding and quarantined beside them.
    outstanding, quarantined = (
        recorded_inputs(store.conn, election_id) if publication_format >= CERTAINTY_FORMAT else (None, None)
    )
    published = ResultsCertified if status == "certified" else ResultsPublished
    event = published(
        election_id=election_id,
        occurred_at=occurred_at or utc_now(),
        publication_id=pub_id,
        status=status,
        based_on_position=based_on,
        rule_profile=profile.profile_id,
        rules=profile_to_dict(profile),
        rules_sha256=rules.sha256,
        table_sha256=checksum,
        precincts_counted=totals.precincts_counted,
        ballots_cast=totals.ballots_cast,
        invalid_ballots=totals.invalid_ballots,
        against_all=totals.against_all,
        seats=tuple(
            {
                "list_id": r.list_id,
                "name": r.name,
                "ballot_order": r.ballot_order,
                "votes": r.votes,
                "seats": r.seats,
                # recorded only for a list declared other than a party (its threshold may differ)
                **({} if kinds.get(r.list_id, PARTY) == PARTY else {"kind": kinds[r.list_id]}),
            }
            for r in allocation.rows
        ),
        allocation=tuple(records),
        explanation=tuple(allocation.explanation),
        publication_format=None if publication_format == FIRST_PUBLICATION_FORMAT else publication_format,
        registered_voters=totals.registered_voters if profile.threshold_base == "registered_voters" else None,
        outstanding=outstanding,
        quarantined=quarantined,
        **(extra or {}),
    )
    return event, Publication(pub_id, election_id, status, based_on, checksum, allocation)


def _count(store: EventStore, election_id: str, event_type: str) -> int:
    """How many times the election was certified (revoked certifications included), or revoked."""
    # Each query by its literal name, so that tests/unit/test_warehouse_sql.py sees both used.
    if event_type == RESULTS_CERTIFIED:
        counted = query("certification_count"), {"election": election_id, "certified": event_type}
    else:
        counted = query("revocation_count"), {"election": election_id, "revoked": event_type}
    row = first_row(store.conn.execute(*counted))
    return int(str(row[0])) if row else 0


def write_publication_folder(store: EventStore, pub_id: str) -> None:
    """Write the publication's files unless they exist; nothing for an in-memory warehouse."""
    paths = warehouse_of(store.conn)
    if paths is not None:
        write_publication(paths, store.conn, pub_id)


def write_missing_publication_folders(store: EventStore) -> list[str]:
    """Write the folder of every publication in the log that has none; return their ids."""
    paths = warehouse_of(store.conn)
    if paths is None:
        return []
    ids = [str(r[0]) for r in store.conn.execute(query("publication_ids")).fetchall()]
    missing = [pub_id for pub_id in ids if not (paths.publications / pub_id).exists()]
    for pub_id in missing:
        write_publication(paths, store.conn, pub_id)
    return missing


class CertificationRefused(PipelineError):
    """Certification (or its revocation) is not possible now: precincts missing, already certified,
    or nothing certified to revoke."""


def missing_precincts(store: EventStore, election_id: str) -> list[str]:
    """Declared precincts that have neither reported nor been annulled."""
    rows = store.conn.execute(query("missing_precincts"), {"election": election_id}).fetchall()
    return [str(r[0]) for r in rows]


def certify(
    store: EventStore,
    election_id: str,
    *,
    override_reason: str | None = None,
    operator: str | None = None,
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
    publication_format: int = CURRENT_PUBLICATION_FORMAT,
) -> Publication:
    """Publish the certified seat table, once per election, when every declared precinct has reported
    or been annulled; `override_reason` certifies anyway and records a CertificationOverridden event.
    `at` (default: now) is when both happened; a replay passes the journaled time."""
    moment = at or utc_now()
    certified = certification_in_force(store.conn, election_id)
    if certified is not None:
        raise CertificationRefused(
            f"{election_id} is already certified ({certified.publication_id}); a certified result is "
            "published once (a commission that must certify again revokes it first: elections decertify)"
        )
    rules_in_force(store.conn, election_id)  # a plain error when the election is not declared
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
                    CertificationOverridden(
                        election_id=election_id,
                        occurred_at=moment,
                        reason=reason,
                        operator=operator or "unknown",
                        missing_precincts=len(missing),
                        missing_sample=tuple(missing[:20]),
                    )
                ]
            )
            update_projections(store.conn)
    publication = publish(
        store,
        election_id,
        status="certified",
        extra=extra,
        occurred_at=moment,
        publication_format=publication_format,
    )
    assert publication is not None  # no certified publication exists, so publish always publishes
    return publication


@dataclass(frozen=True)
class Revocation:
    """A revoked certification and the provisional publication that replaced it as the latest."""

    certification: Certification
    publication: Publication | None  # None for a revocation replayed from a journal that made none


def revoke_certification(
    store: EventStore,
    election_id: str,
    *,
    reason: str,
    decided_by: str,
    operator: str | None = None,
    occurred_at: datetime | None = None,
    publish_provisional: bool = True,
    publication_format: int = CURRENT_PUBLICATION_FORMAT,
) -> Revocation:
    """Record that the certification in force is revoked (CertificationRevoked: which publication,
    why, who decided) and, in the same transaction, publish the seat table in force again as
    provisional (`...--provisional--<base>--r<n>`, the event right after the revocation), so that no
    reader takes the revoked certification, still the latest publication otherwise, for the result.
    The revoked publication and its folder stay as they are, readable and verifiable; results are
    accepted again and a new certification is possible.

    `occurred_at` (default: now) is the revocation's time in the log, for a replay;
    `publish_provisional=False` only replays a journal written before revocations published;
    `publication_format` is the provisional folder's, as for `publish`."""
    reason, decided_by = reason.strip(), decided_by.strip()
    if not reason:
        raise InputError(
            "a revocation needs a reason that says why the certification no longer stands (--reason)",
            column="reason",
            rule="revocation_reason",
        )
    if not decided_by:
        raise InputError(
            "a revocation needs the person or body that decided it (--by)",
            column="by",
            rule="revocation_decided_by",
        )
    in_force = certification_in_force(store.conn, election_id)
    if in_force is None:
        raise CertificationRefused(
            f"{election_id} is not certified (or its certification was revoked already): "
            "there is no certification to revoke"
        )
    moment = occurred_at or utc_now()
    revoked = CertificationRevoked(
        election_id=election_id,
        occurred_at=moment,
        publication_id=in_force.publication_id,
        certified_position=in_force.position,
        based_on_position=in_force.based_on_position,
        reason=reason,
        decided_by=decided_by,
        operator=operator or "unknown",
    )
    events: list[DomainEvent] = [revoked]
    publication = None
    if publish_provisional:
        based_on, at_head = _last_result(store, election_id)
        number = _count(store, election_id, CERTIFICATION_REVOKED) + 1
        pub_id = publication_id(election_id, "provisional", based_on, revocation=number)
        rules = _rules_at(store, election_id, based_on, at_head)
        event, publication = _publication_event(
            store, election_id, pub_id, rules, "provisional", based_on, None, moment, publication_format
        )
        events.append(event)
    with store.transaction():
        store.append(events)
        update_projections(store.conn)
    if publication is not None:
        write_publication_folder(store, publication.publication_id)
    return Revocation(in_force, publication)
