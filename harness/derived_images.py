"""Releases made from the service image for rollout tests: the same service under a new image id, one whose
forecasts fail (a code bug that answers 500 while /health stays green), one that never starts listening.

Each is one small layer on top of the built image, built by the Docker engine from an in-memory context, so a
rollout is rehearsed with real images and real processes, not with switches in the service.
"""

import io
import tarfile
from collections.abc import Mapping

from provisioning.environments.image import docker_client

# Imported by Python at start-up from /app (on PYTHONPATH): the forecast step raises, so /predict answers 500,
# /health and /models/list are untouched, and the break shows only when a forecast is asked for.
FORECAST_RAISES = """\
import service.api.routes.predict as predict


def _broken(result):
    raise RuntimeError("this release cannot format a forecast")


predict.forecast_out = _broken
"""

# A release that passes its checks at 0% and fails under traffic (a leak, say): each process answers its first
# `calls` forecasts, then every /predict answers 500. Only the rollout steps' watch can catch it.
FORECAST_RAISES_AFTER = """\
import service.api.response_cache as response_cache

_answered, _lookup = 0, response_cache.ResponseCache.get


def _failing_after(self, key):
    global _answered
    _answered += 1
    if _answered > {calls}:
        raise RuntimeError("this release fails once it has answered {calls} forecasts")
    return _lookup(self, key)


response_cache.ResponseCache.get = _failing_after
"""


def derive_image(base: str, tag: str, *, lines: tuple[str, ...] = (), files: Mapping[str, str] | None = None) -> str:
    """`FROM base` plus `lines`, with `files` (name -> text) in the build context; tagged and returned as `tag`."""
    context = io.BytesIO()
    dockerfile = "\n".join([f"FROM {base}", *lines]) + "\n"
    with tarfile.open(fileobj=context, mode="w") as archive:
        for name, text in {"Dockerfile": dockerfile, **(files or {})}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    context.seek(0)
    docker_client().images.build(fileobj=context, custom_context=True, tag=tag, rm=True, pull=False)
    return tag


def next_release(base: str, tag: str, release: str) -> str:
    """The same service as `base` under a new image id (a label differs), as a new build of unchanged code is."""
    return derive_image(base, tag, lines=(f'LABEL org.opencontainers.image.revision="{release}"',))


def forecast_bug_release(base: str, tag: str, *, after_calls: int | None = None) -> str:
    """A release whose /predict answers 500: from the start, or once each process answered `after_calls`."""
    code = FORECAST_RAISES if after_calls is None else FORECAST_RAISES_AFTER.format(calls=after_calls)
    return derive_image(base, tag, lines=("COPY sitecustomize.py /app/sitecustomize.py",),
                        files={"sitecustomize.py": code})  # fmt: skip


def never_listening_release(base: str, tag: str) -> str:
    """A release whose process starts and never listens: its startup probe never passes."""
    return derive_image(base, tag, lines=('CMD ["python", "-c", "import time; time.sleep(10 ** 6)"]',))
