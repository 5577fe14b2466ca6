"""Operator actions: commands that change the log without a received file (publish, certify, ...).

Each action is journaled in the raw archive's `receipts.jsonl` (its name, its time and the options
it was given) before its events are committed, and its events occur and are recorded at that time.
A replay of the journal runs the same action by name at the same place in the sequence, so it makes
the same events with the same hashes. A new command is replayable with one line in `ACTIONS`: its
name and a function `(store, options, at)` that does what the command does, with `at` as the time
of the events it appends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.core.errors import RulesCannotDecide
from pipelines.core.paths import WarehousePaths
from pipelines.core.timestamps import utc_now
from pipelines.domain.events import PRECINCTS_IN_EXPORT
from pipelines.ingestion.ingest import REFUSE_UNREAD, replay_unread_refusal
from pipelines.ingestion.rules_amendment import RulesAmendment, amend_rules
from pipelines.publishing.publication import Publication, certify, publish, revoke_certification
from pipelines.publishing.publication_layout import CURRENT_PUBLICATION_FORMAT, FIRST_PUBLICATION_FORMAT
from pipelines.rules.rule_profiles import parse_profile
from pipelines.store.event_store import EventStore
from pipelines.store.raw_archive import RawArchive

Action = Callable[[EventStore, Mapping[str, Any], datetime], object]


def _extra(options: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a publication's payload carries besides the table: the NIST export's precincts, if asked."""
    return {PRECINCTS_IN_EXPORT: True} if options.get("precincts") else None


# The option that journals the format of the folder a publication wrote; absent: format 1, from before
# formats were recorded, which a replay writes again as it was.
FORMAT_OPTION = "publication_format"
# An amendment in force publishes, and so does a revocation (its provisional table).
PUBLISHING_ACTIONS = ("publish", "certify", "amend-rules", "decertify")


def _format(options: Mapping[str, Any]) -> int:
    return int(options.get(FORMAT_OPTION, FIRST_PUBLICATION_FORMAT))


def _publish(store: EventStore, options: Mapping[str, Any], at: datetime) -> object:
    return publish(
        store,
        str(options["election"]),
        extra=_extra(options),
        occurred_at=at,
        publication_format=_format(options),
    )


def _certify(store: EventStore, options: Mapping[str, Any], at: datetime) -> object:
    return certify(
        store,
        str(options["election"]),
        override_reason=options.get("override_reason"),
        operator=options.get("operator"),
        extra=_extra(options),
        at=at,
        publication_format=_format(options),
    )


def _decertify(store: EventStore, options: Mapping[str, Any], at: datetime) -> object:
    return revoke_certification(
        store,
        str(options["election"]),
        reason=str(options["reason"]),
        decided_by=str(options["by"]),
        operator=options.get("operator"),
        occurred_at=at,
        # Journals written before a revocation published its provisional table replay without it.
        publish_provisional=bool(options.get("publish_provisional", False)),
        publication_format=_format(options),
    )


@dataclass(frozen=True)
class RulesAmendmentOutcome:
    amendment: RulesAmendment
    publication: Publication | None
    note: str | None  # why no table was published under the new rules


def _amend_rules(store: EventStore, options: Mapping[str, Any], at: datetime) -> object:
    """The amendment and, when the new rules apply at once, the provisional table under them."""
    election_id = str(options["election"])
    effective = options.get("effective_position")
    amendment = amend_rules(
        store,
        election_id,
        parse_profile(options["rules"], file=f"rules journaled for {election_id}"),
        reason=str(options["reason"]),
        decided_by=str(options["by"]),
        effective_position=None if effective is None else int(effective),
        source=str(options.get("source", "")),
        occurred_at=at,
    )
    if amendment.scheduled:
        return RulesAmendmentOutcome(amendment, None, None)
    try:
        return RulesAmendmentOutcome(
            amendment,
            publish(store, election_id, occurred_at=at, publication_format=_format(options)),
            None,
        )
    except RulesCannotDecide as exc:
        return RulesAmendmentOutcome(amendment, None, str(exc))


ACTIONS: dict[str, Action] = {
    "publish": _publish,
    "certify": _certify,
    "decertify": _decertify,
    "amend-rules": _amend_rules,  # options carry the profile's content: a replay reads no file
    REFUSE_UNREAD: replay_unread_refusal,  # intake's refusal of a path it did not read (no receipt)
}


def perform(
    store: EventStore,
    paths: WarehousePaths,
    name: str,
    options: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> object:
    """Journal the action, then run it with its events recorded at `at` (default: now). Options must
    be JSON values: they are written to the journal as they are and given back on replay. An action
    that is refused raises as it would anyway; a replay meets the same refusal at the same place.

    An action run now (no `at`) publishes in the current format, which its options journal; a replay
    (given the journaled `at` and options) publishes in the format they name."""
    action = ACTIONS[name]
    if at is None and name in PUBLISHING_ACTIONS:
        options = {**options, FORMAT_OPTION: CURRENT_PUBLICATION_FORMAT}
    moment = at or utc_now()
    RawArchive(paths.archive).record_action(name, moment, options)
    with store.recording_at(moment):
        return action(store, options, moment)
