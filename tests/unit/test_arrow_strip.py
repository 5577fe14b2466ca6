"""The gate strips cells with Arrow's utf8_trim_whitespace and headers, blank lines and repeated
headers with Python's str.strip: the two readers (Arrow for simple files, the csv module for the rest)
and the header checks agree only while both strip the same characters. Checked over every code point,
so that an upgrade of either that changes its set of blanks fails here, not in a result."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def test_arrow_and_python_strip_the_same_characters() -> None:
    characters = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = pa.array([f"{c}x{c}" for c in characters], type=pa.large_string())
    stripped = pc.equal(pc.utf8_trim_whitespace(cells), "x").to_numpy(zero_copy_only=False)
    by_arrow = {characters[i] for i in np.flatnonzero(stripped)}
    by_python = {c for c in characters if c.isspace()}
    assert by_arrow == by_python
    # Among them the blanks a spreadsheet export holds; a zero-width space or BOM is no blank.
    assert {"\xa0", "\u2007", "\u202f", "\u3000", "\x85", "\u2028", "\t"} <= by_arrow
    assert not {"\u200b", "\ufeff", "\u180e"} & by_arrow
