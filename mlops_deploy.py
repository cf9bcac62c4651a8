"""`python mlops_deploy.py --action full --env local`: the same as the `mlops-deploy` command."""

import sys

from provisioning.cli import main

if __name__ == "__main__":
    sys.exit(main())
