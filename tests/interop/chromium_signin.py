"""Signs in through a real browser: headless Chromium opens an authorize URL, types the
username and password into the login page, clicks Log In, then clicks Allow on the approval
page, and ends wherever the redirect leads.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fd 3 in,
fd 4 out, messages ending in NUL), so nothing beyond Python's standard library is needed.

usage: chromium_signin.py AUTHORIZE_URL USERNAME PASSWORD
prints one JSON object: {"pages": [{"title", "url", "text"}, ...]}, one per page loaded.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60.0


class Chromium:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="sfmcp-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Above the child's 3 and 4, so that dup2 onto them always clears close-on-exec.
        high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def pipe_fds():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=pipe_fds,
        )
        os.close(high_r)
        os.close(high_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 65536)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None):
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method, session):
        deadline = time.monotonic() + TIMEOUT
        for i, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                del self.events[i]
                return event
        while True:
            message = self.receive(deadline)
            if message.get("method") == method and message.get("sessionId") == session:
                return message
            self.events.append(message)

    def close(self):
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main(url, username, password):
    browser = Chromium()
    pages = []
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        browser.call("Page.enable", session=session)

        def evaluate(expression):
            result = browser.call(
                "Runtime.evaluate",
                {"expression": expression, "returnByValue": True},
                session,
            )
            return result.get("result", {}).get("value")

        def page_loaded():
            browser.wait_event("Page.loadEventFired", session)
            pages.append(
                {
                    "title": evaluate("document.title"),
                    "url": evaluate("location.href"),
                    "text": evaluate("document.body ? document.body.innerText : ''"),
                }
            )

        def type_into(element_id, text):
            evaluate(f"document.getElementById({json.dumps(element_id)}).focus()")
            browser.call("Input.insertText", {"text": text}, session)

        def click(element_id):
            evaluate(f"document.getElementById({json.dumps(element_id)}).click()")

        browser.call("Page.navigate", {"url": url}, session)
        page_loaded()
        evaluate("document.getElementById('username').value = ''")
        type_into("username", username)
        type_into("password", password)
        click("Login")
        page_loaded()
        click("oaapprove")
        page_loaded()
    finally:
        browser.close()
    print(json.dumps({"pages": pages}))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:4])
