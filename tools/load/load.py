"""Load and soak for `sfmcp serve --http` in front of the emulator's Paragon proxy.

Four tenants (four emulated orgs whose account names start with Alpha, Bravo, Charlie,
Delta), SESSIONS concurrent Streamable HTTP sessions spread evenly over them. Each session
runs queries whose exact rows are known in advance, and creates accounts with names unique to
the session. It reports:

  * wrong-tenant results: any row or text that belongs to another tenant, or rows that differ
    from the expected ones;
  * lost and duplicated writes: after the run, every org is read back through the emulator's
    REST API (not through sfmcp), and each acknowledged create must be there exactly once;
  * error rate, latency percentiles per phase, and the server's RSS over time.

Run it with tools/load/run.sh (it builds the binary and sets up Python); see
docs/load-and-fuzz.md for the figures of the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

TENANTS = ["Alpha", "Bravo", "Charlie", "Delta"]
SEED_ACCOUNTS = 300
PAGE = 5
CALLER_TOKEN = "load-test-caller-token-0123456789abcdef"
PROTOCOL = "2025-11-25"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    calls: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wrong_tenant: int = 0
    wrong_samples: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    def summary(self) -> dict:
        ordered = sorted(self.latencies_ms)
        seconds = max(self.ended - self.started, 1e-9)
        return {
            "phase": self.name,
            "seconds": round(seconds, 1),
            "calls": self.calls,
            "calls_per_second": round(self.calls / seconds, 1),
            "errors": self.errors,
            "error_rate": round(self.errors / self.calls, 5) if self.calls else None,
            "wrong_tenant_results": self.wrong_tenant,
            "latency_ms": {
                "p50": round(percentile(ordered, 50), 1),
                "p90": round(percentile(ordered, 90), 1),
                "p99": round(percentile(ordered, 99), 1),
                "max": round(ordered[-1], 1) if ordered else None,
                "mean": round(statistics.fmean(ordered), 1) if ordered else None,
            },
            "error_samples": self.error_samples[:5],
            "wrong_tenant_samples": self.wrong_samples[:5],
        }


class Session:
    """One MCP session over Streamable HTTP, spoken directly as JSON-RPC over POST."""

    def __init__(self, http: httpx.AsyncClient, url: str, tenant_headers: dict[str, str]):
        self.http = http
        self.url = url
        self.headers = {
            "authorization": f"Bearer {CALLER_TOKEN}",
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            **tenant_headers,
        }
        self.next_id = 0

    async def _post(self, message: dict) -> httpx.Response:
        return await self.http.post(self.url, headers=self.headers, content=json.dumps(message))

    @staticmethod
    def _answer(response: httpx.Response, request_id: int) -> dict:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        for line in response.text.splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                if not payload:
                    continue
                message = json.loads(payload)
                if message.get("id") == request_id:
                    return message
        raise RuntimeError(f"no answer to request {request_id} in the event stream")

    async def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        request_id = self.next_id
        response = await self._post(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        )
        return self._answer(response, request_id)

    async def call_tool(self, name: str, arguments: dict) -> dict:
        return await self.request("tools/call", {"name": name, "arguments": arguments})


async def open_session(http, url, tenant_headers) -> Session:
    session = Session(http, url, tenant_headers)
    session.next_id += 1
    response = await session._post(
        {
            "jsonrpc": "2.0",
            "id": session.next_id,
            "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "sfmcp-load", "version": "1"},
            },
        }
    )
    answer = Session._answer(response, session.next_id)
    if "result" not in answer:
        raise RuntimeError(f"initialize failed: {answer}")
    session.headers["mcp-protocol-version"] = answer["result"]["protocolVersion"]
    if sid := response.headers.get("mcp-session-id"):
        session.headers["mcp-session-id"] = sid
    notified = await session._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    if notified.status_code not in (200, 202):
        raise RuntimeError(f"initialized notification: HTTP {notified.status_code}")
    return session


@dataclass
class Writes:
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TENANTS})
    uncertain: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TENANTS})


async def worker(
    index: int,
    session: Session,
    tenant: str,
    phases: list[tuple[Phase, float, float]],
    writes: Writes,
    write_ratio: float,
) -> None:
    """Runs each phase until its deadline: (phase, deadline, think time in seconds)."""
    rng = random.Random(index)
    others = [t for t in TENANTS if t != tenant]
    created = 0
    for phase, deadline, think in phases:
        while time.monotonic() < deadline:
            if rng.random() < write_ratio:
                created += 1
                name = f"{tenant} w{index:03d}-{created:06d}"
                arguments = {"object": "Account", "fields": {"Name": name}}
                tool = "create_record"
            else:
                offset = rng.randrange(0, SEED_ACCOUNTS - PAGE + 1)
                query = f"SELECT Name FROM Account ORDER BY Name LIMIT {PAGE} OFFSET {offset}"
                arguments = {"query": query}
                tool = "soql_query"
                expected = [f"{tenant} {n:03d}" for n in range(offset, offset + PAGE)]
            started = time.perf_counter()
            try:
                answer = await session.call_tool(tool, arguments)
                failure = None
                result = answer.get("result")
                if result is None:
                    failure = f"JSON-RPC error: {answer.get('error')}"
                elif result.get("isError"):
                    failure = "tool error: " + " ".join(
                        c.get("text", "") for c in result.get("content", [])
                    )[:300]
            except Exception as error:  # a transport failure counts as an error
                result = None
                failure = f"{type(error).__name__}: {error}"[:300]
            phase.latencies_ms.append((time.perf_counter() - started) * 1000)
            phase.calls += 1
            if failure is not None:
                phase.errors += 1
                if len(phase.error_samples) < 20:
                    phase.error_samples.append(f"{tool}: {failure}")
                if tool == "create_record":
                    writes.uncertain[tenant].add(name)
            elif tool == "create_record":
                writes.acknowledged[tenant].add(name)
            else:
                sc = result.get("structuredContent") or {}
                # A query's rows come by columns (sfmcp's columnar structured content).
                at = (sc.get("columns") or []).index("Name") if "Name" in (sc.get("columns") or []) else None
                rows = [r[at] for r in sc.get("rows", [])] if at is not None else []
                text = " ".join(c.get("text", "") for c in result.get("content", []))
                leaked = any(other in text for other in others)
                if rows != expected or leaked:
                    phase.wrong_tenant += 1
                    if len(phase.wrong_samples) < 20:
                        phase.wrong_samples.append(f"{tenant} expected {expected}, got {rows}")
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))


async def read_back(emulator: dict, org: dict, tenant: str) -> list[str]:
    """Every account name of `tenant`'s org whose name marks it as written by this run,
    read over the emulator's REST API directly (query, then nextRecordsUrl pages)."""
    base = org["instance_url"]
    version = emulator["api_version"]
    query = f"SELECT Name FROM Account WHERE Name LIKE '{tenant} w%'"
    names: list[str] = []
    async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
        headers = {"authorization": f"Bearer {org['access_token']}"}
        response = await http.get(
            f"{base}/services/data/v{version}/query", params={"q": query}, headers=headers
        )
        while True:
            response.raise_for_status()
            body = response.json()
            names.extend(r["Name"] for r in body["records"])
            next_url = body.get("nextRecordsUrl")
            if not next_url:
                return names
            response = await http.get(f"{base}{next_url}", headers=headers)


def seed_files(directory: Path) -> list[Path]:
    paths = []
    for tenant in TENANTS:
        rows = [{"Name": f"{tenant} {i:03d}", "Industry": "Banking"} for i in range(SEED_ACCOUNTS)]
        path = directory / f"{tenant.lower()}.json"
        path.write_text(json.dumps({"org": {"name": tenant}, "records": {"Account": rows}}))
        paths.append(path)
    return paths


def start_emulator(sfmcp: str, seeds: list[Path]) -> tuple[subprocess.Popen, dict]:
    args = [sfmcp, "emulator", "--daily-api-limit", "100000000"]
    for seed in seeds:
        args += ["--seed", str(seed)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line:
        raise SystemExit("the emulator did not start")
    return process, json.loads(line)


def start_server(sfmcp: str, emulator: dict, directory: Path) -> tuple[subprocess.Popen, str]:
    project = emulator["orgs"][0]["paragon"]
    signing = directory / "signing.pem"
    signing.write_text(project["signing_key_pem"])
    public = directory / "public.pem"
    public.write_text(project["public_key_pem"])
    env = {
        "PATH": os.environ.get("PATH", ""),
        "RUST_LOG": "warn",
        "PARAGON_PROXY_URL": project["proxy_url"],
        "PARAGON_PROJECT_ID": project["project_id"],
        "PARAGON_SIGNING_KEY_FILE": str(signing),
        "PARAGON_PUBLIC_KEY_FILE": str(public),
        "SFMCP_HTTP_TOKENS": CALLER_TOKEN,
    }
    process = subprocess.Popen(
        [sfmcp, "serve", "--http", "127.0.0.1:0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stderr:
        if line.startswith("sfmcp: serving MCP on "):
            url = line.split()[4]
            break
    else:
        raise SystemExit("the server did not start")
    # Keep draining stderr so a chatty server never blocks on a full pipe.
    asyncio.get_running_loop().run_in_executor(None, lambda: [None for _ in process.stderr])
    return process, url


async def sample_rss(pid: int, samples: list[tuple[float, int]], t0: float, stop: asyncio.Event):
    while not stop.is_set():
        if (kib := rss_kib(pid)) is not None:
            samples.append((round(time.monotonic() - t0, 1), kib))
        try:
            await asyncio.wait_for(stop.wait(), timeout=5)
        except asyncio.TimeoutError:
            pass


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sfmcp", required=True, help="path to the sfmcp binary")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--soak-seconds", type=float, default=600)
    parser.add_argument("--soak-think", type=float, default=0.25,
                        help="mean pause between a session's calls during the soak (s)")
    parser.add_argument("--write-ratio", type=float, default=0.1)
    parser.add_argument("--out", help="write the JSON report here too")
    args = parser.parse_args()
    if args.sessions < len(TENANTS) or args.sessions > 1000:
        raise SystemExit("--sessions must be between 4 and 1000")
    if args.load_seconds > 3600 or args.soak_seconds > 3600:
        raise SystemExit("each phase is bounded to an hour")

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        emulator_process, emulator = start_emulator(args.sfmcp, seed_files(directory))
        server_process = None
        try:
            server_process, url = start_server(args.sfmcp, emulator, directory)
            log(f"server {url} (pid {server_process.pid}), emulator {emulator['base_url']}")
            limits = httpx.Limits(max_connections=args.sessions + 10,
                                  max_keepalive_connections=args.sessions + 10)
            async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as http:
                sessions = []
                for index in range(args.sessions):
                    tenant = TENANTS[index % len(TENANTS)]
                    paragon = emulator["orgs"][TENANTS.index(tenant)]["paragon"]
                    headers = {
                        "x-paragon-user": paragon["user_id"],
                        "x-paragon-credential": paragon["credential_id"],
                    }
                    sessions.append((tenant, await open_session(http, url, headers)))
                log(f"{len(sessions)} sessions open across {len(TENANTS)} tenants")
                load = Phase("load")
                soak = Phase("soak")
                writes = Writes()
                rss: list[tuple[float, int]] = []
                stop = asyncio.Event()
                t0 = time.monotonic()
                sampler = asyncio.create_task(sample_rss(server_process.pid, rss, t0, stop))
                load.started = time.monotonic()
                load_end = load.started + args.load_seconds
                soak_end = load_end + args.soak_seconds
                plan = [(load, load_end, 0.0), (soak, soak_end, args.soak_think)]

                async def mark_soak_start():
                    await asyncio.sleep(max(0.0, load_end - time.monotonic()))
                    load.ended = soak.started = time.monotonic()
                    log(f"load phase done: {load.calls} calls, {load.errors} errors; soaking")

                marker = asyncio.create_task(mark_soak_start())
                await asyncio.gather(*(
                    worker(i, s, tenant, plan, writes, args.write_ratio)
                    for i, (tenant, s) in enumerate(sessions)
                ))
                await marker
                soak.ended = time.monotonic()
                stop.set()
                await sampler

            lost, duplicated, uncertain_present = {}, {}, {}
            for index, tenant in enumerate(TENANTS):
                present = await read_back(emulator, emulator["orgs"][index], tenant)
                counts: dict[str, int] = {}
                for name in present:
                    counts[name] = counts.get(name, 0) + 1
                lost[tenant] = sorted(writes.acknowledged[tenant] - counts.keys())
                duplicated[tenant] = sorted(n for n, c in counts.items() if c > 1)
                uncertain_present[tenant] = sum(
                    1 for n in writes.uncertain[tenant] if n in counts
                )
                strays = [n for n in counts if n not in writes.acknowledged[tenant]
                          and n not in writes.uncertain[tenant]]
                duplicated[tenant] += [f"unexpected: {n}" for n in strays]

            warm = [kib for t, kib in rss if t >= args.load_seconds + 60]
            report = {
                "sessions": args.sessions,
                "tenants": len(TENANTS),
                "phases": [load.summary(), soak.summary()],
                "writes": {
                    "acknowledged": sum(len(v) for v in writes.acknowledged.values()),
                    "lost": sum(len(v) for v in lost.values()),
                    "duplicated_or_unexpected": sum(len(v) for v in duplicated.values()),
                    "errored_but_present": sum(uncertain_present.values()),
                    "errored": sum(len(v) for v in writes.uncertain.values()),
                    "lost_samples": [n for v in lost.values() for n in v][:5],
                    "duplicated_samples": [n for v in duplicated.values() for n in v][:5],
                },
                "server_rss_kib": {
                    "samples": rss,
                    "start": rss[0][1] if rss else None,
                    "warm_first": warm[0] if warm else None,
                    "warm_max": max(warm) if warm else None,
                    "end": rss[-1][1] if rss else None,
                    "growth_after_warm_pct": round(100 * (warm[-1] - warm[0]) / warm[0], 1)
                    if len(warm) > 1 else None,
                },
            }
        finally:
            if server_process is not None:
                server_process.terminate()
            emulator_process.terminate()

    text = json.dumps(report, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    summary = {k: v for k, v in report.items() if k != "server_rss_kib"}
    summary["server_rss_kib"] = {k: v for k, v in report["server_rss_kib"].items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    wrong = sum(p["wrong_tenant_results"] for p in report["phases"])
    ok = wrong == 0 and report["writes"]["lost"] == 0 and report["writes"]["duplicated_or_unexpected"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
