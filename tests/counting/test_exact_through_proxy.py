"""`--exact` through the real proxy, against the stub API whose token model is the truth."""

from __future__ import annotations

import time

from inspector.demo import token_model as tm
from inspector.store import Store
from inspector.demo.traffic import demo_session

from .conftest import KEY



def walk(node):
    yield node
    for c in node["children"]:
        yield from walk(c)


def send_and_tree(proxy, body):
    before = len(proxy.stored)
    reply = proxy.send(body)
    assert reply.status_code == 200, reply.text
    t0 = time.monotonic()
    while len(proxy.stored) <= before:
        assert time.monotonic() - t0 < 30, "the capture was not stored"
        time.sleep(0.02)
    return proxy.tree(proxy.stored[before])


def test_first_turn_parts_equal_the_token_model(exact_proxy):
    request = demo_session(seed=0, turns=1)[0].request
    request = dict(request, stream=False)
    root = send_and_tree(exact_proxy, request)
    nodes = list(walk(root))
    tools = {t["name"]: t for t in request["tools"]}
    mcp_tools = [n for n in nodes if n["kind"] == "mcp_tool"]
    assert mcp_tools
    for n in mcp_tools:
        assert n["estimated"] is False and n["meta"]["counted"] == "api"
        assert n["tokens"] == tm.tool_tokens(tools[n["meta"]["tool"]])
    instructions = 0
    for server in (n for n in nodes if n["kind"] == "mcp_server"):
        own = [c for c in server["children"] if c["kind"] == "mcp_tool"]
        names = {c["meta"]["tool"] for c in own}
        without = dict(request, tools=[t for t in request["tools"] if t["name"] not in names])
        marginal = tm.count_request(request) - tm.count_request(without)  # true marginal
        assert sum(c["tokens"] for c in own) == marginal
        for child in server["children"]:
            if child["kind"] == "mcp_instructions":  # counted apart, from its own text
                block, _, span = child["path"].partition("#")
                a, b = map(int, span.split(":"))
                text = request["system"][int(block.split("/")[2])]["text"][a:b]
                assert child["tokens"] == tm.count_text(text) and child["estimated"] is False
                instructions += 1
    assert instructions >= 2
    overhead = [n for n in nodes if n["kind"] == "overhead"]
    assert len(overhead) == 1 and overhead[0]["estimated"] is False
    assert overhead[0]["tokens"] == tm.overhead(request)
    leaves = [n for n in nodes if not n["children"]]
    assert sum(n["tokens"] for n in leaves) == tm.count_request(request) == root["tokens"]
    assert all(n["estimated"] is False for n in leaves), [n["label"] for n in leaves if n["estimated"]]
    # the proxy's own count calls reached the API but are not the user's exchanges
    assert exact_proxy.count_calls() > 20
    with Store(exact_proxy.config.db_path) as store:
        paths = [r[0] for r in store.execute("SELECT path FROM requests")]
    assert paths == ["/v1/messages"]
    # the user's key was used for those calls, and kept nowhere
    counted = [r for r in exact_proxy.stub.requests if r["target"] == "/v1/messages/count_tokens"]
    assert {r["headers"]["x-api-key"] for r in counted} == {KEY}
    home = exact_proxy.config.home
    for path in home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_next_turn_costs_at_most_four_calls(exact_proxy):
    turns = demo_session(seed=1, turns=5)
    calls = []
    for turn in turns:
        before = exact_proxy.count_calls()
        root = send_and_tree(exact_proxy, dict(turn.request, stream=False))
        calls.append(exact_proxy.count_calls() - before)
        assert root["meta"]["exact"]["calls"] == calls[-1]
        leaves = [n for n in walk(root) if not n["children"]]
        assert sum(n["tokens"] for n in leaves) == tm.count_request(turn.request)
    assert calls[0] > 20
    print("calls per turn", calls)
    assert all(n <= 4 for n in calls[1:]), calls
