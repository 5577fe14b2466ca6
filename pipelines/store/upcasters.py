"""Upcasters: an older version of an event type's payload brought to the next version, registered
by (event type, the version they read). The event codec applies them in turn until a payload is of
its class's `class_version`, so the code reads only current payloads and old logs still replay.

An upcaster takes a payload of its version (without the `version` key) and returns one of the next.
A payload's stored bytes never change: upcasting happens on reading only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from pipelines.domain.events import ELECTION_DECLARED
from pipelines.rules.rule_profiles import load_profile
from pipelines.store.rules_content import embedded_rules

Upcaster = Callable[[Mapping[str, Any]], dict[str, Any]]


def election_declared_v1(payload: Mapping[str, Any]) -> dict[str, Any]:
    """ElectionDeclared 1 -> 2: version 1 named a shipped profile (`rule_profile`) and embedded nothing;
    it gets that profile's content and SHA-256, as the code of that time read it. Such old logs are the
    only case in which a profile is read from disk after the declaration."""
    legacy = load_profile(str(payload["rule_profile"]))
    return {**payload, **embedded_rules(legacy), "upcast_from": 1}


UPCASTERS: Final[Mapping[tuple[str, int], Upcaster]] = {
    (ELECTION_DECLARED, 1): election_declared_v1,
}
