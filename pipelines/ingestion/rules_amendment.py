"""Changing a declared election's rules: a `RulesAmended` event, made only by an explicit command.

The event carries the new profile's canonical content and SHA-256, the reason, the deciding body,
the SHA-256 of the rules it replaces, and the log position from which it applies:

- by default its own position: the new rules apply from the amendment on;
- a later position schedules the change: positions before it keep the old rules, and the first
  publication once the log has reached it is based on that position and uses the new rules;
- an earlier position is refused: an amendment never reaches back, so every past publication and
  every `seats --as-of` answer stays exactly what it was (time travel reproduces what stood then).

Also refused: an election not declared here, rules equal to those that would be in force at the
effective position (the amendment would change nothing), a blank reason or deciding body, and an
election whose certification is in force (certified means final).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipelines.core.errors import InputError
from pipelines.core.timestamps import utc_now
from pipelines.domain.event_types import RulesAmended
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.store.certification import certification_in_force
from pipelines.store.election_rules import rules_in_force
from pipelines.store.event_store import EventStore
from pipelines.store.projections import update_projections
from pipelines.store.rules_content import embedded_rules


@dataclass(frozen=True)
class RulesAmendment:
    election_id: str
    position: int
    effective_position: int
    profile: RuleProfile
    sha256: str
    previous_sha256: str

    @property
    def scheduled(self) -> bool:
        return self.effective_position > self.position


def amend_rules(
    store: EventStore,
    election_id: str,
    profile: RuleProfile,
    *,
    reason: str,
    decided_by: str,
    effective_position: int | None = None,
    source: str = "",
    occurred_at: datetime | None = None,
) -> RulesAmendment:
    """Record a RulesAmended event (and move the projections), or refuse with an InputError."""
    reason, decided_by = reason.strip(), decided_by.strip()
    if not reason:
        raise InputError("an amendment of the rules needs a reason", column="reason", rule="required")
    if not decided_by:
        raise InputError(
            "an amendment of the rules needs the body that decided it", column="by", rule="required"
        )
    rules_in_force(store.conn, election_id)  # refuses an election not declared here
    _refuse_if_certified(store, election_id)
    own = store.head()[0] + 1
    effective = own if effective_position is None else effective_position
    if effective < own:
        raise InputError(
            f"an amendment applies from its own log position ({own}) or later, never earlier: "
            "what stood at a past position (its publications, `seats --as-of`) cannot change",
            column="effective_position",
            rule="no_retroactive_amendment",
            value=effective,
        )
    replaced = rules_in_force(store.conn, election_id, effective)
    new = embedded_rules(profile)
    if new["rules_sha256"] == replaced.sha256:
        raise InputError(
            f"these are the rules of {election_id} in force at log position {effective} already "
            f"(sha256 {replaced.sha256[:12]}): the amendment would change nothing",
            column="rules",
            rule="amendment_changes_nothing",
            value=profile.profile_id,
        )
    event = RulesAmended(
        election_id=election_id,
        occurred_at=occurred_at or utc_now(),
        rule_profile=profile.profile_id,
        rules=new["rules"],
        rules_sha256=new["rules_sha256"],
        previous_rules_sha256=replaced.sha256,
        reason=reason,
        decided_by=decided_by,
        effective_position=effective,
        source=source,
    )
    with store.transaction():
        (position,) = store.append([event])
        update_projections(store.conn)
    return RulesAmendment(
        election_id, position, effective, profile, str(new["rules_sha256"]), replaced.sha256
    )


def _refuse_if_certified(store: EventStore, election_id: str) -> None:
    certification = certification_in_force(store.conn, election_id)
    if certification is not None:
        raise InputError(
            f"its rules cannot be amended: {certification.describe()}",
            column="election",
            rule="election_certified",
            value=election_id,
        )


__all__ = ["RulesAmendment", "amend_rules"]
