"""The session's model store: published once before the deployment is made, so the deployment serves from it.

`provision_or_attach` calls `publish_session_models` under its provisioning lock (once per session, whichever
xdist worker comes first); the store's directory travels in the deployment's MODEL_STORE, which its recorded
state keeps, so every worker finds the same store again with `served_store`.

A session exports where its models are (SESSION_MODELS_VARIABLE) to the sessions its tests start (to watch them
deploy, be interrupted, report): those copy the same models into their own store rather than fit them again, when
they were published from the same data, evaluation and service version.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from provisioning.config import ProjectConfig
from provisioning.config_models import ModelEvaluationSection
from provisioning.environments.base import Deployment
from provisioning.errors import DeploymentError
from service import __version__
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import ModelArtifact, ModelStore, ModelStoreError, open_store

if TYPE_CHECKING:
    from provisioning.models.training_data import DatedReturns

# Publishing fits with arch (with scipy and pandas: over a second to import). It is imported where a model is
# published, not with the plugin: every pytest process loads the plugin, and most publish nothing.

STORE_DIRECTORY = "model-store"
SOURCE_FILE = "model-store.source.json"
SESSION_MODELS_VARIABLE = "GARCH_MLOPS_SESSION_MODELS"


def publish_session_models(directory: Path, project: ProjectConfig) -> dict[str, str]:
    """Fit, evaluate and publish every served model to a directory store (or copy them from the session that
    started this one); the service env that points at it."""
    store = open_store(str(directory / STORE_DIRECTORY), create=True)
    source = models_source(project)
    if not copy_outer_session_models(store, source):
        fit_and_publish(store, project)
    published = {name: store.pointer(name).version for name in BUILTIN_MODELS}
    # Written last: a store with this file is complete, and it names the versions fitted from `source` (a test may
    # publish others there later).
    (directory / SOURCE_FILE).write_text(json.dumps({"source": source, "published": published}))
    export_session_models(store.location)
    return {"MODEL_STORE": store.location}


def fit_and_publish(store: ModelStore, project: ProjectConfig) -> None:
    from provisioning.models.publishing import publish_models
    from provisioning.models.training_data import load_training_data

    series = load_training_data(project.models.data)
    outcomes = publish_models(BUILTIN_MODELS, store, series, project.models.evaluation)
    refused = [outcome.reason() for outcome in outcomes if outcome.refused]
    if refused:
        raise DeploymentError(f"the session's models did not pass the quality gate: {'; '.join(refused)}")


def models_source(project: ProjectConfig) -> str:
    """What the session's models are a function of: the data (a CSV's content too), the evaluation, the service."""
    data = project.models.data
    csv = data.csv_path
    return json.dumps(
        {
            "data": data.model_dump(mode="json"),
            "csv_sha256": hashlib.sha256(csv.read_bytes()).hexdigest() if csv and csv.is_file() else None,
            "evaluation": project.models.evaluation.model_dump(mode="json"),
            "service": __version__,
        },
        sort_keys=True,
    )


def copy_outer_session_models(store: ModelStore, source: str) -> bool:
    """Publish the models the outer session fitted into `store`, if it exported a complete store fitted from the
    same `source`; False (and nothing published) otherwise."""
    outer = os.environ.get(SESSION_MODELS_VARIABLE)
    if not outer or Path(outer) == Path(store.location):
        return False
    try:
        record = json.loads((Path(outer).parent / SOURCE_FILE).read_text())
        if record["source"] != source or set(record["published"]) != set(BUILTIN_MODELS):
            return False
        outer_store = open_store(outer)
        artifacts = [outer_store.read(name, version).artifact for name, version in record["published"].items()]
    except (OSError, ValueError, KeyError, ModelStoreError):
        return False
    for artifact in artifacts:
        store.publish(artifact)
    return True


def export_session_models(location: str) -> None:
    """Name the store to the sessions this process starts (the xdist worker that published, or one that
    attached: see `provision_or_attach`)."""
    os.environ[SESSION_MODELS_VARIABLE] = location


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

    return build_artifact(name, BUILTIN_MODELS[name], series or sp500_returns(), QUICK_EVALUATION)  # type: ignore[index]
