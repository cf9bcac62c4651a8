"""Which Deployment class serves which `--env`, and finding a deployment again from its recorded state."""

from collections.abc import Mapping
from typing import Any, Literal

from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.environments.local import LocalContainerDeployment
from provisioning.environments.ownership import Ownership
from provisioning.environments.process import ProcessDeployment

Environment = Literal["process", "local", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("process", "local", "prod")
SECRET_VARIABLES = frozenset({"API_KEY", "MODEL_STORE_CONNECTION_STRING"})


def create_deployment(
    environment: Environment, *, project: ProjectConfig, env: Mapping[str, str], ownership: Ownership
) -> Deployment:
    """A new, not yet started deployment of the API in `environment`, marked with `ownership` (see ownership.py;
    Azure groups carry the run id and a DeleteAfter tag instead)."""
    timeout = project.deployment.startup_timeout_s
    if environment == "process":
        return ProcessDeployment(env=env, startup_timeout_s=timeout, ownership=ownership)
    if environment == "local":
        return LocalContainerDeployment(env=env, ownership=ownership, startup_timeout_s=timeout)
    from provisioning.environments.azure.aci_deployment import AciDeployment
    from provisioning.environments.azure.settings import AzureEnvironment

    plain = {k: v for k, v in env.items() if k not in SECRET_VARIABLES}
    secure = {k: v for k, v in env.items() if k in SECRET_VARIABLES}
    return AciDeployment(project, AzureEnvironment(), env=plain, secure_env=secure)


def attach_deployment(
    state: Mapping[str, Any], project: ProjectConfig | None = None, secrets: Mapping[str, str] | None = None
) -> Deployment:
    """The deployment a state record describes, for stop/start/teardown from another process."""
    if state["environment"] == "process":
        return ProcessDeployment.from_state(state)
    if state["environment"] == "local":
        return LocalContainerDeployment.from_state(state)
    from provisioning.environments.azure.aci_deployment import AciDeployment
    from provisioning.environments.azure.settings import AzureEnvironment

    if project is None:
        raise ValueError("attaching to a prod deployment needs the project configuration")
    return AciDeployment.from_state(state, project, AzureEnvironment(), secure_env=secrets)
