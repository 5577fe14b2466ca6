"""Admission rules: lists admitted to the apportionment beyond those that passed the threshold.

An admission rule is a small frozen object with `admit(votes, passed, rule) -> Admission`; the profile's
`guarantee.variant` names a factory in `pipelines.rules.registry` that builds one from the guarantee's
options. The Mazhilis two-party guarantee is `MinimumAdmittedLists(minimum=2)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from pipelines.rules.apportionment import Apportionment
from pipelines.rules.ranking import TieRule, pick


@dataclass(frozen=True)
class Admission:
    """What an admission rule decided.

    `admitted`: lists it admitted, in the order it chose them; `applied`: the name recorded as the
    allocation's `guarantee_applied` when it admitted any; `apportionment`: a method that replaces the
    profile's for this allocation (the correction index), None to keep it.
    """

    admitted: tuple[str, ...] = ()
    applied: str | None = None
    explanation: tuple[str, ...] = ()
    apportionment: Apportionment | None = None


NOTHING_ADMITTED = Admission()


class AdmissionRule(Protocol):
    def admit(self, votes: Mapping[str, int], passed: Set[str], rule: TieRule) -> Admission:
        """Decide over every list's votes (ballot order) given the lists admitted so far (`passed`)."""
        ...


@dataclass(frozen=True)
class NoAdmissionRule:
    """Only the lists that passed take part: a single passing list takes every seat."""

    def admit(self, votes: Mapping[str, int], passed: Set[str], rule: TieRule) -> Admission:
        return NOTHING_ADMITTED


@dataclass(frozen=True)
class MinimumAdmittedLists:
    """When fewer than `minimum` lists passed, the next lists by votes (with at least one) are admitted.

    `name` is the guarantee variant recorded when it applies. Ties for the last place are the tie break's.
    """

    name: str
    minimum: int = 2

    def admit(self, votes: Mapping[str, int], passed: Set[str], rule: TieRule) -> Admission:
        if len(passed) >= self.minimum:
            return NOTHING_ADMITTED
        others = {i: Fraction(v) for i, v in votes.items() if i not in passed and v > 0}
        passing = [i for i in votes if i in passed]
        if not others:
            only = "one list" if len(passing) == 1 else f"{len(passing)} lists"
            return Admission(
                explanation=(f"Only {only} passed and no other list has votes: the guarantee cannot apply.",)
            )
        two_party = self.minimum == 2
        what = "two-party guarantee, runner-up" if two_party else f"guarantee of {self.minimum} lists"
        admitted, notes = pick(others, self.minimum - len(passing), rule, what)
        names = ", ".join(rule.label(i) for i in passing)
        if two_party:
            line = (
                f"Only {names} passed; by the two-party guarantee ({self.name}) "
                f"the runner-up {rule.label(admitted[0])} is admitted too."
            )
        else:
            line = (
                f"Only {names} passed; by the guarantee of {self.minimum} lists ({self.name}) the next by "
                f"votes are admitted too: {', '.join(rule.label(i) for i in admitted)}."
            )
        return Admission(tuple(admitted), self.name, (line, *notes))
