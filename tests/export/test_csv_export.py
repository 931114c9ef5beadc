"""CSV export: text that came over the network never becomes a spreadsheet formula."""

from __future__ import annotations

import csv
import json

from capture.fixtures import make_exchange, request_body
from click.testing import CliRunner

from inspector.capture import build_capture
from inspector.cli import cli
from inspector.store import Record, Store

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


def test_cells_that_would_be_formulas_are_neutralised_when_read_back(home):
    db = home / "captures.db"
    store = Store(db)
    try:
        records = []
        for i, formula in enumerate(FORMULAS):
            body = request_body(model=formula)
            cap = build_capture(make_exchange(json.dumps(body).encode(), b"",
                                              error=formula, target=f"/v1/messages?n={i}"))
            records.append(Record(cap))
        plain = build_capture(make_exchange(json.dumps(request_body()).encode(), b""))
        records.append(Record(plain))
        store.write(records)
    finally:
        store.close()
    out = home / "x.csv"
    result = CliRunner().invoke(cli, ["--home", str(home), "export", "--format", "csv",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(FORMULAS) + 1
    by_model = {r["model"]: r for r in rows}
    for formula in FORMULAS:
        row = by_model["'" + formula]  # the value is all there, behind a quote
        assert row["error"] == "'" + formula
    assert "claude-sonnet-4-5-20250929" in by_model  # ordinary text is left alone
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_numbers_and_ordinary_text_are_left_alone():
    from inspector.export.csvfile import neutralise

    assert neutralise(-3) == -3 and neutralise(-0.5) == -0.5
    assert neutralise("claude-opus-4-1") == "claude-opus-4-1" and neutralise("") == ""
    assert neutralise("=1") == "'=1"
