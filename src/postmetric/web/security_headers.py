"""Response headers that keep the dashboard's pages from being framed, sniffed or scripted from elsewhere.

Sent on every answer of the Starlette app (pages, API, tracker script): a policy on a JSON or
JavaScript response costs nothing and covers any HTML a route may add later. None of them limits
cross-origin use of the tracker: `/js/script.js` is loaded by `<script src>` (which `nosniff` only
asks to be served as JavaScript, as it is) and the ingestion endpoints answer with CORS headers.

1. `Content-Security-Policy`: scripts only from this origin (the dashboard build has no inline
   script), no plugins, no `<base>` tricks, no framing (`frame-ancestors 'none'`: clickjacking).
   Inline styles stay allowed: the API documentation page and the not-built page carry a
   `<style>`, and CSS cannot run code.
2. `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
3. `X-Content-Type-Options: nosniff`.
4. `Referrer-Policy: same-origin`: a click from the dashboard to a referrer's site does not tell
   that site where this instance is, nor a share link's token.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: adds SECURITY_HEADERS to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
