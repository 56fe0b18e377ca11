"""The Python MCP SDK's OAuth client against `sfmcp serve --http --oauth`.

Discovery (401 -> protected-resource metadata -> server metadata), Dynamic Client
Registration, PKCE, the browser part (sfmcp's consent page, Salesforce's authorize, sfmcp's
callback) driven with plain HTTP, the token exchange, tools/list and tools/call; then the
access token is made to look expired so the SDK refreshes, and a call runs again.
Prints one JSON line for the Rust test to check.

With mode `stepup` the client asks for `sfmcp.read` only, then calls a write tool: the
server's 403 `insufficient_scope` makes the SDK sign in again for more, and the call runs.

argv: MCP URL, SOQL query, mode (`refresh` or `stepup`).
"""

import asyncio
import html
import json
import re
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

REDIRECT = "http://127.0.0.1:8765/callback"


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


async def main(url, query, mode):
    seen = {"consent": None, "redirect": None, "sign_ins": 0}
    browser = httpx2.AsyncClient(follow_redirects=False, timeout=30)

    async def redirect_handler(authorization_url):
        seen["sign_ins"] += 1
        consent = await browser.get(authorization_url)
        assert consent.status_code == 200, consent.text
        seen["consent"] = consent.text
        link = re.search(r'id=continue href="([^"]+)"', consent.text)
        assert link, consent.text
        salesforce = await browser.get(html.unescape(link.group(1)))
        assert salesforce.status_code == 302, salesforce.text
        callback = await browser.get(salesforce.headers["location"])
        assert callback.status_code == 302, callback.text
        seen["redirect"] = callback.headers["location"]

    async def callback_handler():
        params = parse_qs(urlsplit(seen["redirect"]).query)
        return AuthorizationCodeResult(
            code=params["code"][0], state=params.get("state", [None])[0], iss=params.get("iss", [None])[0]
        )

    if mode == "stepup":
        # A client that asks for least privilege: the SDK takes the 401's scope list, so its
        # first choice is narrowed to read here; the step-up after the 403 is the SDK's own.
        from mcp.client.auth import oauth2

        choose = oauth2.get_client_metadata_scopes
        first = {"done": False}

        def read_first(*args, **kwargs):
            if not first["done"]:
                first["done"] = True
                return "sfmcp.read"
            return choose(*args, **kwargs)

        oauth2.get_client_metadata_scopes = read_first

    storage = Memory()
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Python SDK test client",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
            scope="sfmcp.read" if mode == "stepup" else None,
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    out = {}
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                out["tools"] = sorted(t.name for t in tools.tools)
                if mode == "stepup":
                    created = await session.call_tool(
                        "create_record", {"object": "Account", "fields": {"Name": "Step-up Co"}}
                    )
                    out["created"] = {"is_error": created.is_error, "structured": created.structured_content}
                    out["scope_after"] = storage.tokens.scope
                    out["sign_ins"] = seen["sign_ins"]
                    print(json.dumps(out))
                    return
                first = await session.call_tool("soql_query", {"query": query})
                out["first"] = {"is_error": first.is_error, "structured": first.structured_content}
                out["access_before"] = storage.tokens.access_token
                out["refresh_before"] = storage.tokens.refresh_token
                out["scope"] = storage.tokens.scope
                # Make the SDK believe the access token expired: the next request refreshes.
                provider.context.token_expiry_time = time.time() - 1
                second = await session.call_tool("soql_query", {"query": query})
                out["second"] = {"is_error": second.is_error, "structured": second.structured_content}
                out["access_after"] = storage.tokens.access_token
                out["refresh_after"] = storage.tokens.refresh_token
    out["client_id"] = storage.client.client_id
    out["redirect"] = seen["redirect"]
    out["consent"] = seen["consent"]
    await browser.aclose()
    print(json.dumps(out))


asyncio.run(main(*sys.argv[1:4]))
