"""The app's own proxy: added latency per small request while the UI is idle and busy.

The app runs headless (Textual's pilot) with its proxy and recorder, on a database of
realistic captures; a separate client process sends small requests, alternating direct
to the stand-in API and through the app's proxy, so both see the same moments of load.
Meanwhile the pilot keeps the UI idle, scrolls the table, or opens request details.

    python bench/bench_app.py                 # the app as it runs: proxy in its own process
    python bench/bench_app.py --in-process    # the proxy on a thread of the app's process
    python bench/bench_app.py --n 100         # requests per path and phase (default 300)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from inspector.config import Config
from inspector.demo.record import record_demo
from inspector.demo.stub_api import StubAPI
from inspector.runtime.isolated import IsolatedRuntime
from inspector.runtime.local import Runtime
from inspector.tui.app import make_app

CLIENT = textwrap.dedent("""
    import json, sys, time, httpx
    stub_port, stub_ca, proxy_port, ca, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    body = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    direct = httpx.Client(verify=stub_ca, timeout=10)
    proxied = httpx.Client(proxy=f"http://127.0.0.1:{proxy_port}", verify=ca, timeout=10)
    def one(client, url):
        t = time.perf_counter()
        r = client.post(url, json=body, headers={"x-api-key": "sk-ant-bench"})
        assert r.status_code == 200, r.status_code
        return (time.perf_counter() - t) * 1000
    for _ in range(20):
        one(direct, f"https://127.0.0.1:{stub_port}/v1/messages")
        one(proxied, "https://api.anthropic.com/v1/messages")
    out = {"direct": [], "proxy": []}
    for _ in range(n):
        out["direct"].append(one(direct, f"https://127.0.0.1:{stub_port}/v1/messages"))
        out["proxy"].append(one(proxied, "https://api.anthropic.com/v1/messages"))
    print(json.dumps(out))
""")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def measure(n: int, in_process: bool) -> dict[str, dict[str, list[float]]]:
    tmp = Path(tempfile.mkdtemp(prefix="claude-inspect-bench-app-"))
    demo = Config.load(tmp / "home")
    record_demo(demo, sessions=4)  # realistic rows to scroll through and open
    with StubAPI(tls=True, cert_dir=tmp / "stub", record=False) as stub:
        cfg = Config.load(tmp / "home", listen="127.0.0.1:0", upstream_ca=stub.ca_file,
                          resolve=[f"api.anthropic.com:443:127.0.0.1:{stub.port}"])
        runtime = Runtime(cfg) if in_process else IsolatedRuntime(cfg)
        app = make_app(cfg, runtime)
        results: dict[str, dict[str, list[float]]] = {}
        async with app.run_test(size=(160, 45)) as pilot:
            while runtime.proxy_address is None:
                await pilot.pause(0.05)
            port = runtime.proxy_address[1]
            for phase, keys in (("UI idle", ()),
                                ("scrolling", ("down", "down", "pagedown", "up", "pageup")),
                                ("opening details", ("enter", "2", "6", "1", "escape"))):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", CLIENT, str(stub.port), stub.ca_file, str(port),
                    str(cfg.ca_path), str(n), stdout=subprocess.PIPE)
                presses = 0
                while proc.returncode is None:
                    if keys:
                        # simulate the key directly: pilot.press waits for an idle
                        # screen, which live captures keep busy
                        app.simulate_key(keys[presses % len(keys)])
                        presses += 1
                        await asyncio.sleep(0.02)
                    else:
                        await pilot.pause(0.05)
                    try:
                        await asyncio.wait_for(proc.wait(), 0.001)
                    except asyncio.TimeoutError:
                        pass
                out, _ = await proc.communicate()
                results[phase] = json.loads(out)
                print(f"  {phase}: {presses} key presses", file=sys.stderr)
            await pilot.press("q")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="requests per path and phase")
    parser.add_argument("--in-process", action="store_true",
                        help="run the proxy on a thread of the app's process, to compare")
    args = parser.parse_args()
    results = asyncio.run(measure(args.n, args.in_process))
    print(f"\n{'phase':18} {'direct p50':>11} {'proxy p50':>10} {'added p50':>10} "
          f"{'direct p99':>11} {'proxy p99':>10}")
    for phase, r in results.items():
        d50, p50 = statistics.median(r["direct"]), statistics.median(r["proxy"])
        print(f"{phase:18} {d50:10.2f}ms {p50:9.2f}ms {p50 - d50:+9.2f}ms "
              f"{pct(r['direct'], .99):10.2f}ms {pct(r['proxy'], .99):9.2f}ms")


if __name__ == "__main__":
    main()
