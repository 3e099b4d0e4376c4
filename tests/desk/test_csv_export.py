"""CSV export: formula injection is neutralised, numbers and Chinese survive."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from desk.csv_export import safe_cell, to_csv


def test_cells_that_a_spreadsheet_would_run_are_prefixed() -> None:
    for attack in ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1", "＝1"]:
        assert safe_cell(attack).startswith("'"), attack
    assert safe_cell("退款没到") == "退款没到" and safe_cell("a=b") == "a=b"
    assert safe_cell(-0.5) == "-0.5" and safe_cell(3) == "3" and safe_cell(None) == "" and safe_cell(True) == "true"
    assert safe_cell(datetime(2026, 11, 20, 12, 0, 1)) == "2026-11-20 12:00:01"


def test_to_csv_round_trips_with_a_bom_and_quoting() -> None:
    text = to_csv(["id", "comment"], [[1, "=cmd|' /C calc'!A0"], [2, "第一行\n第二行, 含逗号"]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["id", "comment"], ["1", "'=cmd|' /C calc'!A0"], ["2", "第一行\n第二行, 含逗号"]]
