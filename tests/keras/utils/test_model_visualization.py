"""model_to_dot / plot_model: the DOT text of Sequential, functional and nested models, and
rendering with graphviz when its dot program is installed."""

import re
import shutil

import pytest

from automl.keras import Input, Model, Sequential, layers, utils
from automl.keras.utils._model_visualization import DotGraph

HAS_DOT = shutil.which("dot") is not None


def _names(dot):
    """node id -> the layer name shown in its box."""
    return {node_id: re.search(r"<b>([^<]+)</b>", attrs["label"]).group(1) for node_id, attrs in dot.get_nodes()}


def _named_edges(dot):
    names = _names(dot)
    return sorted((names[s], names[d]) for s, d in dot.get_edges())


def _functional():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    shared = layers.Dense(5, activation="relu", name="shared")
    x = layers.Concatenate(name="cat")([shared(a), layers.Dense(4, name="proj")(b)])
    y = shared(layers.Dense(4, name="back")(x))  # the shared layer is called twice
    return Model([a, b], [layers.Dense(1, name="out1")(x), layers.Dense(2, name="out2")(y)], name="branchy")


def test_sequential_chain_and_labels():
    model = Sequential([Input((4,)), layers.Dense(3, activation="tanh", name="hidden"),
                        layers.Dropout(0.1, name="drop"), layers.Dense(1, name="out")])
    dot = utils.model_to_dot(model, show_shapes=True, show_layer_activations=True, show_trainable=True,
                             show_dtype=True)
    assert _named_edges(dot) == [("drop", "out"), ("hidden", "drop")]
    text = dot.to_string()
    assert text.startswith('digraph "G" {') and text.rstrip().endswith("}")
    for attr in ('rankdir="TB"', 'dpi="200"', 'splines="ortho"', 'node [shape="record"]'):
        assert attr in text
    label = dict(dot.get_nodes())[next(i for i, n in _names(dot).items() if n == "hidden")]["label"]
    assert "Input shape: <b>(None, 4)</b>" in label and "Output shape: <b>(None, 3)</b>" in label
    assert "Activation: <b>tanh</b>" in label and "Trainable" in label and "float32" in label
    # Dropout has no weights: no trainable cell, as in Keras.
    drop_label = dict(dot.get_nodes())[next(i for i, n in _names(dot).items() if n == "drop")]["label"]
    assert "Trainable" not in drop_label


def test_functional_branches_several_inputs_outputs_and_a_shared_layer():
    dot = utils.model_to_dot(_functional(), show_shapes=True)
    assert sorted(_names(dot).values()) == ["a", "b", "back", "cat", "out1", "out2", "proj", "shared"]
    assert _named_edges(dot) == [("a", "shared"), ("b", "proj"), ("back", "shared"), ("cat", "back"),
                                 ("cat", "out1"), ("proj", "cat"), ("shared", "cat"), ("shared", "out2")]
    labels = {name: dict(dot.get_nodes())[i]["label"] for i, name in _names(dot).items()}
    assert "Input shape: <b>[(None, 5), (None, 4)]</b>" in labels["cat"]
    assert "Output shape: <b>?</b>" in labels["shared"]  # shared: ambiguous, as in Keras
    assert "Input shape" not in labels["a"] and "Output shape: <b>(None, 4)</b>" in labels["a"]


def test_layer_names_class_names_and_rankdir():
    model = _functional()
    assert "<b>cat</b> (Concatenate)" in utils.model_to_dot(model).to_string()
    text = utils.model_to_dot(model, show_layer_names=False, rankdir="LR", dpi=96).to_string()
    assert "<b>Concatenate</b>" in text and "<b>cat</b>" not in text
    assert 'rankdir="LR"' in text and 'dpi="96"' in text


def _nested():
    inner_in = Input((6,), name="inner_in")
    inner = Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    tail = Sequential([layers.Dense(3, name="t1"), layers.Dense(1, name="t2")], name="tail")
    x = Input((4,), name="x")
    h = layers.Dense(6, name="h")(x)
    return Model(x, tail(inner(h)), name="outer")


def test_nested_models_are_boxes_or_expanded_clusters():
    model = _nested()
    flat = utils.model_to_dot(model)
    assert _named_edges(flat) == [("h", "inner"), ("inner", "tail"), ("x", "h")]
    expanded = utils.model_to_dot(model, expand_nested=True)
    assert _named_edges(expanded) == [("h", "inner_in"), ("inner_dense", "t1"), ("inner_in", "inner_dense"),
                                      ("t1", "t2"), ("x", "h")]
    text = expanded.to_string()
    assert 'subgraph "cluster_inner" {' in text and 'subgraph "cluster_tail" {' in text
    assert 'style="dashed"' in text and 'label="tail"' in text
    sub = utils.model_to_dot(model.layers[-1], subgraph=True)
    assert sub.cluster and "rankdir" not in sub.attributes


def test_subclassed_model_is_one_box():
    class Net(Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    net = Net()
    net.build((None, 3))
    dot = utils.model_to_dot(net)
    assert list(_names(dot).values()) == ["net"] and dot.get_edges() == []


def test_errors():
    with pytest.raises(ValueError, match="has not been built yet"):
        utils.model_to_dot(Sequential([layers.Dense(2)]))
    model = _nested()
    with pytest.raises(ValueError, match="layer_range"):
        utils.model_to_dot(model, layer_range=["x", "h"])
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        utils.plot_model(model, to_file="m.dot", colour=True)


def test_plot_model_writes_dot_text_without_graphviz(tmp_path):
    path = tmp_path / "model.dot"
    model = _nested()
    assert utils.plot_model(model, to_file=path, show_shapes=True, expand_nested=True) is None
    text = path.read_text()
    # plot_model's show_layer_names defaults to False, as in Keras.
    assert text == utils.model_to_dot(model, show_shapes=True, show_layer_names=False,
                                      expand_nested=True).to_string()
    assert "cluster_inner" in text and "Output shape" in text and "<b>Dense</b>" in text


def test_non_text_format_without_graphviz_names_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="install graphviz"):
        utils.plot_model(_nested(), to_file=tmp_path / "model.png")
    assert not (tmp_path / "model.png").exists()


def test_dot_text_escapes_quotes_and_html():
    graph = DotGraph('my "graph"')
    graph.add_node("a", label='say "hi"')
    graph.add_edge("a", "a")
    graph.add_edge("a", "a")  # edges are not repeated
    text = graph.to_string()
    assert 'digraph "my \\"graph\\"" {' in text and 'label="say \\"hi\\""' in text
    assert text.count("->") == 1


@pytest.mark.skipif(not HAS_DOT, reason="graphviz's dot program is not installed")
@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_renders_images_with_graphviz(tmp_path, ext, magic):
    path = tmp_path / f"model.{ext}"
    utils.plot_model(_functional(), to_file=path, show_shapes=True, show_layer_names=True)
    assert path.read_bytes().startswith(magic)
    if ext == "svg":
        assert "shared" in path.read_text()


@pytest.mark.skipif(not HAS_DOT, reason="graphviz's dot program is not installed")
def test_expanded_nested_and_default_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    utils.plot_model(_nested(), expand_nested=True)  # to_file="model.png"
    assert (tmp_path / "model.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="could not render"):
        utils.plot_model(_nested(), to_file=tmp_path / "model.notaformat")
