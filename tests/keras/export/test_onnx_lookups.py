"""ONNX export of IntegerLookup and StringLookup (ONNX-ML LabelEncoder), string model inputs."""

import numpy as np
import pytest

from automl.keras import Input, Model, Sequential, layers, utils

utils.set_random_seed(0)

_VOCAB = [7, 3, 11, 42]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"mask_token": 0}, {"num_oov_indices": 3}, {"output_mode": "one_hot"}, {"output_mode": "multi_hot"},
     {"output_mode": "count", "mask_token": 0}],
    ids=str,
)
def test_integer_lookup(kwargs, rng, check_onnx):
    lookup = layers.IntegerLookup(vocabulary=_VOCAB, **kwargs)
    shape = (1,) if kwargs.get("output_mode") == "one_hot" else (5,)
    model = Sequential([Input(shape=shape, dtype="int64"), lookup])
    x = rng.choice([0, 3, 7, 11, 42, 5, 8, -4], size=(6, *shape))
    check_onnx(model, x)


def test_integer_lookup_into_an_embedding(rng, check_onnx):
    ids = Input(shape=(4,), dtype="int64")
    idx = layers.IntegerLookup(vocabulary=_VOCAB)(ids)
    out = layers.Dense(2)(layers.Flatten()(layers.Embedding(5, 3)(idx)))
    check_onnx(Model(ids, out), rng.choice([3, 7, 9, 42], size=(5, 4)))


@pytest.mark.parametrize("kwargs", [{}, {"mask_token": ""}, {"output_mode": "multi_hot"}], ids=str)
def test_string_lookup(kwargs, tmp_path):
    import onnxruntime as ort

    words = Input(shape=(3,), dtype="string")
    lookup = layers.StringLookup(vocabulary=["red", "green", "blue"], **kwargs)
    model = Model(words, lookup(words))
    x = np.array([["red", "blue", "pink"], ["", "green", "green"]], dtype=object)
    path = tmp_path / "s.onnx"
    model.export(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_array_equal(got, model.predict(x, verbose=0))


def test_string_input_into_another_layer_is_refused(tmp_path):
    words = Input(shape=(3,), dtype="string")
    model = Model(words, layers.Hashing(num_bins=4, name="hash")(words))
    with pytest.raises(ValueError, match=r"layer 'hash' \(Hashing\)"):
        model.export(str(tmp_path / "m.onnx"))
