"""The HTTPS front: authentication, api-versions, faults, the request log, JSON in and out, the control API.

ARM paths go to the ResourceManager (lists to ResourceLists); `/_emulator/...` is the control API a test uses
(same bearer token):
  GET  /_emulator/health       readiness (no token needed)
  GET  /_emulator/resources    every stored resource        GET /_emulator/containers  every container it runs
  GET  /_emulator/listeners    every container app ingress listener (key, address)
  GET  /_emulator/requests     the request log              DELETE /_emulator/requests clear it
  POST /_emulator/faults       add a fault rule (faults.py) GET / DELETE /_emulator/faults  list / clear
  PUT  /_emulator/scale-clock  {"factor": f}: Container Apps' scaling timings times f (app_scaler.py)
  GET  /_emulator/scaling      every replica count change the autoscaler made
  POST /_emulator/reset        delete every resource and container, clear faults, operations and the log
"""

import json
import logging
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.arm_emulator.api_versions import SDK_API_VERSIONS, canonical_type, check_api_version
from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.faults import FAULT_KINDS, IMMEDIATE_FAULTS, FaultBook, FaultRule, RequestFacts
from harness.arm_emulator.lro import OperationBook
from harness.arm_emulator.providers import Context, Reply, ResourceKind, kind_of
from harness.arm_emulator.providers.key_vault import DELETED_VAULTS, deleted_vault
from harness.arm_emulator.request_log import RequestLog
from harness.arm_emulator.resource_lists import ResourceLists
from harness.arm_emulator.resource_manager import ResourceManager
from harness.arm_emulator.routes import (
    CollectionRoute,
    DeletedVaultRoute,
    OperationRoute,
    ProviderRoute,
    ResourceRoute,
    SubscriptionRoute,
    parse_path,
)
from harness.arm_emulator.settings import EmulatorSettings
from harness.arm_emulator.store import ResourceStore

log = logging.getLogger(__name__)
CONTROL_PREFIX = "/_emulator"
JSON_TYPE = "application/json; charset=utf-8"
CHALLENGE = 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"'


class _TlsThreadingServer(ThreadingHTTPServer):
    """Handshakes in the request's worker thread, so a slow client never blocks accept()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext, emulator: "ArmEmulatorServer") -> None:
        self.tls = tls
        self.emulator = emulator
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(30)
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        self.RequestHandlerClass(wrapped, client_address, self)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsThreadingServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body, headers = self.server.emulator.handle(self.command, self.path, dict(self.headers.items()), raw)
        payload = b"" if body is None or self.command == "HEAD" else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(payload)) if self.command != "HEAD" else "0")
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _handle


class ArmEmulatorServer:
    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(settings.cert_file, settings.key_file)
        self._httpd = _TlsThreadingServer((settings.host, settings.port), tls, self)
        self.port = int(self._httpd.server_address[1])
        self.endpoint = f"https://{settings.host}:{self.port}"
        self.store = ResourceStore()
        self.operations = OperationBook(hold_s=settings.poll_hold_s)
        self.faults = FaultBook()
        self.request_log = RequestLog()
        self.ctx = Context(settings=settings, store=self.store, endpoint=self.endpoint)
        self.manager = ResourceManager(self.ctx, self.operations)
        self.lists = ResourceLists(self.ctx)
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="arm-emulator", daemon=True)
        self._thread.start()

    def shutdown(self) -> int:
        """Stop serving and remove every container this emulator started; returns how many were removed."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self.ctx.apps_started:
            self.ctx.apps.shutdown()
        return self.ctx.runtime.remove_all() if self.ctx.runtime_started else 0

    # -- dispatch -------------------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == CONTROL_PREFIX or url.path.startswith(CONTROL_PREFIX + "/"):
            return self._control(method, url.path[len(CONTROL_PREFIX) :], headers, raw)
        started = time.monotonic()
        facts: dict[str, Any] = {"resource_type": None, "name": None, "action": None, "kind": "resource", "fault": None}
        try:
            reply = self._arm(method, url.path, query, headers, raw, facts)
            status, body, reply_headers, error_code = reply.status, reply.body, reply.headers, None
        except ArmError as error:
            status, body, reply_headers, error_code = error.status, error.body(), error.headers, error.code
        except Exception as error:  # a bug in the emulator: answer as ARM would, and keep the detail in the log
            log.exception("%s %s failed", method, target)
            status, body, reply_headers, error_code = (
                500,
                ArmError(500, "InternalServerError", f"ARM emulator error: {error}").body(),
                {},
                "InternalServerError",
            )
        self.request_log.add(
            method=method,
            path=url.path,
            api_version=query.get("api-version"),
            status=status,
            error_code=error_code,
            duration_ms=round((time.monotonic() - started) * 1000, 2),
            **facts,
        )
        request_id = str(uuid.uuid4())
        response_headers = {
            "x-ms-request-id": request_id,
            "x-ms-correlation-request-id": headers.get("x-ms-correlation-request-id", request_id),
            "x-ms-routing-request-id": f"LOCAL:{request_id}",
            **reply_headers,
        }
        return status, body, response_headers

    def _authenticate(self, headers: dict[str, str]) -> None:
        authorization = next((value for name, value in headers.items() if name.lower() == "authorization"), None)
        if authorization is None:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={"WWW-Authenticate": CHALLENGE},
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.settings.token:
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                headers={"WWW-Authenticate": CHALLENGE},
            )

    def _arm(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes, facts: dict[str, Any]
    ) -> Reply:
        self._authenticate(headers)
        route = parse_path(path)
        subscription = route.subscription
        if subscription.lower() != self.settings.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
        api_version = query.get("api-version")
        if isinstance(route, OperationRoute):
            facts["kind"] = "poll"
            operation = self.operations.get(route.operation_id)
            facts["resource_type"], facts["name"] = operation.resource_type, operation.resource_id.rsplit("/", 1)[-1]
            return self.manager.poll(route, api_version)
        if isinstance(route, DeletedVaultRoute):
            facts["kind"] = "action" if route.purge else "resource"
            facts["resource_type"], facts["name"] = DELETED_VAULTS, route.name
            facts["action"] = "purge" if route.purge else None
            check_api_version(DELETED_VAULTS, api_version)
            if method != ("POST" if route.purge else "GET"):
                raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on a deleted vault.")
            return deleted_vault(self.store, subscription, route.location, route.name, purge=route.purge)
        if isinstance(route, SubscriptionRoute):
            facts["kind"] = "subscription"
            return self.manager.subscription(route)
        if isinstance(route, ProviderRoute):
            facts["kind"], facts["resource_type"], facts["name"] = (
                "provider",
                "Microsoft.Resources/providers",
                route.namespace,
            )
            check_api_version("Microsoft.Resources/providers", api_version)
            return self.manager.provider(route)
        if isinstance(route, CollectionRoute):
            return self._list(method, path, route, query, facts)
        assert isinstance(route, ResourceRoute)
        return self._resource(method, route, query, raw, facts)

    def _list(
        self, method: str, path: str, route: CollectionRoute, query: dict[str, str], facts: dict[str, Any]
    ) -> Reply:
        api_version = query.get("api-version")
        listed = route.type or "Microsoft.Resources/resources"
        canonical = canonical_type(listed)
        facts["kind"], facts["resource_type"] = "list", canonical or listed
        if canonical is not None and kind_of(canonical) is None:  # "resources": a list, not a kind
            check_api_version(canonical, api_version)
        else:
            self._check_type(listed, api_version)
        self._fault(method, facts, frozenset(IMMEDIATE_FAULTS), None)
        if method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"The collection '{path}' answers GET only.")
        return self.lists.list_collection(route, query)

    def _resource(
        self, method: str, route: ResourceRoute, query: dict[str, str], raw: bytes, facts: dict[str, Any]
    ) -> Reply:
        api_version = query.get("api-version")
        ref = route.ref
        kind = self._check_type(ref.type, api_version)
        facts["resource_type"], facts["name"] = kind.type, ref.name
        facts["action"] = route.sub_path[0] if route.sub_path else None
        facts["kind"] = "action" if route.sub_path else "resource"
        existing = self.store.get(ref.key)
        location = (existing.body.get("location") if existing else None) or None
        body = self._json(raw) if method in ("PUT", "PATCH", "POST") else None
        if location is None and isinstance(body, dict):
            location = body.get("location")
        fault = self._fault(method, facts, self._applicable(method, kind, route, existing is not None), location)
        if route.sub_path:
            if method not in kind.sub_path_methods:
                allowed = " or ".join(kind.sub_path_methods)
                raise ArmError(405, "MethodNotAllowed", f"'{'/'.join(route.sub_path)}' answers {allowed} only.")
            return self.manager.action(route, kind, method, body, query, str(api_version), fault)
        if method == "GET":
            return self.manager.get(ref, kind)
        if method == "HEAD":
            return self.manager.head(ref, kind)
        if method == "PUT":
            return self.manager.put(ref, kind, body, str(api_version), fault)
        if method == "PATCH":
            return self.manager.patch(ref, kind, body, str(api_version), fault)
        if method == "DELETE":
            return self.manager.delete(ref, kind, str(api_version), fault)
        raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on resources.")

    @staticmethod
    def _check_type(resource_type: str, api_version: str | None) -> ResourceKind:
        """The resource kind for `resource_type`, after ARM's resource-type and api-version checks."""
        canonical = canonical_type(resource_type)
        namespace = resource_type.split("/", 1)[0]
        if canonical is None:
            if not any(known.lower().startswith(namespace.lower() + "/") for known in SDK_API_VERSIONS):
                raise ArmError(400, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")
            raise ArmError(
                400,
                "InvalidResourceType",
                f"The resource type '{resource_type.split('/', 1)[-1]}' could not be found in the namespace "
                f"'{namespace}' for api version '{api_version}'.",
            )
        check_api_version(canonical, api_version)
        kind = kind_of(canonical)
        if kind is None:  # listed types without a kind of their own ("resources", "providers")
            raise ArmError(
                400, "InvalidResourceType", f"The resource type '{resource_type}' cannot be addressed directly."
            )
        return kind

    @staticmethod
    def _applicable(method: str, kind: ResourceKind, route: ResourceRoute, exists: bool) -> frozenset[str]:
        """The fault kinds that can fire on this request: handling faults only where they mean something."""
        applicable = set(IMMEDIATE_FAULTS)
        action = [part.lower() for part in route.sub_path]
        if not action:
            if method == "PUT" and (kind.put_style == "async" or (kind.put_style == "location" and not exists)):
                applicable.add("lro_failed")
            if method == "DELETE" and kind.delete_style == "location" and exists:
                applicable.add("lro_failed")
            if method == "PUT" and kind.type == "Microsoft.ContainerInstance/containerGroups":
                applicable.add("crash_on_start")
            if method in ("PUT", "PATCH") and kind.type == "Microsoft.App/containerApps":
                applicable |= {"crash_on_start", "never_ready"}
        elif method == "POST" and action == ["start"]:
            applicable.add("lro_failed")
        return frozenset(applicable)

    def _fault(
        self, method: str, facts: dict[str, Any], applicable: frozenset[str], location: str | None
    ) -> FaultRule | None:
        request = RequestFacts(method, facts["resource_type"], facts["name"], facts["action"], location)
        rule = self.faults.take(request, applicable)
        if rule is None:
            return None
        facts["fault"] = rule.kind
        if rule.kind in IMMEDIATE_FAULTS:
            raise rule.as_error(request)
        return rule

    @staticmethod
    def _json(raw: bytes) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: '{error}'.",
            ) from None

    # -- control API ----------------------------------------------------------------------------------------------
    def _control(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        try:
            if path == "/health" and method == "GET":
                return 200, self.describe(), {}
            self._authenticate(headers)
            return self._control_authenticated(method, path, raw)
        except ArmError as error:
            return error.status, error.body(), error.headers
        except Exception as error:  # answer, and keep the detail in the log, rather than drop the connection
            log.exception("%s %s%s failed", method, CONTROL_PREFIX, path)
            return 500, ArmError(500, "InternalServerError", f"ARM emulator error: {error}").body(), {}

    def _control_authenticated(self, method: str, path: str, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if path == "/resources" and method == "GET":
            return 200, {"value": self.store.snapshot()}, {}
        if path == "/containers" and method == "GET":
            containers = self.ctx.runtime.list_all() if self.ctx.runtime_started else []
            return 200, {"value": containers}, {}
        if path == "/listeners" and method == "GET":
            listeners = self.ctx.apps.listeners() if self.ctx.apps_started else {}
            return 200, {"value": [{"key": key, "address": address} for key, address in listeners.items()]}, {}
        if path == "/requests" and method == "GET":
            return 200, {"value": self.request_log.entries()}, {}
        if path == "/requests" and method == "DELETE":
            self.request_log.clear()
            return 204, None, {}
        if path == "/faults" and method == "POST":
            rule = self.faults.add(FaultRule.from_request(self._json(raw)))
            return 201, rule.describe(), {}
        if path == "/faults" and method == "GET":
            return 200, {"value": self.faults.describe(), "kinds": sorted(FAULT_KINDS)}, {}
        if path == "/faults" and method == "DELETE":
            self.faults.clear()
            return 204, None, {}
        if path == "/scale-clock" and method == "PUT":
            factor = self._json(raw).get("factor")
            if not isinstance(factor, int | float) or not 0 < factor <= 1:
                raise ArmError(400, "InvalidRequestContent", f"'factor' must be a number in (0, 1], not {factor!r}.")
            self.ctx.scale_clock = float(factor)
            return 200, {"factor": self.ctx.scale_clock}, {}
        if path == "/scaling" and method == "GET":
            return 200, {"value": self.ctx.apps.autoscaler.events() if self.ctx.apps_started else []}, {}
        if path == "/reset" and method == "POST":
            self.faults.clear()
            removed = self.manager.remove_everything()
            if self.ctx.apps_started:
                self.ctx.apps.remove_all()
            leftover_containers = self.ctx.runtime.remove_all() if self.ctx.runtime_started else 0
            self.operations.clear()
            self.request_log.clear()
            return 200, {"removedResources": removed, "removedContainers": leftover_containers}, {}
        raise ArmError(404, "NotFound", f"No control endpoint {method} {CONTROL_PREFIX}{path}.")

    def describe(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "endpoint": self.endpoint,
            "instance": self.settings.instance,
            "subscriptionId": self.settings.subscription_id,
            "tenantId": self.settings.tenant_id,
            "registry": self.settings.registry,
        }
