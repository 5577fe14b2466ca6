"""Typed events to stored payloads and back: versions, upcasters, and refusals of what no class reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from pipelines.domain.event_types import (
    EVENT_CLASSES,
    BatchQuarantined,
    DomainEvent,
    ElectionDeclared,
    PrecinctAnnulled,
    ResultsPublished,
)
from pipelines.domain.events import ELECTION_DECLARED, StoredEvent, canonical_json
from pipelines.rules.rule_profiles import load_profile, profile_to_dict
from pipelines.store.event_codec import EventFormatError, deserialize, serialize, stored_version
from pipelines.store.rules_content import embedded_rules, rules_sha256
from pipelines.store.upcasters import UPCASTERS, election_declared_v1

AT = datetime(2021, 1, 10, 20, 30)
BASE = load_profile("kz-mazhilis-2021")


def declared(**changes: Any) -> ElectionDeclared:
    fields: dict[str, Any] = {
        "election_id": "e",
        "occurred_at": AT,
        "batch_id": "b",
        "name": "E",
        "date": "2021-01-10",
        "rule_profile": "kz-mazhilis-2021",
        "against_all_on_ballot": True,
        "synthetic": False,
        "source_note": "",
        "lists": ({"list_id": "a", "name": "A", "ballot_order": 1, "color": None, "candidates": None},),
        "regions": ({"region_id": "r", "name": "R", "utc_offset_hours": 6},),
        "file_name": "e.election.json",
        **embedded_rules(load_profile("kz-mazhilis-2023")),
    }
    return ElectionDeclared(**{**fields, **changes})


def stored(
    event: DomainEvent, payload: dict[str, Any] | None = None, stream: str | None = None
) -> StoredEvent:
    row = serialize(event)
    return StoredEvent(
        7,
        stream or row.stream_id,
        1,
        row.event_type,
        row.election_id,
        row.occurred_at,
        AT,
        row.batch_id,
        row.payload if payload is None else payload,
        "0" * 64,
        "0" * 64,
    )


def test_a_declaration_stores_its_version_and_reads_back_equal() -> None:
    event = declared()
    payload = serialize(event).payload
    assert payload["version"] == ElectionDeclared.class_version == 2
    assert payload["election_id"] == "e" and "precincts" not in payload and "batch_id" not in payload
    assert "rule_profile_file_sha256" not in payload and "upcast_from" not in payload  # keys only when set
    assert deserialize(stored(event)) == event


def test_types_without_a_recorded_version_are_version_1_and_store_no_version_key() -> None:
    annulled = PrecinctAnnulled(
        election_id="e", occurred_at=AT, batch_id="b", precinct_id="P1", reason="fraud", decided_by="CEC",
        file_name="a.csv", row=2,
    )  # fmt: skip
    payload = serialize(annulled).payload
    assert "version" not in payload and stored_version(payload) == 1
    assert payload["precinct_id"] == "P1" and serialize(annulled).stream_id == "precinct:e/P1"
    assert deserialize(stored(annulled)) == annulled


def test_an_unread_refusal_keeps_its_extra_keys_and_a_read_one_has_none() -> None:
    read = BatchQuarantined(
        election_id="e", occurred_at=AT, batch_id="b", file_name="f", rule="r", message="m"
    )
    unread = BatchQuarantined(
        election_id="e", occurred_at=AT, batch_id="b", file_name="f", rule="symlink", message="m",
        kind="symlink", size_bytes=0, read=False,
    )  # fmt: skip
    assert canonical_json(serialize(read).payload) == '{"file_name":"f","message":"m","rule":"r"}'
    assert serialize(unread).payload == {
        "file_name": "f", "rule": "symlink", "message": "m", "kind": "symlink", "size_bytes": 0,
        "read": False,
    }  # fmt: skip


def test_the_election_declared_v1_upcaster_embeds_the_shipped_profile_it_named() -> None:
    v1 = {
        k: v
        for k, v in serialize(declared()).payload.items()
        if k not in ("rules", "rules_sha256", "version")
    }
    upcast = election_declared_v1(v1)
    assert upcast["rules"] == profile_to_dict(BASE) and upcast["rules_sha256"] == rules_sha256(
        upcast["rules"]
    )
    assert upcast["upcast_from"] == 1 and "rules" not in v1  # the stored payload is not touched
    event = deserialize(stored(declared(), v1))
    assert isinstance(event, ElectionDeclared) and event.rules == profile_to_dict(BASE)
    assert event.upcast_from == 1 and event.name == "E"


def test_every_older_version_of_every_type_has_an_upcaster() -> None:
    for event_type, cls in EVENT_CLASSES.items():
        for version in range(1, cls.class_version):
            assert (event_type, version) in UPCASTERS, (event_type, version)
    assert set(UPCASTERS) == {(ELECTION_DECLARED, 1)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 3}, "version 3 was written by a later version"),
        ({"shape": "round"}, "payload key.s. shape belong to no field of ElectionDeclared"),
        ({"election_id": "other"}, "its payload's election_id differs"),
    ],
)
def test_a_payload_no_class_reads_is_refused_by_name(change: dict[str, Any], message: str) -> None:
    payload = {**serialize(declared()).payload, **change}
    with pytest.raises(EventFormatError, match=message):
        deserialize(stored(declared(), payload))


def test_a_missing_key_an_unknown_type_and_a_wrong_stream_are_refused() -> None:
    payload = dict(serialize(declared()).payload)
    del payload["file_name"]
    with pytest.raises(EventFormatError, match="lacks file_name"):
        deserialize(stored(declared(), payload))
    with pytest.raises(EventFormatError, match="stored in stream election:x"):
        deserialize(stored(declared(), stream="election:x"))
    row = stored(declared())
    unknown = StoredEvent(**{**row.__dict__, "event_type": "ElectionPostponed"})
    with pytest.raises(EventFormatError, match="unknown event type 'ElectionPostponed'"):
        deserialize(unknown)


def test_a_publication_asked_with_precincts_records_the_key_and_others_do_not() -> None:
    fields: dict[str, Any] = {
        "election_id": "e", "occurred_at": AT, "publication_id": "p", "status": "provisional",
        "based_on_position": 3, "rule_profile": "x", "rules": {}, "rules_sha256": "s", "table_sha256": "t",
        "precincts_counted": 1, "ballots_cast": 2, "invalid_ballots": 0, "against_all": 0, "seats": (),
        "allocation": (), "explanation": (),
    }  # fmt: skip
    assert "nist_cdf_precincts" not in serialize(ResultsPublished(**fields)).payload
    assert (
        serialize(ResultsPublished(**fields, nist_cdf_precincts=True)).payload["nist_cdf_precincts"] is True
    )
