"""The models this process serves, and whether they are ready: the state behind /health, /models/list and /predict."""

import logging
import time

from . import metrics
from .config import Settings
from .garch.prefitted import BUILTIN_MODELS, ServedModel, fit_builtin_models
from .model_store import open_store
from .published_models import load_published_models

log = logging.getLogger("service.models")


class ModelRegistry:
    """Loads the served models once, off the event loop, and tells /health how that went.

    With MODEL_STORE set, the models are the store's current versions; a store that cannot be reached, or an
    artifact that is missing, corrupt, tampered with or from another arch major version, fails the load: the
    worker stays up and answers 503 with the reason (on /health too), and never serves a partial model set.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.store_location: str | None = None
        self.models: dict[str, ServedModel] = {}
        self.load_seconds: float | None = None
        self.error: str | None = None
        self.started_at = time.monotonic()

    @property
    def ready(self) -> bool:
        return bool(self.models) and self.error is None

    def load(self) -> None:
        """Load the published models, or fit the built-in ones; on failure answer 503 with the reason, never half."""
        try:
            models, seconds = self._published() if self._settings.model_store else self._fitted()
        except Exception as error:  # any failure must surface in /health, not kill the server silently
            self.error = f"model loading failed: {type(error).__name__}: {error}"
            log.exception("model loading failed")
            return
        self.models, self.load_seconds = models, seconds
        metrics.MODEL_LOAD_SECONDS.set(seconds)
        metrics.MODELS_LOADED.set(len(models))
        versions = {name: served.published.version if served.published else None for name, served in models.items()}
        log.info(
            "models loaded",
            extra={"models": versions, "model_store": self.store_location, "load_seconds": round(seconds, 4)},
        )

    def _fitted(self) -> tuple[dict[str, ServedModel], float]:
        return fit_builtin_models(seed=self._settings.simulation_seed, simulations=self._settings.simulations)

    def _published(self) -> tuple[dict[str, ServedModel], float]:
        secret = self._settings.model_store_connection_string
        store = open_store(
            str(self._settings.model_store), connection_string=secret.get_secret_value() if secret else None
        )
        self.store_location = store.location
        return load_published_models(
            store, BUILTIN_MODELS, seed=self._settings.simulation_seed, simulations=self._settings.simulations
        )
