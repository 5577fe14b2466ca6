"""`allocate`: the profile's rules (threshold, admission, apportionment, vacancies) in order, each explained.

The rules themselves are objects in `pipelines/rules/` looked up by name (`rule_set`); this module checks
the input, runs the steps in order and writes the seat table.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.domain.list_kinds import is_kind
from pipelines.rules.apportionment import ListResult
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.number_text import approx, percent_text
from pipelines.rules.ranking import TieRule
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation.model import Allocation, SeatRow
from pipelines.rules.seat_allocation.rule_set import rule_set
from pipelines.rules.thresholds import VoteTotals


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
        if not is_kind(item.kind):
            raise InputError(f"{where}: kind must be a lower-case name", column="kind", value=item.kind)
        if item.ballot_order is not None:
            _whole(item.ballot_order, "ballot_order", minimum=1, where=where)
            if item.ballot_order in seen_orders:
                raise InputError(
                    f"{where}: two lists share a ballot order", column="ballot_order", value=item.ballot_order
                )
            seen_orders.add(item.ballot_order)


def _vote_totals(
    list_votes: int,
    against_all: int,
    invalid: int | None,
    ballots_cast: int | None,
    registered_voters: int | None,
) -> VoteTotals:
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
    return VoteTotals(list_votes, against_all, invalid, ballots_cast, registered_voters)


def allocate(
    lists: Sequence[ListVotes],
    profile: RuleProfile,
    *,
    against_all: int = 0,
    invalid: int | None = None,
    ballots_cast: int | None = None,
    seats: int | None = None,
    registered_voters: int | None = None,
) -> Allocation:
    """The list-seat table under `profile`; RulesCannotDecide when no list passes or a tie is undecidable."""
    _check_lists(lists)
    _whole(against_all, "against_all", minimum=0)
    if invalid is not None:
        _whole(invalid, "invalid", minimum=0)
    if ballots_cast is not None:
        _whole(ballots_cast, "ballots_cast", minimum=0)
    if registered_voters is not None:
        _whole(registered_voters, "registered_voters", minimum=0)
    total_seats = profile.seats if seats is None else _whole(seats, "seats", minimum=1)
    rules = rule_set(profile)
    ordered = sorted(lists, key=lambda x: (x.ballot_order is None, x.ballot_order or 0, x.list_id))
    tie_rule = TieRule(
        rules.tie_break, {x.list_id: x.ballot_order for x in ordered}, {x.list_id: x.name for x in ordered}
    )
    totals = _vote_totals(
        sum(x.votes for x in ordered), against_all, invalid, ballots_cast, registered_voters
    )
    base = rules.threshold.measure(totals, profile.profile_id)
    explanation = [
        f"Rules {profile.profile_id}: {total_seats} list seats by the {profile.method} method"
        + (
            f" (seats given: {total_seats}, profile says {profile.seats})."
            if total_seats != profile.seats
            else "."
        ),
        rules.threshold.explanation(base),
    ]
    shares = {x.list_id: Fraction(x.votes, base) if base else Fraction(0) for x in ordered}
    passed = {x.list_id for x in ordered if rules.threshold.passes(x, shares[x.list_id])}
    for x in ordered:
        verdict = "passes" if x.list_id in passed else "does not pass"
        if x.kind in dict(rules.threshold.by_kind):
            verdict += f" the {approx(rules.threshold.share_for(x) * 100)}% of a list declared {x.kind}"
        explanation.append(
            f"{tie_rule.label(x.list_id)}: {x.votes:,} votes = {percent_text(shares[x.list_id])}%: {verdict}."
        )
    if not passed:
        best = max(ordered, key=lambda x: x.votes)
        raise RulesCannotDecide(
            f"no list reached the threshold of {rules.threshold.described(base)}; the best was "
            f"{tie_rule.label(best.list_id)} with {percent_text(shares[best.list_id])}%: "
            "nothing can be published"
        )

    votes = {x.list_id: x.votes for x in ordered}
    admitted_by_rule: list[str] = []
    guarantee_applied: str | None = None
    apportionment = rules.apportionment
    if rules.represented_share is not None:
        admission = rules.represented_share.admit(votes, passed, base, tie_rule)
        explanation.extend(admission.explanation)
        admitted_by_rule.extend(admission.admitted)
        guarantee_applied = admission.applied
    for admission_rule in rules.admission:
        admission = admission_rule.admit(votes, passed | set(admitted_by_rule), tie_rule)
        explanation.extend(admission.explanation)
        admitted_by_rule.extend(admission.admitted)
        guarantee_applied = guarantee_applied or admission.applied
        apportionment = admission.apportionment or apportionment
    admitted = {i: n for i, n in votes.items() if i in passed or i in admitted_by_rule}
    consolation: dict[str, int] = {}
    if rules.consolation is not None:
        awarded = rules.consolation.award(votes, shares, admitted.keys(), total_seats, tie_rule)
        consolation = awarded.seats
        explanation.extend(awarded.explanation)
    outcome = apportionment.apportion(admitted, total_seats - sum(consolation.values()), tie_rule)
    explanation.extend(outcome.explanation)
    results = outcome.results | {i: ListResult(None, None, n, None, False) for i, n in consolation.items()}

    candidates = {x.list_id: x.candidates for x in ordered}
    # A list with consolation seats takes no further seat: its capacity is what it was given (or less).
    capacity = candidates | {
        i: n if (length := candidates[i]) is None else min(n, length) for i, n in consolation.items()
    }
    settled = rules.vacancies.settle(
        {i: r.seats for i, r in results.items()}, capacity, outcome.claim, tie_rule
    )
    explanation.extend(settled.explanation)

    rows = []
    for x in ordered:
        result = results.get(x.list_id)
        rows.append(
            SeatRow(
                list_id=x.list_id,
                name=x.name,
                ballot_order=x.ballot_order,
                votes=x.votes,
                share=shares[x.list_id],
                share_pct=percent_text(shares[x.list_id]),
                passed_threshold=x.list_id in passed,
                admitted_by_guarantee=x.list_id in admitted_by_rule,
                quota=result.quota if result else None,
                quotient=result.quotient if result else None,
                integer_seats=result.integer_seats if result else 0,
                remainder=result.remainder if result else None,
                remainder_seat=result.remainder_seat if result else False,
                seats=settled.seats.get(x.list_id, 0),
                vacant_seats=settled.vacant.get(x.list_id, 0),
                redistributed_seats=settled.moved.get(x.list_id, 0),
            )
        )
    explanation.append(
        "Result: "
        + ", ".join(f"{tie_rule.label(r.list_id)} {r.seats}" for r in rows if r.seats)
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
