"""`python -m harness.arm_emulator`: serve the ARM emulator until SIGTERM/SIGINT, then remove its containers.

When it is ready it writes one JSON line (endpoint, CA bundle, token, subscription, instance) to stdout and, with
--ready-file, to that file, which is how the pytest fixture learns the port it bound.
"""

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from types import FrameType

from harness.arm_emulator.server import ArmEmulatorServer
from harness.arm_emulator.settings import EmulatorSettings
from harness.arm_emulator.tls import issue_certificates
from harness.stand_ins.registry import LocalRegistry


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness.arm_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--state-dir", type=Path, default=None, help="certificates and files (default: a temp dir)")
    parser.add_argument("--cert", type=Path, default=None, help="server certificate (default: issue one)")
    parser.add_argument("--key", type=Path, default=None, help="server key (with --cert)")
    parser.add_argument("--ca", type=Path, default=None, help="CA bundle clients trust (reported only, with --cert)")
    parser.add_argument("--token", default=os.environ.get("ARM_EMULATOR_TOKEN"), help="bearer token (default: random)")
    parser.add_argument("--subscription-id", default=None, help="the one subscription served (default: random GUID)")
    parser.add_argument("--tenant-id", default=None)
    registry = parser.add_mutually_exclusive_group()
    registry.add_argument("--registry", default=None, help="host:port of a running docker-registry (ACR login server)")
    registry.add_argument("--start-registry", action="store_true", help="start a docker-registry for this emulator")
    parser.add_argument("--instance", default=None, help="docker label value for this emulator's containers")
    parser.add_argument("--retry-after", type=int, default=0, help="Retry-After seconds on long-running operations")
    parser.add_argument("--poll-hold", type=float, default=0.25, help="seconds a poll may wait for completion")
    parser.add_argument("--settle", type=float, default=0.05, help="seconds a simple long-running operation takes")
    parser.add_argument(
        "--scale-clock", type=float, default=1.0, help="factor on Container Apps' scaling timings (0 < f <= 1)"
    )
    parser.add_argument("--blob-endpoint", default="https://{name}.blob.core.windows.net/")
    parser.add_argument("--ready-file", type=Path, default=None, help="write the readiness JSON here too")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop (and clean up) when this process is gone")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="arm-emulator-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    cert, key, ca = _tls_files(args, state_dir)
    registry = LocalRegistry(state_dir / "registry") if args.start_registry else None
    if registry is not None:
        registry.start()
    settings = _settings(args, state_dir, cert, key, registry.address if registry else args.registry)
    server = ArmEmulatorServer(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server.start()
    if args.parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(args.parent_pid, stop), daemon=True).start()
    _announce_ready({**server.describe(), "caBundle": str(ca), "token": settings.token, "pid": os.getpid()}, args)
    try:
        stop.wait()
    finally:
        removed = server.shutdown()
        if registry is not None:
            registry.stop()
        logging.getLogger(__name__).info("stopped; removed %d container(s)", removed)
    return 0


def _tls_files(args: argparse.Namespace, state_dir: Path) -> tuple[Path, Path, Path]:
    """(server certificate, its key, the CA bundle clients trust): the ones given, or freshly issued."""
    if args.cert:
        return args.cert, args.key, args.ca or args.cert
    tls = issue_certificates(state_dir / "tls")
    return tls.server_cert, tls.server_key, tls.ca_cert


def _settings(
    args: argparse.Namespace, state_dir: Path, cert: Path, key: Path, registry: str | None
) -> EmulatorSettings:
    return EmulatorSettings(
        host=args.host,
        port=args.port,
        token=args.token or secrets.token_urlsafe(32),
        subscription_id=args.subscription_id or str(uuid.uuid4()),
        tenant_id=args.tenant_id or str(uuid.uuid4()),
        cert_file=cert,
        key_file=key,
        state_dir=state_dir,
        registry=registry,
        retry_after_s=args.retry_after,
        poll_hold_s=args.poll_hold,
        settle_s=args.settle,
        instance=args.instance or uuid.uuid4().hex[:12],
        blob_endpoint=args.blob_endpoint,
        scale_clock=args.scale_clock,
    )


def _announce_ready(ready: dict[str, object], args: argparse.Namespace) -> None:
    """One JSON line on stdout and, atomically, in --ready-file: how the fixture learns the port and token."""
    if args.ready_file:
        temporary = args.ready_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(ready))
        temporary.replace(args.ready_file)
    print(json.dumps(ready), flush=True)


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    """Stop when the process that owns us is gone (killed without running its teardown)."""
    direct = os.getppid() == parent_pid
    while not stop.wait(1.0):
        gone = os.getppid() != parent_pid if direct else not _alive(parent_pid)
        if gone:
            stop.set()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no procfs: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


if __name__ == "__main__":
    sys.exit(main())
