"""The dialects slimify speaks, and which of them a target can be reached from.

Kept free of imports so that `slimify --version` and `--help` stay fast.
"""

from __future__ import annotations

DIALECTS = ("tf", "slim", "keras", "torch")

# target -> the dialects whose code is rewritten towards it. Recognizers of any other dialect
# do not run at all: `--to slim` on a Keras file says nothing about the Keras model.
SOURCES: dict[str, tuple[str, ...]] = {
    "slim": ("tf",),
    "tf": ("slim",),
    "torch": ("keras",),
    "keras": ("torch",),
}
