"""The rules in force for an election at a log position, read from the log alone.

An election's rules are events: its `ElectionDeclared` carries the rule profile's canonical content
(`profile_to_dict`) and that content's SHA-256, and every `RulesAmended` carries a new profile that
applies from its effective log position on. `rules_in_force` is the one way a seat computation gets
its rules (publish and certify, `seats --as-of`, rebuild, reloads, the Airflow tasks), so editing or
deleting a profile file after the declaration changes nothing that is computed.

Which rules stand at position P: of the declaration and the amendments whose effective position is at
most P, the one with the latest effective position (between two with the same effective position, the
one recorded later). An amendment never reaches back before its own position (see
`pipelines.ingestion.rules_amendment`), so what was in force at a past position stays so forever.

An `ElectionDeclared` recorded before the rules were embedded ("version 1": `rule_profile` names a
shipped profile, nothing more) is read through its registered upcaster (`pipelines.store.upcasters`),
which loads the shipped profile of that id. Such old logs are the only case in which a profile is ever
read from disk after declaration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.core.errors import InputError, PipelineError
from pipelines.domain.event_types import ElectionDeclared, RulesAmended
from pipelines.domain.events import ELECTION_DECLARED, RULES_AMENDED
from pipelines.rules.rule_profiles import RuleProfile, parse_profile
from pipelines.store.event_codec import typed_event
from pipelines.store.migrations import first_row
from pipelines.store.queries import query
from pipelines.store.rules_content import rules_sha256


@dataclass(frozen=True)
class RulesInForce:
    """The rules of one election at one log position, and the event they come from."""

    election_id: str
    profile: RuleProfile
    sha256: str
    set_at: int  # position of the ElectionDeclared or RulesAmended event that carries them
    effective_from: int  # the position from which they apply: `set_at`, or a later one it scheduled
    amended: bool  # False: the rules of the declaration


class RulesAltered(PipelineError):
    """The rules stored in an event do not match the checksum stored beside them."""


def profile_of(rules: Mapping[str, Any], stored: str, position: int) -> tuple[RuleProfile, str]:
    """The profile an event carries, after checking its content against the stored SHA-256."""
    if rules_sha256(rules) != stored:
        raise RulesAltered(
            f"the rules stored in event {position} do not match their sha256 {stored[:12]}: "
            "the log was altered (run `elections verify`)"
        )
    return parse_profile(rules, file=f"rules of log position {position}"), stored


def rules_in_force(
    conn: duckdb.DuckDBPyConnection, election_id: str, position: int | None = None
) -> RulesInForce:
    """The rules in force for `election_id` at `position` (default: the log's head), from the log only."""
    if position is None:
        head = first_row(conn.execute(query("log_head_position")))
        position = int(str(head[0])) if head else 0
    rows = conn.execute(
        query("rule_events_up_to"),
        {"election": election_id, "declared": ELECTION_DECLARED, "amended": RULES_AMENDED, "as_of": position},
    ).fetchall()
    events = [
        (
            int(own),
            typed_event(
                event_type,
                json.loads(str(payload)),
                stream_id=stream,
                election_id=election_id,
                occurred_at=occurred,
                batch_id=batch,
                position=int(own),
            ),
        )
        for own, event_type, stream, occurred, batch, payload in rows
    ]
    declarations = [(own, e) for own, e in events if isinstance(e, ElectionDeclared)]
    if not declarations:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    declared_at, declared = declarations[0]
    # (effective position, own position, event): the latest effective one stands.
    candidates: list[tuple[int, int, ElectionDeclared | RulesAmended]] = [
        (declared_at, declared_at, declared)
    ]
    for own, event in events:
        if isinstance(event, RulesAmended) and event.effective_position <= position:
            candidates.append((event.effective_position, own, event))
    effective, own, chosen = max(candidates, key=lambda c: (c[0], c[1]))
    profile, sha = profile_of(chosen.rules, chosen.rules_sha256, own)
    return RulesInForce(election_id, profile, sha, own, effective, amended=own != declared_at)


__all__ = ["RulesAltered", "RulesInForce", "profile_of", "rules_in_force"]
