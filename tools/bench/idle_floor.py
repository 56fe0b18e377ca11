"""What one REST request to the demo emulator costs back to back, and after the emulator has
been idle for a moment, as it always has been when an MCP server's upstream request reaches it.

  python3 tools/bench/idle_floor.py [--sfmcp target/dist/sfmcp] [--requests 400]

The peer bench subtracts a floor from each server's round trip: the raw request timed in a
loop of its own ("separate"), or sent right after each tool call ("interleaved"). This
shows why they differ: the client spins through a gap before each request (it stays awake;
only the emulator idles), and the request's median is printed per gap. Standard library
only; loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
import urllib.parse

QUERIES = {
    "query 1": "SELECT Id, Name FROM Account ORDER BY Name LIMIT 1",
    "query 200": "SELECT Id, Name, Industry, AnnualRevenue FROM Account ORDER BY Name LIMIT 200",
}
GAPS_MS = (0, 0.2, 0.5, 1, 2, 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sfmcp", default="target/dist/sfmcp")
    parser.add_argument("--requests", type=int, default=400, help="per query and gap")
    args = parser.parse_args()
    try:
        emulator = subprocess.Popen(
            [args.sfmcp, "emulator", "--demo", "--daily-api-limit", "100000000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError as e:
        print(f"idle_floor: cannot start {args.sfmcp} ({e}); build it with cargo build --profile dist", file=sys.stderr)
        return 2
    try:
        info = json.loads(emulator.stdout.readline())
        token = info["orgs"][0]["access_token"]
        base = urllib.parse.urlsplit(info["base_url"])
        conn = http.client.HTTPConnection(base.hostname, base.port)
        figures = {}
        for name, query in QUERIES.items():
            path = f"/services/data/v{info['api_version']}/query?" + urllib.parse.urlencode({"q": query})

            def request() -> float:
                started = time.perf_counter()
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{name}: HTTP {response.status}")
                return time.perf_counter() - started

            for _ in range(50):
                request()
            figures[name] = {}
            for gap in GAPS_MS:
                times = []
                for _ in range(args.requests):
                    until = time.perf_counter() + gap / 1000
                    while time.perf_counter() < until:
                        pass
                    times.append(request())
                figures[name][f"{gap} ms"] = statistics.median(times) * 1000
            cells = " | ".join(f"after {gap}: {ms:.3f}" for gap, ms in figures[name].items())
            print(f"{name}, median ms by idle gap: {cells}")
        print(json.dumps(figures))
        return 0
    finally:
        emulator.kill()
        emulator.wait()


if __name__ == "__main__":
    sys.exit(main())
