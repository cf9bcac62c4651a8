"""The emulator's parts that need no server: path parsing, the body schema language, fault rules, certificates."""

import ssl
from pathlib import Path

import pytest
from cryptography import x509

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.faults import FaultRule, RequestFacts
from harness.arm_emulator.providers import kind_of
from harness.arm_emulator.providers.base import Context
from harness.arm_emulator.routes import CollectionRoute, OperationRoute, ResourceRoute, parse_path
from harness.arm_emulator.schema import Arr, Int, Obj, Str, parse_duration, required
from harness.arm_emulator.settings import EmulatorSettings
from harness.arm_emulator.store import ResourceStore
from harness.arm_emulator.tls import issue_certificates

pytestmark = pytest.mark.unit

SUB = "00000000-0000-0000-0000-000000000001"


class TestRoutes:
    def test_a_resource_in_a_group_with_an_action(self) -> None:
        route = parse_path(
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1/listCredentials"
        )
        assert isinstance(route, ResourceRoute)
        assert (route.ref.type, route.ref.name, route.sub_path) == (
            "Microsoft.ContainerRegistry/registries",
            "r1",
            ("listCredentials",),
        )

    def test_segments_match_case_insensitively_and_ids_keep_the_callers_names(self) -> None:
        route = parse_path(f"/SUBSCRIPTIONS/{SUB}/resourcegroups/My-RG")
        assert isinstance(route, ResourceRoute) and route.ref.is_resource_group
        assert route.ref.id() == f"/subscriptions/{SUB}/resourceGroups/My-RG"
        assert route.ref.key == route.ref.id().lower()

    def test_a_role_assignment_on_a_resource_scope(self) -> None:
        scope = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1"
        route = parse_path(
            f"{scope}/providers/Microsoft.Authorization/roleAssignments/0f5e4a8c-1111-4a3b-9c61-2b5c8f3e0d11"
        )
        assert isinstance(route, ResourceRoute)
        assert route.ref.scope == scope
        assert route.ref.id("Microsoft.Authorization/roleAssignments").startswith(scope + "/providers/")

    def test_lists_and_operation_status(self) -> None:
        assert parse_path(f"/subscriptions/{SUB}/resourcegroups") == CollectionRoute(
            SUB, None, "Microsoft.Resources/resourceGroups"
        )
        assert parse_path(f"/subscriptions/{SUB}/resourceGroups/rg/resources") == CollectionRoute(SUB, "rg", None)
        operation = parse_path(
            f"/subscriptions/{SUB}/providers/Microsoft.ContainerInstance/locations/westeurope/operations/abc"
        )
        assert operation == OperationRoute(SUB, "Microsoft.ContainerInstance", "westeurope", "operations", "abc")

    @pytest.mark.parametrize(
        "path", ["/", "/providers/Microsoft.Web", f"/subscriptions/{SUB}/resourceGroups/rg/nonsense"]
    )
    def test_paths_arm_does_not_serve_are_refused(self, path: str) -> None:
        with pytest.raises(ArmError) as refused:
            parse_path(path)
        assert refused.value.code == "InvalidRequestUri"


class TestSchema:
    SCHEMA = Obj(
        {
            "properties": required(
                Obj(
                    {
                        "severity": required(Int(minimum=0, maximum=4)),
                        "scopes": required(Arr(Str(format="resource_id"), min_items=1)),
                        "frequency": Str(durations=("PT1M", "PT5M", "PT1H")),
                    }
                )
            )
        }
    )

    @pytest.mark.parametrize(
        ("body", "path", "problem"),
        [
            ({}, "properties", "is required"),
            ({"properties": {"scopes": ["/subscriptions/x"]}}, "properties.severity", "is required"),
            ({"properties": {"severity": 5, "scopes": ["/subscriptions/x"]}}, "properties.severity", "at most 4"),
            ({"properties": {"severity": "1", "scopes": ["/subscriptions/x"]}}, "properties.severity", "an integer"),
            ({"properties": {"severity": True, "scopes": ["/subscriptions/x"]}}, "properties.severity", "an integer"),
            ({"properties": {"severity": 1, "scopes": []}}, "properties.scopes", "at least 1"),
            ({"properties": {"severity": 1, "scopes": ["nope"]}}, "properties.scopes[0]", "resource id"),
            (
                {"properties": {"severity": 1, "scopes": ["/subscriptions/x"], "frequency": "PT2M"}},
                "properties.frequency",
                "one of",
            ),
        ],
    )
    def test_a_bad_body_is_refused_naming_the_property(self, body: dict, path: str, problem: str) -> None:
        with pytest.raises(ArmError) as refused:
            self.SCHEMA.check(body, "")
        assert refused.value.status == 400
        assert refused.value.target == path
        assert f"'{path}'" in refused.value.message and problem in refused.value.message

    def test_durations_compare_by_value(self) -> None:
        self.SCHEMA.check({"properties": {"severity": 0, "scopes": ["/subscriptions/x"], "frequency": "PT60M"}}, "")
        assert parse_duration("P1D") == parse_duration("PT24H")
        assert parse_duration("PT") is None and parse_duration("5 minutes") is None

    def test_unknown_properties_are_ignored_as_arm_does(self) -> None:
        self.SCHEMA.check({"properties": {"severity": 0, "scopes": ["/subscriptions/x"], "colour": "blue"}}, "")


class TestFaultRules:
    def test_a_rule_fires_for_matching_requests_as_often_as_asked(self) -> None:
        rule = FaultRule.from_request(
            {"fault": "throttle", "match": {"method": "put", "type": "microsoft.insights/metricalerts"}, "times": 2}
        )
        facts = RequestFacts("PUT", "Microsoft.Insights/metricAlerts", "cpu-high", None)
        assert rule.matches(facts)
        assert not rule.matches(RequestFacts("GET", "Microsoft.Insights/metricAlerts", "cpu-high", None))
        error = rule.as_error(facts)
        assert (error.status, error.code, error.headers["Retry-After"]) == (429, "SubscriptionRequestsThrottled", "1")

    @pytest.mark.parametrize(
        "body",
        [
            {"fault": "explode"},
            {"fault": "throttle", "times": 0},
            {"fault": "throttle", "match": {"colour": "red"}},
            {"fault": "crash_on_start", "match": {"type": "Microsoft.Insights/metricAlerts"}},
            {"fault": "never_ready", "match": {"type": "Microsoft.ContainerInstance/containerGroups"}},
            {"fault": "never_ready", "match": {"type": "Microsoft.App/containerApps", "method": "DELETE"}},
            {"fault": "lro_failed", "match": {"method": "GET"}},
            {"fault": "error", "status": 200, "code": "X"},
        ],
    )
    def test_a_malformed_rule_is_refused(self, body: dict) -> None:
        with pytest.raises(ArmError) as refused:
            FaultRule.from_request(body)
        assert refused.value.code == "InvalidFault"

    def test_a_quota_fault_on_container_groups_speaks_aci(self) -> None:
        rule = FaultRule.from_request(
            {"fault": "quota", "match": {"type": "Microsoft.ContainerInstance/containerGroups"}}
        )
        error = rule.as_error(
            RequestFacts("PUT", "Microsoft.ContainerInstance/containerGroups", "api", None, "westeurope")
        )
        assert (error.status, error.code) == (400, "ContainerGroupQuotaReached")
        assert "westeurope" in error.message


def test_the_server_certificate_is_a_leaf_for_127_0_0_1_and_localhost_signed_by_the_ca(tmp_path: Path) -> None:
    files = issue_certificates(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    leaf = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(files.server_cert, files.server_key)
    assert files.server_key.stat().st_mode & 0o777 == 0o600


def test_metric_alert_windows_shorter_than_the_frequency_are_refused(tmp_path: Path) -> None:
    settings = EmulatorSettings(
        host="127.0.0.1",
        port=0,
        token="t",
        subscription_id=SUB,
        cert_file=tmp_path,
        key_file=tmp_path,
        state_dir=tmp_path,
    )
    ctx = Context(settings=settings, store=ResourceStore(), endpoint="https://127.0.0.1:1")
    kind = kind_of("microsoft.insights/METRICALERTS")
    assert kind is not None
    route = parse_path(f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Insights/metricAlerts/a")
    assert isinstance(route, ResourceRoute)
    body = {
        "location": "global",
        "properties": {
            "severity": 2,
            "enabled": True,
            "scopes": [f"/subscriptions/{SUB}/resourceGroups/rg"],
            "evaluationFrequency": "PT15M",
            "windowSize": "PT5M",
            "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": []},
        },
    }
    with pytest.raises(ArmError) as refused:
        kind.validate(route.ref, body, ctx)
    assert refused.value.target == "properties.criteria.allOf"
    body["properties"]["criteria"]["allOf"] = [
        {
            "criterionType": "StaticThresholdCriterion",
            "name": "c",
            "metricName": "CpuUsage",
            "timeAggregation": "Average",
            "operator": "GreaterThan",
            "threshold": 1,
        }
    ]
    with pytest.raises(ArmError) as refused:
        kind.validate(route.ref, body, ctx)
    assert refused.value.target == "properties.windowSize"
    assert "must not be shorter than properties.evaluationFrequency" in refused.value.message
