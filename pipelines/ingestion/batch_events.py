"""The events every received file gets, whatever its format: its receipt, and a refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelines.domain.events import BATCH_QUARANTINED, BATCH_RECEIVED, ROW_QUARANTINED, NewEvent, batch_stream
from pipelines.gate.intake import Refusal
from pipelines.store.raw_archive import ArchivedFile


def batch_receipt(
    archived: ArchivedFile,
    election_id: str,
    file_format: str,
    received_at: datetime,
    *,
    total: int = 0,
    applied: int = 0,
    duplicate: int = 0,
    quarantined: int = 0,
    whole: bool = False,
    anomalies: list[dict[str, Any]] | None = None,
) -> NewEvent:
    """BatchReceived: what arrived and what became of its rows."""
    return NewEvent(
        batch_stream(archived.sha256),
        BATCH_RECEIVED,
        election_id,
        {
            "file_name": archived.original_name,
            "file_format": file_format,
            "size_bytes": archived.size,
            "election_id": election_id,
            "rows_total": total,
            "rows_applied": applied,
            "rows_duplicate": duplicate,
            "rows_quarantined": quarantined,
            "quarantined_whole": whole,
            "anomalies": anomalies or [],
        },
        received_at,
        batch_id=archived.sha256,
    )


def batch_refusal(
    archived: ArchivedFile, election_id: str, rule: str, message: str, received_at: datetime
) -> NewEvent:
    """BatchQuarantined: the whole file refused, with the rule and the reason."""
    return NewEvent(
        batch_stream(archived.sha256),
        BATCH_QUARANTINED,
        election_id,
        {"file_name": archived.original_name, "rule": rule, "message": message},
        received_at,
        batch_id=archived.sha256,
    )


def row_quarantined(
    archived: ArchivedFile, election_id: str, problem: dict[str, Any], received_at: datetime
) -> NewEvent:
    """RowQuarantined: one refused row, with file, row, column, rule, value and message."""
    return NewEvent(
        batch_stream(archived.sha256),
        ROW_QUARANTINED,
        election_id,
        problem,
        received_at,
        batch_id=archived.sha256,
    )


def unread_refusal(refusal: Refusal, election_id: str, received_at: datetime) -> NewEvent:
    """BatchQuarantined for a path refused before reading (a link, a special file, too large): no
    receipt, since nothing was archived; the batch id comes from what `lstat` saw, not the content."""
    return NewEvent(
        batch_stream(refusal.batch_id),
        BATCH_QUARANTINED,
        election_id,
        {
            "file_name": refusal.name,
            "rule": refusal.rule,
            "message": refusal.message,
            "kind": refusal.kind,
            "size_bytes": refusal.size,
            "read": False,
        },
        received_at,
        batch_id=refusal.batch_id,
    )
