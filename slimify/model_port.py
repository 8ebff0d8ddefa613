"""Carry trained weights between a Keras model and its PyTorch translation, derived from the IR.

    from slimify.model_port import port_weights
    port_weights(model_ir, keras_model, torch_model, direction="keras->torch", input_shape=(32, 32, 3))

What changes between the two frameworks, layer by layer:
- Conv2D: Keras kernels are (kh, kw, in, out), PyTorch weights (out, in, kh, kw).
- Dense / Linear: Keras kernels are (in, out), PyTorch weights (out, in). When the Dense reads a
  flattened image, its rows are also permuted: Keras flattens (H, W, C), PyTorch (C, H, W).
  That needs the image's (H, W, C) at the Flatten, inferred from the input shape through the IR.
- BatchNormalization / BatchNorm: gamma, beta, moving mean and variance <-> weight, bias,
  running_mean, running_var (the momentum and epsilon are carried by the translated code).

Layers are matched through the IR: by attribute name in a subclassed model (`self.conv1` on both
sides), by position among the layers with weights in a sequential one. Both models must be built
(call a Keras model once). Works on NumPy arrays; keras and torch objects are only read and written.
"""

from __future__ import annotations

from math import prod

import numpy as np

from slimify import ir
from slimify.ir import BatchNorm, Conv2D, Dense, Model, Node

DIRECTIONS = ("keras->torch", "torch->keras")
_WEIGHTED = (Conv2D, Dense, BatchNorm)


class PortError(ValueError):
    """The two models do not line up with the IR."""


def port_weights(model_ir: Model, source, target, *, direction: str, input_shape: tuple[int, ...] | None = None) -> None:
    """Copy every weight of `source` into `target` (see the module docstring)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    keras_model, torch_model = (source, target) if direction == "keras->torch" else (target, source)
    weighted = _weighted_nodes(model_ir)
    keras_layers = _keras_layers(keras_model, model_ir, weighted)
    torch_modules = _torch_modules(torch_model, model_ir, weighted)
    shapes = None
    for node, keras_layer, torch_module in zip(weighted, keras_layers, torch_modules, strict=True):
        flatten = ir.flatten_feeding(model_ir, node) if isinstance(node.layer, Dense) else None
        image = None
        if flatten is not None:
            shapes = shapes or ir.output_shapes(model_ir, input_shape)
            image = shapes[flatten.inputs[0]]
            image = image if len(image) == 3 else None
        if direction == "keras->torch":
            _set_torch(torch_module, keras_to_torch(node.layer, keras_layer.get_weights(), image))
        else:
            keras_layer.set_weights(torch_to_keras(node.layer, _get_torch(torch_module), image))


def keras_to_torch(layer: ir.Layer, arrays: list[np.ndarray], image: tuple[int, int, int] | None = None) -> dict[str, np.ndarray]:
    """Keras weight arrays -> PyTorch state by name; `image` is (H, W, C) at a Flatten before a Dense."""
    if isinstance(layer, Conv2D):
        state = {"weight": arrays[0].transpose(3, 2, 0, 1)}
    elif isinstance(layer, Dense):
        kernel = arrays[0]
        if image is not None:
            height, width, channels = image
            kernel = kernel.reshape(height, width, channels, -1).transpose(2, 0, 1, 3).reshape(height * width * channels, -1)
        state = {"weight": kernel.T}
    else:
        return _batch_norm_to_torch(layer, arrays)
    if len(arrays) > 1:
        state["bias"] = arrays[1]
    return state


def torch_to_keras(layer: ir.Layer, state: dict[str, np.ndarray], image: tuple[int, int, int] | None = None) -> list[np.ndarray]:
    """PyTorch state by name -> Keras weight arrays (the inverse of keras_to_torch)."""
    if isinstance(layer, Conv2D):
        arrays = [state["weight"].transpose(2, 3, 1, 0)]
    elif isinstance(layer, Dense):
        kernel = state["weight"].T
        if image is not None:
            height, width, channels = image
            kernel = kernel.reshape(channels, height, width, -1).transpose(1, 2, 0, 3).reshape(height * width * channels, -1)
        arrays = [kernel]
    else:
        arrays = []
        if layer.scale:
            arrays.append(state["weight"])
        if layer.center:
            arrays.append(state["bias"])
        return arrays + [state["running_mean"], state["running_var"]]
    if "bias" in state:
        arrays.append(state["bias"])
    return [np.ascontiguousarray(a) for a in arrays]


def _batch_norm_to_torch(layer: BatchNorm, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    arrays = list(arrays)
    state = {}
    if layer.scale:
        state["weight"] = arrays.pop(0)
    if layer.center:
        state["bias"] = arrays.pop(0)
    state["running_mean"], state["running_var"] = arrays
    return state


def _weighted_nodes(model_ir: Model) -> list[Node]:
    return [node for node in model_ir.nodes if isinstance(node.layer, _WEIGHTED)]


def _by_attribute(model_ir: Model) -> bool:
    return model_ir.extras.get("style") == "module"


def _keras_layers(model, model_ir: Model, weighted: list[Node]) -> list:
    if model_ir.extras.get("style") == "functional":
        found = keras_graph_layers(model, model_ir)
        return [found[node.name] for node in weighted]
    if _by_attribute(model_ir):
        found = []
        for node in weighted:
            name, index = _attribute_path(node.attribute)
            layer = getattr(model, name)
            if index is not None and isinstance(layer, (list, tuple)):
                layer = layer[index]  # an nn.ModuleList became a list of layers
            elif index is not None:  # an nn.Sequential became a keras.Sequential, padding layers added
                in_group = [other for other in weighted if _attribute_path(other.attribute)[0] == name]
                layer = [sub for sub in layer.layers if sub.weights][in_group.index(node)]
            inner = [sub for sub in getattr(layer, "layers", ()) if sub.weights]  # ZeroPadding2D + Conv2D
            found.append(inner[0] if len(inner) == 1 else layer)
        return found
    layers = [layer for layer in model.layers if layer.weights]
    if len(layers) != len(weighted):
        raise PortError(f"the Keras model has {len(layers)} layers with weights, the IR {len(weighted)}")
    return layers


def keras_graph_layers(model, model_ir: Model) -> dict:
    """IR node -> the Keras layer computing it in a functional model, found by walking the graph.

    Keras orders a functional model's layers by depth, not as the source wrote them (a shortcut
    convolution comes before the main branch's second one), so positions do not line up; the
    graph does. The walk starts at the model's output in both and follows each layer's inputs.
    """
    calls: dict[str, tuple[str, ...]] = model_ir.extras["calls"]
    by_name = {node.name: node for node in model_ir.nodes}
    found: dict[str, object] = {}
    pending = [(model_ir.outputs[0], model.outputs[0])]
    while pending:
        name, tensor = pending.pop()
        if name == "input" or name in found:
            continue
        history = tensor._keras_history
        layer = history.operation
        for member in calls[name]:
            found[member] = layer
        inputs = by_name[calls[name][0]].inputs
        tensors = list(layer._inbound_nodes[history.node_index].input_tensors)
        if len(tensors) != len(inputs):
            raise PortError(f"Keras layer {layer.name} takes {len(tensors)} inputs, the IR node {len(inputs)}")
        pending.extend(zip(inputs, tensors, strict=True))
    return found


def _attribute_path(attribute: str) -> tuple[str, int | None]:
    """("blocks", 2) for "blocks[2]" (a layer inside a container attribute), ("conv1", None) for "conv1"."""
    name, _, index = attribute.partition("[")
    return name, int(index.rstrip("]")) if index else None


def _torch_module(model, attribute: str):
    name, index = _attribute_path(attribute)
    module = getattr(model, name)
    return module if index is None else module[index]  # nn.ModuleList and nn.Sequential both index


def _torch_modules(model, model_ir: Model, weighted: list[Node]) -> list:
    if _by_attribute(model_ir) or model_ir.extras.get("style") == "functional":
        return [_torch_module(model, node.attribute) for node in weighted]
    modules = [m for m in model.children() if list(m.parameters(recurse=False)) or list(m.buffers(recurse=False))]
    if len(modules) != len(weighted):
        raise PortError(f"the PyTorch model has {len(modules)} modules with weights, the IR {len(weighted)}")
    return modules


def _get_torch(module) -> dict[str, np.ndarray]:
    state = module.state_dict()
    return {name: value.detach().cpu().numpy() for name, value in state.items() if name != "num_batches_tracked"}


def _set_torch(module, state: dict[str, np.ndarray]) -> None:
    import torch  # noqa: PLC0415  (optional extra)

    current = module.state_dict()
    for name, value in state.items():
        if tuple(current[name].shape) != value.shape:
            raise PortError(f"{type(module).__name__}.{name}: shape {tuple(current[name].shape)} vs ported {value.shape}")
        current[name] = torch.from_numpy(np.ascontiguousarray(value)).to(current[name].dtype)
    module.load_state_dict(current)


def fan_in(shape: tuple[int, ...], framework: str) -> int:
    """Inputs per output unit of a kernel, in either framework's layout."""
    return prod(shape[:-1]) if framework == "keras" else prod(shape[1:])
