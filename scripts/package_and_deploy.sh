#!/usr/bin/env bash
# Build the Lambda code zip, upload it with the templates, deploy the stacks.
#   scripts/package_and_deploy.sh --local     everything against a local AWS emulator, then the sample flows
#   scripts/package_and_deploy.sh --help      every flag
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh main
exec .venv/bin/python -m scripts.deploy "$@"
