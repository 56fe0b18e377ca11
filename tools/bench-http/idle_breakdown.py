#!/usr/bin/env python3
"""Where an idle Streamable HTTP session's memory goes (tools/bench-http/README.md).

Starts `sfmcp serve --http 127.0.0.1:0` (no Salesforce needed: idle sessions make no upstream
call), opens N sessions over raw sockets the way rmcp's client does (POST initialize, POST
notifications/initialized, then a GET held open for the standalone SSE stream, the POST
connection kept alive), and prints the server's RSS growth per session. MODE drops parts of
what the client holds, so the difference tells what each part costs:

  MODE=full (default)  session + POST connection + GET stream
  MODE=closepost       session + GET stream (POST connection closed)
  MODE=noget           session + POST connection
  MODE=none            the session alone

CALLS=k makes each session call record_url k times before going idle.
Usage: tools/bench-http/idle_breakdown.py target/release/sfmcp [N]. Loopback only; bounded.
"""
import asyncio
import json
import os
import subprocess
import sys


def rss_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields["Rss"], fields["Anonymous"]


async def request(reader, writer, method, body=None, session=None, read_body=True):
    head = f"{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, text/event-stream\r\n"
    data = b""
    if session:
        head += f"Mcp-Session-Id: {session}\r\n"
    if body is not None:
        data = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()
    status = await reader.readline()
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    if not status.startswith(b"HTTP/1.1 2"):
        raise SystemExit(f"{method}: {status.decode().strip()}")
    if not read_body:
        return headers, b""
    if "content-length" in headers:
        return headers, await reader.readexactly(int(headers["content-length"]))
    payload = b""
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            payload += await reader.readexactly(size)
            await reader.readline()
    return headers, payload


async def open_session(port, mode, calls, held):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "idle-breakdown", "version": "1"}}}
    headers, _ = await request(reader, writer, "POST", initialize)
    session = headers["mcp-session-id"]
    await request(reader, writer, "POST", {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    for k in range(calls):
        call = {"jsonrpc": "2.0", "id": 1 + k, "method": "tools/call", "params": {
            "name": "record_url", "arguments": {"ids": ["001000000000001"]}}}
        _, payload = await request(reader, writer, "POST", call, session)
        if b"lightning" not in payload.lower():
            raise SystemExit(f"record_url answered {payload[:200]!r}")
    if mode in ("closepost", "none"):
        writer.close()
    else:
        held.append(writer)
    if mode in ("full", "closepost"):
        reader2, writer2 = await asyncio.open_connection("127.0.0.1", port)
        await request(reader2, writer2, "GET", None, session, read_body=False)
        held.append((reader2, writer2))


async def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    mode = os.environ.get("MODE", "full")
    calls = int(os.environ.get("CALLS", "0"))
    env = {"PATH": os.environ.get("PATH", ""), "RUST_LOG": "error",
           "SF_INSTANCE_URL": "http://127.0.0.1:9", "SF_ACCESS_TOKEN": "00Dx!idle-breakdown",
           "SF_API_VERSION": "62.0"}
    server = subprocess.Popen([binary, "serve", "--http", "127.0.0.1:0"], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port = None
        while port is None:
            line = server.stderr.readline().decode()
            if not line:
                raise SystemExit("the server ended before serving")
            if line.startswith("sfmcp: serving MCP on http://127.0.0.1:"):
                port = int(line.split("127.0.0.1:")[1].split("/")[0])
        held = []
        await open_session(port, "full", 0, held)  # warm-up, not counted
        await asyncio.sleep(0.5)
        before, _ = rss_kib(server.pid)
        for start in range(0, count, 50):
            await asyncio.gather(*[open_session(port, mode, calls, held)
                                   for _ in range(min(50, count - start))])
        await asyncio.sleep(1.0)
        after, _ = rss_kib(server.pid)
        print(f"MODE={mode} CALLS={calls}: {count} idle sessions, server RSS {before} -> {after} KiB, "
              f"{(after - before) / count:.1f} KiB per session")
    finally:
        server.terminate()
        server.wait()


asyncio.run(main())
