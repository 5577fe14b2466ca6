"""PrecinctTable: declared precincts as columns that still read as a sequence of Precinct."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pyarrow as pa
import pytest

from pipelines.domain.election import ElectionDeclaration, PartyList, Precinct, PrecinctTable, Region

ROWS = (
    Precinct("p3", "north", 120),
    Precinct("p1", "south", 0),
    Precinct("p7", "north", 4_000_000_000),  # beyond int32
    Precinct("p2", "east", 15),
)


def declaration(precincts: tuple[Precinct, ...] | PrecinctTable) -> ElectionDeclaration:
    return ElectionDeclaration(
        election_id="e",
        name="E",
        date="2021-01-10",
        rule_profile="kz-mazhilis-2021",
        lists=(PartyList("b", "B", 2), PartyList("a", "A", 1)),
        regions=(Region("north", "North"), Region("south", "South"), Region("east", "East")),
        precincts=precincts,
    )


def test_it_reads_as_the_sequence_of_precincts_it_was_built_from() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    assert len(table) == len(ROWS)
    assert list(table) == list(ROWS)
    assert [table[i] for i in range(-len(ROWS), len(ROWS))] == list(ROWS) * 2
    assert table[np.int64(2)] == ROWS[2]
    assert isinstance(table[0].registered_voters, int)
    assert list(table[1:3]) == list(ROWS[1:3])
    assert list(table[::-1]) == list(ROWS[::-1])
    assert list(reversed(table)) == list(ROWS[::-1])
    assert ROWS[3] in table
    assert Precinct("p2", "east", 16) not in table
    assert table.index(ROWS[2]) == 2
    with pytest.raises(IndexError):
        table[len(ROWS)]
    with pytest.raises(IndexError):
        table[-len(ROWS) - 1]


def test_iteration_crosses_batch_boundaries_in_order() -> None:
    count = 70_000  # more than one batch of Python objects
    ids = [f"P{i:06d}" for i in range(count)]
    table = PrecinctTable(ids, ["r"] * count, np.arange(count))
    seen = list(table)
    assert [p.precinct_id for p in seen] == ids
    assert [p.registered_voters for p in seen] == list(range(count))


def test_frame_has_typed_columns_in_declaration_order() -> None:
    frame = PrecinctTable.from_precincts(ROWS).frame()
    assert list(frame.columns) == ["precinct_id", "region_id", "registered_voters"]
    assert frame["precinct_id"].dtype == "str"
    assert frame["region_id"].dtype == "str"
    assert frame["registered_voters"].dtype == np.int64
    assert list(frame.itertuples(index=False, name=None)) == [
        (p.precinct_id, p.region_id, p.registered_voters) for p in ROWS
    ]


def test_a_table_is_rebuilt_from_its_frame_or_from_arrow_columns() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    frame = table.frame()
    assert PrecinctTable(frame["precinct_id"], frame["region_id"], frame["registered_voters"]) == ROWS
    arrow = pa.Table.from_pandas(frame).cast(
        pa.schema(
            [
                ("precinct_id", pa.large_string()),
                ("region_id", pa.string()),
                ("registered_voters", pa.int64()),
            ]
        )
    )
    rebuilt = PrecinctTable(arrow["precinct_id"], arrow["region_id"], arrow["registered_voters"])
    assert rebuilt == table


def test_changing_a_frame_leaves_the_table_as_it_was() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    frame = table.frame()
    frame.loc[0, "registered_voters"] = -1
    assert table[0] == ROWS[0]
    with pytest.raises(ValueError):
        table.registered_voters[0] = -1


def test_subset_keeps_declaration_order_and_leaves_out_undeclared_ids() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    picked = table.subset(["p2", "nowhere", "p3", "p2"])
    assert list(picked) == [ROWS[0], ROWS[3]]
    assert list(table.subset(pa.array(["p7"]))) == [ROWS[2]]
    assert len(table.subset([])) == 0
    assert list(table.subset(iter(["p1"]))) == [ROWS[1]]


def test_subset_of_a_large_table_matches_a_plain_filter() -> None:
    count = 200_000
    rng = random.Random(7)
    ids = [f"P{i:07d}" for i in rng.sample(range(10 * count), count)]  # not in sorted order
    regions = [f"r{i % 36}" for i in range(count)]
    table = PrecinctTable(ids, regions, np.arange(count))
    for _ in range(3):  # the index is built once and reused
        wanted = set(rng.sample(ids, 1_000)) | {"P9999999x"}
        expected = [(i, r, n) for n, (i, r) in enumerate(zip(ids, regions, strict=True)) if i in wanted]
        assert [(p.precinct_id, p.region_id, p.registered_voters) for p in table.subset(wanted)] == expected


def test_subset_of_a_table_with_repeated_ids_keeps_every_row_of_a_wanted_id() -> None:
    rows = (Precinct("a", "r", 1), Precinct("b", "r", 2), Precinct("a", "r", 3))
    table = PrecinctTable.from_precincts(rows)
    assert not table.ids_are_unique()
    assert list(table.subset(["a"])) == [rows[0], rows[2]]


def test_ids_are_unique_in_any_order() -> None:
    assert PrecinctTable.from_precincts(ROWS).ids_are_unique()
    assert PrecinctTable(["a", "b", "c"], ["r"] * 3, [1, 2, 3]).ids_are_unique()
    assert not PrecinctTable(["a", "b", "b"], ["r"] * 3, [1, 2, 3]).ids_are_unique()
    assert not PrecinctTable(["b", "a", "b"], ["r"] * 3, [1, 2, 3]).ids_are_unique()


def test_equality_and_hash_follow_content_across_both_forms() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    same = PrecinctTable(
        [p.precinct_id for p in ROWS],
        pa.chunked_array([["north", "south"], ["north", "east"]]),
        [p.registered_voters for p in ROWS],
    )
    assert table == same and hash(table) == hash(same)
    assert table == ROWS and ROWS == table  # noqa: SIM300 - the tuple on the left asks the table back
    assert hash(table) == hash(ROWS)
    assert table != ROWS[:3]
    assert table != PrecinctTable.from_precincts((*ROWS[:3], Precinct("p2", "east", 16)))
    assert table != list(ROWS)  # a list is not a declaration's precincts, as for tuples
    assert len({table, same, ROWS}) == 1


def test_declarations_compare_by_content_whichever_form_holds_the_precincts() -> None:
    as_tuple = declaration(ROWS)
    as_table = declaration(PrecinctTable.from_precincts(ROWS))
    assert as_tuple == as_table
    assert hash(as_tuple) == hash(as_table)
    assert as_tuple != declaration(ROWS[:2])
    assert as_table.to_json_dict() == as_tuple.to_json_dict()
    assert as_table.to_json_dict()["precincts"] == [
        {"precinct_id": p.precinct_id, "region_id": p.region_id, "registered_voters": p.registered_voters}
        for p in ROWS
    ]


def test_precinct_table_and_with_precincts() -> None:
    as_tuple = declaration(ROWS)
    table = as_tuple.precinct_table()
    assert isinstance(table, PrecinctTable)
    assert table == ROWS
    assert as_tuple.precinct_table() is table  # built once per declaration
    as_table = declaration(table)
    assert as_table.precinct_table() is table

    part = as_tuple.with_precincts(table.subset(["p1", "p2"]))
    assert list(part.precincts) == [ROWS[1], ROWS[3]]
    assert part.precinct_table() == (ROWS[1], ROWS[3])
    assert (part.election_id, part.lists, part.regions) == (
        as_tuple.election_id,
        as_tuple.lists,
        as_tuple.regions,
    )
    assert as_tuple.precincts == ROWS  # the original is untouched


def test_a_table_survives_pickling() -> None:
    table = PrecinctTable.from_precincts(ROWS)
    table.subset(["p1"])  # with its index built
    copy = pickle.loads(pickle.dumps(table))
    assert copy == table and list(copy.subset(["p2"])) == [ROWS[3]]


@pytest.mark.parametrize(
    ("ids", "regions", "voters", "error"),
    [
        (["a", "b"], ["r"], [1, 2], ValueError),
        (["a", None], ["r", "r"], [1, 2], ValueError),
        (["a"], ["r"], [1.5], TypeError),
        (["a"], ["r"], [True], TypeError),
        ([1], ["r"], [1], pa.ArrowTypeError),
        (pa.array([1]), ["r"], [1], TypeError),
    ],
)
def test_columns_that_cannot_be_precincts_are_refused(
    ids: object, regions: object, voters: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        PrecinctTable(ids, regions, voters)


def test_an_empty_table() -> None:
    table = PrecinctTable.from_precincts(())
    assert len(table) == 0 and list(table) == [] and table == ()
    assert list(table.frame().columns) == ["precinct_id", "region_id", "registered_voters"]
    assert table.frame()["registered_voters"].dtype == np.int64
