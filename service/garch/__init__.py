"""The numerical layer: GARCH-family specifications, fits and forecasts, all computed by arch."""

import os
import sys

if os.environ.get("SUPERVISOR_PID"):
    # A process of the server (`python -m service` sets SUPERVISOR_PID for itself and its workers) never draws, but
    # arch imports matplotlib at import whenever it is installed: a development environment has it for the
    # harness's reports (the image does not), and it cost each worker about a CPU-second at every start.
    sys.modules.setdefault("matplotlib", None)  # type: ignore[arg-type]  # None: "not importable", arch's fallback
