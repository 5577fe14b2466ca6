"""Benchmark elections: sizes, chunking, protocol arithmetic, declaration by precincts_csv, determinism."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.core.errors import InputError
from pipelines.domain.election import load_declaration
from pipelines.synthetic.scale_generator import ScaleSpec, generate

SPEC = ScaleSpec(precincts=20_000, lists=20, regions=36, seed=4, chunk_size=6_000)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate(SPEC, tmp_path_factory.mktemp("scale"))


def _protocols(paths: list[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in paths if ".protocols." in p.name], ignore_index=True)


def test_files_are_chunked_and_declared(generated: list[Path]) -> None:
    assert generated[0].name.endswith(".election.json")
    assert len([p for p in generated if ".protocols." in p.name]) == 4  # 20,000 / 6,000 rounded up
    declaration = load_declaration(generated[0])
    assert len(declaration.precincts) == 20_000
    assert len(declaration.list_ids) == 20 and len(declaration.regions) == 36
    assert declaration.synthetic


def test_every_protocol_adds_up_and_matches_the_declaration(generated: list[Path]) -> None:
    table = _protocols(generated)
    declaration = load_declaration(generated[0])
    lists = list(declaration.list_ids)
    assert len(table) == 20_000 and table["precinct_id"].is_unique
    assert (table[lists].sum(axis=1) + table["invalid_ballots"] == table["ballots_cast"]).all()
    assert (table["ballots_cast"] <= table["ballots_issued"]).all()
    assert (table["ballots_issued"] <= table["registered_voters"]).all()
    assert (table[lists] >= 0).all().all()
    declared = {p.precinct_id: (p.region_id, p.registered_voters) for p in declaration.precincts}
    seen = dict(
        zip(table["precinct_id"], zip(table["region"], table["registered_voters"], strict=True), strict=True)
    )
    assert seen == declared
    assert table["region"].nunique() == 36


def test_same_seed_same_bytes_other_seed_other_numbers(generated: list[Path], tmp_path: Path) -> None:
    again = generate(SPEC, tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in generated]
    other = generate(ScaleSpec(20_000, 20, 36, seed=5, chunk_size=6_000), tmp_path / "other")
    assert _protocols(other)["list_01"].sum() != _protocols(generated)["list_01"].sum()


@pytest.mark.parametrize(
    ("spec", "column"),
    [
        (ScaleSpec(0, 5, 1, 1), "--precincts"),
        (ScaleSpec(1_000_001, 5, 1, 1), "--precincts"),
        (ScaleSpec(100, 21, 3, 1), "--lists"),
        (ScaleSpec(10, 3, 11, 1), "--regions"),
    ],
)
def test_out_of_range_sizes_are_plain_errors(spec: ScaleSpec, column: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=column):
        generate(spec, tmp_path)
