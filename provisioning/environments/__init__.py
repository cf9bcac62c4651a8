"""Which Deployment class serves which `--env`, and finding a deployment again from its recorded state."""

from collections.abc import Callable, Mapping
from typing import Any, Literal

from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment, StateRecorder
from provisioning.environments.local import LocalContainerDeployment
from provisioning.environments.ownership import Ownership
from provisioning.environments.process import ProcessDeployment
from provisioning.environments.secrets import SECRET_VARIABLES

Environment = Literal["process", "local", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("process", "local", "prod")


def create_deployment(
    environment: Environment,
    *,
    project: ProjectConfig,
    env: Mapping[str, str],
    ownership: Ownership,
    local_image: str | None = None,
) -> Deployment:
    """A new, not yet started deployment of the API in `environment`, marked with `ownership` (see ownership.py;
    Azure groups carry the run id and a DeleteAfter tag instead). `local_image` (prod only) is pushed instead of
    a build of the project."""
    if local_image is not None and environment != "prod":
        raise ValueError(f"an image of your own (--image) is deployed to --env prod only, not {environment}")
    timeout = project.deployment.startup_timeout_s
    if environment == "process":
        return ProcessDeployment(env=env, startup_timeout_s=timeout, ownership=ownership)
    if environment == "local":
        return LocalContainerDeployment(env=env, ownership=ownership, startup_timeout_s=timeout)
    from provisioning.environments.azure.settings import AzureEnvironment

    plain = {k: v for k, v in env.items() if k not in SECRET_VARIABLES}
    secure = {k: v for k, v in env.items() if k in SECRET_VARIABLES}
    if project.azure.target == "container_apps":
        from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment

        return ContainerAppsDeployment(
            project, AzureEnvironment(), env=plain, secure_env=secure, local_image=local_image
        )
    from provisioning.environments.azure.aci_deployment import AciDeployment

    return AciDeployment(project, AzureEnvironment(), env=plain, secure_env=secure, local_image=local_image)


def service_env(project: ProjectConfig, *, api_key: str | None, store: Mapping[str, str]) -> dict[str, str]:
    """What the deployed service is told: its worker count, request limits, the API key (if any), and where its
    models are."""
    return {
        "WEB_CONCURRENCY": str(project.deployment.web_concurrency),
        **project.deployment.request_limits.service_env(),
        **({"API_KEY": api_key} if api_key else {}),
        **store,
    }


def provision(
    environment: Environment,
    *,
    project: ProjectConfig,
    env: Mapping[str, str],
    ownership: Ownership,
    recorder: StateRecorder,
    on_undo: Callable[[list[str]], None] = lambda removed: None,
    local_image: str | None = None,
) -> Deployment:
    """A new deployment, started, its state recorded at every step; undone (and the failure re-raised) when the
    start fails. The CLI and the harness both make their deployments here."""
    deployment = create_deployment(environment, project=project, env=env, ownership=ownership, local_image=local_image)
    deployment.recording_to(recorder).start_or_undo(on_undo)
    return deployment


def attach_deployment(
    state: Mapping[str, Any], project: ProjectConfig | None = None, secrets: Mapping[str, str] | None = None
) -> Deployment:
    """The deployment a state record describes, for stop/start/teardown from another process; a prod record
    names its Azure target (records from before there were two are ACI's), whatever the configuration says now.
    `secrets` holds the values of the secret variables the record names: records hold none (secrets.py)."""
    if state["environment"] == "process":
        return ProcessDeployment.from_state(state, secrets)
    if state["environment"] == "local":
        return LocalContainerDeployment.from_state(state, secrets)
    from provisioning.environments.azure.settings import AzureEnvironment

    if project is None:
        raise ValueError("attaching to a prod deployment needs the project configuration")
    if state.get("target", "container_instances") == "container_apps":
        from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment

        return ContainerAppsDeployment.from_state(state, project, AzureEnvironment(), secure_env=secrets)
    from provisioning.environments.azure.aci_deployment import AciDeployment

    return AciDeployment.from_state(state, project, AzureEnvironment(), secure_env=secrets)
