"""Elections of any size for benchmarks: up to a million polling stations and twenty lists.

Streams precincts in chunks of `chunk_size`, each drawn from its own seed (`[seed, chunk]`), so memory is
bounded by one chunk and the output is deterministic. Every protocol adds up (list votes + invalid =
ballots cast <= ballots issued <= registered voters). The declaration names its precincts through
`precincts_csv`, which keeps the JSON small.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from pipelines.core.errors import InputError
from pipelines.core.progress import progress
from pipelines.domain.election import ElectionDeclaration, PartyList, Region
from pipelines.rules.rule_profiles import is_profile_id

MAX_PRECINCTS = 1_000_000
MAX_LISTS = 20
DEFAULT_CHUNK = 100_000
DEFAULT_RULE_PROFILE = "kz-mazhilis-2021"

_WRITE_OPTIONS = pa_csv.WriteOptions(quoting_style="none", quoting_header="none", eol="\n")


@dataclass(frozen=True)
class ScaleSpec:
    precincts: int
    lists: int
    regions: int
    seed: int
    chunk_size: int = DEFAULT_CHUNK
    rule_profile: str = DEFAULT_RULE_PROFILE

    @property
    def election_id(self) -> str:
        return f"scale-{self.precincts}x{self.lists}-s{self.seed}"

    def check(self) -> None:
        for name, value, low, high in (
            ("--precincts", self.precincts, 1, MAX_PRECINCTS),
            ("--lists", self.lists, 1, MAX_LISTS),
            ("--regions", self.regions, 1, self.precincts),
            ("chunk size", self.chunk_size, 1, MAX_PRECINCTS),
        ):
            if not low <= value <= high:
                raise InputError(
                    f"{name} must be between {low} and {high}", column=name, rule="range", value=value
                )


def default_region_count(precincts: int) -> int:
    """About as many regions as a large federal country has provinces, never more than precincts."""
    return max(1, min(precincts, 36))


def list_ids(count: int) -> list[str]:
    return [f"list_{k:02d}" for k in range(1, count + 1)]


def _region_ids(count: int) -> list[str]:
    return [f"region_{r:03d}" for r in range(1, count + 1)]


def declaration_for(spec: ScaleSpec) -> ElectionDeclaration:
    """The election declared for a generated benchmark (precincts come from the CSV beside it)."""
    return ElectionDeclaration(
        election_id=spec.election_id,
        name=f"Synthetic benchmark election, {spec.precincts} precincts x {spec.lists} lists",
        date="2030-01-01",
        rule_profile=spec.rule_profile,
        lists=tuple(
            PartyList(list_id=lid, name=f"List {k}", ballot_order=k)
            for k, lid in enumerate(list_ids(spec.lists), start=1)
        ),
        regions=tuple(Region(rid, f"Region {r}", None) for r, rid in enumerate(_region_ids(spec.regions), 1)),
        precincts=(),
        synthetic=True,
        source_note=f"SYNTHETIC benchmark election generated with seed {spec.seed}; no real data.",
    )


def generate(spec: ScaleSpec, out_dir: Path) -> list[Path]:
    """Write the declaration, its precincts CSV and one protocol file per chunk; returns the paths."""
    spec.check()
    out_dir.mkdir(parents=True, exist_ok=True)
    eid = spec.election_id
    precincts_name = f"{eid}.precincts.csv"
    declaration = declaration_for(spec).to_json_dict(include_precincts=False)
    declaration["precincts_csv"] = precincts_name
    if not is_profile_id(spec.rule_profile):
        # A profile file travels beside the declaration, which names it relative to its own folder.
        source = Path(spec.rule_profile)
        profile_name = f"{eid}.rules{source.suffix}"
        shutil.copyfile(source, out_dir / profile_name)
        declaration["rule_profile"] = profile_name
    declaration_path = out_dir / f"{eid}.election.json"
    paths = [declaration_path]

    setup = np.random.default_rng([spec.seed, 0])
    # National preferences fall off like a Zipf law; each region leans its own way.
    national = 1.0 / np.arange(1, spec.lists + 1) ** 1.2
    regional = national * setup.lognormal(0.0, 0.3, (spec.regions, spec.lists))
    turnout = setup.uniform(0.45, 0.85, spec.regions)
    regions = np.array(_region_ids(spec.regions), dtype=object)
    ids = list_ids(spec.lists)

    with (
        (out_dir / precincts_name).open("wb") as precincts_out,
        progress("simulate", spec.precincts, unit="precinct") as bar,
    ):
        for chunk, start in enumerate(range(0, spec.precincts, spec.chunk_size), start=1):
            stop = min(start + spec.chunk_size, spec.precincts)
            rng = np.random.default_rng([spec.seed, chunk])
            index = np.arange(start, stop, dtype=np.int64)
            region = index * spec.regions // spec.precincts
            registered = 50 + rng.lognormal(6.4, 0.5, index.size).astype(np.int64)
            propensity = np.clip(turnout[region] * rng.lognormal(0.0, 0.1, index.size), 0.0, 1.0)
            cast = rng.binomial(registered, propensity)
            issued = cast + rng.binomial(registered - cast, 0.003)
            weights = regional[region] * rng.lognormal(0.0, 0.25, (index.size, spec.lists))
            weights *= (0.98 / weights.sum(axis=1))[:, None]
            categories = rng.multinomial(cast, np.column_stack([weights, np.full(index.size, 0.02)]))

            precinct_ids = pa.array(np.char.add("P", np.char.zfill((index + 1).astype(str), 7)))
            region_ids = pa.array(regions[region], type=pa.string())
            pa_csv.write_csv(
                pa.table(
                    {"precinct_id": precinct_ids, "region_id": region_ids, "registered_voters": registered}
                ),
                precincts_out,
                write_options=_WRITE_OPTIONS if chunk == 1 else _no_header(),
            )
            columns = {
                "election_id": pa.array(np.full(index.size, eid, dtype=object), type=pa.string()),
                "precinct_id": precinct_ids,
                "region": region_ids,
                "registered_voters": registered,
                "ballots_issued": issued,
                "ballots_cast": cast,
                "invalid_ballots": categories[:, -1],
                **{lid: categories[:, k] for k, lid in enumerate(ids)},
            }
            path = out_dir / f"{eid}.protocols.part-{chunk:04d}.csv"
            pa_csv.write_csv(pa.table(columns), path, write_options=_WRITE_OPTIONS)
            paths.append(path)
            bar.advance(index.size)
    declaration_path.write_text(json.dumps(declaration, indent=1) + "\n", encoding="utf-8")
    paths.insert(1, out_dir / precincts_name)
    return paths


def _no_header() -> pa_csv.WriteOptions:
    return pa_csv.WriteOptions(include_header=False, quoting_style="none", eol="\n")
