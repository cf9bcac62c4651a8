"""The served models rebuilt from a model store's current versions, all or none."""

import time
from collections.abc import Iterable

from .garch.catalogue import BUILTIN_MODELS
from .garch.prefitted import ServedModel
from .garch.rebuild import rebuild
from .model_store import ArtifactIncompatible, ModelStore


def load_published_models(
    store: ModelStore, names: Iterable[str], *, seed: int, simulations: int
) -> tuple[dict[str, ServedModel], float]:
    """The current version of each named model; any missing, unreadable or unservable one fails the whole load.

    A name is a promise of the API (the `model` enum of /predict), so a published artifact must be the model the
    catalogue says that name is.
    """
    started = time.perf_counter()
    served: dict[str, ServedModel] = {}
    for name in names:
        stored = store.current(name)
        where = f"model store {store.location}: {name} version {stored.version}"
        spec, promised = stored.artifact.spec.to_spec(), BUILTIN_MODELS[name]  # type: ignore[index]
        if spec != promised:
            raise ArtifactIncompatible(
                f"{where}: is a {spec.label} ({spec.dist}, {spec.mean} mean), the API serves "
                f"{name} as {promised.label} ({promised.dist}, {promised.mean} mean)"
            )
        model, data = rebuild(stored.artifact, where=where)
        served[name] = ServedModel(name, model, data, seed=seed, simulations=simulations, published=stored)
    return served, time.perf_counter() - started
