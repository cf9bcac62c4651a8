"""Closed-loop HTTP load from wrk (Debian's `wrk`), for throughput ratios measured side by side.

wrk is C on epoll: at a few thousand requests per second it costs a fraction of a core, so on a 2-core machine the
server, not the load generator, is what runs out of CPU (locust's FastHttpUser needs about as much CPU per request
as the server's cheapest endpoint). Its `done` hook prints one JSON line that `run_wrk` reads back.
"""

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "install it with `apt-get install -y wrk` (`make install` does it on Debian)"

SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
local paths = {paths}
local next_path = 0
local threads_created = 0

setup = function(thread)
  -- wrk creates its threads one after another, calling setup before each: sleeping here spaces their connects
  if threads_created > 0 and {stagger_s} > 0 then os.execute("sleep {stagger_s}") end
  threads_created = threads_created + 1
end

request = function()
  next_path = next_path % #paths + 1
  return wrk.format(nil, paths[next_path])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK_JSON {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


class LoadGeneratorError(RuntimeError):
    """wrk is missing, failed, or printed no summary."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency percentiles, and every request that did not get a 2xx/3xx."""

    url: str
    requests: int
    duration_s: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class WrkLoad:
    """What to send: paths rotated per request on one base URL, an optional JSON body, and the concurrency."""

    base_url: str
    paths: tuple[str, ...]
    method: str = "GET"
    body: bytes | None = None
    headers: Mapping[str, str] | None = None
    connections: int = 8
    threads: int = 1
    ramp_s: float = 0.0
    """Open the connections one by one over this long (one wrk thread each) instead of all at once."""

    def script(self) -> str:
        headers = "\n".join(f"wrk.headers[ {_lua(k)} ] = {_lua(v)}" for k, v in (self.headers or {}).items())
        body = _lua(self.body.decode()) if self.body else "nil"
        paths = "{" + ", ".join(_lua(p) for p in self.paths) + "}"
        stagger_s = f"{self.ramp_s / self.connections:.3f}" if self.ramp_s > 0 else "0"
        return SCRIPT.format(method=_lua(self.method), body=body, headers=headers, paths=paths, stagger_s=stagger_s)

    @property
    def thread_count(self) -> int:
        return self.connections if self.ramp_s > 0 else self.threads


def run_wrk(load: WrkLoad, *, duration_s: float, timeout_s: float = 10.0) -> WrkResult:
    """Run wrk for `duration_s` against `load`; raises LoadGeneratorError if it cannot report."""
    executable = shutil.which("wrk")
    if executable is None:
        raise LoadGeneratorError(f"wrk is not on PATH; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="garch-wrk-") as directory:
        script = Path(directory) / "load.lua"
        script.write_text(load.script())
        command = [
            executable,
            f"-t{load.thread_count}",
            f"-c{load.connections}",
            f"-d{max(round(duration_s), 1)}s",
            f"--timeout={timeout_s:g}s",
            "-s",
            str(script),
            load.base_url,
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False
        )
    summary = next((line for line in result.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if result.returncode != 0 or summary is None:
        detail = (result.stderr or result.stdout).strip()[-400:]
        raise LoadGeneratorError(f"wrk against {load.base_url} failed (exit {result.returncode}): {detail}")
    stats = json.loads(summary.removeprefix("WRK_JSON "))
    errors = sum(stats[key] for key in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        url=load.base_url,
        requests=stats["requests"],
        duration_s=stats["duration_us"] / 1e6,
        errors=errors,
        p50_ms=stats["p50_us"] / 1000,
        p90_ms=stats["p90_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
    )


def _lua(text: str) -> str:
    """A Lua long-bracket string literal that cannot be closed by anything inside `text`."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"
