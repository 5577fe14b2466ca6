"""`allocate`: threshold, two-party guarantee, apportionment and vacancies, each step explained."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation.methods import ListResult, MethodOutcome, apportion, hare_quota
from pipelines.rules.seat_allocation.model import Allocation, ListVotes, SeatRow, approx, percent_text
from pipelines.rules.seat_allocation.ranking import TieRule, hand_out, pick

BASE_LABELS = {
    "valid_list_votes": "valid list votes",
    "valid_list_votes_plus_against_all": "valid list votes plus 'against all'",
    "ballots_cast": "ballots cast",
}


def _whole(value: object, name: str, *, minimum: int, where: str = "allocation input") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{where}: {name} must be a whole number >= {minimum}", column=name, value=value)
    return value


def _check_lists(lists: Sequence[ListVotes]) -> None:
    if not lists:
        raise InputError("allocation input: no party lists given", column="party")
    seen_ids: set[str] = set()
    seen_orders: set[int] = set()
    for n, item in enumerate(lists, start=1):
        where = f"list {n}"
        if not isinstance(item.list_id, str) or not item.list_id.strip():
            raise InputError(
                f"{where}: list_id must be a non-empty text", column="list_id", value=item.list_id
            )
        where = f"list {item.list_id!r}"
        if item.list_id in seen_ids:
            raise InputError("allocation input: a list appears twice", column="list_id", value=item.list_id)
        seen_ids.add(item.list_id)
        _whole(item.votes, "votes", minimum=0, where=where)
        if item.candidates is not None:
            _whole(item.candidates, "candidates", minimum=0, where=where)
        if item.ballot_order is not None:
            _whole(item.ballot_order, "ballot_order", minimum=1, where=where)
            if item.ballot_order in seen_orders:
                raise InputError(
                    f"{where}: two lists share a ballot order", column="ballot_order", value=item.ballot_order
                )
            seen_orders.add(item.ballot_order)


def _threshold_base(
    profile: RuleProfile, list_votes: int, against_all: int, invalid: int | None, ballots_cast: int | None
) -> int:
    counted = list_votes + against_all
    if ballots_cast is not None and invalid is not None and counted + invalid != ballots_cast:
        raise InputError(
            f"ballots cast ({ballots_cast:,}) differ from list votes + against all + invalid "
            f"({list_votes:,} + {against_all:,} + {invalid:,} = {counted + invalid:,})",
            column="ballots_cast",
            rule="ballots_cast = list votes + against_all + invalid",
            value=ballots_cast,
        )
    if ballots_cast is not None and ballots_cast < counted:
        raise InputError(
            f"ballots cast ({ballots_cast:,}) are fewer than list votes + against all ({counted:,})",
            column="ballots_cast",
            value=ballots_cast,
        )
    if profile.threshold_base == "valid_list_votes":
        return list_votes
    if profile.threshold_base == "valid_list_votes_plus_against_all":
        return counted
    if ballots_cast is not None:
        return ballots_cast
    if invalid is not None:
        return counted + invalid
    raise InputError(
        f"rule profile {profile.profile_id} measures the threshold against ballots cast: "
        "give ballots cast or the number of invalid ballots",
        column="ballots_cast",
        rule="threshold_base: ballots_cast",
    )


def _runner_up(lists: Sequence[ListVotes], passing: str, rule: TieRule) -> tuple[str | None, list[str]]:
    others = {
        item.list_id: Fraction(item.votes) for item in lists if item.list_id != passing and item.votes > 0
    }
    if not others:
        return None, []
    winners, notes = pick(others, 1, rule, "two-party guarantee, runner-up")
    return winners[0], notes


def _correction_index(
    votes: dict[str, int], passing: str, runner_up: str, seats: int, profile: RuleProfile, rule: TieRule
) -> MethodOutcome:
    """Runner-up: floor(index x its Hare quotient), at least the minimum; the passing list: the rest."""
    index = profile.guarantee.index or Fraction(1)
    quota = hare_quota(votes[passing] + votes[runner_up], seats)
    plain = Fraction(votes[runner_up]) / quota
    corrected = plain * index
    floor = corrected.numerator // corrected.denominator
    runner_seats = min(max(profile.guarantee.minimum_seats, floor), max(seats - 1, 0))
    passing_quotient = Fraction(votes[passing]) / quota
    lines = [
        f"Guarantee (correction index): Hare quota of the two lists = {approx(quota)} votes per seat.",
        f"{rule.label(runner_up)}: quotient {approx(plain)} x index {approx(index)} = {approx(corrected)}; "
        f"integer part {floor}, at least {profile.guarantee.minimum_seats}: {runner_seats} seat(s).",
        f"{rule.label(passing)} takes the other {seats - runner_seats} seat(s).",
    ]
    results = {
        passing: ListResult(quota, passing_quotient, seats - runner_seats, None, False),
        runner_up: ListResult(quota, corrected, runner_seats, None, False),
    }
    quotients = {passing: passing_quotient, runner_up: corrected}
    return MethodOutcome(results, lines, lambda i, n: quotients[i] - n)


def _settle_vacancies(
    won: dict[str, int],
    capacity: dict[str, int | None],
    outcome: MethodOutcome,
    profile: RuleProfile,
    rule: TieRule,
    explanation: list[str],
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Seats beyond a list's candidates stay vacant, or go to the next in line (profile: redistribute).

    Returns seats won, seats moved by the vacancy rule (+ received, - given up) and vacant seats per list.
    """
    limit = {i: n for i in won if (n := capacity[i]) is not None}
    short = {i: won[i] - limit[i] for i in limit if won[i] > limit[i]}
    moved = dict.fromkeys(won, 0)
    vacant = dict.fromkeys(won, 0)
    for i, missing in short.items():
        explanation.append(
            f"{rule.label(i)} won {won[i]} seat(s) but has only {limit[i]} candidate(s): "
            f"{missing} seat(s) without a member."
        )
    if not short or profile.vacant_seats == "leave_vacant":
        vacant.update(short)
        return dict(won), moved, vacant
    receivers = {i: n for i, n in won.items() if i not in short}
    notes, unfilled = hand_out(
        sum(short.values()), receivers, outcome.claim, rule, "vacant seats, equal claims", capacity
    )
    final = dict(won)
    for i, n in receivers.items():
        moved[i] = n - won[i]
        final[i] = n
    for i in short:
        moved[i] = -short[i]
        final[i] = limit[i]
    explanation.append(
        "Vacant seats are redistributed to the next in line among lists with candidates left: "
        + (", ".join(f"{rule.label(i)} +{n}" for i, n in moved.items() if n > 0) or "no list can take them")
        + "."
    )
    explanation.extend(notes)
    if unfilled:
        # nobody has candidates left: the seats stay vacant on the lists that won them
        for i in sorted(short, key=lambda i: (rule.ballot_order[i] is None, rule.ballot_order[i] or 0, i)):
            back = min(unfilled, short[i])
            final[i] += back
            moved[i] += back
            vacant[i] = back
            unfilled -= back
        explanation.append("No list has candidates left for the remaining vacant seats; they stay vacant.")
    return final, moved, vacant


def allocate(
    lists: Sequence[ListVotes],
    profile: RuleProfile,
    *,
    against_all: int = 0,
    invalid: int | None = None,
    ballots_cast: int | None = None,
    seats: int | None = None,
) -> Allocation:
    """The list-seat table under `profile`; RulesCannotDecide when no list passes or a tie is undecidable."""
    _check_lists(lists)
    _whole(against_all, "against_all", minimum=0)
    if invalid is not None:
        _whole(invalid, "invalid", minimum=0)
    if ballots_cast is not None:
        _whole(ballots_cast, "ballots_cast", minimum=0)
    total_seats = profile.seats if seats is None else _whole(seats, "seats", minimum=1)
    ordered = sorted(lists, key=lambda x: (x.ballot_order is None, x.ballot_order or 0, x.list_id))
    rule = TieRule(
        profile.tie_break, {x.list_id: x.ballot_order for x in ordered}, {x.list_id: x.name for x in ordered}
    )
    list_votes = sum(x.votes for x in ordered)
    base = _threshold_base(profile, list_votes, against_all, invalid, ballots_cast)
    explanation = [
        f"Rules {profile.profile_id}: {total_seats} list seats by the {profile.method} method"
        + (
            f" (seats given: {total_seats}, profile says {profile.seats})."
            if total_seats != profile.seats
            else "."
        ),
        f"Threshold: {approx(profile.threshold * 100)}% of {BASE_LABELS[profile.threshold_base]} "
        f"({base:,}) = {approx(profile.threshold * base)} votes; a list at or above it passes.",
    ]
    shares = {x.list_id: Fraction(x.votes, base) if base else Fraction(0) for x in ordered}
    passed = {x.list_id for x in ordered if x.votes > 0 and shares[x.list_id] >= profile.threshold}
    for x in ordered:
        verdict = "passes" if x.list_id in passed else "does not pass"
        explanation.append(
            f"{rule.label(x.list_id)}: {x.votes:,} votes = {percent_text(shares[x.list_id])}%: {verdict}."
        )
    if not passed:
        best = max(ordered, key=lambda x: x.votes)
        raise RulesCannotDecide(
            f"no list reached the threshold of {approx(profile.threshold * 100)}% of "
            f"{BASE_LABELS[profile.threshold_base]} ({base:,}); the best was {rule.label(best.list_id)} with "
            f"{percent_text(shares[best.list_id])}%: nothing can be published"
        )

    admitted_by_guarantee: str | None = None
    guarantee_applied: str | None = None
    if len(passed) == 1 and profile.guarantee.variant != "none":
        (passing,) = passed
        admitted_by_guarantee, notes = _runner_up(ordered, passing, rule)
        if admitted_by_guarantee is None:
            explanation.append(
                "Only one list passed and no other list has votes: the guarantee cannot apply."
            )
        else:
            guarantee_applied = profile.guarantee.variant
            runner = rule.label(admitted_by_guarantee)
            explanation.append(
                f"Only {rule.label(passing)} passed; by the two-party guarantee ({guarantee_applied}) "
                f"the runner-up {runner} is admitted too."
            )
            explanation.extend(notes)
    admitted = {
        x.list_id: x.votes for x in ordered if x.list_id in passed or x.list_id == admitted_by_guarantee
    }
    if guarantee_applied == "correction_index" and admitted_by_guarantee is not None:
        (passing,) = passed
        outcome = _correction_index(admitted, passing, admitted_by_guarantee, total_seats, profile, rule)
    else:
        outcome = apportion(admitted, total_seats, profile.method, rule)
    explanation.extend(outcome.explanation)

    won, moved, vacant = _settle_vacancies(
        {i: r.seats for i, r in outcome.results.items()},
        {x.list_id: x.candidates for x in ordered},
        outcome,
        profile,
        rule,
        explanation,
    )

    rows = []
    for x in ordered:
        result = outcome.results.get(x.list_id)
        rows.append(
            SeatRow(
                list_id=x.list_id,
                name=x.name,
                ballot_order=x.ballot_order,
                votes=x.votes,
                share=shares[x.list_id],
                share_pct=percent_text(shares[x.list_id]),
                passed_threshold=x.list_id in passed,
                admitted_by_guarantee=x.list_id == admitted_by_guarantee,
                quota=result.quota if result else None,
                quotient=result.quotient if result else None,
                integer_seats=result.integer_seats if result else 0,
                remainder=result.remainder if result else None,
                remainder_seat=result.remainder_seat if result else False,
                seats=won.get(x.list_id, 0),
                vacant_seats=vacant.get(x.list_id, 0),
                redistributed_seats=moved.get(x.list_id, 0),
            )
        )
    explanation.append(
        "Result: "
        + ", ".join(f"{rule.label(r.list_id)} {r.seats}" for r in rows if r.seats)
        + f" (total {sum(r.seats for r in rows)})."
    )
    return Allocation(
        profile_id=profile.profile_id,
        method=profile.method,
        total_seats=total_seats,
        threshold=profile.threshold,
        threshold_base=profile.threshold_base,
        base_votes=base,
        rows=tuple(rows),
        explanation=tuple(explanation),
        guarantee_applied=guarantee_applied,
    )
