"""schemathesis against the live /openapi.json: every operation, every check in schemathesis.toml.

The schema is loaded when the fixture runs (the URL exists only then), so `-m unit` collection never touches it.
Hypothesis prints the seed of a failing run (`--hypothesis-seed=N` replays it).
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from harness.pytest_plugin.deployment import HarnessOptions
from harness.synthetic_traffic import SYNTHETIC_HEADERS
from provisioning.config import ProjectConfig

pytestmark = pytest.mark.contract

schema = schemathesis.pytest.from_fixture("live_schema")


@pytest.fixture
def live_schema(
    live_url: str, contract_examples: int, harness_options: HarnessOptions
) -> Iterator[schemathesis.BaseSchema]:
    settings_file = tomllib.loads((Path(__file__).parents[2] / "schemathesis.toml").read_text())
    settings_file["headers"] = dict(SYNTHETIC_HEADERS)  # every call, so the alert rules leave this traffic out
    if harness_options.api_key:
        # As schemathesis auth (not a header added to every call), so negative cases that drop the key keep it out.
        settings_file["auth"] = {"openapi": {"APIKeyHeader": {"api_key": harness_options.api_key}}}
    config = SchemathesisConfig.from_dict(settings_file)
    loaded = schemathesis.openapi.from_url(f"{live_url}/openapi.json", config=config, headers=SYNTHETIC_HEADERS)
    loaded.config.generation.update(max_examples=contract_examples)
    yield loaded


@pytest.fixture(scope="session")
def contract_examples(pytestconfig: pytest.Config, project_config: ProjectConfig) -> int:
    """--contract-examples, else testing.contract_examples from the configuration."""
    option = pytestconfig.getoption("--contract-examples")
    return int(option) if option is not None else project_config.testing.contract_examples


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_live_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
