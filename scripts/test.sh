#!/usr/bin/env bash
# Install slimify with TensorFlow, tf_slim, torch and the dev tools into .venv/, then run
# the whole test suite. Extra arguments go to pytest. A run that collects no test fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" "tf,torch,dev"
cd "$root"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec .venv/bin/python -m pytest "$@"
