"""A small Kazakhstan-like election for the demo: the 17 regions and the lists of 2021, a few
hundred synthetic polling stations, the 2021 national vote shares scaled down."""

from __future__ import annotations

from pathlib import Path

from pipelines.synthetic.history import declaration_json, get_election, synthetic_declaration
from pipelines.synthetic.precinct_synthesis import NationalTotals, RegionShape, synthesise
from pipelines.synthetic.protocol_writer import protocol_csv, table_rows, write_atomically

SAMPLE_ELECTION_ID = "demo-mazhilis-2021"
SOURCE = "kz-mazhilis-2021"


def write_sample_election(inbox: Path, *, precincts: int = 340, seed: int = 2021) -> list[Path]:
    """Write the declaration and three protocol batches (east, centre, west) into `inbox`."""
    official = get_election(SOURCE)
    scale = (official.polling_stations or 10_000) // precincts
    votes = tuple(entry.votes // scale for entry in official.lists)
    invalid = (official.invalid_ballots or 0) // scale
    cast = sum(votes) + invalid
    registered = (official.registered_voters or cast * 3 // 2) // scale
    totals = NationalTotals(registered, cast, invalid, 0, votes)
    shapes = [
        RegionShape(
            region_id=r.region_id,
            electorate_weight=3 if r.is_city else 2,
            turnout=(r.reported_turnout_pct or 60.0) / 100,
            is_city=r.is_city,
        )
        for r in official.regions
    ]
    table = synthesise(shapes, totals, precincts, seed=seed)
    declaration = synthetic_declaration(
        official,
        table,
        election_id=SAMPLE_ELECTION_ID,
        name="Demo: Mazhilis-like election on the 2021 lists (synthetic)",
        source_note=f"SYNTHETIC demo data: 2021 national shares scaled down 1:{scale}, seed {seed}",
    )
    inbox.mkdir(parents=True, exist_ok=True)
    paths = [inbox / f"{SAMPLE_ELECTION_ID}.election.json"]
    write_atomically(paths[0], declaration_json(declaration))
    rows = table_rows(SAMPLE_ELECTION_ID, table)
    offsets = {r.region_id: r.utc_offset_hours for r in official.regions}
    # Commissions in the east (UTC+6) close and report an hour before those in the west (UTC+5).
    east = [r for r in rows if offsets.get(r.region, 6) >= 6]
    west = [r for r in rows if offsets.get(r.region, 6) < 6]
    half = len(east) // 2
    for name, batch in (("east-1", east[:half]), ("east-2", east[half:]), ("west", west)):
        path = inbox / f"{SAMPLE_ELECTION_ID}.protocols.{name}.csv"
        write_atomically(path, protocol_csv(batch, declaration.list_ids))
        paths.append(path)
    return paths
