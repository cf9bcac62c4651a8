"""`python -m harness.supply_chain sbom|audit [--reports DIR]`: the SBOMs, and the known-vulnerability gate.

sbom: CycloneDX JSON of the service image's dependencies (requirements/service.lock) and of the harness's (this
environment), in the reports directory. audit: pip-audit over the same two, judged with security/
audit-allowlist.yaml; prints one line and exits 0 (passed), 1 (findings, or a wrong allow-list) or 2 (not run: the
advisory service could not be asked), with reports/audit.json saying which.
"""

import argparse
import json
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from harness.supply_chain.audit import ALLOWLIST, AllowListError, judge, load_allowlist

SERVICE_LOCK = Path("requirements/service.lock")
EXIT = {"passed": 0, "findings": 1, "not_run": 2}


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def sbom(reports: Path) -> int:
    reports.mkdir(parents=True, exist_ok=True)
    tool = [sys.executable, "-m", "cyclonedx_py"]
    jobs = {
        "sbom-service.cdx.json": [*tool, "requirements", str(SERVICE_LOCK)],
        "sbom-harness.cdx.json": [*tool, "environment", sys.executable],
    }
    for name, command in jobs.items():
        done = _run([*command, "--output-format", "JSON", "-o", str(reports / name)])
        if done.returncode != 0:
            print(f"sbom: {name}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        components = len(json.loads((reports / name).read_text()).get("components", []))
        print(f"sbom: {reports / name} ({components} components)")
    return 0


def _pip_audit(arguments: list[str], out: Path) -> dict[str, Any]:
    """pip-audit's JSON report; an empty one when pip-audit could not produce any (it then could not look up)."""
    done = _run([sys.executable, "-m", "pip_audit", "-f", "json", "-o", str(out), "--progress-spinner", "off",
                 *arguments])  # fmt: skip
    if out.exists() and out.stat().st_size:
        report: dict[str, Any] = json.loads(out.read_text())
        return report
    reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return {"dependencies": [{"name": "(all)", "skip_reason": f"pip-audit failed: {reason[:200]}"}]}


def audit(reports: Path) -> int:
    reports.mkdir(parents=True, exist_ok=True)
    try:
        allowlist = load_allowlist(ALLOWLIST)
    except AllowListError as error:
        print(f"audit: {error}", file=sys.stderr)
        return EXIT["findings"]
    service = _pip_audit(["-r", str(SERVICE_LOCK), "--no-deps", "--disable-pip"], reports / "audit-service.json")
    harness = _pip_audit(["--local"], reports / "audit-harness.json")
    merged = {"dependencies": service.get("dependencies", []) + harness.get("dependencies", [])}
    result = judge(merged, allowlist, date.today())
    document = {"verdict": result.verdict, "summary": result.summary(), **asdict(result)}
    (reports / "audit.json").write_text(json.dumps(document, indent=1, default=str))
    print(result.summary(), file=sys.stdout if result.verdict == "passed" else sys.stderr)
    return EXIT[result.verdict]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.supply_chain", description=__doc__)
    parser.add_argument("what", choices=("sbom", "audit"))
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    return sbom(args.reports) if args.what == "sbom" else audit(args.reports)


if __name__ == "__main__":
    sys.exit(main())
