"""Which model store an environment uses, and whether its deployment serves from it.

Kept free of arch and the fitting code, so that `deploy` and `teardown` stay quick to start.
"""

from collections.abc import Iterable
from pathlib import Path

from provisioning.config_models import ModelStoreSection
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import ModelStore, StoreUnreachable, open_store

STORE_SECRET = "MODEL_STORE_CONNECTION_STRING"
SERVED_FROM_STORE: tuple[str, ...] = ("process", "local")
"""Environments whose deployment is handed the store here (a directory MODEL_STORE, mounted read-only into the
local container); prod's container group is given the run's own storage account by the Azure provisioning."""


def store_location(section: ModelStoreSection, environment: str) -> str:
    """The store of an environment: `<directory>/<env>` (absolute), or the container `<prefix>-<env>`."""
    if section.backend.get(environment, "directory") == "blob":  # type: ignore[call-overload]
        return f"{section.blob_account_url.rstrip('/')}/{section.container_prefix}-{environment}"
    return str(section.directory.absolute() / environment)


def open_environment_store(
    section: ModelStoreSection, environment: str, *, connection_string: str | None, create: bool = False
) -> ModelStore:
    return open_store(store_location(section, environment), connection_string=connection_string, create=create)


def never_published(section: ModelStoreSection, environment: str) -> bool:
    """Whether the environment's store is a directory that does not exist yet: `publish` creates it, so nothing was
    ever published there (a MODEL_STORE the user names is another matter: there, missing means wrong)."""
    if section.backend.get(environment, "directory") == "blob":  # type: ignore[call-overload]
        return False
    return not Path(store_location(section, environment)).exists()


def missing_models(store: ModelStore, served: Iterable[str] = BUILTIN_MODELS) -> list[str]:
    """The served models the store has no current version of (a service started on it would not become ready)."""
    published = set(store.names())
    return [name for name in served if name not in published]


def serving_env(section: ModelStoreSection, environment: str, connection_string: str | None) -> dict[str, str]:
    """MODEL_STORE (and its secret) for a deployment, if the environment's store can serve every model; else {}.

    With nothing (or not everything) published, the deployment fits its built-in models, as before the store.
    """
    try:
        store = open_environment_store(section, environment, connection_string=connection_string)
        if missing_models(store):
            return {}
    except StoreUnreachable:
        return {}
    return {"MODEL_STORE": store.location, **({STORE_SECRET: connection_string} if connection_string else {})}
