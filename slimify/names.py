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
    # tf.keras is Keras 3 (TensorFlow >= 2.16), the same API as `import keras`.
    ("tensorflow.keras.", "keras."),
    ("keras.models.", "keras."),
)

# Whole-module spellings, for aliases such as `slim = tf.contrib.slim`.
_CANONICAL_MODULES = {
    "tensorflow.compat.v1": "tensorflow",
    "tensorflow.compat.v2": "tensorflow",
    "tensorflow.contrib.slim": "tf_slim",
    "tensorflow.contrib.layers": "tf_slim",
    "tensorflow.keras": "keras",
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
TF_MATMUL = ("tensorflow.matmul", "tensorflow.linalg.matmul")
TF_XW_PLUS_B = "tensorflow.nn.xw_plus_b"
TF_RELU_LAYER = "tensorflow.nn.relu_layer"
TF_MAX_POOL = ("tensorflow.nn.max_pool", "tensorflow.nn.max_pool2d")
TF_AVG_POOL = ("tensorflow.nn.avg_pool", "tensorflow.nn.avg_pool2d")
TF_DROPOUT = "tensorflow.nn.dropout"
TF_RESHAPE = "tensorflow.reshape"
TF_AUTO_REUSE = "tensorflow.AUTO_REUSE"
TF_ADD_TO_COLLECTION = "tensorflow.add_to_collection"
TF_GRADIENTS = "tensorflow.gradients"
TF_GET_COLLECTION = "tensorflow.get_collection"
TF_REGULARIZATION_LOSSES = "tensorflow.GraphKeys.REGULARIZATION_LOSSES"
REGULARIZATION_LOSSES_KEY = "regularization_losses"  # the string tf.GraphKeys.REGULARIZATION_LOSSES holds
TF_L2_LOSS = "tensorflow.nn.l2_loss"
TF_MULTIPLY = "tensorflow.multiply"
TF_PLACEHOLDER = "tensorflow.placeholder"
TF_LEAKY_RELU = "tensorflow.nn.leaky_relu"
TF_ACTIVATIONS = {
    "tensorflow.nn.relu": "relu",
    "tensorflow.nn.relu6": "relu6",
    "tensorflow.nn.elu": "elu",
    "tensorflow.nn.tanh": "tanh",
    "tensorflow.tanh": "tanh",
    "tensorflow.nn.sigmoid": "sigmoid",
    "tensorflow.sigmoid": "sigmoid",
    "tensorflow.nn.softmax": "softmax",
    # TF's default slope (alpha 0.2) only: tf1.ScopedBlock.check_activation_args refuses another.
    TF_LEAKY_RELU: "leaky_relu",
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
    # tf_slim defines xavier_initializer_conv2d = xavier_initializer (the same function).
    "tf_slim.xavier_initializer_conv2d": "glorot_uniform",
    "tf_slim.initializers.xavier_initializer_conv2d": "glorot_uniform",
}

# tf_slim layers.
SLIM_CONV2D = ("tf_slim.conv2d", "tf_slim.convolution2d")
SLIM_ARG_SCOPE = "tf_slim.arg_scope"
SLIM_FULLY_CONNECTED = ("tf_slim.fully_connected",)
SLIM_MAX_POOL2D = ("tf_slim.max_pool2d",)
SLIM_AVG_POOL2D = ("tf_slim.avg_pool2d",)
SLIM_DROPOUT = ("tf_slim.dropout",)
SLIM_FLATTEN = ("tf_slim.flatten",)
# Weight-decay functions, by Regularizer kind (slim's and tf.contrib.layers' are one function).
SLIM_REGULARIZERS = {
    "tf_slim.l2_regularizer": "l2",
    "tf_slim.regularizers.l2_regularizer": "l2",
    "tf_slim.l1_regularizer": "l1",
    "tf_slim.regularizers.l1_regularizer": "l1",
}
SLIM_L2_REGULARIZER = "tf_slim.l2_regularizer"
KERAS_REGULARIZERS = "keras.regularizers."


# Keras layers and models (canonical: `tf.keras.layers.X`, `keras.layers.X` both fold to `keras.layers.X`).
KERAS = "keras"
KERAS_SEQUENTIAL = "keras.Sequential"
KERAS_MODEL = "keras.Model"
KERAS_INPUT = ("keras.Input", "keras.layers.Input")
KERAS_LAYER_KINDS = {
    "keras.layers.Conv2D": "Conv2D",
    "keras.layers.Convolution2D": "Conv2D",
    "keras.layers.Dense": "Dense",
    "keras.layers.MaxPool2D": "MaxPool2D",
    "keras.layers.MaxPooling2D": "MaxPool2D",
    "keras.layers.AveragePooling2D": "AvgPool2D",
    "keras.layers.AvgPool2D": "AvgPool2D",
    "keras.layers.GlobalAveragePooling2D": "GlobalAvgPool2D",
    "keras.layers.GlobalAvgPool2D": "GlobalAvgPool2D",
    "keras.layers.Flatten": "Flatten",
    "keras.layers.Dropout": "Dropout",
    "keras.layers.BatchNormalization": "BatchNorm",
    "keras.layers.Activation": "Activation",
    "keras.layers.ReLU": "ReLU",
    "keras.layers.Softmax": "Softmax",
    "keras.layers.InputLayer": "InputLayer",
    "keras.layers.Add": "Add",
    "keras.layers.Concatenate": "Concatenate",
}
KERAS_LAMBDA = "keras.layers.Lambda"

# PyTorch modules and functions.
TORCH = "torch"
TORCH_MODULE = "torch.nn.Module"
TORCH_SEQUENTIAL = "torch.nn.Sequential"
TORCH_LAYER_KINDS = {
    "torch.nn.Conv2d": "Conv2d",
    "torch.nn.Linear": "Linear",
    "torch.nn.MaxPool2d": "MaxPool2d",
    "torch.nn.AvgPool2d": "AvgPool2d",
    "torch.nn.AdaptiveAvgPool2d": "AdaptiveAvgPool2d",
    "torch.nn.Flatten": "Flatten",
    "torch.nn.Dropout": "Dropout",
    "torch.nn.BatchNorm2d": "BatchNorm",
    "torch.nn.BatchNorm1d": "BatchNorm",
    "torch.nn.ReLU": "ReLU",
    "torch.nn.Tanh": "Tanh",
    "torch.nn.Sigmoid": "Sigmoid",
    "torch.nn.Softmax": "Softmax",
    "torch.nn.LogSoftmax": "LogSoftmax",
}
# Functions applied in `forward`, by the activation they compute (see ir.ACTIVATIONS).
TORCH_ACTIVATION_FUNCTIONS = {
    "torch.nn.functional.relu": "relu",
    "torch.relu": "relu",
    "torch.nn.functional.tanh": "tanh",
    "torch.tanh": "tanh",
    "torch.nn.functional.sigmoid": "sigmoid",
    "torch.sigmoid": "sigmoid",
    "torch.nn.functional.softmax": "softmax",
    "torch.softmax": "softmax",
    "torch.nn.functional.log_softmax": "log_softmax",
    "torch.log_softmax": "log_softmax",
}
TORCH_FLATTEN = "torch.flatten"
TORCH_CAT = ("torch.cat", "torch.concat", "torch.concatenate")


# Functions TF 2 moved under tf.random with a new name, keeping TF 1's signature and defaults
# (TF 1.13+ has both spellings).
_CANONICAL_FUNCTIONS = {
    "tensorflow.random.normal": "tensorflow.random_normal",
    "tensorflow.random.uniform": "tensorflow.random_uniform",
}


def canonical(qualified_name: str) -> str:
    """Fold the spellings of one API onto one name."""
    if qualified_name in _CANONICAL_FUNCTIONS:
        return _CANONICAL_FUNCTIONS[qualified_name]
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
