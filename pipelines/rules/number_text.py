"""Exact numbers written for people: fractions as 'p/q', half-up decimals, percentages; never a float."""

from __future__ import annotations

from fractions import Fraction


def fraction_text(value: Fraction | None) -> str | None:
    """Exact text that `Fraction()` reads back: 'p/q', or 'n' for whole numbers."""
    return None if value is None else str(value)


def rounded(value: Fraction, places: int, *, grouped: bool = False) -> str:
    """Decimal text rounded half-up (no float on the way); `grouped` adds thousands separators."""
    scale = 10**places
    units = (value * scale * 2 + 1) // 2
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), scale)
    text = f"{whole:,}" if grouped else str(whole)
    return f"{sign}{text}.{frac:0{places}d}" if places else f"{sign}{text}"


def percent_text(share: Fraction) -> str:
    return rounded(share * 100, 2)


def approx(value: Fraction) -> str:
    """Readable form for explanations: a short exact decimal, else 'about x.xxxx'."""
    if value.denominator == 1:
        return f"{value.numerator:,}"
    for places in range(1, 5):
        if (value * 10**places).denominator == 1:
            return rounded(value, places, grouped=True)
    return f"about {rounded(value, 4, grouped=True)}"
