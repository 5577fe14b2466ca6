"""Reading the allocation's CSV inputs: national list votes and single-member district results."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from pipelines.core.errors import InputError
from pipelines.domain.list_kinds import PARTY, is_kind
from pipelines.rules.list_votes import ListVotes


def csv_rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Data rows with their line numbers (header = line 1); header and encoding checked first."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=file) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=file) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise InputError("empty file: expected a header line", file=file, row=1)
    names = [h.strip() for h in header]
    for column in required:
        if column not in names:
            raise InputError(
                f"missing column {column!r}; the header has {', '.join(names)}",
                file=file,
                row=1,
                column=column,
            )
    unknown = [n for n in names if n not in required + optional]
    if unknown:
        raise InputError(
            f"unknown column {unknown[0]!r}; allowed: {', '.join(required + optional)}",
            file=file,
            row=1,
            column=unknown[0],
        )
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            raise InputError(
                f"expected {len(names)} cells, found {len(cells)}", file=file, row=line, value=",".join(cells)
            )
        yield line, {n: c.strip() for n, c in zip(names, cells, strict=True)}


def whole_number(text: str, *, file: str, row: int, column: str, minimum: int) -> int:
    if not text.isdigit() or int(text) < minimum:
        raise InputError(
            f"must be a whole number >= {minimum}",
            file=file,
            row=row,
            column=column,
            rule="integer",
            value=text,
        )
    return int(text)


def read_votes_csv(path: Path) -> list[ListVotes]:
    """Columns `party,votes`, optional `order` (ballot order), `name`, `candidates` (list length) and
    `kind` (party, the default, coalition...)."""
    file = str(path)
    lists: list[ListVotes] = []
    seen: dict[str, int] = {}
    orders: dict[int, int] = {}
    for line, row in csv_rows(path, ("party", "votes"), ("order", "name", "candidates", "kind")):
        party = row["party"]
        if not party:
            raise InputError("party must not be empty", file=file, row=line, column="party")
        if party in seen:
            raise InputError(
                f"party appears twice (first on row {seen[party]})",
                file=file,
                row=line,
                column="party",
                value=party,
            )
        seen[party] = line
        votes = whole_number(row["votes"], file=file, row=line, column="votes", minimum=0)
        order = None
        if row.get("order"):
            order = whole_number(row["order"], file=file, row=line, column="order", minimum=1)
            if order in orders:
                raise InputError(
                    f"ballot order already used on row {orders[order]}",
                    file=file,
                    row=line,
                    column="order",
                    value=order,
                )
            orders[order] = line
        candidates = None
        if row.get("candidates"):
            candidates = whole_number(row["candidates"], file=file, row=line, column="candidates", minimum=0)
        kind = row.get("kind") or PARTY
        if not is_kind(kind):
            raise InputError(
                "kind must be a lower-case name such as party or coalition",
                file=file,
                row=line,
                column="kind",
                value=kind,
            )
        lists.append(ListVotes(party, row.get("name") or party, votes, order, candidates, kind))
    if not lists:
        raise InputError("no party rows after the header", file=file, row=2)
    return lists
