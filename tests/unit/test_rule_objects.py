"""Each rule object on its own: quotas, divisors, methods, thresholds, admission, tie breaks, vacancies."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pipelines.core.errors import InputError, RulesCannotDecide
from pipelines.rules import registry
from pipelines.rules.admission import MinimumAdmittedLists, NoAdmissionRule
from pipelines.rules.apportionment import HighestAverages, LargestRemainder
from pipelines.rules.correction_index import CorrectionIndexShare, correction_index_guarantee
from pipelines.rules.divisors import DHondtDivisors, ModifiedSainteLagueDivisors, SainteLagueDivisors
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.quotas import DroopQuota, HareQuota
from pipelines.rules.ranking import TieRule, pick
from pipelines.rules.thresholds import (
    BallotsCast,
    ShareThreshold,
    ValidListVotes,
    ValidListVotesPlusAgainstAll,
    VoteTotals,
)
from pipelines.rules.tie_breaks import BallotOrderTieBreak, RefuseTies, TieDecision, TieRefusal
from pipelines.rules.vacancies import LeaveVacant, Redistribute

# The textbook example: 100,000 votes, 10 seats.
VOTES = {"a": 47000, "b": 16000, "c": 15800, "d": 12000, "e": 6100, "f": 3100}


def _rule(order: dict[str, int | None] | None = None, tie_break: object = None) -> TieRule:
    ballot = order if order is not None else {i: n for n, i in enumerate(VOTES, start=1)}
    return TieRule(
        tie_break if tie_break is not None else BallotOrderTieBreak(),  # type: ignore[arg-type]
        ballot,
        {i: i for i in ballot},
    )


def _seats(method: LargestRemainder | HighestAverages, votes: dict[str, int], seats: int) -> dict[str, int]:
    outcome = method.apportion(votes, seats, _rule())
    return {i: r.seats for i, r in outcome.results.items()}


def test_quotas_are_exact() -> None:
    assert HareQuota().votes_per_seat(100, 3) == Fraction(100, 3)
    assert DroopQuota().votes_per_seat(100_000, 10) == 9091  # floor(100,000 / 11) + 1


def test_divisor_series() -> None:
    assert [DHondtDivisors().divisor(n) for n in range(4)] == [1, 2, 3, 4]
    assert [SainteLagueDivisors().divisor(n) for n in range(4)] == [1, 3, 5, 7]
    assert [ModifiedSainteLagueDivisors().divisor(n) for n in range(3)] == [Fraction(7, 5), 3, 5]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # Hare 10,000: whole 4,1,1,1,0,0; remainders .7 (a), .61 (e), .6 (b) take the other three
        (LargestRemainder(HareQuota()), {"a": 5, "b": 2, "c": 1, "d": 1, "e": 1, "f": 0}),
        # Droop 9,091: whole 5,1,1,1,0,0; remainders of b (.76) and c (.74) beat e (.67)
        (LargestRemainder(DroopQuota()), {"a": 5, "b": 2, "c": 2, "d": 1, "e": 0, "f": 0}),
        # 10th average 7,900 (c's second); a's sixth would be 7,833
        (HighestAverages(DHondtDivisors()), {"a": 5, "b": 2, "c": 2, "d": 1, "e": 0, "f": 0}),
        # 10th average 5,267 (c's second); a's fifth would be 5,222
        (HighestAverages(SainteLagueDivisors()), {"a": 4, "b": 2, "c": 2, "d": 1, "e": 1, "f": 0}),
        # e's first average falls to 4,357, below a's fifth (5,222)
        (HighestAverages(ModifiedSainteLagueDivisors()), {"a": 5, "b": 2, "c": 2, "d": 1, "e": 0, "f": 0}),
    ],
)
def test_methods_on_the_textbook_example(
    method: LargestRemainder | HighestAverages, expected: dict[str, int]
) -> None:
    assert _seats(method, VOTES, 10) == expected


def test_registered_methods_are_the_shipped_objects() -> None:
    assert registry.METHODS.names() == ("hare", "droop", "dhondt", "sainte-lague", "modified-sainte-lague")
    assert registry.METHODS["hare"] == LargestRemainder(HareQuota())
    assert registry.METHODS["dhondt"] == HighestAverages(DHondtDivisors())


def test_share_threshold_passes_at_or_above_and_needs_votes() -> None:
    threshold = ShareThreshold(Fraction(7, 100), ValidListVotes())
    assert threshold.passes(ListVotes("x", "x", 7), Fraction(7, 100))
    assert not threshold.passes(ListVotes("x", "x", 6), Fraction(699, 10000))
    assert not ShareThreshold(Fraction(0), ValidListVotes()).passes(ListVotes("x", "x", 0), Fraction(0))
    assert (
        threshold.explanation(1000)
        == "Threshold: 7% of valid list votes (1,000) = 70 votes; a list at or above it passes."
    )


def test_threshold_bases_measure_their_totals() -> None:
    totals = VoteTotals(list_votes=900, against_all=40, invalid=60, ballots_cast=None)
    assert ValidListVotes().measure(totals, "p") == 900
    assert ValidListVotesPlusAgainstAll().measure(totals, "p") == 940
    assert BallotsCast().measure(totals, "p") == 1000
    assert BallotsCast().measure(VoteTotals(900, 40, None, 1005), "p") == 1005
    with pytest.raises(
        InputError, match="rule profile p measures the threshold against ballots cast"
    ) as info:
        BallotsCast().measure(VoteTotals(900, 40, None, None), "p")
    assert info.value.location.column == "ballots_cast"


def test_ballot_order_tie_break_orders_or_refuses_when_an_order_is_unknown() -> None:
    rule = _rule({"x": 3, "y": 1, "z": None})
    decision = BallotOrderTieBreak().decide(["x", "y"], 1, rule)
    assert decision == TieDecision(("y", "x"), "the earlier registered win: y (ballot 1)")
    assert BallotOrderTieBreak().decide(["x", "z"], 1, rule) == TieRefusal(
        "the ballot order of z is not known"
    )


def test_refuse_tie_break_refuses_and_pick_says_why() -> None:
    assert isinstance(RefuseTies().decide(["x", "y"], 1, _rule({"x": 1, "y": 2})), TieRefusal)
    claims = {"x": Fraction(1, 2), "y": Fraction(1, 2), "w": Fraction(1)}
    with pytest.raises(
        RulesCannotDecide, match=r"lists x, y are tied at 0.5 for 1 seat\(s\).*tie_break: refuse"
    ):
        pick(claims, 2, _rule({"x": 1, "y": 2, "w": 3}, RefuseTies()), "test")
    # a tie inside the seats is not asked about
    assert pick(claims, 3, _rule({"x": 1, "y": 2, "w": 3}, RefuseTies()), "test") == (["w", "x", "y"], [])


def test_no_admission_rule_admits_nothing() -> None:
    assert NoAdmissionRule().admit(VOTES, {"a"}, _rule()).admitted == ()


def test_minimum_two_admits_the_runner_up_by_votes() -> None:
    admission = MinimumAdmittedLists("proportional").admit(VOTES, {"a"}, _rule())
    assert (admission.admitted, admission.applied, admission.apportionment) == (("b",), "proportional", None)
    assert admission.explanation == (
        "Only a passed; by the two-party guarantee (proportional) the runner-up b is admitted too.",
    )
    assert MinimumAdmittedLists("proportional").admit(VOTES, {"a", "c"}, _rule()).admitted == ()


def test_minimum_admitted_lists_skips_lists_without_votes() -> None:
    admission = MinimumAdmittedLists("proportional").admit({"a": 10, "b": 0}, {"a"}, _rule({"a": 1, "b": 2}))
    assert admission.admitted == ()
    assert admission.applied is None
    assert "no other list has votes" in admission.explanation[0]


def test_minimum_of_three_admits_the_next_two() -> None:
    admission = MinimumAdmittedLists("three", minimum=3).admit(VOTES, {"a"}, _rule())
    assert admission.admitted == ("b", "c")
    assert admission.explanation[0].endswith("the next by votes are admitted too: b, c.")


def test_correction_index_guarantee_replaces_the_method_for_the_two_lists() -> None:
    votes = {"nur_otan": 5247720, "osdp": 269310, "other": 1000}  # 2007; OSDP the runner-up
    rule = _rule({"nur_otan": 1, "osdp": 2, "other": 3})
    admission = correction_index_guarantee(Fraction(7, 10), 2).admit(votes, {"nur_otan"}, rule)
    assert admission.admitted == ("osdp",)
    assert admission.apportionment == CorrectionIndexShare(Fraction(7, 10), 2, "nur_otan", "osdp")
    outcome = admission.apportionment.apportion({"nur_otan": 5247720, "osdp": 269310}, 98, rule)
    # OSDP: 269,310 / (5,517,030 / 98) = 4.78; x 0.7 = 3.35 -> 3 seats, Nur Otan the other 95
    assert {i: r.seats for i, r in outcome.results.items()} == {"nur_otan": 95, "osdp": 3}


def test_correction_index_needs_a_positive_index() -> None:
    for index in (None, Fraction(0)):
        with pytest.raises(InputError, match=r"guarantee\.index must be an exact number > 0") as info:
            correction_index_guarantee(index, 2)
        assert info.value.location.column == "guarantee.index"


def test_leave_vacant_keeps_the_seats_on_the_short_list() -> None:
    settled = LeaveVacant().settle({"a": 5, "b": 3}, {"a": 2, "b": None}, lambda i, n: Fraction(0), _rule())
    assert (settled.seats, settled.vacant, settled.moved) == (
        {"a": 5, "b": 3},
        {"a": 3, "b": 0},
        {"a": 0, "b": 0},
    )
    assert settled.explanation == (
        "a won 5 seat(s) but has only 2 candidate(s): 3 seat(s) without a member.",
    )


def test_redistribute_gives_the_seats_to_the_next_in_line() -> None:
    claims = {"a": Fraction(0), "b": Fraction(9, 10), "c": Fraction(1, 2)}

    def claim(list_id: str, held: int) -> Fraction:
        return claims[list_id] - held + 1  # one more seat costs a whole quotient

    capacity: dict[str, int | None] = {"a": 1, "b": None, "c": None}
    settled = Redistribute().settle(
        {"a": 3, "b": 1, "c": 1}, capacity, claim, _rule({"a": 1, "b": 2, "c": 3})
    )
    assert settled.seats == {"a": 1, "b": 2, "c": 2}
    assert settled.moved == {"a": -2, "b": 1, "c": 1}
    assert settled.vacant == {"a": 0, "b": 0, "c": 0}


def test_registry_refuses_a_second_entry_and_a_bad_name() -> None:
    with pytest.raises(ValueError, match="registered already"):
        registry.METHODS.register("hare", LargestRemainder(DroopQuota()))
    with pytest.raises(ValueError, match="lower-case"):
        registry.METHODS.register("Hare Quota", LargestRemainder(DroopQuota()))
    assert registry.METHODS["hare"] == LargestRemainder(HareQuota())
