"""A rule profile as the log carries it: its canonical content and that content's SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pipelines.domain.events import canonical_json
from pipelines.rules.rule_profiles import RuleProfile, profile_to_dict


def rules_sha256(rules: Mapping[str, Any]) -> str:
    """SHA-256 of a profile's canonical JSON: equal for equal rules, however the file spelled them."""
    return hashlib.sha256(canonical_json(rules).encode("utf-8")).hexdigest()


def embedded_rules(profile: RuleProfile) -> dict[str, Any]:
    """The payload fields that carry a profile into the log: content in canonical form and its hash."""
    rules = profile_to_dict(profile)
    return {"rules": rules, "rules_sha256": rules_sha256(rules)}
