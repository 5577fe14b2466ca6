"""The correction-index guarantee: the runner-up's Hare quotient times an index, with a minimum of seats.

One reading of the Mazhilis two-party guarantee (law of 9 February 2009, docs/seat-allocation.md): the
runner-up is admitted as under `MinimumAdmittedLists(2)`, and the two lists share the seats by
`CorrectionIndexShare` instead of the profile's method.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, replace
from fractions import Fraction

from pipelines.core.errors import InputError
from pipelines.rules.admission import Admission, MinimumAdmittedLists
from pipelines.rules.apportionment import ListResult, MethodOutcome
from pipelines.rules.number_text import approx
from pipelines.rules.quotas import HareQuota
from pipelines.rules.ranking import TieRule


@dataclass(frozen=True)
class CorrectionIndexShare:
    """Runner-up: floor(index x its Hare quotient), at least the minimum; the passing list: the rest."""

    index: Fraction
    minimum_seats: int
    passing: str
    runner_up: str

    def apportion(self, votes: Mapping[str, int], seats: int, rule: TieRule) -> MethodOutcome:
        passing, runner_up = self.passing, self.runner_up
        quota = HareQuota().votes_per_seat(votes[passing] + votes[runner_up], seats)
        plain = Fraction(votes[runner_up]) / quota
        corrected = plain * self.index
        floor = corrected.numerator // corrected.denominator
        runner_seats = min(max(self.minimum_seats, floor), max(seats - 1, 0))
        passing_quotient = Fraction(votes[passing]) / quota
        lines = [
            f"Guarantee (correction index): Hare quota of the two lists = {approx(quota)} votes per seat.",
            f"{rule.label(runner_up)}: quotient {approx(plain)} x index {approx(self.index)} = "
            f"{approx(corrected)}; integer part {floor}, at least {self.minimum_seats}: "
            f"{runner_seats} seat(s).",
            f"{rule.label(passing)} takes the other {seats - runner_seats} seat(s).",
        ]
        results = {
            passing: ListResult(quota, passing_quotient, seats - runner_seats, None, False),
            runner_up: ListResult(quota, corrected, runner_seats, None, False),
        }
        quotients = {passing: passing_quotient, runner_up: corrected}
        return MethodOutcome(results, lines, lambda i, n: quotients[i] - n)


@dataclass(frozen=True)
class CorrectionIndexGuarantee:
    index: Fraction
    minimum_seats: int
    name: str = "correction_index"

    def admit(self, votes: Mapping[str, int], passed: Set[str], rule: TieRule) -> Admission:
        admission = MinimumAdmittedLists(self.name).admit(votes, passed, rule)
        if not admission.admitted:
            return admission
        (passing,) = passed
        (runner_up,) = admission.admitted
        share = CorrectionIndexShare(self.index, self.minimum_seats, passing, runner_up)
        return replace(admission, apportionment=share)


def correction_index_guarantee(index: Fraction | None, minimum_seats: int) -> CorrectionIndexGuarantee:
    """The guarantee from a profile's options; the index must be given and positive."""
    if index is None or index <= 0:
        raise InputError(
            "rule profile: guarantee.index must be an exact number > 0 for correction_index",
            column="guarantee.index",
            value=index,
        )
    return CorrectionIndexGuarantee(index, minimum_seats)
