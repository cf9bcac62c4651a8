"""The shape of Microsoft.App request bodies (managed environments, container apps) as the 2026-07-01 API takes them.

Field names are the REST names azure-mgmt-appcontainers 5.1 sends (`managedEnvironmentId`, `targetPort`,
`secretRef`, `revisionSuffix`...). Rules that need more than one field live in container_app_checks.
"""

import re
from typing import Any

from harness.arm_emulator.schema import Arr, Bool, Int, Map, Num, Obj, Str, required

APP_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$")
ENVIRONMENT_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,58}[a-z0-9]$")
LOWER_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
SECRET_NAME = r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
IDENTITY_TYPES = (
    "None",
    "SystemAssigned",
    "UserAssigned",
    "SystemAssigned,UserAssigned",
    "SystemAssigned, UserAssigned",
)

IDENTITY = Obj({"type": required(Str(enum=IDENTITY_TYPES)), "userAssignedIdentities": Map(Obj({}))})

_HTTP_GET = Obj(
    {
        "path": Str(),
        "port": required(Int(minimum=1, maximum=65535)),
        "host": Str(),
        "scheme": Str(enum=("HTTP", "HTTPS")),
        "httpHeaders": Arr(Obj({"name": required(Str()), "value": required(Str())})),
    }
)
PROBE = Obj(
    {
        "type": Str(enum=("Liveness", "Readiness", "Startup")),
        "httpGet": _HTTP_GET,
        "tcpSocket": Obj({"port": required(Int(minimum=1, maximum=65535)), "host": Str()}),
        "initialDelaySeconds": Int(minimum=0, maximum=60),
        "periodSeconds": Int(minimum=1, maximum=240),
        "failureThreshold": Int(minimum=1, maximum=10),
        "successThreshold": Int(minimum=1, maximum=10),
        "timeoutSeconds": Int(minimum=1, maximum=240),
        "terminationGracePeriodSeconds": Int(minimum=0),
    }
)
CONTAINER = Obj(
    {
        "name": required(Str(pattern=LOWER_NAME, pattern_hint="must be lowercase letters, digits and '-'")),
        "image": required(Str(min_length=1)),
        "command": Arr(Str()),
        "args": Arr(Str()),
        "env": Arr(
            Obj({"name": required(Str(pattern=ENV_NAME)), "value": Str(), "secretRef": Str()}), unique_by="name"
        ),
        "resources": Obj({"cpu": Num(exclusive_minimum=0), "memory": Str(), "ephemeralStorage": Str()}),
        "probes": Arr(PROBE, max_items=3),
        "volumeMounts": Arr(Obj({"volumeName": Str(), "mountPath": Str(), "subPath": Str()})),
    }
)
SCALE = Obj(
    {
        "minReplicas": Int(minimum=0, maximum=1000),
        "maxReplicas": Int(minimum=1, maximum=1000),
        "cooldownPeriod": Int(minimum=0),
        "pollingInterval": Int(minimum=1),
        "rules": Arr(
            Obj(
                {
                    "name": required(Str(pattern=LOWER_NAME, pattern_hint="must be lowercase letters, digits and '-'")),
                    "http": Obj({"metadata": Map(Str())}),
                    "custom": Obj({"type": required(Str(min_length=1)), "metadata": Map(Str())}),
                    "tcp": Obj({"metadata": Map(Str())}),
                    "azureQueue": Obj({"queueName": Str(), "queueLength": Int(minimum=1)}),
                }
            ),
            unique_by="name",
        ),
    }
)
TEMPLATE = Obj(
    {
        "revisionSuffix": Str(
            pattern=LOWER_NAME, pattern_hint="must be lowercase letters, digits and '-', not starting with '-'"
        ),
        "terminationGracePeriodSeconds": Int(minimum=0, maximum=600),
        "containers": required(Arr(CONTAINER, min_items=1, max_items=20, unique_by="name")),
        "initContainers": Arr(Obj({"name": required(Str()), "image": required(Str())})),
        "scale": SCALE,
        "volumes": Arr(Obj({"name": required(Str())})),
    }
)
TRAFFIC = Obj(
    {
        "revisionName": Str(min_length=1),
        "weight": Int(minimum=0, maximum=100),
        "latestRevision": Bool(),
        "label": Str(pattern=LOWER_NAME, pattern_hint="must be lowercase letters, digits and '-'"),
    }
)
INGRESS = Obj(
    {
        "external": Bool(),
        "targetPort": Int(minimum=1, maximum=65535),
        "exposedPort": Int(minimum=0, maximum=65535),
        "transport": Str(enum=("auto", "http", "http2", "tcp")),
        "traffic": Arr(TRAFFIC),
        "allowInsecure": Bool(),
        "customDomains": Arr(Obj({"name": required(Str())})),
        "stickySessions": Obj({"affinity": Str(enum=("sticky", "none"))}),
    }
)
CONFIGURATION = Obj(
    {
        "secrets": Arr(
            Obj(
                {
                    "name": required(
                        Str(pattern=SECRET_NAME, pattern_hint="must be lowercase letters, digits, '-', '.'")
                    ),
                    "value": Str(),
                    "identity": Str(),
                    "keyVaultUrl": Str(format="uri"),
                }
            ),
            unique_by="name",
        ),
        "activeRevisionsMode": Str(enum=("Single", "Multiple")),
        "ingress": INGRESS,
        "registries": Arr(
            Obj(
                {
                    "server": required(Str(min_length=1)),
                    "username": Str(),
                    "passwordSecretRef": Str(),
                    "identity": Str(),
                }
            )
        ),
        "maxInactiveRevisions": Int(minimum=0),
    }
)
APP_PROPERTIES = Obj(
    {
        "managedEnvironmentId": Str(format="resource_id"),
        "environmentId": Str(format="resource_id"),
        "workloadProfileName": Str(),
        "configuration": CONFIGURATION,
        "template": required(TEMPLATE),
    }
)
APP_FIELDS: dict[str, Any] = {"identity": IDENTITY, "kind": Str(), "managedBy": Str()}

ENVIRONMENT_PROPERTIES = Obj(
    {
        "appLogsConfiguration": Obj(
            {
                "destination": Str(),
                "logAnalyticsConfiguration": Obj({"customerId": Str(), "sharedKey": Str()}),
            }
        ),
        "zoneRedundant": Bool(),
        "workloadProfiles": Arr(Obj({"name": required(Str()), "workloadProfileType": required(Str())})),
        "publicNetworkAccess": Str(enum=("Enabled", "Disabled")),
    }
)
ENVIRONMENT_FIELDS: dict[str, Any] = {"identity": IDENTITY, "kind": Str()}
