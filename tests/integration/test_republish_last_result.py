"""What a publication is based on: the last result event of its election, whether it is among the
latest events of the log or far behind them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from pipelines.core.paths import WarehousePaths
from pipelines.domain.events import (
    BATCH_RECEIVED,
    PROTOCOL_REPORTED,
    NewEvent,
    ProtocolFacts,
    batch_stream,
    precinct_stream,
)
from pipelines.publishing import publication
from pipelines.publishing.publication import last_result_position
from pipelines.store.event_store import EventStore

AT = datetime(2021, 1, 10, 20, 30)


def _protocol(election: str, precinct: str) -> NewEvent:
    facts = ProtocolFacts(precinct, "north", 1, 1000, 110, 110, 10, 0, (("a", 100), ("b", 0)))
    return NewEvent(
        precinct_stream(election, precinct), PROTOCOL_REPORTED, election, {"row": 2}, AT, "b1", facts
    )


def _receipt(name: str) -> NewEvent:
    return NewEvent(batch_stream(name), BATCH_RECEIVED, "e", {"file_name": name}, AT, name)


def test_last_result_position_near_and_far_from_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publication, "_RECENT_POSITIONS", 3)
    with EventStore.open_writer(WarehousePaths(tmp_path / "wh")) as store:
        assert last_result_position(store, "e") == 0
        with store.transaction():
            positions = store.append_serialized(
                [_protocol("e", "P1"), _protocol("e", "P2"), _protocol("other", "P1")]
            )
        assert last_result_position(store, "e") == positions[1]  # among the latest three
        with store.transaction():
            store.append_serialized([_receipt(f"f{i}") for i in range(5)])
        head, _ = store.head()
        assert head - positions[1] > 3
        assert last_result_position(store, "e") == positions[1]  # behind them: the whole log is read
        assert last_result_position(store, "other") == positions[2]
        assert last_result_position(store, "unknown") == 0
