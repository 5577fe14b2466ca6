"""The rules in force at a log position, from ElectionDeclared and RulesAmended payloads alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import duckdb
import pytest

from pipelines.core.errors import InputError
from pipelines.domain.event_types import ElectionDeclared, RulesAmended
from pipelines.domain.events import ELECTION_DECLARED, RULES_AMENDED, canonical_json
from pipelines.rules.rule_profiles import RuleProfile, load_profile, profile_to_dict
from pipelines.store.election_rules import RulesAltered, rules_in_force
from pipelines.store.rules_content import embedded_rules, rules_sha256

BASE = load_profile("kz-mazhilis-2021")
SIXTY = replace(BASE, profile_id="sixty", seats=60)
EIGHTY = replace(BASE, profile_id="eighty", seats=80)
AT = datetime(2021, 1, 10, 20)


def declared(profile: RuleProfile = BASE) -> ElectionDeclared:
    return ElectionDeclared(
        election_id="e", occurred_at=AT, batch_id="b", name="E", date="2021-01-10",
        rule_profile="kz-mazhilis-2021", against_all_on_ballot=False, synthetic=False, source_note="",
        lists=(), regions=(), file_name="e.election.json", **embedded_rules(profile),
    )  # fmt: skip


@pytest.fixture
def log() -> Iterator[duckdb.DuckDBPyConnection]:
    """Just the columns of the events table that the rules are read from."""
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE events (position BIGINT, event_type VARCHAR, stream_id VARCHAR, "
            "election_id VARCHAR, occurred_at TIMESTAMP, batch_id VARCHAR, payload VARCHAR)"
        )
        yield conn


def _add(
    conn: duckdb.DuckDBPyConnection,
    position: int,
    event_type: str,
    payload: dict[str, Any],
    batch: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO events VALUES (?, ?, 'election:e', 'e', ?, ?, ?)",
        [position, event_type, AT, batch, canonical_json(payload)],
    )


def _declare(conn: duckdb.DuckDBPyConnection, position: int = 3) -> None:
    _add(conn, position, ELECTION_DECLARED, declared().payload(), "b")


def _amend(
    conn: duckdb.DuckDBPyConnection, position: int, profile: Any, effective: int | None = None
) -> None:
    amended = RulesAmended(
        election_id="e", occurred_at=AT, rule_profile=profile.profile_id, **embedded_rules(profile),
        previous_rules_sha256="", reason="r", decided_by="d", effective_position=effective or position,
        source="",
    )  # fmt: skip
    _add(conn, position, RULES_AMENDED, amended.payload())


def test_declared_rules_stand_from_the_declaration_on(log: duckdb.DuckDBPyConnection) -> None:
    _declare(log)
    _add(log, 5, "ProtocolReported", {})
    rules = rules_in_force(log, "e", 4)
    assert rules.profile == BASE and rules.set_at == 3 and rules.effective_from == 3 and not rules.amended
    assert rules_in_force(log, "e").sha256 == rules_sha256(profile_to_dict(BASE))
    with pytest.raises(InputError, match="not declared"):
        rules_in_force(log, "e", 2)
    with pytest.raises(InputError, match="not declared"):
        rules_in_force(log, "other", 9)


def test_an_amendment_applies_from_its_position_not_before(log: duckdb.DuckDBPyConnection) -> None:
    _declare(log)
    _amend(log, 10, SIXTY)
    assert rules_in_force(log, "e", 9).profile == BASE
    assert rules_in_force(log, "e", 10).profile == SIXTY
    assert rules_in_force(log, "e").amended


def test_a_scheduled_amendment_applies_from_its_effective_position(log: duckdb.DuckDBPyConnection) -> None:
    _declare(log)
    _amend(log, 10, SIXTY, effective=20)
    assert rules_in_force(log, "e", 19).profile == BASE
    now = rules_in_force(log, "e", 20)
    assert now.profile == SIXTY and now.set_at == 10 and now.effective_from == 20


def test_the_latest_effective_position_wins_then_the_later_amendment(log: duckdb.DuckDBPyConnection) -> None:
    _declare(log)
    _amend(log, 10, SIXTY, effective=30)  # scheduled first
    _amend(log, 15, EIGHTY)  # immediate, decided later
    assert rules_in_force(log, "e", 20).profile == EIGHTY
    assert rules_in_force(log, "e", 30).profile == SIXTY  # the schedule still stands
    _amend(log, 40, EIGHTY, effective=40)
    _amend(log, 41, SIXTY, effective=40)  # same effective position: the later one
    assert rules_in_force(log, "e", 41).profile == SIXTY


def test_rules_that_do_not_match_their_hash_are_refused(log: duckdb.DuckDBPyConnection) -> None:
    payload = declared().payload()
    payload["rules"] = {**payload["rules"], "seats": 7}
    _add(log, 1, ELECTION_DECLARED, payload, "b")
    with pytest.raises(RulesAltered, match="do not match their sha256"):
        rules_in_force(log, "e")


def test_a_version_1_log_gives_the_shipped_rules(log: duckdb.DuckDBPyConnection) -> None:
    version_1 = {
        k: v for k, v in declared(SIXTY).payload().items() if k not in ("rules", "rules_sha256", "version")
    }
    _add(log, 1, ELECTION_DECLARED, version_1, "b")
    assert rules_in_force(log, "e").profile == BASE


def test_canonical_form_hashes_equal_rules_equally() -> None:
    reordered = dict(reversed(list(profile_to_dict(BASE).items())))
    assert rules_sha256(reordered) == rules_sha256(profile_to_dict(BASE))
    assert rules_sha256(profile_to_dict(SIXTY)) != rules_sha256(profile_to_dict(BASE))
