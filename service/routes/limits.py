"""Refuse request bodies over a size limit before reading them into memory."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import TooLarge


class BodySizeLimit:
    """413 for bodies over `max_bytes` (by Content-Length, or by counting a streamed body).

    Paths under `upload_prefixes` get `upload_bytes` instead (audio uploads).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int = 0,
                 upload_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.upload_bytes, self.upload_prefixes = upload_bytes, upload_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.upload_bytes if self.upload_prefixes and any(
            path.startswith(p) for p in self.upload_prefixes) else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge(_message(limit))  # the app's handler answers it
            return message

        try:
            await self.app(scope, counting_receive, send)
        except TooLarge:  # raised where no handler catches it (outside a route)
            await _too_large(send, limit)


def _message(limit: int) -> str:
    return (f"The request is larger than the {limit // (1024 * 1024)} MB this service "
            "accepts. Nothing was saved.")


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": _message(limit)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
