"""The known-vulnerability gate on pip-audit's JSON report format: a finding fails unless a live allow-list entry
with a reason covers it (by id or alias), an expired or unused entry fails, a malformed one is refused in one line,
and a report whose dependencies could not be looked up is "not run", never "passed"."""

from datetime import date
from pathlib import Path

import pytest

from harness.supply_chain.audit import AllowEntry, AllowListError, judge, load_allowlist

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 4)
VULN = {"id": "PYSEC-2026-17", "aliases": ["CVE-2026-1234", "GHSA-abcd-efgh-ijkl"], "fix_versions": ["3.1.2"]}


def report(*vulns: dict, skipped: bool = False) -> dict:
    """pip-audit -f json: {"dependencies": [{"name", "version", "vulns": [...]} | {"name", "skip_reason"}], ...}"""
    if skipped:
        why = "Dependency not found on PyPI and could not be audited: jinja2 (3.1.0)"
        return {"dependencies": [{"name": "jinja2", "skip_reason": why}], "fixes": []}
    return {"dependencies": [{"name": "jinja2", "version": "3.1.0", "vulns": list(vulns)},
                             {"name": "numpy", "version": "2.4.6", "vulns": []}], "fixes": []}  # fmt: skip


def entry(identifier: str = "CVE-2026-1234", expires: date = date(2027, 1, 31)) -> AllowEntry:
    return AllowEntry(
        id=identifier, package="Jinja2", reason="templates are never rendered from user input", expires=expires
    )


def test_nothing_found_everywhere_looked_is_a_pass() -> None:
    result = judge(report(), [], TODAY)
    assert result.verdict == "passed" and result.audited == 2


def test_an_unallowed_finding_fails_naming_the_package_and_the_fix() -> None:
    result = judge(report(VULN), [], TODAY)
    assert result.verdict == "findings"
    assert result.summary() == "audit failed: jinja2 3.1.0: PYSEC-2026-17 (fixed in 3.1.2)"


def test_a_live_entry_allows_the_finding_by_any_of_its_ids() -> None:
    result = judge(report(VULN), [entry("GHSA-abcd-efgh-ijkl")], TODAY)
    assert result.verdict == "passed" and [e.id for _, e in result.allowed] == ["GHSA-abcd-efgh-ijkl"]


def test_an_expired_entry_fails_again() -> None:
    result = judge(report(VULN), [entry(expires=date(2026, 12, 3))], TODAY)
    assert result.verdict == "findings" and "expired on 2026-12-03" in result.summary()


def test_an_entry_that_matches_no_finding_fails_so_it_is_removed() -> None:
    result = judge(report(), [entry("CVE-2099-0001")], TODAY)
    assert result.verdict == "findings" and "CVE-2099-0001 (Jinja2) matches no finding" in result.summary()


def test_dependencies_that_could_not_be_looked_up_are_not_run_not_passed() -> None:
    result = judge(report(skipped=True), [], TODAY)
    assert result.verdict == "not_run" and result.summary().startswith("audit not run: 1 of 1 dependencies")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- {id: CVE-2026-1234, package: jinja2, expires: 2027-01-31}", "entry 1: reason: Field required"),
        (
            "- {id: CVE-2026-1234, package: jinja2, reason: not reachable from our code}",
            "entry 1: expires: Field required",
        ),
        (
            "- {id: NOPE-1, package: jinja2, reason: not reachable from our code, expires: 2027-01-31}",
            "entry 1: id: String should match",
        ),
        (
            "- {id: CVE-2026-1234, package: jinja2, reason: short, expires: 2027-01-31}",
            "entry 1: reason: String should have at least 10",
        ),
    ],
)
def test_a_wrong_allow_list_is_refused_in_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(text)
    with pytest.raises(AllowListError) as refused:
        load_allowlist(path)
    assert problem in str(refused.value) and "\n" not in str(refused.value)


def test_the_shipped_allow_list_is_valid() -> None:
    assert load_allowlist() == []
