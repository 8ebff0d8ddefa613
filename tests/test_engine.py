"""Engine behaviour that fixtures do not show on their own: aliases, imports, errors."""

import dataclasses

import libcst as cst
import pytest

from slimify.engine import Codemods, SourceError, rewrite_source
from slimify.rewrite import Finding, Recognized
from tests.fixture_files import FIXTURES

BLOCK = """\
    with {tf}.name_scope('conv1'):
        kernel = {tf}.Variable({tf}.truncated_normal([3, 3, 3, 4], stddev=0.1), name='weights')
        biases = {tf}.Variable({tf}.zeros([4]), name='biases')
        net = {tf}.nn.relu({tf}.nn.bias_add({tf}.nn.conv2d(x, kernel, [1, 1, 1, 1], padding='SAME'), biases))
    return net
"""


def program(header: str, tf: str = "tf") -> str:
    return f"{header}\n\ndef build(x):\n" + BLOCK.format(tf=tf)


def test_reuses_tf_contrib_slim_assignment_alias():
    source = program("import tensorflow as tf\nslim = tf.contrib.slim")
    result = rewrite_source(source, "slim")
    assert "net = slim.conv2d(x, 4, [3, 3], scope='conv1'" in result.new_source
    assert "import tf_slim" not in result.new_source


def test_reuses_contrib_slim_import():
    source = program("import tensorflow as tf\nimport tensorflow.contrib.slim as slim")
    result = rewrite_source(source, "slim")
    assert result.rewrites and "import tf_slim" not in result.new_source


def test_other_tensorflow_alias_is_kept():
    source = program("import tensorflow as tensorflow_v1", tf="tensorflow_v1")
    result = rewrite_source(source, "slim")
    assert "weights_initializer=tensorflow_v1.truncated_normal_initializer(stddev=0.1)" in result.new_source


def test_slim_name_taken_refuses_instead_of_shadowing():
    source = program("import tensorflow as tf\nslim = 'not a module'")
    result = rewrite_source(source, "slim")
    assert result.new_source == source
    assert any("`slim` is already used" in f.reason for f in result.findings)


def test_expand_does_not_clobber_a_user_variable_named_weights():
    source = (
        "import tensorflow as tf\nimport tf_slim as slim\n\nweights = {}\n\n"
        "def build(x):\n    net = slim.conv2d(x, 4, [3, 3], scope='conv1')\n    return net, weights\n"
    )
    result = rewrite_source(source, "tf")
    assert "weights_1 = tf.Variable(" in result.new_source
    assert "return net, weights\n" in result.new_source


def test_file_without_candidates_is_untouched_and_not_parsed():
    source = "this is not python ((("  # no marker: skipped before parsing
    assert rewrite_source(source, "slim").new_source == source


def test_syntax_error_reports_the_line():
    with pytest.raises(SourceError) as error:
        rewrite_source("import tensorflow as tf\n\ndef f(:\n    tf.nn.conv2d\n", "slim")
    assert error.value.line == 3


def test_crlf_line_endings_are_kept():
    source = program("import tensorflow as tf").replace("\n", "\r\n")
    result = rewrite_source(source, "slim")
    assert result.rewrites
    assert "\r\n" in result.new_source and "\n" not in result.new_source.replace("\r\n", "")


def test_rewrite_report_has_lines_and_text():
    source = program("import tensorflow as tf")
    (rewrite,) = rewrite_source(source, "slim").rewrites
    assert (rewrite.family, rewrite.start_line, rewrite.end_line) == ("conv_block", 4, 7)
    assert "tf.nn.conv2d" in rewrite.before and "slim.conv2d" in rewrite.after


def test_review_can_leave_a_rewrite_out_and_its_import_is_not_added():
    source = program("import tensorflow as tf")
    seen = []

    def reject(rewrite):
        seen.append(rewrite)
        return Finding("m.py", rewrite.start_line, rewrite.family, "did not verify", "refused")

    result = rewrite_source(source, "slim", review=reject)
    assert result.new_source == source
    assert [f.reason for f in result.findings] == ["did not verify"]
    assert seen and "slim.conv2d" in seen[0].after and seen[0].ir is not None


def test_review_marks_a_rewrite_verified():
    source = program("import tensorflow as tf")
    result = rewrite_source(source, "slim", review=lambda r: dataclasses.replace(r, verified=True))
    assert [r.verified for r in result.rewrites] == [True]
    assert "import tf_slim as slim" in result.new_source


# --- Groups, comments and dialect arrows, with tiny codemods written for the test. ---------


@dataclasses.dataclass(frozen=True)
class _Marked:
    """A toy IR: the statement to emit in place of the consumed one."""

    statement: cst.BaseStatement


class _RenameAssignment:
    """Recognizes `NAME = ...` for names in `targets`; all of them form one group."""

    family, dialect, markers = "toy", "tf", ("=",)

    def __init__(self, targets: tuple[str, ...], group_size: int | None = None) -> None:
        self.targets = targets
        self.group_size = len(targets) if group_size is None else group_size

    def recognize(self, site):
        statement = site.statement
        if not (isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assign)):
            return None
        name = statement.body[0].targets[0].target
        if not (isinstance(name, cst.Name) and name.value in self.targets):
            return None
        renamed = statement.with_changes(body=[statement.body[0].with_changes(targets=[cst.AssignTarget(cst.Name(name.value + "_new"))])])
        return Recognized("toy", 1, _Marked(renamed), group="pair", group_size=self.group_size)


class _ReuseFunction:
    """Recognizes a `def` and emits the same function renamed: its body (and comments) reused."""

    family, dialect, markers = "toy", "tf", ("def",)

    def recognize(self, site):
        if isinstance(site.statement, cst.FunctionDef):
            return Recognized("toy", 1, _Marked(site.statement.with_changes(name=cst.Name("renamed"))))
        return None


class _Emit:
    dialect, layer_types = "slim", (_Marked,)

    def emit(self, ir, names):
        return [ir.statement]


def _toy(*recognizers) -> Codemods:
    return Codemods(tuple(recognizers), (_Emit(),))


TOY = "import tensorflow as tf\n\na = 1\nb = 2\n"


def test_a_group_is_applied_whole():
    result = rewrite_source(TOY, "slim", codemods=_toy(_RenameAssignment(("a", "b"))))
    assert "a_new = 1" in result.new_source and "b_new = 2" in result.new_source


def test_a_group_with_one_part_refused_by_review_is_left_out_whole():
    def reject_b(rewrite):
        if "b_new" in rewrite.after:
            return Finding("m.py", rewrite.start_line, rewrite.family, "b did not verify", "refused")
        return rewrite

    result = rewrite_source(TOY, "slim", codemods=_toy(_RenameAssignment(("a", "b"))), review=reject_b)
    assert result.new_source == TOY
    reasons = sorted(f.reason for f in result.findings)
    assert reasons == ["b did not verify", "left unchanged with the rest of its rewrite (b did not verify)"]


def test_a_group_missing_a_part_is_left_out_whole():
    result = rewrite_source(TOY, "slim", codemods=_toy(_RenameAssignment(("a", "b"), group_size=3)))
    assert result.new_source == TOY
    assert all("only 2 of its 3 parts" in f.reason for f in result.findings) and len(result.findings) == 2


def test_comments_an_emitter_carries_over_are_not_duplicated():
    source = "import tensorflow as tf\n\n# above\ndef f():\n    # inside\n    return 1\n"
    result = rewrite_source(source, "slim", codemods=_toy(_ReuseFunction()))
    assert "def renamed():" in result.new_source
    assert result.new_source.count("# inside") == 1 and result.new_source.count("# above") == 1


def test_recognizers_of_other_arrows_stay_silent():
    """`--to slim` on a Keras file: the Keras recognizer's refusals are not the user's business."""
    source = (FIXTURES / "torch" / "lambda_layer.unchanged.py").read_text()
    assert rewrite_source(source, "torch").findings, "the fixture must be refused when translating to torch"
    silent = rewrite_source(source, "slim")
    assert silent.findings == () and silent.new_source == source


def test_a_helper_style_model_and_its_calls_stand_or_fall_together():
    """Dropping the dict arguments at a call whose model was left out would break the program."""
    source = (FIXTURES / "slim" / "helper_functions_weight_dicts.before.py").read_text()
    whole = rewrite_source(source, "slim")
    assert len(whole.rewrites) >= 2 and {r.family for r in whole.rewrites} == {"helper_functions"}

    def reject_the_model(rewrite):
        if rewrite.after.lstrip().startswith("def "):
            return Finding("m.py", rewrite.start_line, rewrite.family, "did not verify", "refused")
        return rewrite

    result = rewrite_source(source, "slim", review=reject_the_model)
    assert result.new_source == source
    assert any(f.reason.startswith("left unchanged with the rest of its rewrite") for f in result.findings)
