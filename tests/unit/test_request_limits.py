"""The request limits of LimitedHttpToolsProtocol, on a real uvicorn on loopback with small limits and a tiny app."""

import functools
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from prometheus_client import REGISTRY

from harness.raw_http import RawConnection
from provisioning.waiting import wait_until
from service.http_limits import LimitedHttpToolsProtocol, RequestLimits
from service.middleware import RequestContextMiddleware

LIMITS = RequestLimits(max_head_bytes=4096, head_timeout_s=0.5, body_timeout_s=0.8, max_connections=4)
GRACE_S = 3.0  # on top of a time bound, for a loaded machine


async def echo_length(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body and answers its length."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size, more = size + len(message.get("body", b"")), message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    protocol = functools.partial(LimitedHttpToolsProtocol, limits=LIMITS)
    app = RequestContextMiddleware(echo_length)  # counts each request, as in the service
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_level="critical")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start", where="127.0.0.1", timeout_s=30, interval_s=0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("garch_http_refused_total", {"reason": reason}) or 0.0


def test_a_head_over_the_cap_in_one_read_gets_431_and_a_close(url: str) -> None:
    before = refusals("head_too_large")
    with RawConnection(url) as conn:
        conn.send(conn.request("GET", "/", {"X-Big": "a" * 5000}))
        answer = conn.answer()
        assert answer.status == 431 and answer.headers["connection"] == "close"
        assert b"request_head_too_large" in answer.body and conn.closed_by_server(GRACE_S)
    assert refusals("head_too_large") == before + 1


def test_a_head_growing_past_the_cap_over_many_reads_gets_431_before_it_ends(url: str) -> None:
    with RawConnection(url) as conn:
        conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        while sent < 1 << 20 and conn.send(b"a" * 2048):  # never the end of the head: the server must stop it
            sent += 2048
            if conn.closed_by_server(0.01):
                break
        assert LIMITS.max_head_bytes - 2048 <= sent <= 4 * LIMITS.max_head_bytes  # near the cap, not at the end
        assert conn.received.startswith(b"HTTP/1.1 431 ") and b"request_head_too_large" in conn.received


def test_a_head_under_the_cap_with_a_body_in_the_same_write_is_served(url: str) -> None:
    with RawConnection(url) as conn:
        conn.send(conn.request("POST", "/", {"X-Fill": "a" * 3000}, body=b"x" * 60_000))
        answer = conn.answer()
        assert (answer.status, answer.body) == (200, b"60000")


def test_a_connection_that_sends_nothing_is_closed_after_the_head_bound(url: str) -> None:
    before = refusals("idle_timeout")
    with RawConnection(url) as conn:
        assert conn.closed_by_server(LIMITS.head_timeout_s + GRACE_S)
        assert not conn.received
    assert refusals("idle_timeout") == before + 1


@pytest.mark.parametrize(
    ("first_part", "what"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n", "head"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab", "body"),
    ],
)
def test_a_trickled_request_gets_408_after_its_bound(url: str, first_part: bytes, what: str) -> None:
    with RawConnection(url) as conn:
        conn.send(first_part)
        answer = conn.answer(LIMITS.body_timeout_s + GRACE_S)
        assert answer.status == 408 and f"request {what} was not received".encode() in answer.body
        assert conn.closed_by_server(GRACE_S)


def test_a_body_cut_off_is_counted_as_408_not_as_a_server_error(url: str) -> None:
    def counted(status: str) -> float:
        labels = {"route": "unmatched", "method": "PUT", "status": status, "traffic": ""}
        return REGISTRY.get_sample_value("garch_http_requests_total", labels) or 0.0

    before = counted("408"), counted("500")
    with RawConnection(url) as conn:
        conn.send(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        assert conn.answer(LIMITS.body_timeout_s + GRACE_S).status == 408
    wait_until(lambda: counted("408") == before[0] + 1, what="the 408 counted", where=url, timeout_s=5, interval_s=0.02)
    assert counted("500") == before[1]


def test_a_keep_alive_connection_serves_many_requests_without_tripping_the_bounds(url: str) -> None:
    with RawConnection(url) as conn:
        for n in range(20):
            conn.send(conn.request("POST", "/", body=b"y" * n) if n else conn.request("GET", "/"))
            assert conn.answer().body == str(n).encode()


def test_connections_beyond_the_cap_get_503_with_retry_after_and_the_rest_keep_working(url: str) -> None:
    before = refusals("overloaded")
    held = [RawConnection(url) for _ in range(LIMITS.max_connections)]
    try:
        for conn in held:  # each answered and kept open, so all are counted at once
            conn.send(conn.request("GET", "/"))
            assert conn.answer().status == 200
        with RawConnection(url) as extra:
            extra.send(extra.request("GET", "/"))
            refused = extra.answer()
            assert refused.status == 503 and refused.headers["retry-after"] == "1"
            assert b"overloaded" in refused.body and extra.closed_by_server(GRACE_S)
        assert refusals("overloaded") == before + 1
        held[0].send(held[0].request("GET", "/"))
        assert held[0].answer().status == 200
    finally:
        for conn in held:
            conn.close()
    wait_until(lambda: _answers(url) == 200, what="200 after the flood", where=url, timeout_s=5, interval_s=0.05)


def _answers(url: str) -> int:
    with RawConnection(url) as conn:
        conn.send(conn.request("GET", "/"))
        return conn.answer().status
