"""A minimum represented share: the lists admitted must together hold a share of the threshold base.

Russia, Federal Law No. 51-FZ of 18 May 2005 on the election of the State Duma, art. 82 (7)-(8): lists
with 7% or more take part in the distribution if together they hold more than 60% of the votes of the
voters who took part; otherwise the lists below 7% are admitted too, in order of their votes, until the
lists admitted hold more than 60% (the law of 2002 said 5% and 50%). Profile field `represented_share`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from fractions import Fraction

from pipelines.rules.admission import Admission
from pipelines.rules.number_text import approx, percent_text
from pipelines.rules.ranking import TieRule, pick


def _share(votes: int, base: int) -> Fraction:
    """A share of the base; none of an empty base (a threshold of 0 on an electorate of 0)."""
    return Fraction(votes, base) if base else Fraction(0)


@dataclass(frozen=True)
class MinimumRepresentedShare:
    """While the admitted lists hold less than `share` of the base (`more_than`: not more than it), the
    next list by votes (with at least one) is admitted; ties for the next place are the tie break's."""

    share: Fraction
    more_than: bool = False
    name: str = "represented_share"

    def holds(self, votes_held: int, base: int) -> bool:
        held = _share(votes_held, base)
        return held > self.share if self.more_than else held >= self.share

    def described(self) -> str:
        return f"{'more than' if self.more_than else 'at least'} {approx(self.share * 100)}%"

    def admit(self, votes: Mapping[str, int], passed: Set[str], base: int, rule: TieRule) -> Admission:
        held = sum(votes[i] for i in passed)
        if self.holds(held, base):
            return Admission(
                explanation=(
                    f"The lists admitted hold {percent_text(_share(held, base))}% of the threshold base: "
                    f"{self.described()} as the rules require.",
                )
            )
        lines = [
            f"The lists that passed hold {percent_text(_share(held, base))}% of "
            f"the threshold base; the rules require {self.described()}: the next lists by votes are admitted."
        ]
        admitted: list[str] = []
        others = {i: Fraction(v) for i, v in votes.items() if i not in passed and v > 0}
        while others and not self.holds(held, base):
            (chosen,), notes = pick(others, 1, rule, "represented share, next list")
            lines.extend(notes)
            del others[chosen]
            admitted.append(chosen)
            held += votes[chosen]
            lines.append(
                f"{rule.label(chosen)} ({votes[chosen]:,} votes) is admitted: the lists admitted now hold "
                f"{percent_text(_share(held, base))}%."
            )
        if not self.holds(held, base):
            lines.append("Every list with votes is admitted and the share is still not reached.")
        return Admission(tuple(admitted), self.name if admitted else None, tuple(lines))
