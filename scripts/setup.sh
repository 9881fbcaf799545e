#!/usr/bin/env bash
# Creates the project's virtual environments from the pinned requirement files.
# Idempotent: a venv is rebuilt only when its requirement files change.
#   .venv            tests, local emulator, cfn-lint, ruff    (requirements/dev.txt)
#   .venvs/checkov   checkov, which pins its own boto3         (requirements/checkov.txt)
#   .venvs/taskcat   taskcat, which needs jsonschema<4         (requirements/taskcat.txt)
# Usage: scripts/setup.sh [main|checkov|taskcat ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" - <<'PY' || { echo "setup: Python 3.11 or newer is required (set PYTHON=...)" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

make_venv() {  # name dir requirement-files...
  local name=$1 dir=$2; shift 2
  local stamp="$dir/.requirements.sha256"
  local lock="requirements/$name.lock"
  local want
  want=$( { cat "$@"; [[ -f "$lock" ]] && cat "$lock"; true; } | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "setup: installing $name venv into $dir" >&2
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  local args=()
  for f in "$@"; do args+=(-r "$f"); done
  [[ -f "$lock" ]] && args+=(-c "$lock")
  "$dir/bin/pip" install --quiet --disable-pip-version-check "${args[@]}" 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(main checkov taskcat)
for t in "${targets[@]}"; do
  case "$t" in
    main)    make_venv main .venv requirements/dev.txt requirements/runtime.txt
             # src (due, due_local) and the repository (scripts) on the venv's path, so that
             # `.venv/bin/python -m due_local` works from any directory.
             site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
             printf '%s\n%s\n' "$PWD/src" "$PWD" > "$site/due-repository.pth" ;;
    checkov) make_venv checkov .venvs/checkov requirements/checkov.txt ;;
    taskcat) make_venv taskcat .venvs/taskcat requirements/taskcat.txt ;;
    *) echo "setup: unknown venv '$t' (expected main, checkov or taskcat)" >&2; exit 2 ;;
  esac
done
