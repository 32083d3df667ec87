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
