"""On prod, the rules Azure Monitor evaluates for the session's deployment are the catalogue: read back through
azure-mgmt-monitor and azure-mgmt-applicationinsights (on Azure, or on the ARM emulator with --azure-emulator).

Azure evaluates its rules on its own clock (a minute at best, a five-minute web test), so making them fire is left to
Azure itself; what is checked here is that exactly the catalogue's rules exist, as the catalogue says.
"""

import pytest

from harness.pytest_plugin.deployment import HarnessOptions
from provisioning.config import ProjectConfig
from provisioning.environments.azure.alert_rules import (
    LOG_ALERTS,
    METRIC_ALERTS,
    rendered_alert_resources,
    verify_alert_rules,
)
from provisioning.environments.azure.run_deployment import AzureRunDeployment

pytestmark = [pytest.mark.alerts, pytest.mark.deploy]


def test_azure_monitor_holds_exactly_the_catalogue(
    request: pytest.FixtureRequest, harness_options: HarnessOptions, project_config: ProjectConfig
) -> None:
    if harness_options.environment != "prod" or harness_options.api_url:
        pytest.skip("Azure Monitor rules belong to a prod deployment this session provisions (--env prod)")
    deployment = request.getfixturevalue("deployment")
    assert isinstance(deployment, AzureRunDeployment)
    target = deployment.alert_target()
    expected = rendered_alert_resources(deployment.clients, project_config, deployment.names, target)

    held = verify_alert_rules(deployment.clients, deployment.resource_group, expected)

    rules = {
        resource.name: resource.body["properties"] for resource in held if resource.type in (METRIC_ALERTS, LOG_ALERTS)
    }
    assert sorted(rules) == sorted(rule.name for rule in project_config.monitoring.alerts)
    for rule in project_config.monitoring.alerts:
        properties = rules[rule.name]
        assert (properties["severity"], properties["evaluationFrequency"], properties["windowSize"]) == (
            rule.severity,
            rule.frequency,
            rule.window,
        ), rule.name
        assert properties["enabled"] is True, rule.name
