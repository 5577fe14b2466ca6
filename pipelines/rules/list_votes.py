"""What an allocation starts from: the national votes of one party list."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.domain.list_kinds import PARTY


@dataclass(frozen=True)
class ListVotes:
    """National votes of one party list; `candidates` is the list's length (None = long enough), `kind`
    what it was declared as (a party, a coalition...: thresholds may differ by kind)."""

    list_id: str
    name: str
    votes: int
    ballot_order: int | None = None
    candidates: int | None = None
    kind: str = PARTY
