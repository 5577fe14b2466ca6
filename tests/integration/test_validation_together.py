"""Files validated together (one stacked batch, one GX run) get exactly the outcome each gets alone:
the same rejections (file, row, column, rule, value, message), accepted rows, file refusals and
anomaly flags, whatever mix of broken rows, headers, policies and refused files they hold."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipelines.gate.validation import (
    FileToValidate,
    ReportedProtocol,
    ValidationOutcome,
    ValidationPolicy,
    validate_file,
    validate_files,
)
from tests.integration.test_validation_rules import BROKEN_ROWS
from tests.integration.validation_support import HEADER, csv_text, declaration, good_row, write

ELECTION = declaration()
REPORTED = {"P-003": ReportedProtocol(version=1, figures={"amanat": 400, "ak_zhol": 150, "auyl": 40})}
SHORT_HEADER = tuple(h for h in HEADER if h != "ballots_issued")


def _random_file(folder: Path, number: int, rng: random.Random) -> Path:
    """A file of good and broken rows; some share a precinct (within and across files)."""
    rows = [good_row(rng.choice(["P-001", "P-002", "P-003", "P-004"])) for _ in range(rng.randint(0, 3))]
    rows.extend(rng.choice(BROKEN_ROWS)[1] for _ in range(rng.randint(0, 3)))
    if rng.random() < 0.3:  # an amendment of P-003 and a full turnout, flagged as anomalies
        rows.append(good_row("P-003", version="2", amanat="300", auyl="140", reason="recount"))
        rows.append(good_row("P-004", registered_voters="600", ballots_issued="600"))
    rng.shuffle(rows)
    header = SHORT_HEADER if rng.random() < 0.3 else (*HEADER, "version", "reason")
    text = csv_text(rows, header)
    if rng.random() < 0.1:
        text = text.rstrip("\n") + ",extra,cells\n"  # a ragged last row: a format problem of its row
    if number % 11 == 5:
        text = ""  # an empty file: refused whole before any rule runs
    return write(folder / f"file-{number}.csv", text)


def _comparable(outcome: ValidationOutcome) -> tuple[object, ...]:
    return (
        outcome.file,
        outcome.kind,
        outcome.rejections,
        outcome.file_rejection,
        outcome.anomalies,
        outcome.rows_read,
        outcome.accepted.to_dict("split"),
        [str(t) for t in outcome.accepted.dtypes],
    )


@pytest.mark.parametrize("mode", ["row", "file"])
def test_files_validated_together_get_the_outcome_each_gets_alone(tmp_path: Path, mode: str) -> None:
    rng = random.Random(17 if mode == "row" else 29)
    policy = ValidationPolicy(mode="row" if mode == "row" else "file")
    paths = [_random_file(tmp_path, number, rng) for number in range(24)]
    files = [FileToValidate(path, path.name, ELECTION, REPORTED) for path in paths]

    together = validate_files(files, policy=policy)
    alone = [
        validate_file(path, display_name=path.name, election=ELECTION, reported=REPORTED, policy=policy)
        for path in paths
    ]

    assert [_comparable(o) for o in together] == [_comparable(o) for o in alone]
    # The mix really holds what the gate must tell apart: refusals of rows, of files, and flags.
    assert sum(len(o.rejections) for o in alone) > 10
    assert any(o.anomalies for o in alone)
    assert any(o.file_rejection for o in alone)
    assert sum(len(o.accepted) for o in alone) > 3
