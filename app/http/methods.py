"""Methods as HTTP defines them: HEAD wherever GET is (RFC 9110 §9.3.2), and a 405 whose `Allow`
names every method of the path, not only those of the first route that matched it."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route takes at the scope's path (one route per method and path here)."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        if route.methods and route.matches(scope)[0] != Match.NONE:
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def head_as_get(scope: Scope, receive: Receive, send: Send) -> tuple[Scope, Receive, Send]:
    """A HEAD answered as the GET it stands for, headers (Content-Length included) and no body:
    one rule for every GET route, instead of a second route per path in the OpenAPI document.
    The scope, receive and send to run the application with."""
    answered = False

    async def receive_until_answered() -> Message:
        # Once the headers are out the client wants nothing more: a stream (the live feed, an
        # export) hears a disconnect and stops instead of producing a body no one reads.
        if answered:
            return {"type": "http.disconnect"}
        return await receive()

    async def headers_only(message: Message) -> None:
        nonlocal answered
        if message["type"] == "http.response.start":
            answered = True
            await send(message)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    # A copy: the server's own scope (its access log) keeps the HEAD the client sent.
    return {**scope, "method": "GET"}, receive_until_answered, headers_only
