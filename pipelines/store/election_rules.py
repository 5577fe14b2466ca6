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
shipped profile, nothing more) is read through `upcast_declared`, which loads the shipped profile of
that id. Such old logs are the only case in which a profile is ever read from disk after declaration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import duckdb

from pipelines.core.errors import InputError, PipelineError
from pipelines.domain.events import ELECTION_DECLARED, RULES_AMENDED, canonical_json
from pipelines.rules.rule_profiles import RuleProfile, load_profile, parse_profile, profile_to_dict
from pipelines.store.migrations import first_row
from pipelines.store.queries import query

# The payload version of ElectionDeclared that embeds the rules; a payload without it is version 1.
DECLARED_VERSION: Final = 2


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


def rules_sha256(rules: Mapping[str, Any]) -> str:
    """SHA-256 of a profile's canonical JSON: equal for equal rules, however the file spelled them."""
    return hashlib.sha256(canonical_json(rules).encode("utf-8")).hexdigest()


def embedded_rules(profile: RuleProfile) -> dict[str, Any]:
    """The payload fields that carry a profile into the log: content in canonical form and its hash."""
    rules = profile_to_dict(profile)
    return {"rules": rules, "rules_sha256": rules_sha256(rules)}


def upcast_declared(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An ElectionDeclared payload in its current version: a version-1 payload (rules not embedded)
    gets the shipped profile its `rule_profile` names, as the code of that time read it."""
    if "rules" in payload:
        return dict(payload)
    legacy = load_profile(str(payload["rule_profile"]))
    return {**payload, **embedded_rules(legacy), "version": DECLARED_VERSION, "upcast_from": 1}


def profile_of(payload: Mapping[str, Any], position: int) -> tuple[RuleProfile, str]:
    """The profile an event carries, after checking its content against the stored SHA-256."""
    rules, stored = payload["rules"], str(payload["rules_sha256"])
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
    declared = next((r for r in rows if r[1] == ELECTION_DECLARED), None)
    if declared is None:
        raise InputError(f"election {election_id!r} is not declared in this warehouse", value=election_id)
    # (effective position, own position, payload): the latest effective one stands.
    candidates = [(int(declared[0]), int(declared[0]), upcast_declared(json.loads(str(declared[2]))))]
    for own, event_type, text in rows:
        if event_type == RULES_AMENDED:
            payload = json.loads(str(text))
            effective = int(payload["effective_position"])
            if effective <= position:
                candidates.append((effective, int(own), payload))
    effective, own, payload = max(candidates, key=lambda c: (c[0], c[1]))
    profile, sha = profile_of(payload, own)
    return RulesInForce(election_id, profile, sha, own, effective, amended=own != int(declared[0]))


__all__ = [
    "DECLARED_VERSION",
    "RulesAltered",
    "RulesInForce",
    "embedded_rules",
    "profile_of",
    "rules_in_force",
    "rules_sha256",
    "upcast_declared",
]
