"""A list's kind, declared with the list: a single party (the default) or, e.g., a coalition of parties.

Some laws set a higher threshold for coalitions (Poland's Sejm: 5% for a party, 8% for a coalition;
Armenia: 5% and 7%) or none for a national minority's list; a rule profile's `kind_thresholds` names
kinds, a declaration's list carries its `kind`.
"""

from __future__ import annotations

import re
from typing import Final

PARTY: Final = "party"
KIND_NAME: Final = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def is_kind(value: object) -> bool:
    return isinstance(value, str) and bool(KIND_NAME.match(value))
