"""How far the offline token estimate is from the published Claude BPE, per kind of leaf.

Attributes every request of the corpus (tests/corpus/) without usage, so each leaf holds
its own estimate, and counts the same content with the published Claude tokenizer (PyPI
`anthropic-tokenizer`, a test-only dependency): the text a leaf covers; for a tool, its
compact JSON; for a tool call, its name and input; for a tool result, its text. Prints,
per kind, the reference tokens, the estimate's error on the kind's total, and the mean
absolute error per leaf, then the per-kind factors that would make each total exact
(the table `tokens.KIND_FACTORS` ships).

    python scripts/calibrate_tokens.py            # errors with the shipped factors
    python scripts/calibrate_tokens.py --raw      # errors of the bare estimate
    python scripts/calibrate_tokens.py --code ../other-checkout   # another version's

The reference is the tokenizer Anthropic published for earlier models: a proxy for the
current models' tokenizer, not the truth (that is the API's count_tokens).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--code" in sys.argv:  # measure another checkout's estimator (before/after a change)
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))
else:
    sys.path.insert(0, str(ROOT))

from inspector.attribution import attribute, tokens  # noqa: E402
from inspector.attribution.builder import cjson  # noqa: E402

FACTORS: dict[str, float] = getattr(tokens, "KIND_FACTORS", {})


def resolve(req, path):
    node = req
    for part in [p for p in path.split("#", 1)[0].split("/") if p]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def reference_text(req, leaf) -> str | None:
    """What the model reads for this leaf, as text for the reference tokenizer."""
    base, _, sl = leaf.path.partition("#")
    item = resolve(req, base)
    if sl:
        a, b = map(int, sl.split(":"))
        text = item["text"] if isinstance(item, dict) else item
        return text[a:b]
    kind = leaf.kind
    if kind in ("image", "document", "other"):
        return None
    if leaf.meta.get("deferred"):
        return leaf.meta.get("tool", "")
    if kind == "tool_call":
        return item.get("name", "") + cjson(item.get("input", {}))
    if kind in ("mcp_tool_loaded", "tool_loaded"):
        name = leaf.meta.get("tool")
        return next((cjson(t) for t in req.get("tools", []) if t.get("name") == name), None)
    if kind == "tool_result":
        content = item.get("content") if isinstance(item, dict) else item
        if isinstance(content, str):
            # reminders riding in a result are leaves of their own
            return re.sub(r"<system-reminder>.*?(</system-reminder>|$)", "", content, flags=re.S)
        if isinstance(content, list):
            return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
        return None
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return item["text"]
    return item if isinstance(item, str) else cjson(item)


def measure(files: list[Path]):
    from anthropic_tokenizer import count_tokens

    rows = defaultdict(list)  # kind -> [(estimate, reference)]
    for f in files:
        req = json.loads(f.read_text())
        for leaf in attribute(req).leaves():
            text = reference_text(req, leaf)
            if text is None or leaf.meta.get("stripped"):
                continue
            kind = leaf.kind + (" (deferred)" if leaf.meta.get("deferred") else "")
            rows[kind].append((float(leaf.tokens), float(count_tokens(text))))
    return rows


def report(rows) -> None:
    print(f"{'kind':<24}{'leaves':>7}{'ref tok':>9}{'est tok':>9}{'total err':>11}{'mean |err|':>12}")
    all_est = all_ref = 0.0
    for kind in sorted(rows, key=lambda k: -sum(r for _, r in rows[k])):
        pairs = rows[kind]
        est = sum(e for e, _ in pairs)
        ref = sum(r for _, r in pairs)
        all_est += est
        all_ref += ref
        mean = sum(abs(e - r) / r for e, r in pairs if r) / max(1, sum(1 for _, r in pairs if r))
        print(f"{kind:<24}{len(pairs):>7}{ref:>9.0f}{est:>9.0f}{(est / ref - 1) * 100 if ref else 0:>+10.1f}%"
              f"{mean * 100:>11.1f}%")
    print(f"{'all':<24}{'':>7}{all_ref:>9.0f}{all_est:>9.0f}{(all_est / all_ref - 1) * 100:>+10.1f}%")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Estimator error per kind against the Claude BPE.")
    parser.add_argument("--raw", action="store_true", help="without the per-kind factors")
    parser.add_argument("--code", help="import inspector from this checkout instead")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "tests" / "corpus").glob("cc-*.json"))
    saved = dict(FACTORS)
    if args.raw:
        FACTORS.clear()
    try:
        rows = measure(files)
    finally:
        FACTORS.update(saved)
    report(rows)
    if args.raw:
        print("\nfactors that make each kind's total exact:")
        for kind, pairs in sorted(rows.items()):
            est = sum(e for e, _ in pairs)
            ref = sum(r for _, r in pairs)
            if est and ref:
                print(f"    {kind!r}: {ref / est:.3f},")


if __name__ == "__main__":
    main()
