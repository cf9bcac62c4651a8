"""The models the API serves by name: each name is a promise of a specification (the `model` enum of /predict).

Kept apart from fitting so that configuration and tooling can name models without importing arch.
"""

from collections.abc import Mapping
from typing import Literal

from .spec import ModelSpec

ModelName = Literal["garch_1_1", "gjr_garch_1_1_1", "egarch_1_1"]

BUILTIN_MODELS: Mapping[ModelName, ModelSpec] = {
    "garch_1_1": ModelSpec(vol="GARCH", p=1, o=0, q=1),
    "gjr_garch_1_1_1": ModelSpec(vol="GARCH", p=1, o=1, q=1),
    "egarch_1_1": ModelSpec(vol="EGARCH", p=1, o=0, q=1),
}
DEFAULT_MODEL: ModelName = "garch_1_1"
