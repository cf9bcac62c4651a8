"""`python -m provisioning.quickstart`: start the API locally, print a forecast from it, stop it."""

import sys

import httpx

from .errors import DeploymentError
from .process import ProcessDeployment


def main() -> int:
    try:
        with ProcessDeployment() as deployment:
            health = httpx.get(f"{deployment.url}/health").json()
            forecast = httpx.get(f"{deployment.url}/predict", params={"model": "garch_1_1", "horizon": 5}).json()
    except DeploymentError as error:
        print(f"quickstart: {error}", file=sys.stderr)
        return 1
    print(f"API {health['version']} at {deployment.url}: {health['status']}, {health['models_loaded']} models")
    print(f"{forecast['spec']['label']} forecast from {forecast['origin']} ({forecast['method']}):")
    print(f"{'step':>4}  {'variance':>10}  {'daily vol %':>11}  {'annual vol %':>12}")
    for step, (var, vol, ann) in enumerate(
        zip(forecast["variance"], forecast["volatility"], forecast["annualized_volatility"], strict=True),
        start=1,
    ):
        print(f"{step:>4}  {var:>10.4f}  {vol:>11.4f}  {ann:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
