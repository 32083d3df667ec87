"""``to_onnx`` / ``export_onnx``: a model's inference graph as an ONNX model.

The converters live in private modules that import ``onnx`` at the top; they
are imported on the first export, after :func:`import_onnx` has checked that
the package is installed.
"""

from __future__ import annotations

import os

from ._onnx_imports import import_onnx

OPSET = 17  # the opset the converters write (see _graph.OPSET)

__all__ = ["to_onnx", "export_onnx"]


def to_onnx(model, *, name=None, opset_version=None):
    """The ONNX model (an ``onnx.ModelProto``) of ``model``'s inference pass.

    Parameters
    ----------
    model : Sequential or functional Model
        A built model; nested models are inlined.
    name : str, optional
        The graph's name (default: the model's name).
    opset_version : int, optional
        The ONNX opset; the graph is built for opset 17 and converted with
        ``onnx.version_converter`` when another is asked for.

    Returns
    -------
    onnx.ModelProto
        Opset 17 unless ``opset_version`` says otherwise. Inputs are named after the model's input layers and take the
        Keras layout (channels last) with a dynamic batch dimension; outputs
        are named after the output layers.

    Raises
    ------
    ImportError
        When the ``onnx`` package is missing (``pip install "automl[onnx]"``).
    ValueError
        For a layer (or activation) without an ONNX mapping, naming it.

    Examples
    --------
    >>> from automl.keras import Sequential, Input, layers
    >>> from automl.keras.export import to_onnx
    >>> model = Sequential([Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    >>> proto = to_onnx(model)
    >>> [node.op_type for node in proto.graph.node]
    ['MatMul', 'Add', 'Softmax', 'Identity']
    """
    import_onnx()
    from . import _activations, _attention, _conv, _layers, _recurrent  # noqa: F401 (register the converters)
    from ._converter import model_to_graph

    graph = model_to_graph(model, name)
    proto = graph.model(doc=f"automl.keras model {model.name!r}")
    if opset_version is None:
        return proto
    if isinstance(opset_version, bool) or not isinstance(opset_version, int) or opset_version < 7:
        raise ValueError(f"The 'opset_version' parameter of to_onnx must be an int >= 7. Got {opset_version!r} "
                         "instead.")
    if opset_version == OPSET:
        return proto
    onnx = import_onnx()
    try:
        return onnx.version_converter.convert_version(proto, int(opset_version))
    except Exception as error:  # the converter raises several types
        raise ValueError(f"Cannot convert the ONNX graph of model {model.name!r} to opset {opset_version}: "
                         f"{error}") from error


def export_onnx(model, filepath, *, name=None, opset_version=None, verbose=False, input_signature=None):
    """Write ``model`` as an ONNX file at ``filepath`` (see :func:`to_onnx`); return the path.

    ``input_signature`` (Keras's argument) must be None: the graph takes the
    model's own inputs, with a dynamic batch dimension.

    Examples
    --------
    >>> import os, tempfile
    >>> from automl.keras import Sequential, Input, layers
    >>> from automl.keras.export import export_onnx
    >>> model = Sequential([Input(shape=(4,)), layers.Dense(2)])
    >>> path = export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> os.path.getsize(path) > 0
    True
    """
    path = os.fspath(filepath)
    if input_signature is not None:
        raise ValueError(
            "The 'input_signature' parameter of export is not supported by automl.keras: the ONNX graph "
            f"takes the model's inputs (with a dynamic batch dimension). Got {input_signature!r} instead."
        )
    proto = to_onnx(model, name=name, opset_version=opset_version)
    onnx = import_onnx()
    onnx.checker.check_model(proto)
    onnx.save_model(proto, path)
    if verbose:
        print(f"Saved ONNX model {model.name!r} to {path}")
    return path
