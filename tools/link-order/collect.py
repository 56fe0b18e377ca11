"""Lists the functions `sfmcp serve` runs from start to a few answers, for the linker to place together.

  python3 tools/link-order/collect.py --sfmcp target/dist/sfmcp > tools/link-order/sfmcp.order
  python3 tools/link-order/collect.py --sfmcp target/dist/sfmcp --check   # is the list current?

The binary must keep its symbol table (the `dist` profile strips debug info only). It runs
under valgrind's callgrind against `sfmcp emulator --demo` on 127.0.0.1: initialize,
tools/list, a 1-row and a 200-row `soql_query`, `describe_object`, `get_record`, then end of
input. Every function that ran is printed once, mangled, in the order callgrind first names
it. `build.rs` hands the file to the linker (`--symbol-ordering-file`), which puts those
functions at the start of `.text`: the pages a running server touches are then few and
adjacent instead of spread over 20 MiB of code. A name the linker no longer finds is
skipped, and names change with the code, not only with dependencies: a generic function's
instances are named after their types, and ThinLTO names the local functions it exports
`<name>.llvm.<hash of their module>`. A change to code the server runs leaves part of the list
behind (one such change left 327 of 2,298 names and put 3.8 MiB back on RSS after
`tools/list`). `--check` counts the list's names in a build's symbol table; regenerate when it
says so.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sfmcp", required=True)
    parser.add_argument(
        "--check",
        action="store_true",
        help="count the names of tools/link-order/sfmcp.order found in the binary; exit 1 under 99%%",
    )
    args = parser.parse_args()
    if args.check:
        return check(args.sfmcp)
    if not shutil.which("valgrind"):
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    if not os.access(args.sfmcp, os.X_OK):
        print(f"{args.sfmcp} is not an executable: cargo build --profile dist --bin sfmcp", file=sys.stderr)
        return 2
    emulator = subprocess.Popen(
        [args.sfmcp, "emulator", "--demo"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        info = json.loads(emulator.stdout.readline())
        org = info["orgs"][0]
        out = tempfile.NamedTemporaryFile(prefix="callgrind-", delete=False).name
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tempfile.mkdtemp(prefix="link-order-"),
            "SF_INSTANCE_URL": info["base_url"],
            "SF_ACCESS_TOKEN": org["access_token"],
            "SF_API_VERSION": info["api_version"],
        }
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", args.sfmcp, "serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )
        calls = [
            ("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "link-order", "version": "1"}}),
            ("notifications/initialized", None),
            ("tools/list", {}),
            ("tools/call", {"name": "soql_query", "arguments": {"query": "SELECT Id, Name FROM Account LIMIT 1"}}),
            ("tools/call", {"name": "soql_query", "arguments": {
                "query": "SELECT Id, FirstName, LastName, Company, Email, Status, LeadSource, CreatedDate FROM Lead LIMIT 200",
                "max_rows": 200}}),
            ("tools/call", {"name": "describe_object", "arguments": {"object": "Contact"}}),
        ]
        for n, (method, params) in enumerate(calls, start=1):
            message = {"jsonrpc": "2.0", "method": method}
            if params is not None:
                message["params"] = params
            if not method.startswith("notifications/"):
                message["id"] = n
            server.stdin.write((json.dumps(message) + "\n").encode())
            server.stdin.flush()
            if "id" in message:
                line = server.stdout.readline()
                if not line:
                    print(f"the server ended before answering {method}", file=sys.stderr)
                    return 1
                answer = json.loads(line)
                if "error" in answer or answer.get("result", {}).get("isError"):
                    print(f"{method} failed: {json.dumps(answer)[:300]}", file=sys.stderr)
                    return 1
        server.stdin.close()
        server.wait(timeout=300)
        order = functions_of(out, os.path.realpath(args.sfmcp))
        os.unlink(out)
        if not order:
            print("callgrind named no function of the binary: was its symbol table stripped?", file=sys.stderr)
            return 1
        sys.stdout.write("".join(f"{name}\n" for name in order))
        print(f"{len(order)} functions", file=sys.stderr)
        return 0
    finally:
        emulator.terminate()


def check(binary: str) -> int:
    listed = Path(__file__).with_name("sfmcp.order").read_text().split()
    try:
        symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"nm could not read {binary}: {e}", file=sys.stderr)
        return 2
    present = {line.split()[-1] for line in symbols.stdout.splitlines() if line.strip()}
    found = sum(1 for name in listed if name in present)
    share = found / len(listed) if listed else 0.0
    verdict = "current" if share >= 0.99 else "stale: regenerate it (see the top of this script)"
    print(f"link order: {found} of {len(listed)} names found in {binary} ({share:.0%}), {verdict}")
    return 0 if share >= 0.99 else 1


def functions_of(callgrind_out: str, binary: str) -> list[str]:
    """The binary's own functions in a callgrind profile, each once, in first-named order.

    Names and objects are compressed: `fn=(12) name` the first time, `fn=(12)` after;
    `ob=` sets the object of the `fn=` lines that follow, `cob=` that of the next `cfn=`.
    """
    names, objects, seen, order = {}, {}, set(), []
    current_ob = called_ob = None
    for line in open(callgrind_out, encoding="utf-8", errors="replace"):
        m = re.match(r"(c?)(fn|ob)=\((\d+)\)(?: (.+))?$", line.rstrip("\n"))
        if not m:
            continue
        called, kind, key, value = m.groups()
        table = names if kind == "fn" else objects
        if value:
            table[key] = value
        value = table.get(key)
        if kind == "ob":
            if called:
                called_ob = value
            else:
                current_ob = called_ob = value
            continue
        ob = called_ob if called else current_ob
        called_ob = current_ob
        if value and ob and not value.startswith("0x") and os.path.realpath(ob) == binary:
            name = re.sub(r"'\d+$", "", value)
            if name not in seen:
                seen.add(name)
                order.append(name)
    return order


if __name__ == "__main__":
    sys.exit(main())
