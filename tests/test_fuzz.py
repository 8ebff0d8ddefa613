"""No crash on any valid Python: generated programs through every recognizer and emitter.

hypothesmith programs hold no TensorFlow, so the prefilter would skip them: they run with the
prefilter off, alone and spliced after real TF1 / slim / Keras / PyTorch imports and a real
block (so names resolve to the libraries and the recognizers look deeper). Bounded and
derandomized for CI.
"""

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimify.engine import SourceError, rewrite_source
from tests.fixture_files import FIXTURES

TARGETS = ("slim", "tf", "keras", "torch")
HEADER = (
    "import tensorflow as tf\nimport tf_slim as slim\nimport torch\nfrom torch import nn\nimport keras\n"
    "from keras import layers\n"
)
REAL_BLOCK = (FIXTURES / "slim" / "seed_name_scope_relu.before.py").read_text()
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)


def _compiles(source: str) -> bool:
    try:
        compile(source, "<generated>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _no_crash_and_sound(source: str) -> None:
    for target in TARGETS:
        try:
            result = rewrite_source(source, target, prefilter=False)
        except SourceError:
            continue  # a clean, reported error (LibCST rejects a few exotic spellings), not a crash
        assert _compiles(result.new_source), result.new_source
        if result.changed:
            assert rewrite_source(result.new_source, target, prefilter=False).new_source == result.new_source


@FUZZ
@given(hypothesmith.from_grammar())
def test_generated_programs(source):
    _no_crash_and_sound(source)


@FUZZ
@given(hypothesmith.from_grammar(), st.sampled_from(["header", "block"]))
def test_generated_programs_among_real_imports_and_blocks(generated, context):
    spliced = (HEADER if context == "header" else REAL_BLOCK) + "\n" + generated
    if _compiles(spliced):  # e.g. a generated `from __future__` must come first
        _no_crash_and_sound(spliced)
