"""The app's pure helpers: the filter language, formatting, and reading node content."""

from __future__ import annotations

import time

import pytest

from inspector.config import Config
from inspector.tui import format as fmt
from inspector.tui.app import short_proxy_error
from inspector.tui.exchange_view import content_text, resolve_path
from inspector.tui.filtering import FilterSyntaxError, parse_filter


def test_filter_terms_and_free_text():
    terms = parse_filter('model:opus status:429 source:mcp:github session:7f3c "login test" x:y')
    assert terms == {"model": "opus", "status": 429, "source": "mcp:github",
                     "session": "7f3c", "text": "login test x:y"}
    assert abs(parse_filter("since:1h")["since"] - (time.time() - 3600)) < 5
    with pytest.raises(FilterSyntaxError):
        parse_filter("status:abc")


def test_formatting():
    assert fmt.tokens(999) == "999" and fmt.tokens(12_345) == "12.3k"
    assert fmt.tokens(1_234_567) == "1.23M" and fmt.tokens(None) == "-"
    assert fmt.cost(0.0042) == "$0.0042" and fmt.cost(None) == "-"
    assert fmt.short_model("claude-sonnet-4-5-20250929") == "sonnet-4-5"
    assert fmt.endpoint("/v1/messages?beta=true") == "/v1/messages"
    assert fmt.bar(1, 2, 8) == "████    "
    assert fmt.status(503).style == "bold red" and fmt.status(200).plain == "200"
    assert fmt.prompt_cell(1000, 990).plain == "1.0k (990 cached)"
    assert fmt.prompt_cell(None, None).plain == "-"


def test_node_paths_resolve_into_the_request():
    request = {"tools": [{"name": "Bash", "description": "Runs\ncommands", "input_schema": {}}],
               "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdef"}]}]}
    assert resolve_path(request, "/messages/0/content/0#2:4") == "cd"
    assert content_text(resolve_path(request, "/tools/0")).startswith("Bash\n\nRuns\ncommands")
    assert resolve_path(request, "/messages/5") is None
    assert "not available" in content_text(None)


def test_port_in_use_is_said_shortly(tmp_path):
    config = Config.load(tmp_path, listen="127.0.0.1:8443")
    error = "port 8443 on 127.0.0.1 is already in use (another claude-inspect proxy?)"
    assert short_proxy_error(error, config) == "port 8443 in use, browsing only"
