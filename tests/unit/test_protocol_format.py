"""Reading raw protocol/annulment files: whole-file rejections and row problems, without GX."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.gate.protocol_format import FormatRejection, RawTable, read_raw_table, sniff_kind

LISTS = ("amanat", "ak_zhol", "auyl")
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "malformed"
HEADER = "election_id,precinct_id,region,registered_voters,ballots_cast,invalid_ballots,amanat,ak_zhol,auyl"
ROW = "e,P-1,north,1000,600,10,400,150,40"


def read(tmp_path: Path, data: str | bytes, name: str = "f.csv") -> RawTable | FormatRejection:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return read_raw_table(path, list_ids=LISTS)


def table(result: RawTable | FormatRejection) -> RawTable:
    assert isinstance(result, RawTable), result
    return result


def rejection(result: RawTable | FormatRejection) -> FormatRejection:
    assert isinstance(result, FormatRejection), result
    assert result.message
    return result


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("empty.csv", "empty_file"),
        ("blanks_only.csv", "empty_file"),
        ("binary_nul.csv", "binary_file"),
        ("xlsx_renamed.csv", "binary_file"),
        ("control_character.csv", "binary_file"),
        ("utf16.csv", "wrong_encoding"),
        ("cp1251.csv", "wrong_encoding"),
        ("semicolon.csv", "wrong_delimiter"),
        ("tab_separated.csv", "wrong_delimiter"),
        ("missing_column.csv", "missing_column"),
        ("missing_list_column.csv", "missing_column"),
        ("extra_column.csv", "unknown_column"),
        ("duplicated_header_column.csv", "duplicate_column"),
        ("header_only.csv", "no_data_rows"),
        ("truncated_mid_row.csv", "truncated_file"),
        ("truncated_in_quotes.csv", "truncated_file"),
    ],
)
def test_corpus_files_rejected_whole(name: str, rule: str) -> None:
    result = rejection(read_raw_table(CORPUS / name, list_ids=LISTS))
    assert result.rule == rule


def test_messages_name_the_problem(tmp_path: Path) -> None:
    assert "semicolon" in rejection(read_raw_table(CORPUS / "semicolon.csv", list_ids=LISTS)).message
    assert (
        "'invalid_ballots'"
        in rejection(read_raw_table(CORPUS / "missing_column.csv", list_ids=LISTS)).message
    )
    assert "'nur_otan'" in rejection(read_raw_table(CORPUS / "extra_column.csv", list_ids=LISTS)).message
    assert "UTF-16" in rejection(read_raw_table(CORPUS / "utf16.csv", list_ids=LISTS)).message
    cp1251 = rejection(read_raw_table(CORPUS / "cp1251.csv", list_ids=LISTS))
    assert cp1251.message.startswith("line 2:")
    truncated = rejection(read_raw_table(CORPUS / "truncated_mid_row.csv", list_ids=LISTS))
    assert truncated.message.startswith("line 4:")


@pytest.mark.parametrize("name", ["bom_utf8.csv", "crlf.csv", "bom_crlf_no_final_newline.csv"])
def test_bom_and_crlf_files_read_like_plain_ones(name: str) -> None:
    raw = table(read_raw_table(CORPUS / name, list_ids=LISTS))
    assert raw.kind == "protocol"
    assert raw.columns[0] == "election_id"  # the BOM is not part of the first column name
    assert raw.row_problems == ()
    assert list(raw.frame["row"]) == list(range(2, 2 + len(raw.frame)))
    assert all("\r" not in value for value in raw.frame["auyl"])
    assert raw.frame.loc[0, "precinct_id"] == "P-001"


def test_bom_and_line_ending_are_recorded() -> None:
    bom_crlf = table(read_raw_table(CORPUS / "bom_crlf_no_final_newline.csv", list_ids=LISTS))
    assert bom_crlf.had_bom and bom_crlf.line_ending == "CRLF"
    plain = table(read_raw_table(CORPUS / "negative_count.csv", list_ids=LISTS))
    assert not plain.had_bom and plain.line_ending == "LF"


def test_row_numbers_are_file_lines_across_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "election_id,precinct_id,reason,decided_by",
            'e,P-1,"two\nlines",Commission',
            "",
            "e,P-2,plain,Commission",
            "   ",
            "e,P-3,x,Commission",
        ]
    )
    raw = table(read(tmp_path, text + "\n"))
    assert raw.kind == "annulment"
    assert list(raw.frame["row"]) == [2, 5, 7]
    assert raw.frame.loc[0, "reason"] == "two\nlines"


def test_cells_and_header_are_stripped(tmp_path: Path) -> None:
    raw = table(read(tmp_path, " election_id , precinct_id ,reason,decided_by\n e , P-1 , why ,who\n"))
    assert raw.columns == ("election_id", "precinct_id", "reason", "decided_by")
    assert raw.frame.loc[0, "precinct_id"] == "P-1"
    assert raw.frame.loc[0, "reason"] == "why"


def test_wrong_field_count_is_a_row_problem_not_a_file_rejection() -> None:
    raw = table(read_raw_table(CORPUS / "ragged_row.csv", list_ids=LISTS))
    assert [(p.row, p.rule) for p in raw.row_problems] == [(3, "field_count")]
    assert list(raw.frame["row"]) == [2, 4]


def test_repeated_header_row_is_a_row_problem() -> None:
    raw = table(read_raw_table(CORPUS / "repeated_header_row.csv", list_ids=LISTS))
    assert [(p.row, p.rule) for p in raw.row_problems] == [(3, "repeated_header")]
    assert list(raw.frame["precinct_id"]) == ["P-001", "P-002"]


def test_short_last_row_with_line_end_is_a_row_problem_not_truncation(tmp_path: Path) -> None:
    raw = table(read(tmp_path, f"{HEADER}\n{ROW}\ne,P-2,north\n"))
    assert [(p.row, p.rule) for p in raw.row_problems] == [(3, "field_count")]


def test_complete_last_row_without_line_end_is_fine(tmp_path: Path) -> None:
    raw = table(read(tmp_path, f"{HEADER}\n{ROW}"))
    assert list(raw.frame["row"]) == [2] and raw.row_problems == ()


def test_optional_columns_are_allowed_and_order_is_free(tmp_path: Path) -> None:
    header = "auyl,version,reason,ak_zhol,amanat,invalid_ballots,ballots_cast,against_all,ballots_issued," + (
        "registered_voters,region,precinct_id,election_id"
    )
    raw = table(read(tmp_path, header + "\n" + ",".join(["1"] * 13) + "\n"))
    assert raw.kind == "protocol" and set(raw.columns) == set(header.split(","))


def test_unclosed_quote_in_the_middle_is_unparseable(tmp_path: Path) -> None:
    result = rejection(read(tmp_path, 'election_id,precinct_id,reason,decided_by\ne,P-1,"a"b,c\n'))
    assert result.rule == "unparseable_csv"
    assert result.message.startswith("line 2:")


def test_annulment_header_lacking_a_column(tmp_path: Path) -> None:
    result = rejection(read(tmp_path, "election_id,precinct_id,decided_by\ne,P-1,x\n"))
    assert result.rule == "missing_column" and "'reason'" in result.message


def test_missing_file_is_a_rejection_not_a_traceback(tmp_path: Path) -> None:
    result = rejection(read_raw_table(tmp_path / "nope.csv", list_ids=LISTS))
    assert result.rule == "unreadable_file"


def test_the_kind_of_an_unreadable_file_is_guessed_from_its_first_line(tmp_path: Path) -> None:
    assert sniff_kind(CORPUS / "cp1251.csv") == "annulment"
    assert sniff_kind(CORPUS / "truncated_in_quotes.csv") == "annulment"
    assert sniff_kind(CORPUS / "utf16.csv") == "protocol"
    annulment_utf16 = tmp_path / "a.csv"
    annulment_utf16.write_bytes("election_id,precinct_id,reason,decided_by\n".encode("utf-16"))
    assert sniff_kind(annulment_utf16) == "annulment"
    assert sniff_kind(CORPUS / "empty.csv") == "protocol"
    assert sniff_kind(tmp_path / "missing.csv") == "protocol"
