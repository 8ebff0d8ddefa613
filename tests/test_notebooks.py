"""Notebooks: code cells migrated, everything else in the file byte for byte as it was."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from slimify.engine import SourceError
from slimify.notebooks import rewrite_notebook
from tests.fixture_files import FIXTURES

SEED = (FIXTURES / "slim" / "seed_name_scope_relu.before.py").read_text()
BLOCK = SEED[SEED.index("def build(input):") :]  # the function holding the raw conv block
SLIM_CALL = "conv1 = slim.conv2d(input, 128, [3, 3], scope='conv1_1'"


def notebook(*cells, indent=1):
    document = nbformat.v4.new_notebook()
    document.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    document.cells = list(cells)
    for number, cell in enumerate(document.cells):
        cell["id"] = f"cell-{number}"  # nbformat draws random ids; the tests compare whole files
    return json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


def code(source, **extra):
    cell = nbformat.v4.new_code_cell(source, execution_count=3, **extra)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="héllo\n")]
    return cell


def cell_lines(source):
    return source.splitlines(keepends=True)


def sample(indent=1):
    return notebook(
        nbformat.v4.new_markdown_cell("# A model\nwith `tf.nn.conv2d` in prose"),
        code("%matplotlib inline\nimport tensorflow as tf\n!pip install tf-slim"),
        code("%%bash\necho tf.nn.conv2d"),
        code(BLOCK.rstrip("\n") + "\n%time x = 1"),
        code("print('untouched')"),
        indent=indent,
    )


def test_code_cell_rewritten_rest_of_file_byte_identical():
    text = sample()
    result = rewrite_notebook(text, "slim", path="nb.ipynb")
    assert result.changed and [c.cell for c in result.cell_changes] == [2, 4]
    new = json.loads(result.new_source)
    nbformat.validate(nbformat.reads(result.new_source, as_version=4))
    old = json.loads(text)
    # cell 2 only gains the import (imports go to the first code cell); its magics stay as they were
    assert (
        "".join(new["cells"][1]["source"]) == "import tf_slim as slim\n\n%matplotlib inline\nimport tensorflow as tf\n!pip install tf-slim"
    )
    assert SLIM_CALL in "".join(new["cells"][3]["source"])
    assert "".join(new["cells"][3]["source"]).endswith("%time x = 1")
    assert new["cells"][2] == old["cells"][2] and new["cells"][4] == old["cells"][4]  # %%bash cell and plain cell
    for index in (1, 3):  # outputs and metadata of the changed cells untouched
        assert {k: v for k, v in new["cells"][index].items() if k != "source"} == {
            k: v for k, v in old["cells"][index].items() if k != "source"
        }
    # byte-identical outside the two changed "source" values: replace them back and compare
    restored = json.loads(result.new_source)
    restored["cells"][1]["source"] = old["cells"][1]["source"]
    restored["cells"][3]["source"] = old["cells"][3]["source"]
    assert json.dumps(restored, indent=1, sort_keys=True, ensure_ascii=False) + "\n" == text
    assert [(r.family, r.start_line, c) for r, c in zip(result.rewrites, result.rewrite_cells, strict=True)] == [("conv_block", 2, 4)]
    assert "slimify-notebook" not in result.rewrites[0].before + result.rewrites[0].after


def test_formatting_of_an_unusual_file_is_kept():
    text = sample(indent=4).replace("\n", "\r\n")  # a four-space, CRLF notebook, as some editors write them
    result = rewrite_notebook(text, "slim", path="nb.ipynb")
    assert result.changed
    changed_cell = "".join(json.loads(result.new_source)["cells"][3]["source"])
    assert SLIM_CALL in changed_cell
    # every line outside the two sources keeps its indentation and CRLF ending
    outside = [line for line in result.new_source.split("\r\n") if not line.startswith(" " * 4 * 4 + '"')]
    assert all(line.startswith(("{", "}", " ")) or line == "" for line in outside)
    assert "\n" not in result.new_source.replace("\r\n", "")
    assert json.loads(result.new_source)["cells"][4] == json.loads(text)["cells"][4]


def test_string_source_stays_a_string_and_ascii_escapes_stay():
    document = json.loads(sample())
    for cell in document["cells"]:
        cell["source"] = "".join(cell["source"])
    document["cells"][4]["source"] = "print('café')"
    text = json.dumps(document, indent=1, ensure_ascii=True) + "\n"  # not sorted, \u escapes
    result = rewrite_notebook(text, "slim", path="nb.ipynb")
    assert isinstance(json.loads(result.new_source)["cells"][3]["source"], str)
    assert "caf\\u00e9" in result.new_source and result.new_source.isascii()
    assert list(json.loads(result.new_source)) == list(document)  # key order kept


def test_notebook_without_rewrites_is_returned_unchanged():
    text = notebook(code("import tensorflow as tf\nx = tf.constant(1)"), code("%%time\nimport os"))
    result = rewrite_notebook(text, "slim", path="nb.ipynb")
    assert not result.changed and result.new_source is text


def test_refusal_is_reported_in_its_cell():
    refused = (FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py").read_text()
    text = notebook(code("x = 1"), code(refused))
    result = rewrite_notebook(text, "slim", path="nb.ipynb")
    assert not result.changed
    assert [(f.line, c) for f, c in zip(result.findings, result.finding_cells, strict=True)] == [(7, 2)]


def test_broken_notebook_is_an_error():
    with pytest.raises(SourceError, match="invalid JSON"):
        rewrite_notebook("{not json", "slim", path="nb.ipynb")
    with pytest.raises(SourceError, match="nbformat 4"):
        rewrite_notebook(json.dumps({"nbformat": 3, "worksheets": []}), "slim", path="nb.ipynb")
    with pytest.raises(SourceError, match=r"cell 2, line 1: syntax error"):
        rewrite_notebook(notebook(code("import tensorflow as tf"), code("x = tf.nn.conv2d(\ndef")), "slim", path="nb.ipynb")


def test_cli_writes_notebook_and_diff_shows_the_cell(tmp_path):
    path = tmp_path / "model.ipynb"
    path.write_text(sample(), encoding="utf-8")
    diff = subprocess.run([sys.executable, "-m", "slimify", str(path), "--diff"], capture_output=True, text=True)
    assert diff.returncode == 1, diff.stderr
    assert f"--- {path}:cell 4 (original)" in diff.stdout and f"+++ {path}:cell 4 (slimified)" in diff.stdout
    assert f"+    {SLIM_CALL}" in diff.stdout
    assert '"source"' not in diff.stdout  # a diff of code, not of JSON
    assert path.read_text(encoding="utf-8") == sample()
    write = subprocess.run([sys.executable, "-m", "slimify", str(tmp_path)], capture_output=True, text=True)
    assert write.returncode == 0, write.stderr
    nbformat.validate(nbformat.read(str(path), as_version=4))
    assert SLIM_CALL in path.read_text(encoding="utf-8")
    again = subprocess.run([sys.executable, "-m", "slimify", str(path), "--check"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr


def test_cli_reports_notebook_lines_by_cell(tmp_path):
    refused = (FIXTURES / "slim" / "kernel_read_later_for_l2_loss.unchanged.py").read_text()
    shutil.os.makedirs(tmp_path, exist_ok=True)
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook(code("x = 1"), code(refused)), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "slimify", str(path), "--check"], capture_output=True, text=True)
    assert run.returncode == 0
    assert f"{path}:cell 2:7: refused: conv block not folded: kernel is read after the block" in run.stderr
