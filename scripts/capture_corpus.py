"""Capture real Claude Code requests for the attribution corpus (tests/corpus/).

Runs the real Claude Code CLI (`-p`) in a throwaway project and home against the stub
API over TLS, through `claude-inspect proxy`, once with HTTPS_PROXY (tool search on) and
once with ANTHROPIC_BASE_URL (tool search off). The stub scripts the conversation: find the
MCP tool with ToolSearch, call it, read a file under the nested CLAUDE.md, load the skill,
answer. The last main-loop request of each run (it holds the whole conversation) is
written to tests/corpus/cc-<version>-<mode>.json with no credentials in it.

    npm install --prefix /tmp/cc @anthropic-ai/claude-code@latest
    python scripts/capture_corpus.py /tmp/cc/node_modules/@anthropic-ai/claude-code-linux-x64/claude

The project lives at a fixed temporary path so paths inside the requests stay the same
from one capture to the next.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(ROOT))

from inspector.demo.stub_api import StubAPI  # noqa: E402

BASE = Path(tempfile.gettempdir()) / "claude-corpus"
PROJECT = BASE / "project"
PROMPT = "When does the release train leave? Check the corpus server, then the sub notes."
MCP_TOOL = "mcp__corpus__lookup_fact"
FAKE_KEY = "sk-ant-api03-corpus-fake-key-0000000000000000000000000000000000"

FILES = {
    "CLAUDE.md": "# Capture project\n\nAlways answer in one short paragraph. Project codename: Heron.\n",
    "sub/CLAUDE.md": "# Sub notes rules\n\nFiles under sub/ are release notes; quote them exactly.\n",
    "sub/notes.md": "Release notes: the train leaves every second Tuesday at 10:00 UTC.\n",
    ".claude/skills/corpus-notes/SKILL.md": (
        "---\nname: corpus-notes\ndescription: Summarise the capture project's release notes "
        "in the house style.\n---\n\n# Corpus notes\n\nSummarise release notes as one bullet "
        "per date, newest first.\n"),
    ".claude/agents/reviewer.md": (
        "---\nname: reviewer\ndescription: Reviews release notes for missing dates.\n"
        "tools: Read, Grep\n---\n\nYou review release notes. List every entry without a date.\n"),
    ".claude/output-styles/terse.md": (
        "---\nname: Terse\ndescription: Short answers without preamble.\n---\n\n"
        "Answer in as few words as possible. No preamble, no summary.\n"),
    ".claude/settings.json": json.dumps({
        "outputStyle": "Terse",
        "hooks": {
            "SessionStart": [{"hooks": [{"type": "command",
                                         "command": "echo 'SessionStart hook: the build is green.'"}]}],
            "UserPromptSubmit": [{"hooks": [{"type": "command",
                                             "command": "echo 'UserPromptSubmit hook: ticket HERON-42 is open.'"}]}],
        },
    }, indent=2),
}


def tool_use(name: str, tool_input: dict[str, Any], n: int) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_corpus{n:02d}", "name": name, "input": tool_input}


def scripted_responder(request: dict[str, Any]) -> dict[str, Any]:
    """The conversation the corpus needs; side requests (titles, quotas) get a short text."""
    tools = {t.get("name") for t in request.get("tools") or [] if isinstance(t, dict)}
    called = [b.get("name") for m in request.get("messages") or [] if isinstance(m, dict)
              and m.get("role") == "assistant" and isinstance(m.get("content"), list)
              for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]
    plan = []
    if "ToolSearch" in tools:
        plan.append(("ToolSearch", {"query": f"select:{MCP_TOOL}", "max_results": 1}))
    plan += [(MCP_TOOL, {"topic": "release train"}),
             ("Read", {"file_path": str(PROJECT / "sub" / "notes.md")}),
             ("Skill", {"skill": "corpus-notes"})]
    content: list[dict[str, Any]] = [{"type": "text", "text": "The train leaves every second Tuesday."}]
    if "Read" in tools:
        for n, (name, args) in enumerate(plan):
            if name not in called:
                content = [{"type": "text", "text": "Checking."}, tool_use(name, args, n)]
                break
    size = len(json.dumps(request))
    # Claude Code merges assistant messages that share an id: each reply needs its own.
    turn = sum(1 for m in request.get("messages") or [] if isinstance(m, dict) and m.get("role") == "assistant")
    return {
        "id": f"msg_corpus{turn:02d}", "type": "message", "role": "assistant",
        "model": request.get("model", "claude-stub"), "content": content,
        "stop_reason": "tool_use" if content[-1]["type"] == "tool_use" else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": max(1, size // 4), "output_tokens": 20,
                  "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
    }


def make_project() -> None:
    shutil.rmtree(BASE, ignore_errors=True)
    for rel, text in FILES.items():
        path = PROJECT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (BASE / "home").mkdir(parents=True)
    server = BASE / "mcp_server.py"
    shutil.copy(CORPUS / "mcp_server.py", server)
    (BASE / "mcp.json").write_text(json.dumps(
        {"mcpServers": {"corpus": {"command": sys.executable, "args": [str(server)]}}}))
    subprocess.run(["git", "init", "-q"], cwd=PROJECT, check=True)


def start_proxy(stub: StubAPI) -> tuple[subprocess.Popen[str], int, str]:
    home = BASE / "inspect-home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "proxy", "--home", str(home), "--listen", "127.0.0.1:0",
         "--resolve", f"api.anthropic.com:443:127.0.0.1:{stub.port}", "--upstream-ca", str(stub.ca_file)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"listening on [\d.]+:(\d+)", first)
    if not match:
        proc.kill()
        raise SystemExit(f"proxy did not start: {first!r}")
    return proc, int(match.group(1)), str(home / "ca.pem")


def run_claude(binary: str, mode: str, port: int, ca: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(BASE / "home"),
        "IS_SANDBOX": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "ANTHROPIC_API_KEY": FAKE_KEY,
        "TERM": "dumb",
    }
    if mode == "proxy":
        env.update(HTTPS_PROXY=f"http://127.0.0.1:{port}", NODE_EXTRA_CA_CERTS=ca)
    else:
        env.update(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}")
    return subprocess.run(
        [binary, "-p", PROMPT, "--mcp-config", str(BASE / "mcp.json"),
         "--dangerously-skip-permissions"],
        cwd=PROJECT, env=env, text=True, capture_output=True, timeout=240)


def scrub(text: str) -> str:
    return re.sub(r"sk-ant-[A-Za-z0-9_-]+", "sk-ant-REDACTED", text)


def capture(binary: str, mode: str) -> tuple[str, dict[str, Any], int]:
    make_project()
    with StubAPI(responder=scripted_responder) as stub:
        proxy, port, ca = start_proxy(stub)
        try:
            result = run_claude(binary, mode, port, ca)
        finally:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(30)
        bodies = [json.loads(r["body"]) for r in stub.requests
                  if r["method"] == "POST" and r["target"].startswith("/v1/messages")
                  and not r["target"].startswith("/v1/messages/count_tokens") and r["body"]]
    main_loop = [b for b in bodies if any(t.get("name") == "Read" for t in b.get("tools") or [])]
    if not main_loop:
        raise SystemExit(f"no main-loop request captured ({mode}):\n{result.stdout}\n{result.stderr}")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[0]
    return version, main_loop[-1], len(bodies)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", help="the claude binary to capture from")
    parser.add_argument("--mode", choices=["proxy", "base_url", "both"], default="both")
    args = parser.parse_args(argv)
    modes = ["proxy", "base_url"] if args.mode == "both" else [args.mode]
    for mode in modes:
        version, body, count = capture(args.binary, mode)
        out = CORPUS / f"cc-{version}-{mode}.json"
        out.write_text(scrub(json.dumps(body, indent=1, ensure_ascii=False)) + "\n")
        print(f"{out.name}: {count} requests seen, last main-loop request kept "
              f"({len(body.get('messages') or [])} messages)")


if __name__ == "__main__":
    main()
