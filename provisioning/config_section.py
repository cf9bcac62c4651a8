"""The base of every section of azure_config.yaml: unknown keys are errors, values never change after loading."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
