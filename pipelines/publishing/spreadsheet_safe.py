"""CSV cells a spreadsheet opens as they are: no text becomes a formula, date, time, number or error.

Excel and LibreOffice guess a type for every CSV cell: `=1+1` runs, `5/9` and `1-2` become dates,
`03` loses its zero, `1e5` becomes 100000, `TRUE` a boolean, `#N/A` an error, `12:30` a time and a
digit string longer than 15 digits is rounded. A text cell that could be guessed as anything but
itself gets a leading apostrophe, which no spreadsheet reads as a type, and a reader drops
(`from_spreadsheet_cell`). Real numbers (int, Decimal) stay numbers while a spreadsheet holds them
exactly (15 significant digits); a Fraction is a number when whole, else exact text `'p/q`.
Text is left alone when it cannot be read as anything else: no digit (and no boolean or error), a
first word that names no month or day ("P003"), a word of three letters or more that no
date uses ("Region 5"), or a canonical decimal number ("12", "0.5") that a spreadsheet shows exactly
as written. English month and day names and the
decimal point are assumed (the en locales); other locales guess differently.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

TEXT_MARK = "'"
# A cell starting with these runs (=, +, -, @ and the characters spreadsheets skip before them),
# is an error literal (#) or would lose its own leading apostrophe.
_SPECIAL_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "#", "|", TEXT_MARK)
_MAX_DIGITS = 15  # what a spreadsheet's double keeps exactly
_EXACT_INTEGERS = 10**_MAX_DIGITS
_CANONICAL_NUMBER = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
_WORD = re.compile(r"[^\W\d_]+")
_MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july", "august")
_MONTHS += ("september", "october", "november", "december", "sept")
_DAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS += ("tues", "thur", "thurs")
# Month and day names (a date); "am"/"pm" and their letters only count after a number, and are
# shorter than the words that make a text plain.
_DATE_WORDS = frozenset({*_MONTHS, *(m[:3] for m in _MONTHS), *_DAYS, *(d[:3] for d in _DAYS)})
_BOOLEANS = frozenset({"true", "false"})


def spreadsheet_safe(value: object) -> object:
    """The cell to write for `value`: numbers that a spreadsheet keeps exactly stay numbers; every
    other value that it could read as something else becomes text behind an apostrophe."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Fraction):
        if value.denominator != 1:
            return TEXT_MARK + str(value)
        value = value.numerator
    if isinstance(value, int):
        return value if -_EXACT_INTEGERS < value < _EXACT_INTEGERS else TEXT_MARK + str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return value if _significant_digits(text) <= _MAX_DIGITS else TEXT_MARK + text
    if isinstance(value, str):
        return value if is_plain_text(value) else TEXT_MARK + value
    return value


@lru_cache(maxsize=65536)  # precinct files repeat the same names and labels on every row
def is_plain_text(text: str) -> bool:
    """Whether a spreadsheet shows this text exactly as written, without a guess changing it."""
    if text.startswith(_SPECIAL_STARTS):
        return False
    if not any(c.isdigit() for c in text):
        return text.strip().casefold() not in _BOOLEANS
    if _CANONICAL_NUMBER.fullmatch(text) and _significant_digits(text) <= _MAX_DIGITS:
        return True
    words = _WORD.findall(text)
    if text[0].isalpha() and words[0].casefold() not in _DATE_WORDS:
        return True  # an id such as P003: no spreadsheet reads a number that starts with a letter
    return any(len(w) >= 3 and w.casefold() not in _DATE_WORDS for w in words)


def from_spreadsheet_cell(cell: str) -> str:
    """The text a cell of these CSV files stands for: its leading apostrophe dropped."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell


def _significant_digits(text: str) -> int:
    return len(text.replace("-", "").replace(".", "").lstrip("0")) or 1
