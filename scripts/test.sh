#!/usr/bin/env bash
# The one test command (CI runs exactly this): sets up the venvs, then runs every gate:
# ruff, cfn-lint, checkov, taskcat lint, the --local run of every template, and pytest
# (unit, template and integration tests). Exits non-zero if any gate fails.
# Extra arguments go to pytest, e.g. scripts/test.sh -k reputation
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 2

failed=()
gate() {  # gate NAME COMMAND...
  local name=$1; shift
  echo "==> $name"
  if "$@"; then echo "<== $name: ok"; else echo "<== $name: FAILED"; failed+=("$name"); fi
}

gate ruff .venv/bin/ruff check src tests scripts benchmarks
gate cfn-lint .venv/bin/cfn-lint templates/*.yaml
gate checkov .venvs/checkov/bin/checkov --skip-download --framework cloudformation -d templates --compact --quiet
gate "taskcat lint" .venvs/taskcat/bin/taskcat lint
gate "local run" scripts/package_and_deploy.sh --local

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "gates FAILED: ${failed[*]}"
else
  echo "gates ok: ruff, cfn-lint, checkov, taskcat lint, local run"
fi

# pytest last, so that its summary is the closing line.
echo "==> pytest"
.venv/bin/python -m pytest -n 2 --dist loadfile "$@"
tests=$?
[[ $tests -eq 0 && ${#failed[@]} -eq 0 ]]
