"""Finding and checking the NIST exports that tests wrote into publication folders."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.publishing.nist_schema import validation_errors
from pipelines.publishing.publication_check import check_folder as verify_publication
from pipelines.publishing.publication_layout import CDF_JSON, MANIFEST


def invalid_exports(root: Path) -> tuple[int, list[str]]:
    """How many exports under `root` were checked, and each schema violation found. An export that
    no longer matches its folder's manifest was altered on purpose by a tamper test and is left out."""
    checked, problems = 0, []
    for path in sorted(root.rglob(CDF_JSON)):
        if not (path.parent / MANIFEST).is_file():
            continue
        if any(p.startswith(CDF_JSON) for p in verify_publication(path.parent)):
            continue
        checked += 1
        problems += [f"{path}: {e}" for e in validation_errors(json.loads(path.read_bytes()))]
    return checked, problems
