"""Times in the log are naive UTC; people type ISO timestamps, with or without an offset."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.core.errors import InputError


def utc_now() -> datetime:
    """Naive UTC with microseconds, the form DuckDB TIMESTAMP stores without conversion."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_utc(text: str, *, column: str, example: str = "2021-01-10T23:00") -> datetime:
    """An ISO timestamp as naive UTC (the log's form); without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{column} takes an ISO timestamp such as {example} (UTC unless an offset is given)",
            column=column,
            value=text,
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
