"""The known-vulnerability gate over pip-audit's JSON report, with an allow-list that must say why and until when.

Three verdicts, never confused: `passed` (every dependency was looked up and nothing unallowed was found),
`findings` (a vulnerability that no live allow-list entry covers, or an allow-list entry that is expired, has no
reason or matches nothing), and `not_run` (the advisory service could not be asked: pip-audit then reports each
dependency as skipped and still says "No known vulnerabilities found", which must not read as a pass).

The allow-list (security/audit-allowlist.yaml) is a list of {id, package, reason, expires}: `id` a vulnerability id
or alias as pip-audit reports it (PYSEC-..., GHSA-..., CVE-...), `expires` an ISO date after which the entry fails.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Verdict = Literal["passed", "findings", "not_run"]
ALLOWLIST = Path("security/audit-allowlist.yaml")


class AllowEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^(PYSEC|GHSA|CVE|OSV)-[A-Za-z0-9-]+$")
    package: str = Field(min_length=1)
    reason: str = Field(min_length=10, description="Why the finding does not apply or cannot be fixed yet.")
    expires: date


class AllowListError(ValueError):
    """The allow-list file itself is wrong (a missing reason or expiry, a malformed id): one line naming the entry."""


def load_allowlist(path: Path = ALLOWLIST) -> list[AllowEntry]:
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text()) or []
    if not isinstance(raw, list):
        raise AllowListError(f"{path}: a list of entries {{id, package, reason, expires}} expected")
    entries = []
    for index, entry in enumerate(raw):
        try:
            entries.append(AllowEntry.model_validate(entry))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "entry"
            raise AllowListError(f"{path}: entry {index + 1}: {where}: {first['msg']}") from None
    return entries


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]

    def ids(self) -> set[str]:
        return {self.id, *self.aliases}


@dataclass
class AuditResult:
    verdict: Verdict
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)  # not covered by the allow-list
    allowed: list[tuple[Finding, AllowEntry]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # expired or unused allow-list entries
    audited: int = 0
    skipped: int = 0

    def summary(self) -> str:
        if self.verdict == "not_run":
            return f"audit not run: {self.reason}"
        if self.verdict == "passed":
            return f"audit passed: {self.audited} dependencies, {len(self.allowed)} finding(s) allowed"
        lines = [f"{f.package} {f.version}: {f.id} (fixed in {', '.join(f.fix_versions) or 'no release'})"
                 for f in self.findings]  # fmt: skip
        return "audit failed: " + "; ".join(lines + self.problems)


def judge(report: dict[str, Any], allowlist: list[AllowEntry], today: date) -> AuditResult:
    """The verdict on one pip-audit JSON report (`pip-audit -f json`)."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if not dependencies or skipped:
        example = skipped[0]["skip_reason"] if skipped else "the report lists no dependency"
        return AuditResult(
            "not_run", f"{len(skipped)} of {len(dependencies)} dependencies could not be looked up ({example})",
            skipped=len(skipped), audited=len(dependencies) - len(skipped),
        )  # fmt: skip
    result = AuditResult("passed", audited=len(dependencies))
    used: set[int] = set()
    for dependency in dependencies:
        for vulnerability in dependency.get("vulns", []):
            finding = Finding(
                dependency["name"], dependency.get("version", "?"), vulnerability["id"],
                tuple(vulnerability.get("aliases", [])), tuple(vulnerability.get("fix_versions", [])),
            )  # fmt: skip
            entry = next(
                (e for e in allowlist if e.id in finding.ids() and e.package.lower() == finding.package.lower()), None
            )
            if entry is None:
                result.findings.append(finding)
                continue
            used.add(id(entry))
            if entry.expires < today:
                result.problems.append(f"allow-list entry {entry.id} ({entry.package}) expired on {entry.expires}")
                result.findings.append(finding)
            else:
                result.allowed.append((finding, entry))
    for entry in allowlist:
        if id(entry) not in used:
            result.problems.append(f"allow-list entry {entry.id} ({entry.package}) matches no finding: remove it")
    if result.findings or result.problems:
        result.verdict = "findings"
    return result
