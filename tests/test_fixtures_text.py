"""Every fixture pair: slimify turns .before.py into exactly .after.py, and is idempotent.

Unchanged fixtures are look-alikes that must stay byte-identical; their first line says which
refusal they expect (`# refuses: <reason>`) or that nothing there is a candidate.
"""

import pytest

from slimify.engine import rewrite_source
from tests.fixture_files import after_of, fixture_id, pairs, target_of, unchanged


def test_enough_fixtures():
    assert len(pairs("slim")) >= 15
    assert len(unchanged()) >= 10


@pytest.mark.parametrize("before", pairs(), ids=fixture_id)
def test_before_becomes_after(before):
    result = rewrite_source(before.read_text(), target_of(before), path=str(before))
    assert result.new_source == after_of(before).read_text()
    assert result.rewrites, "a pair must rewrite something"
    assert not result.findings


@pytest.mark.parametrize("before", pairs(), ids=fixture_id)
def test_second_run_changes_nothing(before):
    after = after_of(before).read_text()
    result = rewrite_source(after, target_of(before), path=str(after_of(before)))
    assert result.new_source == after
    assert not result.rewrites


@pytest.mark.parametrize("path", unchanged(), ids=fixture_id)
def test_look_alike_left_alone_with_reason(path):
    source = path.read_text()
    result = rewrite_source(source, target_of(path), path=str(path))
    assert result.new_source == source
    header = source.splitlines()[0]
    if header.startswith("# refuses: "):
        expected = header.removeprefix("# refuses: ")
        reasons = [f.reason for f in result.findings]
        assert any(expected in reason for reason in reasons), reasons
        assert all(f.path == str(path) and f.line > 1 for f in result.findings)
    else:
        assert header.startswith("# no candidate: "), "unchanged fixtures state what they expect"
        assert not result.findings
