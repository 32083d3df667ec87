"""Drawing models as graphs: ``model_to_dot`` (DOT text) and ``plot_model`` (an image file).

As in Keras 3, every layer is a box (an HTML-like table: name and class,
optionally the activation, the input and output shapes, the output dtype and
whether it is trainable) and every tensor passed from one layer to another an
edge. A Sequential model is its chain of layers; a functional model its graph
(input layers included, a shared layer being one box with several incoming
edges); a subclassed model a single box. With ``expand_nested`` the layers of
nested functional and Sequential models are drawn inside a dashed cluster
named after the model, and the edges go to and from the boxes inside it.

Keras builds the graph with ``pydot`` and renders it with graphviz. Here the
DOT text is written directly (no pydot dependency): :func:`model_to_dot`
returns a :class:`DotGraph` whose ``to_string()`` is that text, and
:func:`plot_model` writes it as is for a ``.dot``/``.gv`` file, or runs the
graphviz ``dot`` program (when installed) for any other format (png, svg,
pdf, ...).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess

__all__ = ["DotGraph", "model_to_dot", "plot_model"]

_TEXT_FORMATS = ("dot", "gv")
_RENDER_TIMEOUT = 120.0


def _quote(value) -> str:
    """A DOT attribute value: HTML-like labels (``<...>``) as they are, the rest quoted."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text.startswith("<") and text.endswith(">"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(attrs: dict) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in attrs.items())


class DotGraph:
    """A graph in the DOT language: nodes, edges, attributes and clusters.

    The part of ``pydot.Dot`` that model plots use: :meth:`to_string` gives
    the DOT text, :meth:`create` renders it with graphviz and :meth:`write`
    saves either.

    Parameters
    ----------
    name : str, default="G"
    cluster : bool, default=False
        A cluster inside another graph (drawn as a box around its nodes).
    """

    def __init__(self, name="G", cluster=False):
        self.name = name
        self.cluster = bool(cluster)
        self.attributes: dict = {}
        self.node_defaults: dict = {}
        self.nodes: list[tuple[str, dict]] = []
        self.edges: list[tuple[str, str, dict]] = []
        self.subgraphs: list[DotGraph] = []

    def set(self, key, value) -> None:
        self.attributes[key] = value

    def add_node(self, node_id: str, **attrs) -> None:
        self.nodes.append((node_id, attrs))

    def add_edge(self, src: str, dst: str, **attrs) -> None:
        if not any(s == src and d == dst for s, d, _ in self.edges):
            self.edges.append((src, dst, attrs))

    def add_subgraph(self, graph: DotGraph) -> None:
        self.subgraphs.append(graph)

    def get_edges(self) -> list[tuple[str, str]]:
        """The ``(source, destination)`` node ids of the edges, this graph's and its clusters'."""
        return [(s, d) for s, d, _ in self.edges] + [e for g in self.subgraphs for e in g.get_edges()]

    def get_nodes(self) -> list[tuple[str, dict]]:
        """The ``(id, attributes)`` of the nodes, this graph's and its clusters'."""
        return list(self.nodes) + [n for g in self.subgraphs for n in g.get_nodes()]

    def _lines(self, indent: str) -> list[str]:
        inner = indent + "  "
        lines = [f"{inner}{key}={_quote(value)};" for key, value in self.attributes.items()]
        if self.node_defaults:
            lines.append(f"{inner}node [{_attrs(self.node_defaults)}];")
        lines += [f"{inner}{_quote(node_id)} [{_attrs(attrs)}];" for node_id, attrs in self.nodes]
        for graph in self.subgraphs:
            lines.append(f"{inner}subgraph {_quote('cluster_' + graph.name)} {{")
            lines += graph._lines(inner)
            lines.append(f"{inner}}}")
        lines += [f"{inner}{_quote(s)} -> {_quote(d)}" + (f" [{_attrs(a)}]" if a else "") + ";"
                  for s, d, a in self.edges]
        return lines

    def to_string(self) -> str:
        """The DOT text of the graph."""
        return "\n".join([f"digraph {_quote(self.name)} {{", *self._lines(""), "}"]) + "\n"

    __str__ = to_string

    def create(self, format="png", prog="dot") -> bytes:  # noqa: A002 (pydot's name)
        """Render with the graphviz program ``prog``; the bytes of the ``format`` file."""
        if format in _TEXT_FORMATS:
            return self.to_string().encode("utf-8")
        exe = shutil.which(prog)
        if exe is None:
            raise ImportError(
                f"You must install graphviz (its {prog!r} program, see "
                "https://graphviz.gitlab.io/download/) to render a model plot as "
                f"{format!r}; without it, save the DOT text (to_file='model.dot')."
            )
        try:
            done = subprocess.run([exe, f"-T{format}"], input=self.to_string().encode("utf-8"),
                                  capture_output=True, timeout=_RENDER_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"graphviz {prog!r} did not finish within {_RENDER_TIMEOUT:.0f} s.") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise ValueError(f"graphviz {prog!r} could not render the model as {format!r}: {message}")
        return done.stdout

    def write(self, path, format="raw", prog="dot") -> None:  # noqa: A002 (pydot's name)
        """Save as ``format`` (``"raw"``/``"dot"``: the DOT text; else rendered by graphviz)."""
        data = self.create("dot" if format == "raw" else format, prog=prog)
        with open(path, "wb") as f:
            f.write(data)


# -- boxes ------------------------------------------------------------------------
def _format_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {v}" for k, v in shape.items())
    if isinstance(shape, list):
        return str([tuple(s) for s in shape]) if len(shape) != 1 else str(tuple(shape[0]))
    return str(tuple(shape))


def _activation_name(activation) -> str:
    for attr in ("name", "__name__"):
        value = getattr(activation, attr, None)
        if isinstance(value, str):
            return value
    return str(activation)


def _label(layer, shapes, options) -> str:
    """The HTML-like table of a layer's box, with the rows Keras shows."""
    class_name = type(layer).__name__
    columns = []
    if options["show_shapes"]:
        input_shape, output_shape = shapes
        if class_name != "InputLayer":
            columns.append(f'<td bgcolor="white"><font point-size="14">Input shape: '
                           f'<b>{html.escape(_format_shape(input_shape))}</b></font></td>')
        columns.append(f'<td bgcolor="white"><font point-size="14">Output shape: '
                       f'<b>{html.escape(_format_shape(output_shape))}</b></font></td>')
    if options["show_dtype"]:
        dtype = getattr(layer, "dtype", None)
        columns.append(f'<td bgcolor="white"><font point-size="14">Output dtype: '
                       f'<b>{html.escape(str(dtype or "?"))}</b></font></td>')
    if options["show_trainable"] and getattr(layer, "weights", None):
        if layer.trainable:
            columns.append('<td bgcolor="forestgreen"><font point-size="14" color="white">'
                           '<b>Trainable</b></font></td>')
        else:
            columns.append('<td bgcolor="firebrick"><font point-size="14" color="white">'
                           '<b>Non-trainable</b></font></td>')
    span = max(1, len(columns))
    title = (f"<b>{html.escape(layer.name)}</b> ({class_name})" if options["show_layer_names"]
             else f"<b>{class_name}</b>")
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>"]
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">Activation: '
                    f"<b>{html.escape(_activation_name(activation))}</b></font></td></tr>")
    if columns:
        rows.append(f"<tr>{''.join(columns)}</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


# -- the graph of a model -----------------------------------------------------------
class _Ids:
    """Node ids by layer object, in order of appearance (stable DOT text)."""

    def __init__(self):
        self._ids: dict[int, str] = {}

    def __call__(self, layer) -> str:
        key = id(layer)
        if key not in self._ids:
            self._ids[key] = f"node_{len(self._ids)}"
        return self._ids[key]


def _calls(model):
    """The layer calls of a functional model, producers first: ``(layer, node tensor)``."""
    order, seen = [], set()

    def visit(tensor):
        node = tensor.node
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.inputs:
            visit(parent)
        order.append(node)

    for tensor in model.inputs:
        visit(tensor)
    for tensor in model.outputs:
        visit(tensor)
    return order


def _node_shapes(calls):
    """``{id(layer): (input shape(s), output shape(s))}``, None where a shared layer has several."""
    shapes: dict[int, object] = {}
    for node in calls:
        layer = node.layer
        if id(layer) in shapes:
            shapes[id(layer)] = (None, None)  # shared: as Keras, the shapes are ambiguous
            continue
        outputs = node.siblings or (node,)
        ins = [t.shape for t in node.inputs]
        shapes[id(layer)] = (None if not ins else ins[0] if len(ins) == 1 else ins,
                             outputs[0].shape if len(outputs) == 1 else [t.shape for t in outputs])
    return shapes


def _kind(layer):
    from ..models import Functional, Sequential

    if isinstance(layer, Sequential):
        return "sequential"
    if isinstance(layer, Functional):
        return "functional"
    return "layer"


def _resolve_source(layer, output_index):
    """The box an edge leaving ``layer`` starts from (inside nested models)."""
    while True:
        kind = _kind(layer)
        if kind == "sequential":
            layer, output_index = layer.layers[-1], 0
        elif kind == "functional":
            tensor = layer.outputs[output_index]
            layer, output_index = tensor.node.layer, tensor.index or 0
        else:
            return layer


def _resolve_destination(layer, input_index):
    """The box an edge entering ``layer`` ends at (inside nested models)."""
    while True:
        kind = _kind(layer)
        if kind == "sequential":
            layer = layer.layers[0]
        elif kind == "functional":
            layer = layer.inputs[input_index].layer
        else:
            return layer


def _build(model, graph, ids, options, expand_nested):
    def add_box(layer, shapes):
        if expand_nested and _kind(layer) != "layer":
            cluster = DotGraph(layer.name, cluster=True)
            cluster.set("style", "dashed")
            cluster.set("label", layer.name)
            cluster.set("labeljust", "l")
            _build(layer, cluster, ids, options, expand_nested)
            graph.add_subgraph(cluster)
        else:
            graph.add_node(ids(layer), label=_label(layer, shapes, options), fontname="Helvetica",
                           border="0", margin="0")

    def connect(source, output_index, destination, input_index):
        if expand_nested:
            source = _resolve_source(source, output_index)
            destination = _resolve_destination(destination, input_index)
        graph.add_edge(ids(source), ids(destination), penwidth="2")

    kind = _kind(model)
    if kind == "sequential":
        layers = model.layers
        for layer in layers:
            add_box(layer, (getattr(layer, "input_shape", None), getattr(layer, "output_shape", None)))
        for a, b in zip(layers, layers[1:]):
            connect(a, 0, b, 0)
        return
    if kind == "layer":  # a subclassed model: one box
        add_box(model, (getattr(model, "input_shape", None), getattr(model, "output_shape", None)))
        return
    calls = _calls(model)
    shapes = _node_shapes(calls)
    drawn = set()
    for node in calls:
        if id(node.layer) not in drawn:
            drawn.add(id(node.layer))
            add_box(node.layer, shapes[id(node.layer)])
    for node in calls:
        for input_index, tensor in enumerate(node.inputs):
            connect(tensor.node.layer, tensor.index or 0, node.layer, input_index)


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """Convert a model to a graph in the DOT language (Keras's ``model_to_dot``).

    Parameters
    ----------
    model : Model
        A built Sequential, functional or subclassed model.
    show_shapes : bool, default=False
        Show each layer's input and output shapes.
    show_dtype : bool, default=False
        Show each layer's output dtype.
    show_layer_names : bool, default=True
        Show layer names (else only class names).
    rankdir : str, default="TB"
        Graphviz ``rankdir``: "TB" is a vertical plot, "LR" a horizontal one.
    expand_nested : bool, default=False
        Draw the layers of nested functional and Sequential models, in clusters.
    dpi : int, default=200
        Image resolution, in dots per inch.
    subgraph : bool, default=False
        Return a cluster (to nest in another graph) instead of a whole graph.
    show_layer_activations : bool, default=False
        Show the activation of the layers that have one.
    show_trainable : bool, default=False
        Show whether each layer with weights is trainable.
    splines : str, default="ortho"
        Graphviz ``splines`` (how edges are drawn: "ortho", "curved", "polyline", "spline", "line").

    Returns
    -------
    DotGraph
        ``to_string()`` gives the DOT text.

    Examples
    --------
    >>> from automl.keras import Input, Sequential, layers, utils
    >>> model = Sequential([Input((4,)), layers.Dense(3, name="hidden"), layers.Dense(1, name="out")])
    >>> dot = utils.model_to_dot(model)
    >>> dot.get_edges()
    [('node_0', 'node_1')]
    >>> "hidden" in dot.to_string()
    True
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("The 'layer_range' argument of model_to_dot is no longer supported (as in Keras 3).")
    if kwargs:
        raise TypeError(f"model_to_dot got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
    if not getattr(model, "built", False):
        raise ValueError(
            f"The model {getattr(model, 'name', model)!r} has not been built yet: build it first "
            "(start it with Input(shape=...), call build(), or call it on a batch of data)."
        )
    options = {"show_shapes": bool(show_shapes), "show_dtype": bool(show_dtype),
               "show_layer_names": bool(show_layer_names),
               "show_layer_activations": bool(show_layer_activations), "show_trainable": bool(show_trainable)}
    if subgraph:
        graph = DotGraph(model.name, cluster=True)
        graph.set("style", "dashed")
        graph.set("label", model.name)
        graph.set("labeljust", "l")
    else:
        graph = DotGraph()
        graph.set("rankdir", rankdir)
        graph.set("concentrate", True)
        graph.set("dpi", dpi)
        graph.set("splines", splines)
        graph.node_defaults = {"shape": "record"}
    _build(model, graph, _Ids(), options, bool(expand_nested))
    return graph


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False,
               show_trainable=False, splines="ortho", **kwargs):
    """Draw a model as a graph and save it to ``to_file`` (Keras's ``plot_model``).

    The format follows the file extension (``"png"`` without one). A ``.dot``
    or ``.gv`` file receives the DOT text and needs nothing else; any other
    format (png, svg, pdf, ...) is rendered by the graphviz ``dot`` program,
    which must be installed (an ``ImportError`` naming graphviz otherwise).
    The other arguments are those of :func:`model_to_dot`; note that, as in
    Keras, ``show_layer_names`` defaults to False here.

    Returns
    -------
    IPython.display.Image or None
        The image, for inline display, when IPython is installed and the file
        is an image (not pdf or DOT text); else None.

    Examples
    --------
    >>> import os, tempfile
    >>> from automl.keras import Input, Sequential, layers, utils
    >>> model = Sequential([Input((4,)), layers.Dense(1)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.dot")
    >>> utils.plot_model(model, to_file=path, show_shapes=True)
    >>> open(path).read().startswith('digraph "G"')
    True
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir, expand_nested=expand_nested,
                       dpi=dpi, show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    dot.write(to_file, format="raw" if extension in _TEXT_FORMATS else extension)
    if extension in ("pdf", *_TEXT_FORMATS):
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file)
