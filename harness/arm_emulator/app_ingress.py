"""Container Apps' ingress, played by a local reverse proxy: plain HTTP listeners on loopback addresses.

One event loop thread serves every listener (one uvicorn server each, on its own 127.0.0.N:port) and forwards with
one shared httpx.AsyncClient (keep-alive). A listener is bound to an app (requests split by traffic weight, or sent
to a label's revision when the Host header is `<app>---<label>.<defaultDomain>`) or to one revision. Method, path,
query, headers and body pass through; hop-by-hop headers do not. Every answer carries `x-ms-revision-name` and
`x-ms-replica-name`, the revision and replica that served it (emulator additions: Azure's ingress sends neither).
A request that finds no ready replica gets 503; one to a stopped app 404, as Azure's front end answers it. A
replica that refuses the connection, or drops it before answering, is retried on another one.
"""

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from harness.arm_emulator.app_routing import Pick, Router
from provisioning.waiting import wait_until

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
     b"transfer-encoding", b"upgrade"}
)  # fmt: skip
RETRIABLE = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)
REVISION_HEADER, REPLICA_HEADER = b"x-ms-revision-name", b"x-ms-replica-name"
ATTEMPTS = 3
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """What a listener serves: an app (by weight and label) or one of its revisions."""

    app_id: str
    app_name: str
    revision: str | None = None


class _NotSent(Exception):
    """Forwarding failed before anything was sent back: the request may go to another replica."""


class _Proxy:
    def __init__(self, router: Router, client: Callable[[], httpx.AsyncClient], target: Target) -> None:
        self.router, self.client, self.target = router, client, target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        label = None if self.target.revision else _label(scope, self.target.app_name)
        avoid: set[int] = set()
        for _ in range(ATTEMPTS):
            pick = self.router.pick(
                self.target.app_id, revision=self.target.revision, label=label, avoid=frozenset(avoid)
            )
            if pick is None:
                break
            try:
                await self._forward(pick, scope, body, send)
                return
            except _NotSent:
                avoid.add(id(pick.replica))
            finally:
                self.router.release(pick.replica)
        what = (
            f"label '{label}' of "
            if label
            else (f"revision '{self.target.revision}' of " if self.target.revision else "")
        )
        if self.router.is_stopped(self.target.app_id):
            await _plain(send, 404, f"Container app '{self.target.app_name}' is stopped or does not exist.")
            return
        await _plain(
            send, 503, f"No ready replica of {what}container app '{self.target.app_name}' can take this request."
        )

    async def _forward(self, pick: Pick, scope: Scope, body: bytes, send: Send) -> None:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        url = f"http://{pick.replica.address}{path.decode('latin-1')}" + (
            f"?{query.decode('latin-1')}" if query else ""
        )
        headers = [(name, value) for name, value in scope["headers"] if name.lower() not in HOP_BY_HOP]
        client_address = scope.get("client") or ("", 0)
        headers += [(b"x-forwarded-for", str(client_address[0]).encode()), (b"x-forwarded-proto", b"http")]
        http = self.client()
        request = http.build_request(scope["method"], url, headers=headers, content=body)
        try:
            response = await http.send(request, stream=True)
        except RETRIABLE as error:
            log.debug("replica %s of %s: %s", pick.replica.name, pick.revision, error)
            raise _NotSent from error
        try:
            out = [(name, value) for name, value in response.headers.raw if name.lower() not in HOP_BY_HOP]
            out += [(REVISION_HEADER, pick.revision.encode()), (REPLICA_HEADER, pick.replica.name.encode())]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _label(scope: Scope, app_name: str) -> str | None:
    """The label of a `<app>---<label>.<domain>` Host header; None for any other host."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"").decode("latin-1")
    first = host.split(".", 1)[0].lower()
    app, separator, label = first.partition("---")
    return label if separator and app == app_name.lower() and label else None


async def _plain(send: Send, status: int, text: str) -> None:
    payload = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


class Ingress:
    """Every listener of every app, on one event loop thread."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="app-ingress", daemon=True)
        self._thread.start()
        self._client: httpx.AsyncClient = self._call(self._make_client()).result(START_TIMEOUT_S)
        self._servers: dict[str, tuple[uvicorn.Server, concurrent.futures.Future[None], str]] = {}
        self._lock = threading.Lock()

    @staticmethod
    async def _make_client() -> httpx.AsyncClient:
        # Keep-alive shorter than the replicas' (uvicorn closes idle connections after 5 s), so a pooled connection
        # is never one the replica is closing.
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=2.0)
        timeout = httpx.Timeout(240.0, connect=2.0)
        return httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False)

    def _call(self, coroutine: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def listen(self, key: str, address: tuple[str, int], target: Target) -> str:
        """Serve `target` on `address` ("ip:port" returned); raises OSError when the address is taken."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it the header and body writes of an answer meet the client's
        # delayed ACK and every request waits ~40 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind(address)
        except OSError:
            sock.close()
            raise
        sock.listen(1024)
        proxy = _Proxy(self.router, lambda: self._client, target)
        config = uvicorn.Config(
            proxy, lifespan="off", log_config=None, log_level="warning", access_log=False,
            timeout_keep_alive=30, timeout_graceful_shutdown=5,
        )  # fmt: skip
        server = uvicorn.Server(config)
        future = self._call(server.serve(sockets=[sock]))
        where = f"{address[0]}:{address[1]}"
        wait_until(
            lambda: server.started or future.done(), what="the ingress listener", where=where,
            timeout_s=START_TIMEOUT_S, interval_s=0.02,
        )  # fmt: skip
        if future.done():
            future.result()  # raises what stopped it
        with self._lock:
            self._servers[key] = (server, future, where)
        return where

    def close(self, key: str) -> None:
        with self._lock:
            entry = self._servers.pop(key, None)
        if entry is None:
            return
        server, future, where = entry
        server.should_exit = True
        try:
            future.result(STOP_TIMEOUT_S)
        except Exception as error:  # a listener that fails to stop cleanly is still gone: log, do not raise
            log.warning("the ingress listener on %s did not stop cleanly: %s", where, error)

    def listeners(self) -> dict[str, str]:
        with self._lock:
            return {key: where for key, (_, _, where) in self._servers.items()}

    def close_all(self) -> None:
        for key in list(self.listeners()):
            self.close(key)

    def shutdown(self) -> None:
        """Close every listener and the client, and stop the event loop thread."""
        self.close_all()
        with contextlib.suppress(Exception):  # best effort at process exit
            self._call(self._client.aclose()).result(STOP_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
