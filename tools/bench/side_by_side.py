"""Two sfmcp builds side by side, call for call: which one adds less to a query.

  python3 tools/bench/side_by_side.py BEFORE AFTER [--calls 1500] [--rows 200] [--runs 3]

Starts one demo emulator (from BEFORE's binary) and both servers on stdio against it, warms
them, then alternates: a 200-row `soql_query` on one, the same REST request raw, the other,
raw again, swapping which goes first every call. Both builds see the same emulator, the same
caches and the same machine moment, so a difference of a few hundredths of a millisecond
shows, where runs taken one after the other move by a tenth (tools/README.md). Prints each
build's median round trip, its added time over the median raw request, and its CPU per call.
Standard library only; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

QUERY = "SELECT Id, Name, Industry, AnnualRevenue FROM Account ORDER BY Name LIMIT {rows}"
WARM_CALLS = 50


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, binary: str, env: dict):
        self.proc = subprocess.Popen(
            [binary, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.next_id = 0

    def call(self, method: str, params: dict, notify: bool = False) -> bytes | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()
        if notify:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the server closed its stdout")
        return line

    def close(self):
        self.proc.kill()
        self.proc.wait()


def run_once(before: str, after: str, calls: int, rows: int) -> list[dict]:
    emulator = subprocess.Popen(
        [before, "emulator", "--demo", "--daily-api-limit", "100000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    servers = []
    try:
        info = json.loads(emulator.stdout.readline())
        org = info["orgs"][0]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tempfile.mkdtemp(prefix="side-by-side-"),
            "SF_INSTANCE_URL": info["base_url"],
            "SF_ACCESS_TOKEN": org["access_token"],
            "SF_API_VERSION": info["api_version"],
        }
        query = QUERY.format(rows=rows)
        arguments = {"name": "soql_query", "arguments": {"query": query, "max_rows": 2000}}
        servers = [Server(before, env), Server(after, env)]
        for server in servers:
            server.call("initialize", {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "side-by-side", "version": "1"},
            })
            server.call("notifications/initialized", {}, notify=True)
            for _ in range(WARM_CALLS):
                answer = json.loads(server.call("tools/call", arguments))
                if "error" in answer or answer["result"].get("isError"):
                    raise RuntimeError(f"the query failed: {json.dumps(answer)[:300]}")
        base = urllib.parse.urlsplit(info["base_url"])
        conn = http.client.HTTPConnection(base.hostname, base.port)
        path = f"/services/data/v{info['api_version']}/query?" + urllib.parse.urlencode({"q": query})
        headers = {"Authorization": f"Bearer {org['access_token']}"}

        def raw() -> float:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
            return time.perf_counter() - started

        round_trips: list[list[float]] = [[], []]
        floor: list[float] = []
        cpu_before = [cpu_seconds(s.proc.pid) for s in servers]
        for i in range(calls):
            for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                started = time.perf_counter()
                servers[k].call("tools/call", arguments)
                round_trips[k].append(time.perf_counter() - started)
                floor.append(raw())
        cpu_after = [cpu_seconds(s.proc.pid) for s in servers]
        conn.close()
        floor_ms = statistics.median(floor) * 1000
        return [
            {
                "round_trip_ms": statistics.median(round_trips[k]) * 1000,
                "added_ms": statistics.median(round_trips[k]) * 1000 - floor_ms,
                "cpu_ms_per_call": (cpu_after[k] - cpu_before[k]) / calls * 1000,
                "floor_ms": floor_ms,
            }
            for k in (0, 1)
        ]
    finally:
        for server in servers:
            server.close()
        emulator.kill()
        emulator.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--calls", type=int, default=1500, help="calls per build per run")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for binary in (args.before, args.after):
        if not os.access(binary, os.X_OK):
            print(f"side_by_side: {binary} is not an executable sfmcp build", file=sys.stderr)
            return 2
    results = []
    for run in range(args.runs):
        pair = run_once(args.before, args.after, args.calls, args.rows)
        results.append(pair)
        line = "  ".join(
            f"{name}: added {r['added_ms']:.3f} ms (round trip {r['round_trip_ms']:.3f}, cpu {r['cpu_ms_per_call']:.3f})"
            for name, r in zip(("before", "after"), pair)
        )
        print(f"run {run + 1}: {line}  floor {pair[0]['floor_ms']:.3f} ms", flush=True)
    difference = [pair[1]["added_ms"] - pair[0]["added_ms"] for pair in results]
    print(f"after minus before, added ms per run: {', '.join(f'{d:+.3f}' for d in difference)}")
    print(json.dumps({"runs": results, "after_minus_before_ms": difference}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
