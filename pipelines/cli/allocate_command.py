"""`elections allocate`: national list votes from a CSV + a rule profile -> the explained seat table."""

from __future__ import annotations

import argparse
import csv
import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from pipelines.core.errors import EXIT_OK, InputError
from pipelines.rules.number_text import rounded
from pipelines.rules.rule_profiles import METHODS, exact_number, load_profile, override_profile
from pipelines.rules.seat_allocation import Allocation, allocate, combine_with_districts, read_votes_csv
from pipelines.rules.seat_allocation.districts import CombinedSeatTable
from pipelines.rules.seat_allocation.model import RECORD_FIELDS, Record

FORMATS = ("table", "csv", "json")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "allocate",
        help="allocate list seats from national votes under a rule profile",
        description="Allocate list seats from national list votes under a rule profile (exact arithmetic). "
        "Options override the profile. Exit codes: 0 allocated, 2 bad input, 3 the rules cannot decide.",
    )
    parser.add_argument("--rules", required=True, metavar="PROFILE_ID_OR_FILE", help="e.g. kz-mazhilis-2021")
    parser.add_argument(
        "--votes",
        required=True,
        metavar="FILE.csv",
        help="columns party,votes; optional order,name,candidates,kind",
    )
    parser.add_argument("--against-all", metavar="N", help="'against all' votes (default 0)")
    parser.add_argument("--invalid", metavar="N", help="invalid ballots")
    parser.add_argument("--ballots-cast", metavar="N", help="ballots cast (threshold base 'ballots_cast')")
    parser.add_argument(
        "--registered-voters", metavar="N", help="registered voters (threshold base 'registered_voters')"
    )
    parser.add_argument("--seats", metavar="N", help="list seats (overrides the profile)")
    parser.add_argument("--method", metavar="|".join(METHODS), help="overrides the profile's method")
    parser.add_argument("--threshold", metavar="PERCENT", help="exact percentage, e.g. 7 or 2.5")
    parser.add_argument("--format", default="table", metavar="|".join(FORMATS), help="output (default table)")
    parser.add_argument(
        "--districts",
        metavar="FILE.csv",
        help="single-member district results (district,candidate,party,votes) for a combined seat table",
    )
    parser.set_defaults(func=run)


def _count(text: str | None, option: str, minimum: int = 0) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < minimum:
        raise InputError(f"{option} must be a whole number >= {minimum}", column=option, value=text)
    return int(text)


def _choice(text: str, option: str, allowed: tuple[str, ...]) -> str:
    if text not in allowed:
        raise InputError(f"{option} must be one of {', '.join(allowed)}", column=option, value=text)
    return text


def run(args: argparse.Namespace) -> int:
    output_format = _choice(args.format, "--format", FORMATS)
    method = None if args.method is None else _choice(args.method, "--method", METHODS)
    threshold = None
    if args.threshold is not None:
        threshold = exact_number(args.threshold.strip().rstrip("%"), file=None, column="--threshold")
        if threshold > 100:
            raise InputError(
                "--threshold is a percentage from 0 to 100", column="--threshold", value=args.threshold
            )
    against_all = _count(args.against_all, "--against-all") or 0
    invalid = _count(args.invalid, "--invalid")
    ballots_cast = _count(args.ballots_cast, "--ballots-cast")
    registered_voters = _count(args.registered_voters, "--registered-voters")
    seats = _count(args.seats, "--seats", minimum=1)
    profile = override_profile(
        load_profile(args.rules), method=method, threshold_percent=threshold, seats=seats
    )
    lists = read_votes_csv(Path(args.votes))
    allocation = allocate(
        lists,
        profile,
        against_all=against_all,
        invalid=invalid,
        ballots_cast=ballots_cast,
        registered_voters=registered_voters,
    )
    combined = None
    if args.districts is not None:
        combined = combine_with_districts(
            allocation, Path(args.districts), expected_districts=profile.districts or None
        )
    print(render(allocation, combined, output_format), end="")
    return EXIT_OK


def render(allocation: Allocation, combined: CombinedSeatTable | None, output_format: str) -> str:
    """The allocation as text: an aligned table with explanation, CSV records, or JSON."""
    if output_format == "json":
        data: dict[str, object] = allocation.to_dict()
        if combined is not None:
            data["combined"] = combined.to_dict()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output_format == "csv":
        if combined is not None:
            return _csv(combined.to_records(), list(combined.to_records()[0]))
        return _csv(allocation.to_records(), list(RECORD_FIELDS))
    return _table(allocation, combined)


def _csv(records: list[Record], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in record.items()})
    return out.getvalue()


def _grid(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    lines = []
    for r in [header, *body]:
        cells = [r[0].ljust(widths[0])] + [cell.rjust(widths[c]) for c, cell in enumerate(r) if c]
        lines.append("  ".join(cells).rstrip())
    return lines


def _num(value: Fraction | None) -> str:
    return "-" if value is None else rounded(value, 4)


def _table(allocation: Allocation, combined: CombinedSeatTable | None) -> str:
    header = ["list", "ballot", "votes", "share %", "passed", "guarantee", "quotient", "whole", "remainder"]
    header += ["+1", "moved", "seats", "vacant"]
    body = [
        [
            r.name,
            "-" if r.ballot_order is None else str(r.ballot_order),
            f"{r.votes:,}",
            r.share_pct,
            "yes" if r.passed_threshold else "no",
            "yes" if r.admitted_by_guarantee else "",
            _num(r.quotient),
            str(r.integer_seats),
            _num(r.remainder),
            "+1" if r.remainder_seat else "",
            f"{r.redistributed_seats:+d}" if r.redistributed_seats else "",
            str(r.seats),
            str(r.vacant_seats) if r.vacant_seats else "",
        ]
        for r in allocation.rows
    ]
    body.append(["total", "", f"{sum(r.votes for r in allocation.rows):,}"] + [""] * 8)
    body[-1] += [
        str(sum(r.seats for r in allocation.rows)),
        str(sum(r.vacant_seats for r in allocation.rows)),
    ]
    lines = [
        f"Seat allocation under {allocation.profile_id} ({allocation.method}, {allocation.total_seats} seats)"
    ]
    lines += _grid(header, body)
    lines += ["", "How the seats were decided:"] + [f"  - {line}" for line in allocation.explanation]
    if combined is not None:
        rows = [
            [r.name, str(r.list_seats), str(r.district_seats), str(r.total_seats)]
            for r in combined.rows
            if r.total_seats or r.vacant_list_seats
        ]
        lines += [
            "",
            f"Combined seat table ({combined.list_seats} list + {combined.district_seats} district seats)",
        ]
        lines += _grid(["party", "list", "district", "total"], rows)
        lines += ["", "Districts:"] + [f"  - {line}" for line in combined.explanation]
    return "\n".join(lines) + "\n"
