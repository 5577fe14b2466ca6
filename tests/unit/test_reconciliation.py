"""`elections reconcile` without a warehouse: reading the summary file and comparing it figure by figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.audit.reconciliation import WarehouseFigures, compare
from pipelines.core.errors import InputError
from pipelines.gate.reconcile_summary import SummaryFigure, read_summary

HEADER = "scope,region,measure,list,value\n"

FIGURES = WarehouseFigures(
    election_id="e1",
    position=42,
    regions={"north": "North Region", "south": "South Region"},
    lists={"amanat": "Nur Otan", "auyl": "Auyl"},
    values={
        (None, "ballots_cast", None): 1000,
        ("north", "ballots_cast", None): 600,
        ("south", "ballots_cast", None): 400,
        (None, "votes", "amanat"): 700,
        ("north", "votes", "auyl"): 50,
        (None, "seats", "amanat"): 7,
    },
    seats_source="the provisional seat table in force",
)


def summary(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "summary.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_a_summary_reads_one_figure_per_row_with_grouped_digits_and_notes(tmp_path: Path) -> None:
    path = summary(
        tmp_path,
        "national,,ballots_cast,,7 539 280,CEC protocol\nregion,north,votes,amanat,5\u00a0148\u202f074,\n",
        header="scope,region,measure,list,value,note\n",
    )
    assert read_summary(path) == [
        SummaryFigure(2, "national", None, "ballots_cast", None, 7539280),
        SummaryFigure(3, "region", "north", "votes", "amanat", 5148074),
    ]


@pytest.mark.parametrize(
    ("body", "row", "column", "value"),
    [
        ("nation,,ballots_cast,,1\n", 2, "scope", "nation"),
        ("region,,ballots_cast,,1\n", 2, "region", ""),
        ("national,north,ballots_cast,,1\n", 2, "region", "north"),
        ("national,,turnout,,1\n", 2, "measure", "turnout"),
        ("region,north,seats,amanat,1\n", 2, "scope", "region"),
        ("national,,votes,,1\n", 2, "list", ""),
        ("national,,ballots_cast,amanat,1\n", 2, "list", "amanat"),
        ("national,,ballots_cast,,1.5\n", 2, "value", "1.5"),
        ("national,,ballots_cast,,-3\n", 2, "value", "-3"),
        ("national,,ballots_cast,,1,234\n", 2, None, "national,,ballots_cast,,1,234"),
        (
            "national,,votes,amanat,1\nnational,,ballots_cast,,2\nnational,,votes,amanat,3\n",
            4,
            "measure",
            "votes",
        ),
    ],
)
def test_a_malformed_row_is_refused_naming_file_row_column_and_value(
    tmp_path: Path, body: str, row: int, column: str | None, value: str
) -> None:
    path = summary(tmp_path, body)
    with pytest.raises(InputError) as refused:
        read_summary(path)
    error = refused.value
    assert (error.location.file, error.location.row, error.location.column) == (str(path), row, column)
    assert error.value == value
    assert str(path) in str(error) and f"row {row}" in str(error)


def test_a_summary_without_figures_or_with_a_missing_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no figures"):
        read_summary(summary(tmp_path, ""))
    with pytest.raises(InputError, match="missing column 'list'"):
        read_summary(summary(tmp_path, "national,,ballots_cast,1\n", header="scope,region,measure,value\n"))


def figure(
    row: int, measure: str, value: int, *, region: str | None = None, list_: str | None = None
) -> SummaryFigure:
    return SummaryFigure(row, "national" if region is None else "region", region, measure, list_, value)


def test_figures_that_agree_and_one_that_differs_carry_both_figures() -> None:
    compared = compare(
        [figure(2, "ballots_cast", 1000), figure(3, "ballots_cast", 610, region="north")],
        FIGURES,
        file="s.csv",
    )
    assert [c.agrees for c in compared] == [True, False]
    assert compared[1].record() == {
        "row": 3,
        "area": "North Region (north)",
        "measure": "ballots_cast",
        "list": None,
        "summary": 610,
        "warehouse": 600,
        "difference": 10,
    }


def test_regions_and_lists_are_named_by_id_or_declared_name_in_any_letter_case() -> None:
    compared = compare(
        [
            figure(2, "votes", 700, list_="Nur Otan"),
            figure(3, "votes", 50, region="NORTH REGION", list_="AUYL"),
            figure(4, "ballots_cast", 400, region="South"),
        ],
        FIGURES,
        file="s.csv",
    )
    assert [(c.area, c.list_label, c.agrees) for c in compared] == [
        ("national", "Nur Otan (amanat)", True),
        ("North Region (north)", "Auyl (auyl)", True),
        ("South Region (south)", None, True),
    ]


def test_a_region_or_list_the_election_does_not_have_is_bad_input_not_a_difference() -> None:
    with pytest.raises(InputError) as refused:
        compare(
            [figure(2, "ballots_cast", 1), figure(3, "ballots_cast", 1, region="East")], FIGURES, file="s.csv"
        )
    error = refused.value
    assert (error.location.file, error.location.row, error.location.column, error.value) == (
        "s.csv",
        3,
        "region",
        "East",
    )
    assert "north, south" in str(error)
    with pytest.raises(InputError, match="column 'list'"):
        compare([figure(2, "votes", 1, list_="Respublica")], FIGURES, file="s.csv")


def test_a_name_two_regions_share_must_be_given_by_id() -> None:
    twins = WarehouseFigures("e1", 1, {"a": "Twin", "b": "Twin"}, {}, {}, "none")
    with pytest.raises(InputError, match="names 2 regions"):
        compare([figure(2, "ballots_cast", 1, region="Twin")], twins, file="s.csv")
    assert compare([figure(2, "ballots_cast", 1, region="a")], twins, file="s.csv")[0].warehouse is None


def test_seats_without_a_seat_table_differ_with_no_warehouse_figure() -> None:
    unpublished = WarehouseFigures("e1", 1, {}, {"auyl": "Auyl"}, {}, "no seat table has been published")
    (compared,) = compare([figure(2, "seats", 0, list_="auyl")], unpublished, file="s.csv")
    assert not compared.agrees
    assert compared.record()["warehouse"] is None and compared.record()["difference"] is None
