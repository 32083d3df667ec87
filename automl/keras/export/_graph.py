"""A small ONNX graph builder: unique names, constants and nodes, assembled into a ModelProto.

Converters add nodes with :meth:`Graph.op` (it returns the output name(s))
and constants with :meth:`Graph.const`; every tensor is float32 unless said
otherwise. The graph is written for ONNX opset :data:`OPSET`.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

__all__ = ["OPSET", "IR_VERSION", "Graph"]

#: The default ONNX opset of exported graphs (ReduceSum/Split/Squeeze take axes as inputs).
OPSET = 17
#: The IR version of opset 17 (readable by every onnxruntime since 1.11).
IR_VERSION = 8

_ONNX_DTYPES = {
    np.dtype("float32"): TensorProto.FLOAT,
    np.dtype("float64"): TensorProto.DOUBLE,
    np.dtype("int64"): TensorProto.INT64,
    np.dtype("int32"): TensorProto.INT32,
    np.dtype("int16"): TensorProto.INT16,
    np.dtype("int8"): TensorProto.INT8,
    np.dtype("uint8"): TensorProto.UINT8,
    np.dtype("uint16"): TensorProto.UINT16,
    np.dtype("uint32"): TensorProto.UINT32,
    np.dtype("uint64"): TensorProto.UINT64,
    np.dtype("bool"): TensorProto.BOOL,
}


#: The ``ai.onnx.ml`` opset of the graphs that use its LabelEncoder (lookups).
ML_OPSET = 3


def onnx_dtype(dtype) -> int:
    """The TensorProto element type of a NumPy dtype (``"string"`` for string tensors)."""
    if isinstance(dtype, str) and dtype == "string":
        return TensorProto.STRING
    dtype = np.dtype(dtype)
    if dtype not in _ONNX_DTYPES:
        raise ValueError(f"Cannot export tensors of dtype {dtype} to ONNX.")
    return _ONNX_DTYPES[dtype]


class Graph:
    """Nodes, initializers, inputs and outputs of one ONNX graph under construction."""

    def __init__(self, name="automl"):
        self.name = name
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self._used: set[str] = set()
        self._consts: dict = {}
        self._non_float: dict = {}  # integer graph inputs -> their float32 cast (once made)
        self.masks: dict = {}  # tensor -> its Keras mask (a bool tensor), where it has one
        self.strings: set = set()  # string graph inputs
        self._uses_ml = False

    # -- names -------------------------------------------------------------
    def unique(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``, ... if taken."""
        base = str(base) or "t"
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    # -- building ------------------------------------------------------------
    def add_input(self, name, dtype, shape) -> str:
        """A graph input; ``None`` dimensions become symbolic (the first is ``batch``)."""
        name = self.unique(name)
        dims = ["batch" if (i == 0 and d is None) else (f"{name}_d{i}" if d is None else int(d))
                 for i, d in enumerate(shape)]
        self.inputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype), dims))
        if isinstance(dtype, str) and dtype == "string":
            self.strings.add(name)
        elif np.dtype(dtype).kind != "f":
            self._non_float[name] = None
        return name

    def mark_int(self, name: str) -> str:
        """Record that ``name`` holds int64 values (float layers get a cast of it)."""
        self._non_float.setdefault(name, None)
        return name

    def is_int(self, name: str) -> bool:
        return name in self._non_float

    def as_float(self, name: str) -> str:
        """``name``, or a float32 cast of it when it is an integer graph input (one cast per input)."""
        if name not in self._non_float:
            return name
        if self._non_float[name] is None:
            self._non_float[name] = self.op("Cast", [name], f"{name}/float", to=TensorProto.FLOAT)
        return self._non_float[name]

    def add_output(self, source: str, name, dtype, shape) -> str:
        """Expose ``source`` as a graph output called ``name`` (through an Identity node)."""
        name = self.unique(name)
        if source in self._non_float and np.dtype(dtype).kind == "f":
            dtype = np.int64  # an integer output (Discretization's indices, an integer input passed through)
            for spec in self.inputs:
                if spec.name == source:
                    dtype = helper.tensor_dtype_to_np_dtype(spec.type.tensor_type.elem_type)
        self.nodes.append(helper.make_node("Identity", [source], [name], name=self.unique(f"{name}/out")))
        dims = ["batch" if (i == 0 and d is None) else (None if d is None else int(d))
                for i, d in enumerate(shape)]
        dims = [f"{name}_d{i}" if d is None else d for i, d in enumerate(dims)]
        self.outputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype), dims))
        return name

    def const(self, value, base="const", dtype=np.float32) -> str:
        """An initializer holding ``value`` (float32 by default); equal small constants are shared."""
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        key = None
        if array.size <= 16 and array.dtype != object:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.unique(base)
        self.initializers.append(numpy_helper.from_array(array, name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values, base="shape") -> str:
        """An int64 1-D initializer (shapes, axes, pads, starts/ends)."""
        return self.const(np.asarray(values, dtype=np.int64).reshape(-1), base, np.int64)

    def op(self, op_type: str, inputs, base: str, n_out: int = 1, domain: str = "", **attrs):
        """Add a node; return its output name (or list of names when ``n_out > 1``)."""
        outputs = [self.unique(base if n_out == 1 else f"{base}_{i}") for i in range(n_out)]
        node_name = self.unique(f"{base}/{op_type}")
        attrs = {k: v for k, v in attrs.items() if v is not None}
        if domain:
            self._uses_ml = True
        self.nodes.append(helper.make_node(op_type, [i or "" for i in inputs], outputs,
                                           name=node_name, domain=domain or None, **attrs))
        return outputs[0] if n_out == 1 else outputs

    # -- assembling --------------------------------------------------------
    def model(self, doc=None, opset=OPSET):
        """The ``onnx.ModelProto`` of this graph."""
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(
            graph,
            producer_name="automl",
            opset_imports=[helper.make_opsetid("", opset)]
            + ([helper.make_opsetid("ai.onnx.ml", ML_OPSET)] if self._uses_ml else []),
            doc_string=doc or "",
        )
        model.ir_version = IR_VERSION
        return model
