"""Resources by id, case-insensitively as ARM keys them; deleting an id deletes everything beneath it."""

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StoredResource:
    """A resource as ARM would return it (`body`), plus what only the emulator knows (`private`)."""

    id: str
    type: str
    name: str
    resource_group: str
    body: dict[str, Any]
    private: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = self.body.setdefault("properties", {})
        return properties

    @property
    def provisioning_state(self) -> str | None:
        state = self.properties.get("provisioningState")
        return str(state) if state is not None else None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "resourceGroup": self.resource_group,
            "location": self.body.get("location"),
            "provisioningState": self.provisioning_state,
        }


class ResourceStore:
    """Thread-safe; callers that read-modify-write hold `locked()`."""

    def __init__(self) -> None:
        self._resources: dict[str, StoredResource] = {}
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def get(self, resource_id: str) -> StoredResource | None:
        with self._lock:
            return self._resources.get(resource_id.lower())

    def put(self, resource: StoredResource) -> None:
        with self._lock:
            self._resources[resource.key] = resource

    def beneath(self, resource_id: str) -> list[StoredResource]:
        """Every resource strictly beneath `resource_id` (children, extension resources on it), deepest first."""
        prefix = resource_id.lower().rstrip("/") + "/"
        with self._lock:
            found = [resource for key, resource in self._resources.items() if key.startswith(prefix)]
        return sorted(found, key=lambda resource: resource.key.count("/"), reverse=True)

    def remove(self, resource_id: str) -> StoredResource | None:
        with self._lock:
            return self._resources.pop(resource_id.lower(), None)

    def all(self) -> list[StoredResource]:
        with self._lock:
            return list(self._resources.values())

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(resource.summary()) for resource in self._resources.values()]
