"""JSON bodies of answers that cannot change while the process runs, serialized once and served as bytes.

The pre-fitted models are fitted once at start-up, so the forecast for a (model, horizon) is the same bytes on
every request; building and serializing the pydantic response each time was most of what /predict cost.
Keys are (served model, horizon) with validated horizons 1..252, so the cache is bounded.
"""

from collections.abc import Hashable

from pydantic import BaseModel


class ResponseCache:
    """One per app: apps with different settings (seeds, simulations) must not share bodies."""

    def __init__(self) -> None:
        self._bodies: dict[Hashable, bytes] = {}

    def get(self, key: Hashable) -> bytes | None:
        return self._bodies.get(key)

    def put(self, key: Hashable, response: BaseModel) -> bytes:
        body = response.model_dump_json().encode()
        self._bodies[key] = body
        return body
