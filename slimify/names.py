"""Qualified names: how recognizers match library calls and how emitters spell them.

Matching goes through LibCST's `QualifiedNameProvider`, so `import tensorflow as tf`,
`import tensorflow.compat.v1 as tf`, `from tensorflow import nn` and `import tf_slim as slim`
all resolve, and a local variable that happens to be called `tf` does not. `canonical()` folds
the spellings of one API onto one name (`tensorflow.compat.v1.nn.conv2d` ->
`tensorflow.nn.conv2d`, `tensorflow.contrib.slim.conv2d` -> `tf_slim.conv2d`), so recognizers
compare against one constant per API.
"""

from __future__ import annotations

import libcst as cst

# Module prefixes that name the same API; the first match wins, longest first.
_CANONICAL_PREFIXES = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.contrib.slim.", "tf_slim."),
    ("tensorflow.contrib.layers.", "tf_slim."),
    ("tensorflow.contrib.framework.", "tf_slim."),
    ("tf_slim.layers.layers.", "tf_slim."),
    ("tf_slim.layers.", "tf_slim."),
    ("tf_slim.ops.arg_scope.", "tf_slim."),
    ("tf_slim.ops.", "tf_slim."),
    ("tensorflow.random.", "tensorflow."),
    ("tensorflow.math.", "tensorflow."),
)

# Whole-module spellings, for aliases such as `slim = tf.contrib.slim`.
_CANONICAL_MODULES = {
    "tensorflow.compat.v1": "tensorflow",
    "tensorflow.compat.v2": "tensorflow",
    "tensorflow.contrib.slim": "tf_slim",
    "tensorflow.contrib.layers": "tf_slim",
}

TENSORFLOW = "tensorflow"
TF_SLIM = "tf_slim"

# TensorFlow 1 graph ops and variables.
TF_VARIABLE = "tensorflow.Variable"
TF_GET_VARIABLE = "tensorflow.get_variable"
TF_NAME_SCOPE = "tensorflow.name_scope"
TF_VARIABLE_SCOPE = "tensorflow.variable_scope"
TF_CONV2D = "tensorflow.nn.conv2d"
TF_BIAS_ADD = "tensorflow.nn.bias_add"
TF_ADD = "tensorflow.add"
TF_FLOAT32 = "tensorflow.float32"
TF_ACTIVATIONS = {
    "tensorflow.nn.relu": "relu",
    "tensorflow.nn.relu6": "relu6",
    "tensorflow.nn.elu": "elu",
    "tensorflow.nn.tanh": "tanh",
    "tensorflow.tanh": "tanh",
    "tensorflow.nn.sigmoid": "sigmoid",
    "tensorflow.sigmoid": "sigmoid",
    "tensorflow.nn.softmax": "softmax",
}
# The op that creates a variable's first value, by initializer kind (see ir.INITIALIZER_KINDS).
TF_INITIAL_VALUE_OPS = {
    "tensorflow.truncated_normal": "truncated_normal",
    "tensorflow.random_normal": "random_normal",
    "tensorflow.random_uniform": "random_uniform",
    "tensorflow.constant": "constant",
    "tensorflow.zeros": "zeros",
    "tensorflow.ones": "ones",
}
TF_INITIALIZERS = {
    "tensorflow.truncated_normal_initializer": "truncated_normal",
    "tensorflow.random_normal_initializer": "random_normal",
    "tensorflow.random_uniform_initializer": "random_uniform",
    "tensorflow.constant_initializer": "constant",
    "tensorflow.zeros_initializer": "zeros",
    "tensorflow.ones_initializer": "ones",
    "tensorflow.glorot_uniform_initializer": "glorot_uniform",
    "tf_slim.xavier_initializer": "glorot_uniform",
    "tf_slim.initializers.xavier_initializer": "glorot_uniform",
}

# tf_slim layers.
SLIM_CONV2D = ("tf_slim.conv2d", "tf_slim.convolution2d")
SLIM_ARG_SCOPE = "tf_slim.arg_scope"


def canonical(qualified_name: str) -> str:
    """Fold the spellings of one API onto one name."""
    for prefix, replacement in _CANONICAL_PREFIXES:
        if qualified_name.startswith(prefix):
            return canonical(replacement + qualified_name[len(prefix) :])
    return _CANONICAL_MODULES.get(qualified_name, qualified_name)


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


# When a rewrite needs a module the file does not import yet: (module to import, alias).
# `tensorflow.compat.v1` because emitted TF1 graph code must run under TensorFlow 2 as well.
DEFAULT_IMPORTS = {
    "tensorflow": ("tensorflow.compat.v1", "tf"),
    "tf_slim": ("tf_slim", "slim"),
    "torch": ("torch", "torch"),
    "torch.nn": ("torch.nn", "nn"),
    "torch.nn.functional": ("torch.nn.functional", "F"),
    "keras": ("keras", "keras"),
}
