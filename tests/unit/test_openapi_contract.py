"""schemathesis holds the in-process app to its own OpenAPI schema: every check, positive and negative data.

The checks and their settings come from schemathesis.toml at the root, shared with the live contract suite.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from service.config import Settings
from service.main import create_app

EXAMPLES_PER_OPERATION = int(os.environ.get("GARCH_CONTRACT_EXAMPLES", "100"))
"""100 on the main interpreter; the other Python versions of `make test` run fewer (tox.ini): they prove the same
code runs there, and the contract itself does not change with the interpreter."""

schema = schemathesis.pytest.from_fixture("asgi_schema")


@pytest.fixture(scope="module")
def asgi_schema() -> schemathesis.BaseSchema:
    app = create_app(Settings())
    app.state.registry.load()  # schemathesis does not run the lifespan, so load the models here
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_app_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
