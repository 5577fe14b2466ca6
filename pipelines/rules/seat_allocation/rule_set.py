"""A rule profile turned into rule objects, looked up by name in the registry: the profile's allocator."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.rules import registry
from pipelines.rules.admission import AdmissionRule
from pipelines.rules.apportionment import Apportionment
from pipelines.rules.consolation import Band, ConsolationSeats
from pipelines.rules.represented_share import MinimumRepresentedShare
from pipelines.rules.rule_profiles import RuleProfile
from pipelines.rules.thresholds import ShareThreshold
from pipelines.rules.tie_breaks import TieBreak
from pipelines.rules.vacancies import VacancyRule


@dataclass(frozen=True)
class RuleSet:
    """The rules of one profile, in the order `allocate` applies them.

    The represented share runs first, then the admission rules in order, each seeing the lists admitted
    before it; an admission may replace the apportionment for the allocation it applies to (the
    correction-index guarantee does).
    """

    profile: RuleProfile
    threshold: ShareThreshold
    represented_share: MinimumRepresentedShare | None
    admission: tuple[AdmissionRule, ...]
    consolation: ConsolationSeats | None
    apportionment: Apportionment
    tie_break: TieBreak
    vacancies: VacancyRule


def rule_set(profile: RuleProfile) -> RuleSet:
    """Look up every rule the profile names; the profile was checked against the registry when built."""
    guarantee = profile.guarantee
    represented = profile.represented_share
    return RuleSet(
        profile=profile,
        threshold=ShareThreshold(
            profile.threshold, registry.THRESHOLD_BASES[profile.threshold_base], profile.kind_thresholds
        ),
        represented_share=(
            None if represented is None else MinimumRepresentedShare(represented.share, represented.more_than)
        ),
        admission=(
            registry.GUARANTEES[guarantee.variant](
                guarantee.index, guarantee.minimum_seats, guarantee.minimum_lists
            ),
        ),
        consolation=(
            ConsolationSeats(tuple(Band(b.low, b.high, b.seats) for b in profile.consolation))
            if profile.consolation
            else None
        ),
        apportionment=registry.METHODS[profile.method],
        tie_break=registry.TIE_BREAKS[profile.tie_break],
        vacancies=registry.VACANCY_RULES[profile.vacant_seats],
    )
