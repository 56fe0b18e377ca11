"""Where `sfmcp serve` keeps its memory, and whether HTTP sessions give theirs back.

  python3 tools/load/memory.py --sfmcp target/dist/sfmcp stdio
      RSS after initialize + tools/list over stdio, split by mapping (/proc/PID/smaps).
  python3 tools/load/memory.py --sfmcp target/dist/sfmcp sessions --sessions 1000
      `serve --http`: opens N sessions (initialize + initialized), closes them with DELETE,
      and samples RSS at each step and for --settle seconds after.

Standard library only; everything runs on 127.0.0.1 against `sfmcp emulator`. Extra
environment for the server (MALLOC_ARENA_MAX=1, ...) passes through from this process.
Figures go to stdout as JSON; tools/README.md keeps the ones of the last run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time

PROTOCOL = "2025-11-25"
INIT = {
    "protocolVersion": PROTOCOL,
    "capabilities": {},
    "clientInfo": {"name": "memory-probe", "version": "1"},
}


def status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rollup(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1])
    return out


def by_mapping(pid: int) -> list[tuple[str, str, int]]:
    """(name, permissions, resident KiB) per mapping, largest first."""
    rows, name, perms = [], "", ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                perms = head[1]
                name = head[5] if len(head) > 5 else "[anon]"
            elif head[0] == "Rss:":
                rows.append((os.path.basename(name), perms, int(head[1])))
    grouped: dict[tuple[str, str], int] = {}
    for n, p, kib in rows:
        grouped[(n, p)] = grouped.get((n, p), 0) + kib
    return sorted(((n, p, k) for (n, p), k in grouped.items() if k), key=lambda r: -r[2])


def start_emulator(sfmcp: str) -> tuple[subprocess.Popen, dict]:
    emulator = subprocess.Popen(
        [sfmcp, "emulator"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    info = json.loads(emulator.stdout.readline())
    org = info["orgs"][0]
    env = {
        "SF_INSTANCE_URL": org["instance_url"],
        "SF_LOGIN_URL": org["login_url"],
        "SF_ACCESS_TOKEN": org["access_token"],
        "SF_REFRESH_TOKEN": org["refresh_token"],
        "SF_CLIENT_ID": org["client_id"],
        "SF_CLIENT_SECRET": org["client_secret"],
    }
    return emulator, env


def stdio(args, env) -> dict:
    server = subprocess.Popen(
        [args.sfmcp, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
        text=True,
    )

    def rpc(message):
        server.stdin.write(json.dumps(message) + "\n")
        server.stdin.flush()
        if "id" in message:
            return json.loads(server.stdout.readline())

    rpc({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
    rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})
    rpc({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    time.sleep(0.2)
    roll = rollup(server.pid)
    report = {
        "rss_kib": roll["Rss"],
        "anonymous_kib": roll["Anonymous"],
        "file_kib": roll["Rss"] - roll["Anonymous"],
        "threads": status_kib(server.pid, "Threads"),
        "mappings": [f"{n} {p} {k}" for n, p, k in by_mapping(server.pid)[:14]],
    }
    for i in range(args.queries):
        rpc({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {
            "name": "soql_query",
            "arguments": {"query": "SELECT Id, Name, Industry FROM Account LIMIT 200"}}})
    if args.queries:
        report["rss_kib_after_queries"] = status_kib(server.pid, "VmRSS")
        report["anonymous_kib_after_queries"] = rollup(server.pid)["Anonymous"]
    server.stdin.close()
    server.wait(timeout=10)
    return report


def post(port, body, session=None, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    if session:
        headers["mcp-session-id"] = session
        headers["mcp-protocol-version"] = PROTOCOL
    conn.request(method, "/mcp", body=json.dumps(body) if body is not None else None,
                 headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("mcp-session-id")


def serve_http(args, env, extra: list[str]) -> tuple[subprocess.Popen, int]:
    """`sfmcp serve --http` on a free loopback port; the process and the port it printed."""
    server = subprocess.Popen(
        [args.sfmcp, "serve", "--http", "127.0.0.1:0", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        text=True,
    )
    for line in server.stderr:
        if line.startswith("sfmcp: serving MCP on "):
            url = line.split()[4]
            return server, int(url.split(":")[2].split("/")[0])
    raise SystemExit("sfmcp serve --http ended before it served")


def sessions(args, env) -> dict:
    server, port = serve_http(args, env, ["--max-sessions", str(args.sessions)])
    # Drained, so a full pipe never stalls the server; kept for the count of finished sessions.
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(server.stderr), daemon=True).start()
    samples = [("start", status_kib(server.pid, "VmRSS"))]
    for cycle in range(args.cycles):
        opened = []
        for i in range(args.sessions):
            status, session = post(port, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                          "params": INIT})
            if status != 200:
                raise SystemExit(f"session {i}: HTTP {status}")
            post(port, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
            opened.append(session)
        status, _ = post(port, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT})
        samples.append((f"cycle {cycle}: {len(opened)} open (one more: HTTP {status})",
                        status_kib(server.pid, "VmRSS")))
        for session in opened:
            post(port, None, session, method="DELETE")
        time.sleep(1)
        samples.append((f"cycle {cycle}: closed", status_kib(server.pid, "VmRSS")))
    time.sleep(args.settle)
    samples.append((f"{args.settle} s later", status_kib(server.pid, "VmRSS")))
    if args.trim:
        # Is what stays freed-but-kept memory of glibc's malloc? Ask it to give back all it can.
        subprocess.run(["gdb", "-p", str(server.pid), "-batch", "-ex",
                        "call (int) malloc_trim(0)"], capture_output=True, timeout=60)
        samples.append(("after malloc_trim(0) (gdb)", status_kib(server.pid, "VmRSS")))
    server.terminate()
    server.wait(timeout=10)
    finished = sum("serve finished" in line for line in log)
    return {"sessions": args.sessions, "rss_kib": samples, "services_finished": finished}


def stateless(args, env) -> dict:
    """`--sessions` clients of a `--stateless` server, each on its own keep-alive connection:
    initialize and tools/list, then held open and idle. What each costs is what stays per
    connection once no session exists (the socket, hyper's buffers, the connection task)."""
    server, port = serve_http(args, env, ["--stateless"])
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    headers = {"accept": "application/json, text/event-stream",
               "content-type": "application/json", "mcp-protocol-version": PROTOCOL}
    samples = [("start", status_kib(server.pid, "VmRSS"))]
    for cycle in range(args.cycles):
        clients = []
        for i in range(args.sessions):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for message in ({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT},
                            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}):
                conn.request("POST", "/mcp", body=json.dumps(message), headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"client {i}: HTTP {response.status}")
            clients.append(conn)
        samples.append((f"cycle {cycle}: {len(clients)} clients connected, idle",
                        status_kib(server.pid, "VmRSS")))
        for conn in clients:
            conn.close()
        time.sleep(1)
        samples.append((f"cycle {cycle}: disconnected", status_kib(server.pid, "VmRSS")))
    server.terminate()
    server.wait(timeout=10)
    per_client = (max(kib for label, kib in samples if "connected" in label)
                  - samples[0][1]) / max(args.sessions, 1)
    return {"clients": args.sessions, "rss_kib": samples,
            "kib_per_connected_client": round(per_client, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sfmcp", default="target/dist/sfmcp")
    parser.add_argument("mode", choices=["stdio", "sessions", "stateless"])
    parser.add_argument("--queries", type=int, default=0, help="stdio: 200-row queries after")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--settle", type=int, default=5)
    parser.add_argument("--trim", action="store_true", help="sessions: then malloc_trim via gdb")
    args = parser.parse_args()
    emulator, env = start_emulator(args.sfmcp)
    try:
        report = {"stdio": stdio, "sessions": sessions, "stateless": stateless}[args.mode](
            args, env)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
