"""An action group's test notifications (`POST .../createNotifications`, `GET .../notificationStatus/{id}`).

As in Azure: the POST names the receivers to test and an alert type, answers 202 with a Location to poll, and the
status lists one action detail per receiver. Webhooks are really posted (the common alert schema's test payload when
the receiver asks for it), so a test that runs the receiver sees the notification arrive; the emulator sends no
mail, so an email receiver is reported sent without leaving the machine.
"""

import json
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

from harness.arm_emulator.api_versions import supported_version
from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply
from harness.arm_emulator.schema import Arr, Bool, Obj, Str, required
from harness.arm_emulator.store import StoredResource

ALERT_TYPES = (
    "servicehealth", "metricstaticthreshold", "metricsdynamicthreshold", "logalertv2", "smartalert", "webtestalert",
    "logalertv1numresult", "logalertv1metricmeasurement", "resourcehealth", "activitylog", "actualcostbudget",
    "forecastedbudget",
)  # fmt: skip
SIGNAL_TYPES = {"metricstaticthreshold": "Metric", "metricsdynamicthreshold": "Metric", "webtestalert": "Metric"}
WEBHOOK_TIMEOUT_S = 10.0
PENDING_RETRY_AFTER_S = "1"

_RECEIVER_NAME = required(Str(min_length=1))
REQUEST_SCHEMA = Obj(
    {
        "alertType": required(Str(min_length=1, max_length=30)),
        "emailReceivers": Arr(
            Obj(
                {
                    "name": _RECEIVER_NAME,
                    "emailAddress": required(Str(format="email")),
                    "useCommonAlertSchema": Bool(),
                }
            ),
            unique_by="name",
        ),
        "webhookReceivers": Arr(
            Obj(
                {
                    "name": _RECEIVER_NAME,
                    "serviceUri": required(Str(format="uri")),
                    "useCommonAlertSchema": Bool(),
                    "useAadAuth": Bool(),
                }
            ),
            unique_by="name",
        ),
    },
    code="BadRequest",
)


def handle(resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply | None:
    """The reply for a test-notification request on an action group, or None when the request is something else."""
    path = request.path
    if request.method == "POST" and path == ["createnotifications"]:
        return _create(resource, request.body, ctx)
    if request.method == "GET" and len(path) == 2 and path[0] == "notificationstatus":
        return _status(resource, request.sub_path[1], ctx)
    return None


def _status_url(resource: StoredResource, notification_id: str, ctx: Context) -> str:
    version = supported_version(resource.type)
    return f"{ctx.endpoint}{resource.id}/notificationStatus/{notification_id}?api-version={version}"


def _create(resource: StoredResource, body: Any, ctx: Context) -> Reply:
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: expected a JSON object.")
    REQUEST_SCHEMA.check(body, "")
    alert_type = body["alertType"].lower()
    if alert_type not in ALERT_TYPES:
        raise invalid_property("alertType", f"must be one of {', '.join(ALERT_TYPES)}", "BadRequest")
    if not (body.get("emailReceivers") or body.get("webhookReceivers")):
        raise invalid_property("webhookReceivers", "or emailReceivers must name at least one receiver", "BadRequest")
    notification_id = str(uuid.uuid4())
    status: dict[str, Any] = {
        "context": {"notificationSource": "Microsoft.Insights/TestNotification", "contextType": alert_type},
        "state": "Pending",
        "createdTime": utc_now(),
        "actionDetails": [],
    }
    resource.private.setdefault("test_notifications", {})[notification_id] = status
    payload = _test_alert(resource, alert_type, ctx)
    worker = threading.Thread(target=_deliver, args=(status, body, payload), daemon=True, name="test-notification")
    worker.start()
    return Reply(202, None, {"Location": _status_url(resource, notification_id, ctx), "Retry-After": "0"})


def _status(resource: StoredResource, notification_id: str, ctx: Context) -> Reply:
    status = resource.private.get("test_notifications", {}).get(notification_id)
    if status is None:
        raise ArmError(404, "NotFound", f"The test notification '{notification_id}' was not found.")
    if status["state"] != "Complete":
        headers = {"Location": _status_url(resource, notification_id, ctx), "Retry-After": PENDING_RETRY_AFTER_S}
        return Reply(202, None, headers)
    return Reply(200, json.loads(json.dumps(status)))


def _test_alert(resource: StoredResource, alert_type: str, ctx: Context) -> dict[str, Any]:
    """The common alert schema's test payload, as an action group's test notification sends it."""
    subscription = resource.id.split("/")[2]
    return {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": f"/subscriptions/{subscription}/providers/Microsoft.AlertsManagement/alerts/{uuid.uuid4()}",
                "alertRule": "Test Alert Rule",
                "severity": "Sev3",
                "signalType": SIGNAL_TYPES.get(alert_type, "Log"),
                "monitorCondition": "Fired",
                "monitoringService": "Platform",
                "alertTargetIDs": [resource.id.lower()],
                "configurationItems": [resource.name],
                "firedDateTime": utc_now(),
                "description": f"A test notification of action group {resource.name}",
                "essentialsVersion": "1.0",
                "alertContextVersion": "1.0",
            },
            "alertContext": {},
        },
    }


def _deliver(status: dict[str, Any], request: dict[str, Any], payload: dict[str, Any]) -> None:
    details = []
    for receiver in request.get("emailReceivers") or []:
        details.append(_detail("Email", receiver["emailAddress"], "Succeeded", "the emulator sends no mail"))
    for receiver in request.get("webhookReceivers") or []:
        body = payload if receiver.get("useCommonAlertSchema") else payload["data"]["essentials"]
        details.append(_post(receiver["serviceUri"], body))
    status["actionDetails"] = details
    status["completedTime"] = utc_now()
    status["state"] = "Complete"


def _post(uri: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        uri, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            code = response.status
    except urllib.error.HTTPError as error:
        code = error.code
    except (urllib.error.URLError, OSError) as error:
        return _detail("Webhook", uri, "Failed", f"could not reach the webhook: {error}")
    if 200 <= code < 300:
        return _detail("Webhook", uri, "Succeeded", f"HTTP {code}")
    return _detail("Webhook", uri, "Failed", f"the webhook answered HTTP {code}")


def _detail(mechanism: str, name: str, status: str, detail: str) -> dict[str, Any]:
    return {
        "MechanismType": mechanism,
        "Name": name,
        "Status": status,
        "SubState": "Default",
        "SendTime": utc_now(),
        "Detail": detail,
    }
