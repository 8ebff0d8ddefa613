"""A run over real code we did not write: TensorFlow's own `python/` package (1,202 files).

The whole tree goes through the tool as a user's run would (prefilter on, every target);
a deterministic sample (every 20th file) also goes through every recognizer with the prefilter
off, so the recognizers see real, large, odd code. Zero crashes, every output compiles, and
a second run changes nothing.
"""

import importlib.util
from pathlib import Path

import pytest

from slimify.engine import rewrite_source
from slimify.files import read_source
from slimify.pipeline import Options, process_all

TREE = Path(importlib.util.find_spec("tensorflow").submodule_search_locations[0]) / "python"
FILES = sorted(TREE.rglob("*.py"))
SAMPLE = FILES[::20]


def test_the_tree_is_the_reference_tree():
    assert len(FILES) > 1000


def _assert_sound(path: Path, source: str, new_source: str, target: str) -> None:
    compile(new_source, str(path), "exec")
    assert rewrite_source(new_source, target, path=str(path)).new_source == new_source, f"second run changed {path}"


@pytest.mark.parametrize("target", ["slim", "tf", "keras", "torch"])
def test_whole_tree_no_crash_and_outputs_compile(target):
    outcomes = process_all(FILES, Options(target=target, write=False), jobs=2)
    assert len(outcomes) == len(FILES)
    assert [f for o in outcomes for f in o.findings if f.kind == "error"] == []
    for outcome in outcomes:
        if outcome.changed:
            _assert_sound(Path(outcome.path), outcome.result.source, outcome.result.new_source, target)


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(TREE)))
def test_every_recognizer_on_a_sample_without_the_prefilter(path):
    source = read_source(path).text
    target = ("slim", "tf")[SAMPLE.index(path) % 2]
    result = rewrite_source(source, target, path=str(path), prefilter=False)
    _assert_sound(path, source, result.new_source, target)
