"""Which Deployment class serves which `--env`, and finding a deployment again from its recorded state."""

from collections.abc import Mapping
from typing import Any, Literal

from .deployment import Deployment
from .errors import EnvironmentUnavailable
from .local_container import LocalContainerDeployment
from .process import ProcessDeployment

Environment = Literal["process", "local", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("process", "local", "prod")


def create_deployment(
    environment: Environment, *, env: Mapping[str, str], session: str, startup_timeout_s: float
) -> Deployment:
    """A new, not yet started deployment of the API in `environment`."""
    if environment == "process":
        return ProcessDeployment(env=env, startup_timeout_s=startup_timeout_s)
    if environment == "local":
        return LocalContainerDeployment(env=env, session=session, startup_timeout_s=startup_timeout_s)
    raise EnvironmentUnavailable("--env prod (Azure Container Instances) is not available yet; use process or local")


def attach_deployment(state: Mapping[str, Any]) -> Deployment:
    """The deployment a state record describes, for stop/start/teardown from another process."""
    kinds: dict[str, Any] = {"process": ProcessDeployment, "local": LocalContainerDeployment}
    return kinds[state["environment"]].from_state(state)  # type: ignore[no-any-return]
