"""PyTorch containers and functional ops in `forward`, read for the Keras translation.

Executed fixture pairs live in fixtures/keras (module_list_loop, sequential_attribute,
functional_pools_dropout); these tests pin the spellings and refusals around them.
"""

import pytest

from slimify.engine import rewrite_source
from slimify.model_runner import compare_models

INDEXED = """\
import torch.nn as nn
import torch.nn.functional as F


class Indexed(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(2, 4, 3), nn.Conv2d(4, 6, 1)])

    def forward(self, x):
        x = F.relu(self.convs[0](x))
        x = self.convs[1](x)
        return F.avg_pool2d(x, 2)
"""


def test_module_list_elements_by_index():
    result = rewrite_source(INDEXED, "keras")
    assert not result.findings, [f.reason for f in result.findings]
    after = result.new_source
    assert "self.convs = [\n            keras.layers.Conv2D(4, 3),\n            keras.layers.Conv2D(6, 1),\n        ]" in after
    assert "x = keras.ops.relu(self.convs[0](x))" in after
    assert "return keras.ops.average_pool(x, 2)" in after
    assert compare_models(INDEXED, after, "Indexed", [(2, 9, 9, 2), (3, 10, 10, 2)], "torch->keras").ok


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("return F.avg_pool2d(x, 2)", "return F.avg_pool2d(x, 2, padding=1)", "with padding has no Keras counterpart"),
        ("return F.avg_pool2d(x, 2)", "return F.max_pool2d(x, 2, ceil_mode=True)", "ceil_mode=True"),
        ("x = self.convs[1](x)", "x = self.convs[0](x)", "`self.convs[0]` is used in several places"),
        ("x = self.convs[1](x)", "x = self.convs[2](x)", "`self.convs[2]`, which __init__ does not define"),
        ("x = self.convs[1](x)", "x = self.convs(x)", "is called like a module"),
        (
            "x = self.convs[1](x)",
            "for i in range(2):\n            x = self.convs[1](x)",
            "control flow",
        ),
    ],
)
def test_refusals(old, new, reason):
    source = INDEXED.replace(old, new)
    assert source != INDEXED
    result = rewrite_source(source, "keras")
    assert result.new_source == source
    assert any(reason in f.reason for f in result.findings), [f.reason for f in result.findings]


def test_loop_variable_in_sizes_is_substituted_per_iteration():
    source = INDEXED.replace(
        "self.convs = nn.ModuleList([nn.Conv2d(2, 4, 3), nn.Conv2d(4, 6, 1)])",
        "self.convs = nn.ModuleList()\n"
        "        for i in range(2):\n"
        "            self.convs.append(nn.Conv2d(2 + 2 * i, 4 + 2 * i, 3 - 2 * i))",
    )
    after = rewrite_source(source, "keras").new_source
    assert "keras.layers.Conv2D(4, 3)" in after and "keras.layers.Conv2D(6, 1)" in after
    assert compare_models(source, after, "Indexed", [(2, 9, 9, 2), (3, 10, 10, 2)], "torch->keras").ok
