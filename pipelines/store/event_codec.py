"""The one mapping between typed events and what the log stores.

`serialize` turns a typed event into the row the store appends (`NewEvent`: envelope columns, the
payload that `canonical_json` spells, the figures for the typed tables); `deserialize` turns a stored
row back into its typed event, reading the payload's version (`version`, 1 when absent) and applying
the registered upcasters (`pipelines.store.upcasters`) until it is the class's `class_version`.

The payload a class gives is exactly the one the code wrote before events were typed, key for key,
so every stored byte, and every hash, stays what it was (tests/integration/test_old_log_replay.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pipelines.core.errors import PipelineError
from pipelines.domain.event_types import (
    ENVELOPE,
    EVENT_CLASSES,
    FIGURES,
    VERSION_KEY,
    DomainEvent,
    PrecinctEvent,
    payload_fields,
)
from pipelines.domain.events import NewEvent, StoredEvent
from pipelines.store.upcasters import UPCASTERS


class EventFormatError(PipelineError):
    """A stored event that no class of this version reads: unknown type, version or payload keys."""


def serialize(event: DomainEvent) -> NewEvent:
    """The row the store appends for `event`."""
    figures = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.metadata.get(FIGURES)}
    return NewEvent(
        event.stream_id,
        event.event_type,
        event.election_id,
        event.payload(),
        event.occurred_at,
        batch_id=event.batch_id,
        **figures,
    )


def deserialize(stored: StoredEvent) -> DomainEvent:
    """The typed event of a stored row, in its class's current version (figures are not read)."""
    return typed_event(
        stored.event_type,
        stored.payload,
        stream_id=stored.stream_id,
        election_id=stored.election_id,
        occurred_at=stored.occurred_at,
        batch_id=stored.batch_id,
        position=stored.position,
    )


def stored_version(payload: Mapping[str, Any]) -> int:
    """The version of a stored payload: its `version` key, 1 when it has none."""
    return int(payload.get(VERSION_KEY, 1))


def current_payload(event_type: str, payload: Mapping[str, Any], *, position: int = 0) -> dict[str, Any]:
    """A stored payload upcast to its class's `class_version` (without the `version` key)."""
    cls = event_class(event_type, position)
    data = dict(payload)
    version = int(data.pop(VERSION_KEY, 1))
    if version > cls.class_version:
        raise EventFormatError(
            f"event {position}: {event_type} version {version} was written by a later version of this "
            f"system (this one reads up to version {cls.class_version})"
        )
    while version < cls.class_version:
        upcaster = UPCASTERS.get((event_type, version))
        if upcaster is None:
            raise EventFormatError(f"event {position}: no upcaster reads {event_type} version {version}")
        data = upcaster(data)
        version += 1
    return data


def typed_event(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    stream_id: str,
    election_id: str,
    occurred_at: datetime,
    batch_id: str | None,
    position: int = 0,
) -> DomainEvent:
    """The typed event of a stored payload and its envelope; its stream must be the one it was stored in."""
    cls = event_class(event_type, position)
    data = current_payload(event_type, payload, position=position)
    envelope: dict[str, Any] = {"election_id": election_id, "occurred_at": occurred_at, "batch_id": batch_id}
    if issubclass(cls, PrecinctEvent):
        envelope["precinct_id"] = stream_id.removeprefix(f"precinct:{election_id}/")
    where = f"event {position} ({event_type})"
    for name in cls.repeated_in_payload:
        if name in data and data.pop(name) != envelope[name]:
            raise EventFormatError(f"{where}: its payload's {name} differs from the event's")
    fields = payload_fields(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise EventFormatError(
            f"{where}: payload key(s) {', '.join(unknown)} belong to no field of {cls.__name__}"
        )
    missing = sorted(
        name
        for name, f in fields.items()
        if name not in data and f.default is dataclasses.MISSING and not f.metadata.get(ENVELOPE)
    )
    if missing:
        raise EventFormatError(f"{where}: payload lacks {', '.join(missing)}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    event = cls(**envelope, **values)
    if event.stream_id != stream_id:
        raise EventFormatError(
            f"{where}: stored in stream {stream_id}, but its content says {event.stream_id}"
        )
    return event


def event_class(event_type: str, position: int = 0) -> type[DomainEvent]:
    cls = EVENT_CLASSES.get(event_type)
    if cls is None:
        raise EventFormatError(f"event {position}: unknown event type {event_type!r}")
    return cls


__all__ = [
    "EventFormatError",
    "current_payload",
    "deserialize",
    "event_class",
    "serialize",
    "stored_version",
    "typed_event",
]
