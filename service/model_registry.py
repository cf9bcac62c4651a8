"""The models this process serves, and whether they are ready: the state behind /health, /models/list and /predict."""

import logging
import time

from . import metrics
from .config import Settings
from .garch.prefitted import ServedModel, fit_builtin_models

log = logging.getLogger("service.models")


class ModelRegistry:
    """Loads the served models once, off the event loop, and tells /health how that went."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.models: dict[str, ServedModel] = {}
        self.load_seconds: float | None = None
        self.error: str | None = None
        self.started_at = time.monotonic()

    @property
    def ready(self) -> bool:
        return bool(self.models) and self.error is None

    def load(self) -> None:
        """Fit the built-in models; on failure keep serving 503 with the reason instead of half a model set."""
        try:
            models, seconds = fit_builtin_models(
                seed=self._settings.simulation_seed, simulations=self._settings.simulations
            )
        except Exception as error:  # any failure must surface in /health, not kill the server silently
            self.error = f"model loading failed: {type(error).__name__}: {error}"
            log.exception("model loading failed")
            return
        self.models, self.load_seconds = models, seconds
        metrics.MODEL_LOAD_SECONDS.set(seconds)
        metrics.MODELS_LOADED.set(len(models))
        log.info("models loaded", extra={"models": sorted(models), "load_seconds": round(seconds, 4)})
