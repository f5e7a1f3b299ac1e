"""Security headers on every response, and a fresh CSP nonce for each page's own scripts."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorPage = Callable[[Request, Exception], Awaitable[Response]]

# Static assets are the same for everyone and safe to cache; everything else may hold case data.
CACHEABLE_PREFIXES = ("/static/",)


def content_security_policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def security_headers(nonce: str, *, cacheable: bool, https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(nonce).encode()),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
        (b"permissions-policy", b"microphone=(self), camera=(), geolocation=(), payment=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if not cacheable:
        headers.append((b"cache-control", b"no-store"))
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeaders:
    """Adds the headers to every HTTP response; templates read `request.state.csp_nonce`.

    An unexpected error is answered here with `error_page`, so a 500 carries the headers
    too (Starlette's own last-resort handler sits outside every middleware).
    """

    def __init__(self, app: ASGIApp, error_page: ErrorPage) -> None:
        self.app, self.error_page = app, error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        cacheable = scope["path"].startswith(CACHEABLE_PREFIXES)
        https = scope.get("scheme") == "https"

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                ours = security_headers(nonce, cacheable=cacheable, https=https)
                names = {name for name, _ in ours}
                message = {**message, "headers": [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in names
                ] + ours}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:  # the answer is half sent: nothing better can be done than stop
                raise
            response = await self.error_page(Request(scope), exc)
            await response(scope, receive, send_with_headers)
