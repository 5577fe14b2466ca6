"""Seats under the two-party guarantee when it may act: the completions where exactly one list passes.

Then one list passes (P) and the runner-up (R) is admitted beside it; the others get nothing. With the
correction index R gets min(max(minimum, floor(index x its Hare quotient)), seats - 1), P the rest; with
`proportional` (two lists) the two share the seats by Hare largest remainder, so R gets the floor or the
ceiling of its quota. R's quota seats x w_R / (w_P + w_R) is at most seats x (v_R + a) / (v_R + a + v_P)
with every outstanding ballot a on R and P at its votes so far: that bounds R from above and P from below.
P can only be a list not `out`, and the list `certain` to pass when there is one; R any other list
that may have a vote and is not `certain` (a list certain to pass is never the runner-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from pipelines.rules.admission import MinimumAdmittedLists
from pipelines.rules.correction_index import CorrectionIndexGuarantee
from pipelines.rules.threshold_certainty import ThresholdStatus

TwoPartyGuarantee = CorrectionIndexGuarantee | MinimumAdmittedLists


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def _ceil(value: Fraction) -> int:
    return -_floor(-value)


def bounded_guarantee(admission: object) -> TwoPartyGuarantee | None:
    """The guarantee when its seats are bounded here: the correction index, or two lists sharing."""
    if isinstance(admission, CorrectionIndexGuarantee):
        return admission
    if isinstance(admission, MinimumAdmittedLists) and admission.minimum == 2:
        return admission
    return None


def guarantee_seat_ranges(
    guarantee: TwoPartyGuarantee,
    votes: Mapping[str, int],
    status: Mapping[str, ThresholdStatus],
    outstanding: int,
    seats: int,
) -> dict[str, tuple[int, int]]:
    """Each list's fewest and most seats over the completions where exactly one list passes."""
    certain = [i for i, s in status.items() if s == "certain"]
    passers = certain if certain else [i for i, s in status.items() if s != "out"]

    def runner_most(runner: str, passer_votes: int) -> int:
        """The most seats `runner` gets beside a passer with at least `passer_votes` votes."""
        most = votes[runner] + outstanding
        quota = Fraction(seats * most, most + passer_votes) if most else Fraction(0)
        if isinstance(guarantee, CorrectionIndexGuarantee):
            corrected = _floor(guarantee.index * quota)
            return min(max(guarantee.minimum_seats, corrected), max(seats - 1, 0))
        return _ceil(quota)

    def runners(passer: str) -> list[str]:
        return [j for j in votes if j != passer and status[j] != "certain" and (votes[j] or outstanding)]

    fewest_runner = (
        min(guarantee.minimum_seats, max(seats - 1, 0))
        if isinstance(guarantee, CorrectionIndexGuarantee)
        else 0
    )
    ranges: dict[str, tuple[int, int]] = {}
    for i in votes:
        low, high = 0, 0
        if i in passers:
            beside = [runner_most(j, votes[i]) for j in runners(i)]
            # with no runner-up with a vote the guarantee cannot act and P takes every seat
            low = seats - max(beside, default=0) if passers == [i] else 0
            high = seats - fewest_runner if any(votes[j] for j in runners(i)) else seats
        serves = [p for p in passers if i in runners(p)]
        if serves:
            high = max(high, *(runner_most(i, votes[p]) for p in serves))
        ranges[i] = (low, high)
    return ranges
