#!/usr/bin/env bash
# Create .venv/ at the repo root and install slimify with the given extras ("" or "tf,torch,dev").
# Re-running is cheap: nothing is reinstalled unless pyproject.toml or the extras changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-}"
cd "$root"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
fi
[ -n "$python" ] || { echo "bootstrap: Python 3.11 is needed (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.slimify-installed"
want="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16) [$extras]"
if [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
  exit 0
fi
pip=(.venv/bin/python -m pip install --disable-pip-version-check --quiet)
if [ -n "$extras" ]; then "${pip[@]}" -e ".[$extras]"; else "${pip[@]}" -e .; fi
if [[ ",$extras," == *",tf,"* ]]; then
  # tf-keras makes slim.batch_norm work on TF 2.21; with its dependencies it would pull the
  # full tensorflow wheel over tensorflow-cpu.
  "${pip[@]}" --no-deps "tf-keras==2.21.0"
fi
echo "$want" >> "$stamp"
