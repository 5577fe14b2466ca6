"""Picking the lists with the highest claim to a seat, and asking the tie break about a tie at the cut."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from pipelines.core.errors import RulesCannotDecide
from pipelines.rules.number_text import approx
from pipelines.rules.tie_breaks import TieBreak, TieRefusal


@dataclass(frozen=True)
class TieRule:
    """The profile's tie break, with the lists' ballot order and the names explanations use."""

    tie_break: TieBreak
    ballot_order: Mapping[str, int | None]
    names: Mapping[str, str]

    def label(self, list_id: str) -> str:
        name = self.names[list_id]
        return name if name == list_id else f"{name} ({list_id})"


def pick(claims: Mapping[str, Fraction], count: int, rule: TieRule, what: str) -> tuple[list[str], list[str]]:
    """The `count` lists with the highest claims, each at most once, and notes on any tie decided.

    Only a tie across the cut matters (some tied lists get a seat, some do not): the profile's tie break
    orders the tied lists, or the allocation is refused with its reason.
    """
    ranked = sorted(claims, key=lambda i: (-claims[i], i))
    if count <= 0:
        return [], []
    if count >= len(ranked) or claims[ranked[count - 1]] != claims[ranked[count]]:
        return ranked[:count], []
    cut = claims[ranked[count - 1]]
    above = [i for i in ranked if claims[i] > cut]
    tied = [i for i in ranked if claims[i] == cut]
    need = count - len(above)
    decision = rule.tie_break.decide(tied, need, rule)
    if isinstance(decision, TieRefusal):
        raise RulesCannotDecide(
            f"{what}: lists {', '.join(rule.label(i) for i in tied)} are tied at {approx(cut)} "
            f"for {need} seat(s) and the rules cannot decide: {decision.reason}"
        )
    note = (
        f"{what}: {', '.join(rule.label(i) for i in decision.ranked)} are tied at {approx(cut)} "
        f"for {need} seat(s); {decision.how}."
    )
    return above + list(decision.ranked[:need]), [note]


def hand_out(
    seats: int,
    current: dict[str, int],
    claim: Callable[[str, int], Fraction],
    rule: TieRule,
    what: str,
    capacity: Mapping[str, int | None] | None = None,
) -> tuple[list[str], int]:
    """Give `seats` seats one at a time to the highest claim(s), updating `current`.

    Lists tied at the top all get a seat when enough remain (their order cannot matter then); only
    when fewer seats remain than tied lists is the tie rule asked. A list stops at its `capacity`.
    Returns the tie notes and the number of seats nobody could take.
    """
    notes: list[str] = []
    remaining = seats
    while remaining > 0:
        open_lists = [
            i for i, n in current.items() if capacity is None or capacity[i] is None or n < (capacity[i] or 0)
        ]
        if not open_lists:
            break
        claims = {i: claim(i, current[i]) for i in open_lists}
        top = max(claims.values())
        group = {i: c for i, c in claims.items() if c == top}
        if len(group) <= remaining:
            winners = list(group)
        else:
            winners, found = pick(group, remaining, rule, what)
            notes.extend(found)
        for i in winners:
            current[i] += 1
        remaining -= len(winners)
    return notes, remaining
