"""Headless Chromium completes sfmcp's browser sign-in: it opens the authorize URL, clicks
"Continue to Salesforce" on sfmcp's consent page, goes through Salesforce's authorize and
sfmcp's callback, and lands on the client's redirect URI. Driven over the DevTools protocol
on a pipe (--remote-debugging-pipe), so nothing but Chromium is needed.

argv: authorize URL, redirect URI prefix, profile directory. Prints the final URL.
"""

import json
import os
import subprocess
import sys
import time

authorize, redirect_prefix, profile = sys.argv[1:4]
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()


def wire():
    # Runs in the child before the descriptors not kept are closed: 3 and 4 are kept.
    os.dup2(to_chrome_r, 3)
    os.dup2(from_chrome_w, 4)


chrome = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
    pass_fds=(3, 4), preexec_fn=wire,
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
os.close(to_chrome_r)
os.close(from_chrome_w)
writer = os.fdopen(to_chrome_w, "wb", buffering=0)
reader = os.fdopen(from_chrome_r, "rb", buffering=0)
buffer = b""
next_id = 0


def send(method, params=None, session=None):
    global next_id, buffer
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    writer.write(json.dumps(message).encode() + b"\0")
    while True:
        while b"\0" not in buffer:
            chunk = reader.read(65536)
            if not chunk:
                raise SystemExit("chromium closed the pipe")
            buffer += chunk
        raw, buffer = buffer.split(b"\0", 1)
        answer = json.loads(raw)
        if answer.get("id") == next_id:
            if "error" in answer:
                raise SystemExit(f"{method}: {answer['error']}")
            return answer.get("result", {})


def evaluate(session, expression):
    result = send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
    return result.get("result", {}).get("value")


def wait_for(session, expression, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            value = evaluate(session, expression)
        except SystemExit:
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}; at {evaluate(session, 'location.href')}")


try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Page.enable", session=session)
    send("Page.navigate", {"url": authorize}, session)
    wait_for(session, "document.getElementById('continue') !== null", "the consent page")
    evaluate(session, "document.getElementById('continue').click()")
    final = wait_for(
        session,
        f"location.href.startsWith({json.dumps(redirect_prefix)}) && document.readyState === 'complete' ? location.href : ''",
        "the client's redirect URI",
    )
    print(final)
finally:
    try:
        send("Browser.close")
    except SystemExit:
        pass
    chrome.wait(timeout=30)
