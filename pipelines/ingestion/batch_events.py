"""The events every received file gets, whatever its format: its receipt, and a refusal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipelines.domain.event_types import BatchQuarantined, BatchReceived, RowQuarantined
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
) -> BatchReceived:
    """BatchReceived: what arrived and what became of its rows."""
    return BatchReceived(
        election_id=election_id,
        occurred_at=received_at,
        batch_id=archived.sha256,
        file_name=archived.original_name,
        file_format=file_format,
        size_bytes=archived.size,
        rows_total=total,
        rows_applied=applied,
        rows_duplicate=duplicate,
        rows_quarantined=quarantined,
        quarantined_whole=whole,
        anomalies=tuple(anomalies or ()),
    )


def batch_refusal(
    archived: ArchivedFile, election_id: str, rule: str, message: str, received_at: datetime
) -> BatchQuarantined:
    """BatchQuarantined: the whole file refused, with the rule and the reason."""
    return BatchQuarantined(
        election_id=election_id,
        occurred_at=received_at,
        batch_id=archived.sha256,
        file_name=archived.original_name,
        rule=rule,
        message=message,
    )


def row_quarantined(
    archived: ArchivedFile, election_id: str, problem: dict[str, Any], received_at: datetime
) -> RowQuarantined:
    """RowQuarantined: one refused row, with file, row, column, rule, value and message."""
    return RowQuarantined(
        election_id=election_id, occurred_at=received_at, batch_id=archived.sha256, **problem
    )


def whole_file_refusal(
    archived: ArchivedFile,
    election_id: str,
    file_format: str,
    rule: str,
    message: str,
    received_at: datetime,
    *,
    rows_total: int = 0,
    row_problems: Sequence[dict[str, Any]] = (),
) -> list[BatchReceived | BatchQuarantined | RowQuarantined]:
    """A file quarantined whole: its receipt, the refusal with rule and reason, and the rows that made
    it so (whole-file policy), each kept with its own reason."""
    return [
        batch_receipt(
            archived,
            election_id,
            file_format,
            received_at,
            total=rows_total,
            quarantined=len({q["row"] for q in row_problems}),
            whole=True,
        ),
        batch_refusal(archived, election_id, rule, message, received_at),
        *(row_quarantined(archived, election_id, q, received_at) for q in row_problems),
    ]


def unread_refusal(refusal: Refusal, election_id: str, received_at: datetime) -> BatchQuarantined:
    """BatchQuarantined for a path refused before reading (a link, a special file, too large): no
    receipt, since nothing was archived; the batch id comes from what `lstat` saw, not the content."""
    return BatchQuarantined(
        election_id=election_id,
        occurred_at=received_at,
        batch_id=refusal.batch_id,
        file_name=refusal.name,
        rule=refusal.rule,
        message=refusal.message,
        kind=refusal.kind,
        size_bytes=refusal.size,
        read=False,
    )
