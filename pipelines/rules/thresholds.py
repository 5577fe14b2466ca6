"""Thresholds: which lists pass, measured on a base (valid list votes, plus 'against all', ballots cast,
registered voters).

A threshold base is a small frozen object registered by name in `pipelines.rules.registry` (profile field
`threshold_base`); `ShareThreshold` is the threshold kind of every shipped profile: a list with votes
passes at or above a share of the base.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from pipelines.core.errors import InputError
from pipelines.rules.list_votes import ListVotes
from pipelines.rules.number_text import approx


@dataclass(frozen=True)
class VoteTotals:
    """The national totals a threshold may be measured on (`invalid` and `ballots_cast` may be unknown)."""

    list_votes: int
    against_all: int
    invalid: int | None
    ballots_cast: int | None
    registered_voters: int | None = None  # the electorate as declared


class ThresholdBase(Protocol):
    @property
    def label(self) -> str: ...

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        """The base in votes; InputError when the totals given cannot measure it."""
        ...


@dataclass(frozen=True)
class ValidListVotes:
    label: str = "valid list votes"

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        return totals.list_votes


@dataclass(frozen=True)
class ValidListVotesPlusAgainstAll:
    label: str = "valid list votes plus 'against all'"

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        return totals.list_votes + totals.against_all


@dataclass(frozen=True)
class BallotsCast:
    """The ballots cast as given, else list votes + 'against all' + invalid ballots."""

    label: str = "ballots cast"

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        if totals.ballots_cast is not None:
            return totals.ballots_cast
        if totals.invalid is not None:
            return totals.list_votes + totals.against_all + totals.invalid
        raise InputError(
            f"rule profile {profile_id} measures the threshold against ballots cast: "
            "give ballots cast or the number of invalid ballots",
            column="ballots_cast",
            rule="threshold_base: ballots_cast",
        )


@dataclass(frozen=True)
class RegisteredVoters:
    """The registered voters (the electorate as declared): a share of the electorate, not of the turnout."""

    label: str = "registered voters"

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        if totals.registered_voters is not None:
            return totals.registered_voters
        raise InputError(
            f"rule profile {profile_id} measures the threshold against registered voters: "
            "give the number of registered voters",
            column="registered_voters",
            rule="threshold_base: registered_voters",
        )


@dataclass(frozen=True)
class ShareThreshold:
    """A list with votes passes when its share of the base is at or above `share` (exactly-at passes);
    a list declared of a kind in `by_kind` (a coalition...) at or above that kind's share instead."""

    share: Fraction
    base: ThresholdBase
    by_kind: tuple[tuple[str, Fraction], ...] = ()

    def measure(self, totals: VoteTotals, profile_id: str) -> int:
        return self.base.measure(totals, profile_id)

    def share_for(self, item: ListVotes) -> Fraction:
        return dict(self.by_kind).get(item.kind, self.share)

    def passes(self, item: ListVotes, share: Fraction) -> bool:
        return item.votes > 0 and share >= self.share_for(item)

    def described(self, base_votes: int) -> str:
        return f"{approx(self.share * 100)}% of {self.base.label} ({base_votes:,})"

    def explanation(self, base_votes: int) -> str:
        by_kind = "".join(
            f"; a list declared {kind}: {approx(share * 100)}% = {approx(share * base_votes)} votes"
            for kind, share in self.by_kind
        )
        return (
            f"Threshold: {self.described(base_votes)} = {approx(self.share * base_votes)} votes{by_kind}; "
            "a list at or above it passes."
        )
