"""model.summary(): the "Connected to" column of branching functional models."""

from automl import keras
from automl.keras import layers


def _summary(model) -> list[str]:
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines).splitlines()


def _row(lines, name):
    return next(line for line in lines if line.startswith(f"│ {name} ("))


def test_branching_model_lists_inbound_calls():
    a, b = keras.Input((8,), name="a"), keras.Input((4,), name="b")
    x = layers.Concatenate(name="cat")([layers.Dense(16, name="da")(a), layers.Dense(16, name="db")(b)])
    model = keras.Model([a, b], [layers.Dense(1, name="o1")(x), layers.Dense(3, name="o2")(x)])
    lines = _summary(model)
    assert "Connected to" in lines[2]
    assert _row(lines, "a").rstrip("│ ").endswith("-")
    assert "a[0][0]" in _row(lines, "da")
    assert "da[0][0], db[0][0]" in _row(lines, "cat")
    assert "cat[0][0]" in _row(lines, "o2")


def test_shared_layer_calls_are_numbered():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = layers.Dense(4, name="shared")
    out = layers.Add(name="add")([shared(a), shared(b)])
    lines = _summary(keras.Model([a, b], out))
    assert "shared[0][0], shared[1][0]" in _row(lines, "add")
    assert "a[0][0], b[0][0]" in _row(lines, "shared")


def test_chain_of_layers_has_no_connected_to_column():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(layers.Dense(4)(inputs)))
    assert not any("Connected to" in line for line in _summary(model))


def test_long_connection_lists_wrap_inside_the_cell():
    inputs = [keras.Input((2,), name=f"input_number_{i}") for i in range(6)]
    model = keras.Model(inputs, layers.Concatenate(name="cat")(inputs))
    lines = _summary(model)
    start = lines.index(_row(lines, "cat"))
    cell_lines = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("│"):
            break
        cell_lines.append(line)
    assert len(cell_lines) > 1
    assert len({len(line) for line in lines[1:-4]}) == 1  # the table stays rectangular
    text = " ".join(line.split("│")[4].strip() for line in cell_lines)
    assert text == ", ".join(f"input_number_{i}[0][0]" for i in range(6))


def _cell_lines(lines, name, column):
    """The text lines of one cell (``column`` 1..4) of the row of layer ``name``."""
    start = lines.index(_row(lines, name))
    cell = []
    for line in lines[start:]:
        if not line.startswith("│"):
            break
        cell.append(line.split("│")[column].strip())
    return [c for c in cell if c]


def test_multi_output_shapes_print_as_a_wrapped_list():
    from automl.keras.layers._recurrent import LSTM

    inputs = keras.Input((5, 3), name="seq")
    outputs, h, c = LSTM(16, return_state=True, name="lstm")(inputs)
    model = keras.Model(inputs, [layers.Dense(2, name="head")(layers.Concatenate(name="cat")([h, c])), outputs])
    lines = _summary(model)
    assert len({len(line) for line in lines[1:-4]}) == 1  # nothing overflows its cell
    shape_cell = _cell_lines(lines, "lstm", 2)
    assert len(shape_cell) > 1
    assert " ".join(shape_cell) == "[(None, 16), (None, 16), (None, 16)]"
    # The i-th output of a call is [node][i].
    assert _cell_lines(lines, "cat", 4) == ["lstm[0][1], lstm[0][2]"]
    assert _cell_lines(lines, "lstm", 4) == ["seq[0][0]"]


def test_connected_to_names_each_output_of_a_multi_output_call():
    from automl.keras.layers._recurrent import GRU

    inputs = keras.Input((4, 2), name="x")
    sequence, state = GRU(3, return_sequences=True, return_state=True, name="gru")(inputs)
    merged = layers.Add(name="add")([layers.Dense(3, name="d")(state), state])
    model = keras.Model(inputs, [merged, sequence])
    lines = _summary(model)
    assert _cell_lines(lines, "d", 4) == ["gru[0][1]"]
    assert _cell_lines(lines, "add", 4) == ["d[0][0], gru[0][1]"]


def test_long_layer_names_wrap_before_the_type():
    inputs = keras.Input((3,), name="x")
    model = keras.Sequential([inputs, layers.LayerNormalization(name="layer_normalization_of_the_inputs")])
    lines = _summary(model)
    assert len({len(line) for line in lines[1:-4]}) == 1
    start = next(i for i, line in enumerate(lines) if "layer_normalization_of_the" in line)
    cell = [line.split("│")[1].strip() for line in lines[start:start + 2]]
    assert "".join(cell) == "layer_normalization_of_the_inputs (LayerNormalization)"  # cut to fit
    short = _summary(keras.Sequential([inputs, layers.LayerNormalization(name="layer_normalization")]))
    start = next(i for i, line in enumerate(short) if "layer_normalization" in line)
    assert [line.split("│")[1].strip() for line in short[start:start + 2]] == [
        "layer_normalization", "(LayerNormalization)"]
