"""The rule objects a profile may name: one registry per profile field, names in the order registered.

A rule profile names its rules (`method: hare`, `threshold_base: valid_list_votes`, `guarantee.variant`,
`tie_break`, `vacant_seats`); `pipelines.rules.seat_allocation.rule_set` looks the names up here and
combines the objects into the allocator of that profile. Adding a rule means writing its object (one new
module, or a class beside its kin) and one `register` line below; the profile schema leaves these names to
this registry, so no other file changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Generic, TypeVar

from pipelines.rules.admission import AdmissionRule, MinimumAdmittedLists, NoAdmissionRule
from pipelines.rules.apportionment import Apportionment, HighestAverages, LargestRemainder
from pipelines.rules.correction_index import correction_index_guarantee
from pipelines.rules.divisors import DHondtDivisors, ModifiedSainteLagueDivisors, SainteLagueDivisors
from pipelines.rules.quotas import DroopQuota, HareQuota
from pipelines.rules.thresholds import (
    BallotsCast,
    RegisteredVoters,
    ThresholdBase,
    ValidListVotes,
    ValidListVotesPlusAgainstAll,
)
from pipelines.rules.tie_breaks import BallotOrderTieBreak, RefuseTies, TieBreak
from pipelines.rules.vacancies import LeaveVacant, Redistribute, VacancyRule

T = TypeVar("T")

# The guarantee's options in a profile (`index`, `minimum_seats`, `minimum_lists` or None) -> its
# admission rule; an InputError naming the option when they do not fit the variant.
GuaranteeFactory = Callable[[Fraction | None, int, int | None], AdmissionRule]

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class Registry(Generic[T]):
    """Rule objects of one kind by the name a profile gives them (profile field `field`)."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> None:
        """Make `entry` available to profiles as `name`; a name is registered once."""
        if not _NAME.match(name):
            raise ValueError(
                f"{self.field}: a rule name is lower-case letters, digits, '_' and '-': {name!r}"
            )
        if name in self._entries:
            raise ValueError(f"{self.field}: {name!r} is registered already")
        self._entries[name] = entry

    def unregister(self, name: str) -> None:
        del self._entries[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> T:
        return self._entries[name]


METHODS: Registry[Apportionment] = Registry("method")
METHODS.register("hare", LargestRemainder(HareQuota()))
METHODS.register("droop", LargestRemainder(DroopQuota()))
METHODS.register("dhondt", HighestAverages(DHondtDivisors()))
METHODS.register("sainte-lague", HighestAverages(SainteLagueDivisors()))
METHODS.register("modified-sainte-lague", HighestAverages(ModifiedSainteLagueDivisors()))

THRESHOLD_BASES: Registry[ThresholdBase] = Registry("threshold_base")
THRESHOLD_BASES.register("valid_list_votes", ValidListVotes())
THRESHOLD_BASES.register("valid_list_votes_plus_against_all", ValidListVotesPlusAgainstAll())
THRESHOLD_BASES.register("ballots_cast", BallotsCast())
THRESHOLD_BASES.register("registered_voters", RegisteredVoters())

GUARANTEES: Registry[GuaranteeFactory] = Registry("guarantee.variant")
GUARANTEES.register("none", lambda index, minimum_seats, minimum_lists: NoAdmissionRule())
GUARANTEES.register(
    "proportional",
    lambda index, minimum_seats, minimum_lists: MinimumAdmittedLists("proportional", minimum_lists or 2),
)
GUARANTEES.register(
    "correction_index",
    lambda index, minimum_seats, minimum_lists: correction_index_guarantee(index, minimum_seats),
)

TIE_BREAKS: Registry[TieBreak] = Registry("tie_break")
TIE_BREAKS.register("ballot_order", BallotOrderTieBreak())
TIE_BREAKS.register("refuse", RefuseTies())

VACANCY_RULES: Registry[VacancyRule] = Registry("vacant_seats")
VACANCY_RULES.register("leave_vacant", LeaveVacant())
VACANCY_RULES.register("redistribute", Redistribute())
