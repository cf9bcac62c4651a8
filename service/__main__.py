"""`python -m service`: serve the API with uvicorn, settings from the environment."""

import functools
import os
import shutil
import sys
import tempfile

from pydantic import ValidationError


def main() -> int:
    from .config import Settings

    if {"-h", "--help"} & set(sys.argv[1:]):
        from .settings_help import settings_help

        print(settings_help(Settings))
        return 0
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        print(f"service: invalid setting {first['loc'][0]!s}: {first['msg']}", file=sys.stderr)
        return 2
    # Multiprocess metrics: every worker writes its samples here and /metrics sums them. It must be set before
    # prometheus_client is imported anywhere, which is why this module imports nothing of the app at the top.
    metrics_dir = tempfile.mkdtemp(prefix="garch-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ["SUPERVISOR_PID"] = str(os.getpid())
    import uvicorn

    from .http_limits import LimitedHttpToolsProtocol, RequestLimits

    protocol = functools.partial(LimitedHttpToolsProtocol, limits=RequestLimits.from_settings(settings))

    try:
        uvicorn.run(
            "service.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.web_concurrency,
            log_level=settings.log_level,
            access_log=False,
            log_config=None,
            http=protocol,  # type: ignore[arg-type]  # a protocol class with its limits bound
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
