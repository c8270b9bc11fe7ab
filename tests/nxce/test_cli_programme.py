"""`nxce programme plan` against a running service, as an auditor reads it."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from nxce.cli import app as cli
from nxce.cli import display_width, plan_table
from tests.nxce.test_cli_transcripts import env, served

__all__ = ["served"]

runner = CliRunner()


def test_programme_plan_prints_the_table(served: str) -> None:
    result = runner.invoke(cli, ["programme", "plan", "--year", "2022"], env=env(served))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2022 宁人社发〔2022〕23号"
    assert lines[1].split() == [
        "kind", "clause", "periods", "people", "projects", "places", "enrolled", "completed"
    ]  # fmt: skip
    assert lines[4].split() == ["key_industry", "§二(三)", "30", "2000", "0", "0", "0", "0"]
    assert lines[5].split()[:4] == ["tcm_grassroots", "§二(四)", "-", "600"]


def test_programme_plan_as_csv_and_xlsx(served: str, tmp_path: Path) -> None:
    as_csv = runner.invoke(
        cli, ["programme", "plan", "--year", "2022", "--format", "csv"], env=env(served)
    )
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.output.splitlines()[1].startswith("advanced_seminar,高级研修项目,§二(一),25,1500")
    out = tmp_path / "plan.xlsx"
    as_xlsx = runner.invoke(
        cli,
        ["programme", "plan", "--year", "2022", "--format", "xlsx", "-o", str(out)],
        env=env(served),
    )
    assert as_xlsx.exit_code == 0, as_xlsx.output
    assert load_workbook(out).active["B2"].value == "高级研修项目"


def test_programme_plan_reports_a_refusal(served: str) -> None:
    result = runner.invoke(cli, ["programme", "plan", "--year", "1999"], env=env(served))
    assert result.exit_code == 1
    assert "422" in result.output and "year" in result.output


def test_programme_plan_columns_line_up_by_display_width() -> None:
    # "§二(三)" is 5 characters but 7 columns wide: § 1 + 二 2 + ( 1 + 三 2 + ) 1; padded
    # by characters, its row's "periods" cell would sit 2 columns right of the header's.
    kinds = [
        {"kind": k, "clause": c, "planned_periods": 25, "planned_people": 1500, "projects": 0,
         "capacity": 0, "enrolled": 0, "completed": 0}
        for k, c in (("advanced_seminar", "§二(一)"), ("key_industry", "§二(三)"))
    ]  # fmt: skip
    table = plan_table({"year": 2022, "document": "宁人社发〔2022〕23号", "kinds": kinds})
    header, *rows = table.splitlines()[1:]
    column = display_width(header[: header.index("periods")])
    for row in rows:
        assert display_width(row[: row.index("25")]) == column, table
