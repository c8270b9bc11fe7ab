"""A base's CSV file of results, read row by row: UTF-8 with or without its byte-order
mark, GBK refused whole and named, each bad row reported with its line and why while the
others are read."""

from __future__ import annotations

from datetime import date

import pytest

from web.results_csv import FileRefused, ResultRow, RowRefused, rows

HEADER = "learner_id,passed,assessed_on,score,remarks\n"


def test_a_file_excel_saved_as_csv_utf8_reads_with_its_byte_order_mark() -> None:
    content = "\ufeff" + HEADER + "zhangwei,true,2022-06-03,86.5,\r\nlina,否,2022/6/3,,缺考\r\n"
    found = rows(content.encode("utf-8"))
    assert found == [
        ResultRow(2, "zhangwei", True, date(2022, 6, 3), 86.5, None),
        ResultRow(3, "lina", False, date(2022, 6, 3), None, "缺考"),
    ]


def test_a_gbk_file_is_refused_whole_and_named() -> None:
    content = (HEADER + "zhangwei,合格,2022-06-03,90,表现优秀\n").encode("gbk")
    with pytest.raises(FileRefused) as refused:
        rows(content)
    assert "不是 UTF-8 编码" in str(refused.value) and "GBK" in str(refused.value)


def test_each_bad_row_is_reported_and_the_others_are_read() -> None:
    content = (
        HEADER
        + "zhangwei,maybe,2022-06-03,,\n"  # line 2: passed unreadable
        + "lina,true,2022-02-30,,\n"  # line 3: no 30 February
        + "wangfang,true,2022-06-03,101,\n"  # line 4: a score over 100
        + ",true,2022-06-03,,\n"  # line 5: no learner
        + "liuyang,true,2022-06-03,88,\n"  # line 6: sound
        + "zhaolei,true,2022-06-03,88,a,b\n"  # line 7: a comma not quoted
    )
    found = rows(content.encode())
    refused = {r.line: r.reason for r in found if isinstance(r, RowRefused)}
    assert set(refused) == {2, 3, 4, 5, 7}
    assert "passed" in refused[2] and "'maybe'" in refused[2]
    assert "assessed_on" in refused[3] and "2022-02-30" in refused[3]
    assert "score" in refused[4] and "101" in refused[4]
    assert "learner_id" in refused[5]
    assert "6 列" in refused[7]
    assert [r for r in found if isinstance(r, ResultRow)] == [
        ResultRow(6, "liuyang", True, date(2022, 6, 3), 88.0, None)
    ]


def test_columns_in_another_order_and_without_the_optional_ones() -> None:
    found = rows(b"assessed_on,learner_id,passed\n2022-09-09,zhangwei,1\n")
    assert found == [ResultRow(2, "zhangwei", True, date(2022, 9, 9), None, None)]


@pytest.mark.parametrize(
    ("header", "words"),
    [("learner_id,passed,score\n", "assessed_on"), (HEADER.strip() + ",grade\n", "grade")],
)
def test_a_header_missing_a_column_or_naming_another_is_refused(header: str, words: str) -> None:
    with pytest.raises(FileRefused) as refused:
        rows((header + "zhangwei,true,2022-06-03,80,\n").encode())
    assert words in str(refused.value) and "未读取任何一行" in str(refused.value)


def test_an_empty_file_names_the_header_it_needs() -> None:
    with pytest.raises(FileRefused) as refused:
        rows(b"")
    assert "learner_id" in str(refused.value)
