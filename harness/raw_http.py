"""HTTP/1.1 on a bare socket, for requests no HTTP client library will send: oversized heads, bytes trickled over
seconds, many connections held open at once. Reads answers with a deadline, and tells an answer from a close."""

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

READ_CHUNK = 65536


@dataclass(frozen=True)
class RawAnswer:
    """What the server sent back: its status, headers (lower-case names), body, and whether it then closed."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class ServerClosed(ConnectionError):
    """The server closed (or reset) the connection before a whole answer arrived."""

    def __init__(self, received: bytes) -> None:
        super().__init__(f"closed after {len(received)} bytes: {received[:200]!r}")
        self.received = received


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


class RawConnection:
    """One TCP connection to an HTTP server; `source` binds the client's address (e.g. another 127.0.0.0/8 one)."""

    def __init__(self, url: str, *, source: str | None = None, timeout_s: float = 10.0) -> None:
        self.host, self.port = host_port(url)
        self.sock = socket.create_connection(
            (self.host, self.port), timeout=timeout_s, source_address=(source, 0) if source else None
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    @property
    def received(self) -> bytes:
        """What the server sent that no answer() has consumed (e.g. an answer read by closed_by_server)."""
        return self._buffer

    def send(self, data: bytes) -> bool:
        """Send `data`; False when the server has already closed or reset the connection."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
        """The bytes of a request (Host and Content-Length added)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def answer(self, timeout_s: float = 10.0) -> RawAnswer:
        """The next whole answer (a Content-Length body); ServerClosed when the connection ends first."""
        deadline = time.monotonic() + timeout_s
        while b"\r\n\r\n" not in self._buffer:
            self._read(deadline)
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        self._buffer = rest
        while len(self._buffer) < length:
            self._read(deadline)
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return RawAnswer(int(status_line.split(" ")[1]), headers, body)

    def closed_by_server(self, timeout_s: float) -> bool:
        """Whether the server ends the connection within `timeout_s` (anything it sends first is kept)."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                self._read(deadline)
        except ServerClosed:
            return True
        except TimeoutError:
            return False

    def _read(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no whole answer from {self.host}:{self.port}; received {self._buffer[:200]!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(READ_CHUNK)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        except TimeoutError:
            raise TimeoutError(
                f"no whole answer from {self.host}:{self.port}; received {self._buffer[:200]!r}"
            ) from None
        if not chunk:
            raise ServerClosed(self._buffer)
        self._buffer += chunk
