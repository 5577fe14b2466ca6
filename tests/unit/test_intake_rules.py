"""Intake's pure decisions: which names are data, and the limits read from the environment."""

from __future__ import annotations

import pytest

from pipelines.core.errors import InputError
from pipelines.gate.intake import DEFAULT_MAX_FILE_BYTES, MAX_FILE_BYTES_ENV, is_data_name, max_file_bytes
from pipelines.ingestion.inbox import DEFAULT_SETTLE_SECONDS, SETTLE_SECONDS_ENV, settle_seconds


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("north.csv", True),
        ("kz-2021.election.json", True),
        ("annul.CSV", True),
        ("north.csv.part", False),
        ("north.csv.tmp", False),
        (".north.csv.partial", False),
        (".hidden.csv", False),
        ("_READY", False),
        ("kz-2021.precincts.csv", False),
        ("profile.yaml", False),
        ("profile.YML", False),
        ("notes.json", False),
    ],
)
def test_what_a_folder_walk_takes_as_data(name: str, data: bool) -> None:
    assert is_data_name(name) is data


def test_the_size_limit_is_configurable_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_FILE_BYTES_ENV, raising=False)
    assert max_file_bytes() == DEFAULT_MAX_FILE_BYTES
    monkeypatch.setenv(MAX_FILE_BYTES_ENV, "4096")
    assert max_file_bytes() == 4096
    for bad in ("0", "-1", "lots", "1e6"):
        monkeypatch.setenv(MAX_FILE_BYTES_ENV, bad)
        with pytest.raises(InputError, match=MAX_FILE_BYTES_ENV):
            max_file_bytes()


def test_the_settle_time_is_configurable_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTLE_SECONDS_ENV, raising=False)
    assert settle_seconds() == DEFAULT_SETTLE_SECONDS
    monkeypatch.setenv(SETTLE_SECONDS_ENV, "0.25")
    assert settle_seconds() == 0.25
    for bad in ("-1", "soon", "86400", "nan"):
        monkeypatch.setenv(SETTLE_SECONDS_ENV, bad)
        with pytest.raises(InputError, match=SETTLE_SECONDS_ENV):
            settle_seconds()
