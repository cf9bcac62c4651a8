"""The session's model store: published once before the deployment is made, so the deployment serves from it.

`provision_or_attach` calls `publish_session_models` under its provisioning lock (once per session, whichever
xdist worker comes first); the store's directory travels in the deployment's MODEL_STORE, which its recorded
state keeps, so every worker finds the same store again with `served_store`.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from provisioning.config import ProjectConfig
from provisioning.config_models import ModelEvaluationSection
from provisioning.environments.base import Deployment
from provisioning.errors import DeploymentError
from service.model_store import ModelArtifact, ModelStore, open_store

if TYPE_CHECKING:
    from provisioning.models.training_data import DatedReturns

# Publishing fits with arch (with scipy and pandas: over a second to import). It is imported where a model is
# published, not with the plugin: every pytest process loads the plugin, and most publish nothing.

STORE_DIRECTORY = "model-store"


def publish_session_models(directory: Path, project: ProjectConfig) -> dict[str, str]:
    """Fit, evaluate and publish every served model to a directory store; the service env that points at it."""
    from provisioning.models.publishing import publish_models
    from provisioning.models.training_data import load_training_data
    from service.garch.catalogue import BUILTIN_MODELS

    store = open_store(str(directory / STORE_DIRECTORY), create=True)
    series = load_training_data(project.models.data)
    outcomes = publish_models(BUILTIN_MODELS, store, series, project.models.evaluation)
    refused = [outcome.reason() for outcome in outcomes if outcome.refused]
    if refused:
        raise DeploymentError(f"the session's models did not pass the quality gate: {'; '.join(refused)}")
    return {"MODEL_STORE": store.location}


def served_store(deployment: Deployment) -> ModelStore:
    """The store the deployment was told to serve from; skips where this session did not publish one."""
    location = deployment.state().get("env", {}).get("MODEL_STORE")
    if not location:
        pytest.skip(f"the {deployment.environment} deployment does not serve from a store this session published")
    return open_store(location)


QUICK_EVALUATION = ModelEvaluationSection(refit_every=500)
"""The configured held-out window, estimated once before it: the unit tests' artifacts, in a fraction of the time."""


def quick_artifact(name: str, series: "DatedReturns | None" = None) -> ModelArtifact:
    """A served model's artifact on the S&P 500 data (or `series`), as `publish` would build it."""
    from provisioning.models.publishing import build_artifact
    from provisioning.models.training_data import sp500_returns
    from service.garch.catalogue import BUILTIN_MODELS

    return build_artifact(name, BUILTIN_MODELS[name], series or sp500_returns(), QUICK_EVALUATION)  # type: ignore[index]
