"""Typed timestamps become the log's naive UTC, whatever offset they carry."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.core.errors import InputError
from pipelines.core.timestamps import parse_utc


def test_an_offset_is_converted_to_utc_and_no_offset_means_utc() -> None:
    assert parse_utc("2021-01-11T05:00:00+06:00", column="as_of") == datetime(2021, 1, 10, 23, 0)
    assert parse_utc("2021-01-10T23:00", column="as_of") == datetime(2021, 1, 10, 23, 0)


def test_a_bad_timestamp_names_the_option_and_the_value() -> None:
    with pytest.raises(InputError, match="as_of") as error:
        parse_utc("tonight", column="as_of")
    assert error.value.value == "tonight"
