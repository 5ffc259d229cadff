"""Exported cells that begin like a formula open as text."""

from __future__ import annotations

import csv
import io

import pytest

from services.csv_export import safe_cell, to_csv


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=x", "\r=x",
                                   '=HYPERLINK("http://x.example","click")'])
def test_formula_starts_are_made_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Smith, John", "2026-11-23", "100", "", "a=b"])
def test_ordinary_cells_are_unchanged(value):
    assert safe_cell(value) == value


def test_a_whole_file_reads_back_with_every_cell_safe():
    data = to_csv(["=Header", "Note"], [["=cmd|' /C calc'!A0", "fine"], [None, "-1"]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["'=Header", "Note"], ["'=cmd|' /C calc'!A0", "fine"], ["", "'-1"]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
