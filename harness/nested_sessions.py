"""The environment of the pytest sessions and `mlops-deploy` commands a test starts to watch what they do (deploy,
tear down, be interrupted or killed, report): the caller's, with the deployments they make serving one worker.

What those tests check (what is left behind, what a record or a report says) does not depend on the worker count,
and every worker pays its imports (arch, scipy, pandas: seconds of CPU, more under coverage) at each start. The
session's own deployment, which the live suites verify, keeps the configured workers.
"""

import os
from collections.abc import Mapping

from provisioning.config_overrides import variable_for

ONE_WORKER = {variable_for(("deployment", "web_concurrency")): "1"}


def nested_session_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (by default this process's environment) with one worker per nested deployment, then `extra`."""
    return {**(os.environ if base is None else base), **ONE_WORKER, **extra}
