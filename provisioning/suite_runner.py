"""The live suites of `mlops-deploy --action test|full`: a pytest of their own, waited for to the end, then the
short report."""

import argparse
import signal
import subprocess
import sys

from provisioning.reporting import render
from provisioning.termination import Terminated


def run_suites(args: argparse.Namespace, target: list[str]) -> int:
    """The live suites in a pytest of their own, then the short report."""
    reports = args.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    junit = reports / "junit-run.xml"
    for stale in (junit, reports / "load.json", reports / "deployment.json"):
        stale.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "deploy",
        *target,
        "--config",
        args.config,
        *(["--azure-target", args.azure_target] if args.azure_target else []),
        f"--junitxml={junit}",
        f"--reports-dir={reports}",
        "--benchmark-disable",  # the live suites measure no benchmarks; this also silences its xdist warning
        "-q",
        *args.pytest_args.split(),
    ]
    code = run_to_the_end(command)
    if junit.exists():
        print("\n" + render(junit, reports / "load.json", reports / "deployment.json"))
    return code


def run_to_the_end(command: list[str]) -> int:
    """Run `command` and wait for it, also when we are interrupted: the pytest it runs tears its deployment down
    on SIGINT (which a terminal's Ctrl-C sends it too) and on SIGTERM (which we pass on), and must not be killed
    in the middle of that, as `subprocess.run` would."""
    process = subprocess.Popen(command)
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            code = process.wait()
        except KeyboardInterrupt as interrupt:
            interrupted = interrupt
            if isinstance(interrupt, Terminated):
                process.send_signal(signal.SIGTERM)
            continue
        if interrupted is not None:
            raise interrupted
        return code
