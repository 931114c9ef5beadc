"""Mangled requests never raise, never fall back to the catch-all, and stay accounted for."""

from __future__ import annotations

import copy
import logging
import random

import pytest

from inspector.attribution import attribute
from inspector.model import Usage

from .fixtures import SESSION, hand_built
from .helpers import content_size, leaves

ODD_VALUES = [None, 0, -1, 2.5, True, "", "text", [], {}, [None], {"type": "text"}, {"text": 5},
              {"type": "tool_result", "tool_use_id": None, "content": [None, 1]},
              {"type": "image", "source": {"type": "base64", "data": 7}}, "<system-reminder>open only"]


def _containers(node, out):
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _containers(v, out)
    elif isinstance(node, list):
        out.append(node)
        for v in node:
            _containers(v, out)
    return out


def _mangle(req, rng):
    req = copy.deepcopy(req)
    for _ in range(rng.randint(1, 6)):
        target = rng.choice(_containers(req, []))
        if isinstance(target, dict) and target:
            key = rng.choice(list(target))
            if rng.random() < 0.3:
                del target[key]
            else:
                target[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif isinstance(target, list) and target:
            target[rng.randrange(len(target))] = copy.deepcopy(rng.choice(ODD_VALUES))
    return req


@pytest.mark.parametrize("seed", range(40))
def test_mangled_requests(seed, caplog):
    rng = random.Random(seed)
    base = hand_built() if seed % 2 else SESSION[seed % len(SESSION)].request
    req = _mangle(base, rng)
    with caplog.at_level(logging.ERROR, logger="inspector.attribution"):
        root = attribute(req, Usage(input_tokens=1234))
    assert not [r for r in caplog.records if "attribution failed" in r.getMessage()]
    assert sum(leaf.chars for leaf in leaves(root)) == content_size(req)
    assert sum(leaf.tokens for leaf in leaves(root)) == 1234
