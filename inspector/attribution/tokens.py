"""Token estimates from text, without a tokenizer.

Claude's tokenizer is not public, so a leaf's share of the exact prompt total (from the
response's `usage`) is weighted by an estimate. chars/4 is wrong in opposite directions for
the two kinds of text a Claude Code prompt is made of: English prose (the instructions,
CLAUDE.md, the user's words) and punctuation-dense JSON or code (tool schemas, tool calls,
file contents). The model here counts character classes and gives each a cost:

* ASCII words (runs of letters): 0.75 token per run plus 1 per 8.5 letters. A common
  English word (~4.7 letters, its leading space riding along) is about 1.3 tokens; a short
  identifier of code (`k`, `v`, `if`) nearly one; a long camelCase name two or three.
* ASCII punctuation and symbols: 0.5 token each. Alone, `{` or `.` is a token, but the
  common pairs of JSON and code (`":"`, `",`, `});`, `->`) merge, so on schemas roughly half.
* Digits: 0.4 token each (numbers split into chunks of up to three digits).
* Newlines: 0.4 (a blank line `\\n\\n` is usually one token); runs of indentation: 0.25 per
  pair of spaces, as long runs of spaces merge.
* CJK ideographs, kana, hangul: 1.1 tokens per character. Other non-ASCII letters
  (accented Latin, Cyrillic, Greek): 0.6 per character. Emoji and other 4-byte characters: 1.5.

With these, English prose comes out at ~4.1 chars/token, a JSON tool schema near 3.3,
Python from ~2.7 (dense expressions) to ~3.7 (with docstrings), Chinese near 0.9: the
ranges usually reported for Claude's tokenizer. Only the proportions matter once usage is
known, since the total is then exact.

Long texts are measured on a few evenly spaced samples, so a 2 MB tool result costs
microseconds; every count is done by C-level bytes methods (translate, count, split).
"""

from __future__ import annotations

import string

_PUNCT = string.punctuation.encode("ascii")
_DIGITS = string.digits.encode("ascii")
_LETTERS = string.ascii_letters.encode("ascii")
# Lead bytes of 3-byte UTF-8 sequences for U+3000..U+DFFF (CJK, kana, hangul).
_CJK_LEADS = bytes(range(0xE3, 0xEE))
# Lead bytes of 2-byte sequences (accented Latin, Greek, Cyrillic, ...).
_TWO_LEADS = bytes(range(0xC2, 0xE0))
# Lead bytes of 4-byte sequences (emoji and other astral characters).
_FOUR_LEADS = bytes(range(0xF0, 0xF5))

_ALL = bytes(range(256))


def _keep_only(allowed: bytes) -> bytes:
    """A deletion table for bytes.translate that deletes every byte not in `allowed`."""
    return bytes(b for b in _ALL if b not in allowed)


_DEL_NOT_PUNCT = _keep_only(_PUNCT)
_DEL_NOT_DIGIT = _keep_only(_DIGITS)
_DEL_NOT_LETTER = _keep_only(_LETTERS)
_DEL_NOT_CJK = _keep_only(_CJK_LEADS)
_DEL_NOT_TWO = _keep_only(_TWO_LEADS)
_DEL_NOT_FOUR = _keep_only(_FOUR_LEADS)
# Everything but ASCII letters becomes a space, so split() counts runs of letters.
_LETTER_RUNS = bytes(b if b in _LETTERS else 0x20 for b in _ALL)

WORD_TOKEN = 0.75
LETTERS_PER_TOKEN = 8.5
PUNCT_TOKEN = 0.5
DIGIT_TOKEN = 0.4
NEWLINE_TOKEN = 0.4
INDENT_PAIR_TOKEN = 0.25
CJK_TOKEN = 1.1
OTHER_NON_ASCII_TOKEN = 0.6
ASTRAL_TOKEN = 1.5

#: Per leaf kind, a factor on the estimate, fitted on real Claude Code requests
#: (tests/corpus/) against the published Claude BPE by `scripts/calibrate_tokens.py`.
#: JSON schemas are not as dense as their punctuation suggests (tools 0.89; small MCP
#: schemas, mostly framing, 0.78); tool names split finer than prose (deferred names 1.25).
#: Kinds with too little text in the corpus to fit (tool results, the user's words) keep 1.
KIND_FACTORS: dict[str, float] = {
    "tool": 0.89, "tool_loaded": 0.89, "mcp_tool": 0.78, "mcp_tool_loaded": 0.78,
    "system_block": 0.92, "agent": 0.95, "skill": 0.98, "memory": 1.05, "reminder": 0.99,
    "hook": 1.08, "skill_body": 1.07, "deferred_tool": 1.25, "deferred_tools": 0.89,
    "mcp_instructions": 0.85, "tool_call": 0.84,
}

#: Texts longer than this are measured on samples.
SAMPLE_ABOVE = 16_384
SAMPLE_SIZE = 2_048
SAMPLES = 6


def _measure(data: bytes) -> float:
    """Estimated tokens of UTF-8 `data` (the whole of it)."""
    letters = len(data.translate(None, _DEL_NOT_LETTER))
    punct = len(data.translate(None, _DEL_NOT_PUNCT))
    digits = len(data.translate(None, _DEL_NOT_DIGIT))
    words = len(data.translate(_LETTER_RUNS).split())
    tokens = (
        words * WORD_TOKEN
        + letters / LETTERS_PER_TOKEN
        + punct * PUNCT_TOKEN
        + digits * DIGIT_TOKEN
        + data.count(b"\n") * NEWLINE_TOKEN
        + data.count(b"  ") * INDENT_PAIR_TOKEN
    )
    if not data.isascii():
        tokens += (
            len(data.translate(None, _DEL_NOT_CJK)) * CJK_TOKEN
            + len(data.translate(None, _DEL_NOT_TWO)) * OTHER_NON_ASCII_TOKEN
            + len(data.translate(None, _DEL_NOT_FOUR)) * ASTRAL_TOKEN
        )
    return tokens


def estimate_tokens(text: str) -> int:
    """Estimated Claude tokens of `text` (at least 1 for non-empty text, 0 for empty)."""
    return round(estimate_tokens_float(text)) if text else 0


def estimate_tokens_float(text: str) -> float:
    """As `estimate_tokens`, unrounded: the weights used to share out an exact total."""
    n = len(text)
    if n == 0:
        return 0.0
    if n <= SAMPLE_ABOVE:
        return max(_measure(text.encode("utf-8", "replace")), 1.0)
    # Evenly spaced samples; scale their tokens-per-char up to the whole text.
    step = (n - SAMPLE_SIZE) / (SAMPLES - 1)
    sampled_chars = 0
    sampled_tokens = 0.0
    for i in range(SAMPLES):
        start = int(i * step)
        piece = text[start:start + SAMPLE_SIZE]
        sampled_chars += len(piece)
        sampled_tokens += _measure(piece.encode("utf-8", "replace"))
    return max(sampled_tokens * n / sampled_chars, 1.0)


def largest_remainder(weights: list[float], total: int) -> list[int]:
    """Whole shares of `total` in proportion to `weights` that sum to `total` exactly: each
    gets the floor of its quota, and the units left go to the largest remainders.
    Callers pass positive weights (falling back to sizes when every estimate is zero)."""
    wsum = sum(weights)
    quotas = [w * total / wsum for w in weights]
    floors = [int(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: floors[i] - quotas[i])
    for i in by_remainder[:total - sum(floors)]:
        floors[i] += 1
    return floors
