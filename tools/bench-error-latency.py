#!/usr/bin/env python3
"""How long a tool takes to say what is wrong when Salesforce is unreachable or misconfigured.

Usage: tools/bench-error-latency.py [path/to/sfmcp] [--calls N]

Starts `sfmcp emulator` (loopback) and, for each scenario, one `sfmcp serve` over stdio with
the scenario's settings; sends `initialize`, then N `tools/call soql_query` and times each
round trip (pipe write to answer read) with a monotonic clock. The first call of a session
is reported apart: it is the one that connects (version list, token). Prints a Markdown
table for docs/reliability.md. Standard library only; all traffic stays on 127.0.0.1.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def find_binary(args):
    for arg in args:
        if not arg.startswith("--") and os.path.exists(arg):
            return arg
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    for profile in ("release", "debug"):
        path = os.path.join(target, profile, "sfmcp")
        if os.path.exists(path):
            return path
    sys.exit("sfmcp binary not found: pass its path, or build it (cargo build --release)")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def black_hole():
    """A loopback port that answers no connection attempt, as a host dropping packets does:
    a listener with a backlog of one whose queue is full, so the kernel drops further SYNs.
    Returns the port and the sockets to keep open."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = [listener]
    for _ in range(8):
        filler = socket.socket()
        filler.settimeout(0.3)
        try:
            filler.connect(("127.0.0.1", port))
        except socket.timeout:
            held.append(filler)
            return port, held
        held.append(filler)
    sys.exit("the black-hole listener's queue never filled")


class NotSalesforce(BaseHTTPRequestHandler):
    """A web server that is not Salesforce: every path is an HTML 404."""

    def do_GET(self):
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Session:
    def __init__(self, binary, env):
        full_env = {"PATH": os.environ.get("PATH", ""), "RUST_LOG": "off"}
        full_env.update(env)
        self.proc = subprocess.Popen(
            [binary, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=full_env,
        )
        self.next_id = 0
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        )
        self.notify("notifications/initialized")

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def notify(self, method):
        self.send({"jsonrpc": "2.0", "method": method})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server closed stdout")
            message = json.loads(line)
            if message.get("id") == self.next_id:
                return message

    def timed_call(self, tool, arguments):
        started = time.perf_counter()
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        elapsed = (time.perf_counter() - started) * 1000.0
        result = answer.get("result", {})
        text = "".join(c.get("text", "") for c in result.get("content", []))
        return elapsed, result.get("isError", False), text

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    binary = find_binary(sys.argv[1:])
    calls = 50
    if "--calls" in sys.argv:
        calls = int(sys.argv[sys.argv.index("--calls") + 1])

    emulator = subprocess.Popen(
        [binary, "emulator", "--demo"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        org = json.loads(emulator.stdout.readline())["orgs"][0]
        web = HTTPServer(("127.0.0.1", 0), NotSalesforce)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        direct = {
            "SF_INSTANCE_URL": org["instance_url"],
            "SF_LOGIN_URL": org["login_url"],
            "SF_CLIENT_ID": org["client_id"],
            "SF_CLIENT_SECRET": org["client_secret"],
        }
        hole, _held = black_hole()
        scenarios = [
            (
                "host drops packets (black hole; SFMCP_CONNECT_TIMEOUT_SECS default 5)",
                {"SF_INSTANCE_URL": f"http://127.0.0.1:{hole}", "SF_ACCESS_TOKEN": "00Dxx!x"},
            ),
            (
                "nothing listening (closed port)",
                {"SF_INSTANCE_URL": f"http://127.0.0.1:{closed_port()}", "SF_ACCESS_TOKEN": "00Dxx!x"},
            ),
            (
                "instance URL is another web server (HTML 404)",
                {"SF_INSTANCE_URL": f"http://127.0.0.1:{web.server_port}", "SF_ACCESS_TOKEN": "00Dxx!x"},
            ),
            (
                "access token refused, nothing to renew it",
                {"SF_INSTANCE_URL": org["instance_url"], "SF_ACCESS_TOKEN": "00Dxx!not-a-token"},
            ),
            ("refresh token refused", dict(direct, SF_REFRESH_TOKEN="5Aep-not-a-refresh-token")),
            ("client secret wrong", dict(direct, SF_REFRESH_TOKEN=org["refresh_token"], SF_CLIENT_SECRET="wrong")),
            (
                "working org (for comparison)",
                dict(direct, SF_REFRESH_TOKEN=org["refresh_token"], SF_ACCESS_TOKEN=org["access_token"]),
            ),
        ]
        arguments = {"query": "SELECT Id FROM Account LIMIT 1"}
        print(f"sfmcp: {binary}; {calls} calls per scenario; soql_query over stdio\n")
        print("| Scenario | first call ms | later calls p50 ms | p95 ms | max ms | the error says |")
        print("|---|---|---|---|---|---|")
        for name, env in scenarios:
            session = Session(binary, env)
            first, first_error, first_text = session.timed_call("soql_query", arguments)
            times = []
            for _ in range(calls):
                elapsed, _, _ = session.timed_call("soql_query", arguments)
                times.append(elapsed)
            session.close()
            times.sort()
            p50 = statistics.median(times)
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            said = first_text.splitlines()[-1] if first_error else "(answered)"
            said = said.replace("|", "\\|")[:110]
            print(f"| {name} | {first:.1f} | {p50:.1f} | {p95:.1f} | {times[-1]:.1f} | {said} |")
        web.shutdown()
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    main()
