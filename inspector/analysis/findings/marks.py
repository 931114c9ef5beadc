"""The requests table's finding marks, worked out one request at a time.

`find` threads whole sessions and runs each detector over all their turns: right for a
report, but a long session's requests weigh a megabyte each, and the table asks again
every few seconds. A request's mark depends only on it and on what its session said
before it, so `Marker` keeps, per session, the little each detector needs of the earlier
requests (what the previous request of each chain cached, which tool results were already
carried, which files were read) and reads each request once, in time order.

What each marked kind needs of the past (see `cache.py` and `context.py`):

* cache_break: the tokens the previous request of the chain left in the cache;
* large_tool_result, repeated_read: the tool results earlier requests carried, and the
  Read calls made so far (a result is marked on the first request carrying it);
* compaction: whether the previous request of the conversation opened with a summary;
* truncation: skills are marked on the session's newest conversation request; a deferred
  tool on the first request calling it, until some request loads its schema.

A request stored after a later one of its session was read (a slow reply) is read after
it: its marks may then differ from the report's, which sorts the whole session first.

`MarkReader` feeds a Marker from the store; `serve` runs one in a process of its own
(this module run as a script) and `MarksProcess` is the app's end of it, so the parsing
of large bodies never holds the app's interpreter lock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from inspector.analysis.findings import cache, context
from inspector.analysis.findings.model import KINDS
from inspector.analysis.findings.threads import Threader, Turn, epoch, turn_of

#: the kinds about one request that the table marks
MARKED = ("cache_break", "large_tool_result", "repeated_read", "compaction", "truncation")
#: requests read from the store at once (a long session's are a megabyte each)
READ_GROUP = 8


class _Session:
    """What a session's earlier requests left for the detectors."""

    def __init__(self) -> None:
        self.threader = Threader()
        #: chain -> tokens its last request left in the cache
        self.cached: dict[Any, int] = {}
        #: conversation (agent id) -> whether its last request opened with a summary
        self.summary: dict[Any, bool] = {}
        #: tool_use ids whose result some request carried already
        self.carried: set[str] = set()
        #: call id -> how many Read calls of its file came up to it (0: not a Read)
        self.calls: dict[str, int] = {}
        self.reads: dict[str, int] = {}
        #: tool name -> the request where a call of it first came up
        self.first_call: dict[str, str] = {}
        self.deferred: set[str] = set()
        self.loaded: set[str] = set()
        #: the newest conversation request, when its skills listing is cut
        self.skills_cut: str | None = None


class Marker:
    """Marks of requests fed oldest first (per session)."""

    def __init__(self) -> None:
        self.sessions: dict[Any, _Session] = {}
        #: request id -> the kinds found on it for good
        self.found: dict[str, set[str]] = {}

    def add(self, turn: Turn) -> None:
        s = self.sessions.setdefault(turn.session_id, _Session())
        s.threader.label(turn)
        if cache.broke(s.cached.get(turn.chain, 0), turn):
            self._found(turn, "cache_break")
        s.cached[turn.chain] = turn.cached
        if turn.side_call is None:
            self._conversation(s, turn)

    def _found(self, turn: Turn, kind: str) -> None:
        self.found.setdefault(turn.id, set()).add(kind)

    def _conversation(self, s: _Session, turn: Turn) -> None:
        body = turn.body
        opens = context.opens_with_summary(body)
        if context.asks_summary(body) or (
                opens and s.summary.get(turn.agent_id, True) is False):
            self._found(turn, "compaction")
        s.summary[turn.agent_id] = opens
        for call in turn.calls:
            cid = call.get("id")
            if not isinstance(cid, str) or cid in s.calls:
                continue
            s.first_call.setdefault(str(call.get("name")), turn.id)
            path = (call.get("input") or {}).get("file_path") if isinstance(
                call.get("input"), dict) else None
            if call.get("name") == "Read" and isinstance(path, str):
                s.reads[path] = s.calls[cid] = s.reads.get(path, 0) + 1
            else:
                s.calls[cid] = 0
        for cid, path in context.result_paths(body).items():
            if cid in s.carried:
                continue
            s.carried.add(cid)
            if cid not in s.calls:
                continue
            if context.tokens_at(turn, path) >= context.LARGE_RESULT_TOKENS:
                self._found(turn, "large_tool_result")
            if s.calls[cid] >= 2:
                self._found(turn, "repeated_read")
        bare, dropped = context.skills_cut(body)
        s.skills_cut = turn.id if bare or dropped else None
        s.deferred.update(context.deferred_tools(body))
        s.loaded |= context.references(body.get("messages"))

    def marks(self, ids: list[str]) -> dict[str, str]:
        """The marked ones of `ids`: request id -> the first of its kinds in report order."""
        moving: set[str] = set()  # the marks that move as a session goes on
        for s in self.sessions.values():
            moving |= {s.first_call[n] for n in s.deferred - s.loaded if n in s.first_call}
            if s.skills_cut:
                moving.add(s.skills_cut)
        out = {}
        for rid in ids:
            kinds = self.found.get(rid, set()) | ({"truncation"} if rid in moving else set())
            if kinds:
                out[rid] = min(kinds, key=KINDS.index)
        return out


class MarkReader:
    """A Marker fed from a store: each stored request is read once, with the whole of its
    session before it the first time one of the session's requests is asked about."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.marker = Marker()
        #: requests read (or not Messages API requests): never read again
        self.seen: set[str] = set()
        self.started: set[Any] = set()
        #: ids of the requests each `update` read, for the tests
        self.read_ids: list[str] = []

    def update(self, ids: list[str]) -> dict[str, str]:
        """Marks of the requests `ids` (those with a mark)."""
        from inspector.store.queries import Filter, iter_list_rows

        rows = list(iter_list_rows(self.store, Filter(among=list(ids), limit=0)))
        todo = list(rows)
        for sid in {r["session_id"] for r in rows} - self.started:
            if sid is not None:  # no session: only the rows asked about
                self.started.add(sid)
                todo += (r for r in iter_list_rows(self.store, Filter(session=sid, limit=0))
                         if r["session_id"] == sid)  # the filter takes a prefix
        # a request still waiting for its reply is read once it has one
        new = {r["id"]: r for r in todo if r["id"] not in self.seen and r["status"] is not None}
        order = sorted(new.values(), key=lambda r: (epoch(r["ts"]), r["id"]))
        self.read_ids = [r["id"] for r in order]
        self._read(self.read_ids)
        return self.marker.marks([r["id"] for r in rows])

    def _read(self, ids: list[str]) -> None:
        from inspector.store.exchanges import exchange_dicts

        for at in range(0, len(ids), READ_GROUP):
            for ex in exchange_dicts(self.store, ids[at:at + READ_GROUP]):
                self.seen.add(ex["id"])
                turn = turn_of(ex)
                if turn is not None:
                    self.marker.add(turn)


def serve(db_path: str, lines: IO[str], out: IO[str]) -> None:
    """The marks process (`python -m inspector.analysis.findings.marks DB`): answers each
    line of `lines` (a JSON list of ids) with a line `{"marks": {id: kind}, "read": n}`
    (n: the requests this pass read), or `{"error": ...}`, until the app closes its end."""
    from inspector.analysis.findings.child import open_store

    store = open_store(db_path)  # marks never write
    reader = MarkReader(store)
    for line in lines:
        try:
            marks = reader.update(json.loads(line))
            answer: dict[str, Any] = {"marks": marks, "read": len(reader.read_ids)}
        except Exception as e:  # noqa: BLE001 - the app reports it; the process lives on
            answer = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
    store.close()


class MarksProcess:
    """The app's end of the marks process (`serve`): a JSON line of ids in, a JSON line of
    marks out."""

    def __init__(self, db_path: str | Path) -> None:
        from inspector.analysis.findings.child import spawn

        self.process = spawn("inspector.analysis.findings.marks", str(db_path))

    def ask(self, ids: list[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(ids) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise EOFError("the marks process ended")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"marks: {answer['error']}")
        return answer

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:  # it did not end in time: make sure it does
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except (OSError, ValueError):
                pass


if __name__ == "__main__":
    serve(sys.argv[1], sys.stdin, sys.stdout)
