#!/usr/bin/env bash
# Install slimify into .venv/ and show what it does to a bundled example (writes nothing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh" ""
cd "$root"
echo "== slimify examples/vgg_block.py --diff --to slim   (fold hand-written TF1 layers into slim calls)"
status=0
.venv/bin/slimify examples/vgg_block.py --diff --to slim || status=$?
# exit 1 means "--diff found changes", which is what the example is for
[ "$status" -le 1 ] || exit "$status"
echo
echo "== slimify examples/slim_net.py --diff --to tf   (expand slim calls back into explicit ops)"
status=0
.venv/bin/slimify examples/slim_net.py --diff --to tf || status=$?
[ "$status" -le 1 ] || exit "$status"
echo
echo "== slimify examples/keras_residual.py --diff --to torch   (translate a Keras model into PyTorch)"
status=0
.venv/bin/slimify examples/keras_residual.py --diff --to torch || status=$?
[ "$status" -le 1 ] || exit "$status"
