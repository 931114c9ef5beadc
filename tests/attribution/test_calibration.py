"""The offline estimate against the published Claude BPE, on the real requests of the
corpus: each kind's total within a few percent, and a tool call weighed by what the
model reads (its name and input), not by the JSON around it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from inspector.attribution import attribute

ROOT = Path(__file__).resolve().parent.parent.parent


def test_a_tool_call_weighs_its_name_and_input_not_its_id():
    def call(tool_id: str) -> dict:
        return {"model": "claude-sonnet-4-5", "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": tool_id, "name": "Read",
                                               "input": {"file_path": "/src/app.py"}}]}]}
    short = [leaf for leaf in attribute(call("t1")).leaves() if leaf.kind == "tool_call"][0]
    long = [leaf for leaf in attribute(call("toolu_01ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 3)).leaves()
            if leaf.kind == "tool_call"][0]
    assert long.chars > short.chars + 80
    assert long.tokens == short.tokens


def test_each_kinds_estimate_is_near_the_claude_bpe_on_the_corpus():
    pytest.importorskip("anthropic_tokenizer")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from calibrate_tokens import measure
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rows = measure(sorted((ROOT / "tests" / "corpus").glob("cc-*.json")))
    for kind in ("tool", "system_block", "skill", "agent", "memory", "reminder", "tool_call",
                 "mcp_tool_loaded", "deferred_tool", "mcp_instructions"):
        est = sum(e for e, _ in rows[kind])
        ref = sum(r for _, r in rows[kind])
        assert abs(est / ref - 1) < 0.05, (kind, est, ref)
    est = sum(e for pairs in rows.values() for e, _ in pairs)
    ref = sum(r for pairs in rows.values() for _, r in pairs)
    assert abs(est / ref - 1) < 0.02
