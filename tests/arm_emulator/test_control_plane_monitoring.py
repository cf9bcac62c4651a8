"""The emulator speaks ARM to the real SDK management clients: metric alerts, action groups, log search alerts
and web tests, accepted when valid and refused naming the property when not.

These need the emulator process but no Docker and no registry (an emulator without a login server), so they are
`unit` tests; container groups, which really run, are in test_container_groups.py.
"""

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from .conftest import LOCATION, ArmClients
from .sdk_resources import make_component, make_workspace

pytestmark = pytest.mark.unit


class TestMonitoring:
    """Metric alerts, action groups, log search alerts and web tests: accepted when valid, refused naming the
    property when not (the scope here is an App Insights component; ACI-scoped alerts need a running group)."""

    @pytest.fixture
    def component(self, bare_clients: ArmClients, bare_group: str) -> Any:
        return make_component(bare_clients, bare_group, make_workspace(bare_clients, bare_group).id)

    @pytest.fixture
    def action_group(self, bare_clients: ArmClients, bare_group: str) -> Any:
        body = {
            "location": "Global",
            "group_short_name": "garch-ops",
            "enabled": True,
            "email_receivers": [{"name": "oncall", "email_address": "oncall@example.com"}],
            "webhook_receivers": [{"name": "hook", "service_uri": "https://example.com/hook"}],
        }
        return bare_clients.monitor.action_groups.create_or_update(bare_group, "garch-ops", body)

    def metric_alert(self, component: Any, action_group: Any, **properties: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "location": "global",
            "severity": 1,
            "enabled": True,
            "scopes": [component.id],
            "evaluation_frequency": "PT1M",
            "window_size": "PT5M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [
                    {
                        "criterionType": "StaticThresholdCriterion",
                        "name": "failed-requests",
                        "metricName": "requests/failed",
                        "timeAggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 5,
                    }
                ],
            },
            "actions": [{"action_group_id": action_group.id}],
        }
        body.update(properties)
        return body

    def test_a_valid_metric_alert_and_action_group_are_accepted(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        assert action_group.location == "Global" and action_group.email_receivers[0].status == "Enabled"
        alert = bare_clients.monitor.metric_alerts.create_or_update(
            bare_group, "failed-requests", self.metric_alert(component, action_group)
        )
        assert alert.location == "global" and alert.window_size.total_seconds() == 300
        assert bare_clients.monitor.metric_alerts.get(bare_group, "failed-requests").scopes == [component.id]

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"location": "westeurope"}, "location"),
            ({"severity": 5}, "properties.severity"),
            ({"evaluation_frequency": "PT2M"}, "properties.evaluationFrequency"),
            ({"window_size": "P2D"}, "properties.windowSize"),
            ({"evaluation_frequency": "PT15M", "window_size": "PT5M"}, "properties.windowSize"),
            ({"scopes": []}, "properties.scopes"),
            (
                {"scopes": ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x"]},
                "properties.scopes[0]",
            ),
            ({"enabled": None}, "properties.enabled"),
        ],
    )
    def test_an_invalid_metric_alert_is_refused_naming_the_property(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any, change: dict, named: str
    ) -> None:
        body = self.metric_alert(component, action_group, **change)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert refused.value.status_code == 400
        assert named in refused.value.message

    @pytest.mark.parametrize(
        ("criterion", "named"),
        [
            ({"metricName": "requests/failedPercent"}, "allOf[0].metricName"),
            ({"metricName": "requests/failed", "timeAggregation": "Average"}, "allOf[0].timeAggregation"),
            ({"operator": "Above"}, "allOf[0].operator"),
            ({"threshold": None}, "allOf[0].threshold"),
        ],
    )
    def test_metric_alert_criteria_are_checked(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any, criterion: dict, named: str
    ) -> None:
        body = self.metric_alert(component, action_group)
        body["criteria"]["allOf"][0].update(criterion)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert refused.value.status_code == 400 and named in refused.value.message

    def test_alert_actions_must_name_an_existing_action_group(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        body = self.metric_alert(component, action_group, actions=[{"action_group_id": action_group.id + "-gone"}])
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert "properties.actions[0]" in refused.value.message

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"group_short_name": "garch-operations"}, "properties.groupShortName"),
            ({"location": "westeurope"}, "location"),
            (
                {"email_receivers": [{"name": "oncall", "email_address": "not-an-address"}]},
                "emailReceivers[0].emailAddress",
            ),
            ({"webhook_receivers": [{"name": "hook"}]}, "webhookReceivers[0].serviceUri"),
        ],
    )
    def test_an_invalid_action_group_is_refused_naming_the_property(
        self, bare_clients: ArmClients, bare_group: str, change: dict, named: str
    ) -> None:
        body = {"location": "Global", "group_short_name": "garch-ops", "enabled": True, **change}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.action_groups.create_or_update(bare_group, "bad-group", body)
        assert refused.value.status_code == 400 and named in refused.value.message

    def test_log_search_alert_rules(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        body: dict[str, Any] = {
            "location": LOCATION,
            "kind": "LogAlert",
            "severity": 2,
            "enabled": True,
            "scopes": [component.id],
            "evaluation_frequency": "PT5M",
            "window_size": "PT15M",
            "criteria": {
                "all_of": [
                    {
                        "query": "requests | where success == false",
                        "time_aggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 10,
                    }
                ]
            },
            "actions": {"action_groups": [action_group.id]},
        }
        rule = bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert rule.kind == "LogAlert"
        body["window_size"] = "PT1M"
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert "properties.windowSize" in refused.value.message
        body["window_size"] = "PT15M"
        body["criteria"]["all_of"][0]["time_aggregation"] = "Average"
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert "metricMeasureColumn" in refused.value.message

    def test_standard_web_test_linked_to_its_component(
        self, bare_clients: ArmClients, bare_group: str, component: Any
    ) -> None:
        body: dict[str, Any] = {
            "location": LOCATION,
            "kind": "standard",
            "tags": {f"hidden-link:{component.id}": "Resource"},
            "synthetic_monitor_id": "garch-health",
            "web_test_name": "garch-health",
            "enabled": True,
            "frequency": 300,
            "timeout": 30,
            "web_test_kind": "standard",
            "locations": [{"location": "us-va-ash-azr"}, {"location": "emea-nl-ams-azr"}],
            "request": {"request_url": "http://127.0.0.2:8001/health", "http_verb": "GET"},
            "validation_rules": {"expected_http_status_code": 200},
        }
        created = bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert created.provisioning_state == "Succeeded"
        body["tags"] = {}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert "hidden-link" in refused.value.message
        body["tags"] = {f"hidden-link:{component.id}": "Resource"}
        body["frequency"] = 120
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert "properties.Frequency" in refused.value.message
