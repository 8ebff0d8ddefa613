"""Engine behaviour that fixtures do not show on their own: aliases, imports, errors."""

import pytest

from slimify.engine import SourceError, rewrite_source

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
    from slimify.rewrite import Finding

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
    import dataclasses

    source = program("import tensorflow as tf")
    result = rewrite_source(source, "slim", review=lambda r: dataclasses.replace(r, verified=True))
    assert [r.verified for r in result.rewrites] == [True]
    assert "import tf_slim as slim" in result.new_source
