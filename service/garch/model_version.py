"""Which model answered a forecast: a version for every model the service forecasts from, published or not.

A published model's version is its artifact's (service/model_store/artifact.py). A model fitted here, at start-up
or on a request's returns, has none, so it gets `fitted-` and 12 hex digits of the SHA-256 of what makes it that
model: the spec, the estimated parameters, the returns it was fitted on and the code versions. The same inputs on
the same code give the same version on every worker, restart and request.
"""

from collections.abc import Mapping

import numpy as np

from ..model_store.artifact import ARCH_VERSION, CODE_VERSIONS, SpecRecord, digest_of, returns_sha256, version_of
from .spec import ModelSpec

FITTED_PREFIX = "fitted-"


def fitted_version(spec: ModelSpec, params: Mapping[str, float], returns: np.ndarray) -> str:
    document = {
        "spec": SpecRecord.of(spec).model_dump(mode="json"),
        "params": dict(params),
        "returns_sha256": returns_sha256(returns),
        "code_versions": {"arch": ARCH_VERSION, **CODE_VERSIONS},
    }
    return FITTED_PREFIX + version_of(digest_of(document))
