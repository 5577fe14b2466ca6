"""Divisor series for the highest-averages method (registered by name in `registry`)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class DHondtDivisors:
    label: str = "D'Hondt (divisors 1, 2, 3, ...)"

    def divisor(self, seats_won: int) -> Fraction:
        return Fraction(seats_won + 1)


@dataclass(frozen=True)
class SainteLagueDivisors:
    label: str = "Sainte-Laguë (divisors 1, 3, 5, ...)"

    def divisor(self, seats_won: int) -> Fraction:
        return Fraction(2 * seats_won + 1)


@dataclass(frozen=True)
class ModifiedSainteLagueDivisors:
    """Sainte-Laguë with a first divisor of 1.4, which makes a list's first seat dearer."""

    label: str = "modified Sainte-Laguë (divisors 1.4, 3, 5, ...)"

    def divisor(self, seats_won: int) -> Fraction:
        return Fraction(7, 5) if seats_won == 0 else Fraction(2 * seats_won + 1)
