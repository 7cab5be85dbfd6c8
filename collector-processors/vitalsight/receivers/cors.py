"""CORS for browser senders: answers preflights and labels responses (Fetch standard).

Browsers send OTLP cross-origin from the app's pages, so the receiver must answer the
preflight a JSON POST triggers and expose Retry-After so the SDK can honour it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PREFLIGHT_MAX_AGE_S = 86_400
_BASE_ALLOWED_HEADERS = ("Content-Type", "Content-Encoding", "Authorization")


def cors_middleware(
    allowed_origins: Collection[str], *, allow_headers: Collection[str] = ()
) -> Middleware:
    """Allow the listed origins (`*` = any) to POST with the usual OTLP headers."""
    any_origin = "*" in allowed_origins
    origins = frozenset(allowed_origins)
    headers = ", ".join((*_BASE_ALLOWED_HEADERS, *allow_headers))

    def allowed(origin: str) -> bool:
        return any_origin or origin in origins

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        is_preflight = (
            request.method == hdrs.METH_OPTIONS
            and origin is not None
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        )
        if is_preflight:
            if not allowed(origin or ""):
                return web.Response(status=403, text="origin not allowed\n")
            response: web.StreamResponse = web.Response(status=204)
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "POST, OPTIONS"
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = headers
            response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = str(PREFLIGHT_MAX_AGE_S)
        else:
            response = await handler(request)
        if origin is not None and allowed(origin):
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = hdrs.RETRY_AFTER
            response.headers.add(hdrs.VARY, hdrs.ORIGIN)
        return response

    return middleware
