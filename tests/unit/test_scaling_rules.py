"""How the ARM emulator reads a container app's scale rules and what it wants from them, offline: Container Apps'
refusals (one line naming the property), the replicas each rule asks for, the cooldown's hold on scale-in, and which
replicas a scale-in takes. The live behaviour is the autoscale suite's."""

import pytest

from harness.arm_emulator.app_routing import Replica
from harness.arm_emulator.app_scale_rules import ScaleRuleError, ScaleRules
from harness.arm_emulator.app_scaler import _to_remove, wanted_replicas
from provisioning.config import AutoscaleSection
from provisioning.environments.azure.container_apps.app_spec import scale

pytestmark = pytest.mark.unit


def rules_of(autoscale: AutoscaleSection) -> ScaleRules:
    """The rules as the emulator reads what the provisioning layer sends (the SDK's JSON)."""
    return ScaleRules.parse(scale(autoscale).as_dict())


def test_the_configured_rules_round_trip_through_the_sdk_body() -> None:
    rules = rules_of(AutoscaleSection())
    assert (rules.min_replicas, rules.max_replicas, rules.concurrent_requests) == (2, 10, 10)
    assert [(r.resource, r.utilization_percent) for r in rules.resources] == [("cpu", 70.0)]
    assert (rules.polling_interval_s, rules.cooldown_s) == (30.0, 300.0) and rules.autoscales


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"minReplicas": 3, "maxReplicas": 2}, "properties.template.scale.minReplicas"),
        (
            {
                "minReplicas": 0,
                "rules": [{"name": "c", "custom": {"type": "cpu", "metadata": {"type": "Utilization", "value": "70"}}}],
            },
            "properties.template.scale.minReplicas",
        ),
        (
            {"rules": [{"name": "h", "http": {"metadata": {"concurrentRequests": "many"}}}]},
            "properties.template.scale.rules[0].http.metadata.concurrentRequests",
        ),
        (
            {"rules": [{"name": "c", "custom": {"type": "cpu", "metadata": {"type": "Percent", "value": "7"}}}]},
            "properties.template.scale.rules[0].custom.metadata.type",
        ),
        ({"rules": [{"name": "two", "http": {}, "tcp": {}}]}, "properties.template.scale.rules[0]"),
    ],
)
def test_rules_container_apps_refuses_are_refused_naming_the_property(body: dict, path: str) -> None:
    with pytest.raises(ScaleRuleError) as caught:
        ScaleRules.parse(body)
    assert caught.value.path == path and "\n" not in caught.value.problem


def test_defaults_are_the_platforms() -> None:
    rules = ScaleRules.parse({"rules": [{"name": "h", "http": {}}]})
    assert (rules.min_replicas, rules.max_replicas, rules.concurrent_requests, rules.cooldown_s) == (0, 10, 10, 300.0)


@pytest.mark.parametrize(
    ("concurrency", "cpu_percent", "wanted"),
    [
        (0.0, None, 2),  # nothing in flight: the minimum
        (19.9, None, 2),  # ceil(19.9 / 10) = 2
        (20.1, None, 3),  # HTTP: one more past 20 in flight
        (41.0, None, 5),
        (5.0, 74.0, 2),  # CPU 74% against 70%: within the HPA's 0.1 tolerance
        (5.0, 140.0, 4),  # CPU: ceil(2 x 140 / 70)
        (35.0, 140.0, 4),  # both rules: the larger wins
    ],
)
def test_the_replicas_each_rule_wants_from_two_ready(
    concurrency: float, cpu_percent: float | None, wanted: int
) -> None:
    assert wanted_replicas(rules_of(AutoscaleSection()), 2, concurrency, cpu_percent) == wanted


def test_a_scale_in_takes_replicas_not_ready_first_then_the_newest() -> None:
    old = Replica("old", "id/old", created="2026-12-04T10:00:00Z", ready=True)
    new = Replica("new", "id/new", created="2026-12-04T10:05:00Z", ready=True)
    starting = Replica("starting", "id/starting", created="2026-12-04T10:06:00Z", ready=False)
    assert [r.name for r in _to_remove([old, new, starting], 2)] == ["starting", "new"]
    assert [r.name for r in _to_remove([old, new], 1)] == ["new"]
