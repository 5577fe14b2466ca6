"""Certainty bounds: the fewest and most seats each list can still end with, whatever is outstanding.

The outstanding precincts can add at most `outstanding` ballots in all, split in any way among the lists,
invalid ballots and 'against all' (threshold_certainty.py). The intervals are proven, not sampled:

- Hare largest remainder gives each admitted list the floor or the ceiling of its exact quota
  seats x votes / votes of the admitted lists (a list gets at most one remainder seat, and a zero
  remainder never wins one). The quota grows with the list's votes and shrinks with the others', so
  the fewest seats are at least the floor of the quota with no more votes for the list, every list not
  certainly out admitted and every outstanding ballot on the others; the most at most the ceiling of the
  quota with every outstanding ballot on the list and only the lists certain to pass beside it. Nothing
  here assumes that seats move with votes (largest remainder does not: the Alabama and population
  paradoxes); only the quota rule is used.
- Sharper than floor and ceiling: a remainder above (k - 1) / k surely wins a seat and one below 1 / k
  surely does not, k the lists that may be admitted (`_fewest`, `_most`).
- Largest remainder gives the seats to the highest seat values q − k (a list's quota less the seats it
  has before; whole quotas give values of at least 1, remainders less): a list surely has k + 1 seats
  when fewer than all the seats can rank at or above its smallest (k+1)-th value, at most k when all the
  seats surely rank above its largest, each other list's values counted from its extreme quotas
  (`_by_seat_values`).
- Seats always add up to the total, so each list's interval is narrowed by the others' (the fewest are
  at least the total less the others' most, and so on).
- The two-party guarantee (correction index, or two lists sharing) when it may act: the seats are the
  union of those above (at least two lists pass) and those of the completions where one list passes and
  the runner-up joins it (`guarantee_bounds`).
- Every other rule is bounded only where it provably cannot act: a guarantee of more lists when enough
  lists are certain to pass, a represented share the lists certain to pass hold even on the largest base,
  consolation bands no list that may fail the threshold can reach, redistribution of vacant seats when
  no list can win more seats than it has candidates. Anything else (divisor methods, Droop, a rule that
  may act, an unknown rule or base, an unbounded outstanding count) gives the trivially sound 0..all.

When nothing is outstanding the intervals are the final seats, computed by `allocate` itself. An
interval speaks of completions the rules can decide: a completion where no list passes or a tie is
refused has no seats to contain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from pipelines.rules.admission import MinimumAdmittedLists, NoAdmissionRule
from pipelines.rules.apportionment import LargestRemainder
from pipelines.rules.correction_index import CorrectionIndexGuarantee
from pipelines.rules.guarantee_bounds import TwoPartyGuarantee, bounded_guarantee, guarantee_seat_ranges
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.quotas import HareQuota
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.seat_allocation.engine import allocate
from pipelines.rules.seat_allocation.rule_set import RuleSet, rule_set
from pipelines.rules.threshold_certainty import (
    ThresholdStatus,
    base_extremes,
    bounded_base,
    threshold_status,
)
from pipelines.rules.thresholds import VoteTotals
from pipelines.rules.vacancies import LeaveVacant


@dataclass(frozen=True)
class ListBounds:
    """One list: its threshold status and the interval its final seats lie in (both ends included)."""

    list_id: str
    status: ThresholdStatus
    min_seats: int
    max_seats: int


@dataclass(frozen=True)
class SeatBounds:
    """Every list's bounds (ballot order); `fallback` says why the intervals are 0..all, if they are."""

    total_seats: int
    outstanding: int | None
    lists: tuple[ListBounds, ...]
    fallback: str | None = None

    @property
    def exact(self) -> bool:
        return self.outstanding == 0

    @property
    def decided(self) -> int:
        """Seats whose list is known: the sum of the fewest seats each list can end with."""
        return sum(b.min_seats for b in self.lists)


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def _fewest(quota: Fraction, lists: int) -> int:
    """The fewest seats a list with this exact quota gets among at most `lists` admitted lists.

    Its remainder r wins a seat when fewer than `left` others (the seats left after whole quotas) can
    have a remainder at least r; those others' remainders add up to left - r, so at most (left - r) / r
    of them can, fewer than left when r > left / (left + 1), which r > (lists - 1) / lists ensures since
    left < lists. Nondecreasing in the quota, so its value at the smallest quota bounds every other.
    """
    whole = _floor(quota)
    return whole + 1 if quota - whole > Fraction(lists - 1, lists) else whole


def _most(quota: Fraction, lists: int) -> int:
    """The most seats a list with this exact quota gets among at most `lists` admitted lists.

    A remainder r < 1 / lists loses: were fewer than `left` of the k - 1 others above r, their
    remainders (left - r in all, each below 1, those not above r at most r) would add up to less than
    left - 1 + (k - left) r, which r < 1 / (k - left + 1) makes less than left - r; and k - left + 1 <= k
    <= lists. (At r = 1 / lists every remainder can be equal, and the tie break may pick the list.)
    Nondecreasing in the quota, so its value at the largest quota bounds every other.
    """
    whole = _floor(quota)
    return whole if quota - whole < Fraction(1, lists) else whole + 1


def _unbounded_rule(
    rules: RuleSet, status: dict[str, ThresholdStatus]
) -> tuple[str | None, TwoPartyGuarantee | None]:
    """Why the quota bounds do not apply to these rules (None when they do, before vacancies), and the
    two-party guarantee when it may act (its seats are bounded apart, `guarantee_bounds`)."""
    method = rules.apportionment
    if not (isinstance(method, LargestRemainder) and isinstance(method.quota, HareQuota)):
        return f"the {rules.profile.method} method is not bounded (only Hare largest remainder is)", None
    certain = sum(1 for s in status.values() if s == "certain")
    acting: TwoPartyGuarantee | None = None
    for admission in rules.admission:
        if isinstance(admission, NoAdmissionRule):
            continue
        if isinstance(admission, CorrectionIndexGuarantee):
            needed = 2
        elif isinstance(admission, MinimumAdmittedLists):
            needed = admission.minimum
        else:
            return f"the admission rule {type(admission).__name__} is not bounded", None
        if certain < needed:
            acting = bounded_guarantee(admission)
            if acting is None:
                return f"the guarantee may apply: fewer than {needed} lists are certain to pass", None
    return None, acting


def _trivial(
    lists: Sequence[ListVotes],
    status: dict[str, ThresholdStatus],
    seats: int,
    outstanding: int | None,
    why: str,
) -> SeatBounds:
    return SeatBounds(
        seats, outstanding, tuple(ListBounds(x.list_id, status[x.list_id], 0, seats) for x in lists), why
    )


def _ceil(value: Fraction) -> int:
    return -_floor(-value)


def _by_seat_values(
    quotas: dict[str, tuple[Fraction, Fraction]], certain: set[str], seats: int
) -> dict[str, tuple[int, int]]:
    """Each list's seats bounded by ranking seat values: largest remainder gives the seats to the `seats`
    highest values q - k (list quota q, k = 0, 1, ... its seats before), since every value of a whole
    quota is at least 1 and the remainders below it.

    `quotas`: the smallest and largest quota of every list that may be admitted (`certain`: surely
    admitted). List i surely has k + 1 seats when its k earlier values and the others' values that can
    reach its smallest (k+1)-th value, each list j at most floor(q_j max - v) + 1 of them, are fewer than
    the seats; it has at most k when they and the surely admitted others' values surely above its
    largest (k+1)-th value, ceil(q_j min - v) each, are at least the seats.
    """
    found: dict[str, tuple[int, int]] = {}
    for i, (low, high) in quotas.items():
        fewest, most = 0, seats
        if i in certain:
            for k in range(_floor(low), min(_floor(high), seats - 1) + 1):
                value = low - k
                ahead = sum(max(0, _floor(h - value) + 1) for j, (_, h) in quotas.items() if j != i)
                if k + ahead < seats:
                    fewest = k + 1
        for k in range(_floor(low), min(_ceil(high), seats) + 1):
            value = high - k
            above = sum(max(0, _ceil(lo - value)) for j, (lo, _) in quotas.items() if j != i and j in certain)
            if k + above >= seats:
                most = min(most, k)
        found[i] = (fewest, most)
    return found


def _narrowed(low: dict[str, int], high: dict[str, int], seats: int) -> tuple[dict[str, int], dict[str, int]]:
    """Each list's interval narrowed by the others': every decided completion fills every seat.

    When the intervals cannot add up to the seats (every list out: no completion can be decided)
    they are returned as they came.
    """
    low_in, high_in = low, high
    low, high = dict(low), dict(high)
    changed = True
    while changed:
        changed = False
        for i in low:
            others_high = sum(high.values()) - high[i]
            others_low = sum(low.values()) - low[i]
            new_low, new_high = max(low[i], seats - others_high), min(high[i], seats - others_low)
            if new_low > new_high:
                return low_in, high_in
            if (new_low, new_high) != (low[i], high[i]):
                low[i], high[i], changed = new_low, new_high, True
    return low, high


def certainty_bounds(
    lists: Sequence[ListVotes],
    profile: RuleProfile,
    outstanding: int | None,
    *,
    against_all: int = 0,
    invalid: int | None = None,
    ballots_cast: int | None = None,
    registered_voters: int | None = None,
) -> SeatBounds:
    """Bounds on the final seats given the counts so far and at most `outstanding` more ballots.

    `outstanding` None means the outstanding precincts are not bounded (a registered count is unknown).
    With nothing outstanding this is `allocate`'s table (and its errors: RulesCannotDecide, InputError).
    """
    ordered = sorted(lists, key=lambda x: (x.ballot_order is None, x.ballot_order or 0, x.list_id))
    seats = profile.seats
    if outstanding == 0:
        allocation = allocate(
            ordered,
            profile,
            against_all=against_all,
            invalid=invalid,
            ballots_cast=ballots_cast,
            registered_voters=registered_voters,
        )
        return SeatBounds(
            seats,
            0,
            tuple(
                ListBounds(r.list_id, "certain" if r.passed_threshold else "out", r.seats, r.seats)
                for r in allocation.rows
            ),
        )
    rules = rule_set(profile)
    totals = VoteTotals(sum(x.votes for x in ordered), against_all, invalid, ballots_cast, registered_voters)
    status = threshold_status(ordered, rules.threshold, totals, outstanding, profile.profile_id)
    if outstanding is None:
        return _trivial(ordered, status, seats, outstanding, "the outstanding ballots are not bounded")
    if not bounded_base(rules.threshold):
        return _trivial(ordered, status, seats, outstanding, "the threshold base is not bounded")
    why, guarantee = _unbounded_rule(rules, status)
    if why is not None:
        return _trivial(ordered, status, seats, outstanding, why)
    extremes = base_extremes(rules.threshold, totals, outstanding, profile.profile_id)
    votes = {x.list_id: x.votes for x in ordered}
    certain = {i for i, s in status.items() if s == "certain"}
    if rules.represented_share is not None and not rules.represented_share.holds(
        sum(votes[i] for i in certain), extremes.largest
    ):
        return _trivial(ordered, status, seats, outstanding, "the represented share may admit more lists")
    if rules.consolation is not None:
        lowest = min(b.low for b in rules.consolation.bands)
        for i, s in status.items():
            best = votes[i] + outstanding
            if s != "certain" and best and Fraction(best, extremes.with_list_best or 1) >= lowest:
                return _trivial(ordered, status, seats, outstanding, "a list may win consolation seats")

    possible = {i: n for i, n in votes.items() if status[i] != "out"}
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    quotas: dict[str, tuple[Fraction, Fraction]] = {}
    for i, n in votes.items():
        if status[i] == "out":
            low[i] = high[i] = 0
            continue
        others_most = sum(possible.values()) - n + outstanding
        most = n + outstanding
        others_fewest = sum(votes[j] for j in certain if j != i)
        quotas[i] = (Fraction(seats * n, n + others_most), Fraction(seats * most, most + others_fewest))
        low[i] = _fewest(quotas[i][0], len(possible)) if status[i] == "certain" else 0
        high[i] = _most(quotas[i][1], len(possible))
    for i, (fewest, most) in _by_seat_values(quotas, certain, seats).items():
        low[i], high[i] = max(low[i], fewest), min(high[i], most)
    low, high = _narrowed(low, high, seats)
    if guarantee is not None:
        # Either at least two lists pass (the bounds above) or one does and the guarantee acts.
        acting = guarantee_seat_ranges(guarantee, votes, status, outstanding, seats)
        for i, (fewest, most) in acting.items():
            low[i], high[i] = min(low[i], fewest), max(high[i], most)

    if not isinstance(rules.vacancies, LeaveVacant):
        capacity = {x.list_id: x.candidates for x in ordered}
        if any((c := capacity[i]) is not None and c < high[i] for i in votes):
            return _trivial(ordered, status, seats, outstanding, "vacant seats may be redistributed")
    return SeatBounds(seats, outstanding, tuple(ListBounds(i, status[i], low[i], high[i]) for i in votes))
