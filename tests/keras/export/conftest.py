"""Helpers of the ONNX export tests: export a model, run it in onnxruntime, compare with predict."""

import importlib.util
import os

import numpy as np
import pytest

_HAVE_ONNX = all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))
_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """Without onnx/onnxruntime, skip this directory's tests (but the one checking the missing-onnx error)."""
    if _HAVE_ONNX:
        return
    skip = pytest.mark.skip(reason="needs onnx and onnxruntime (pip install 'automl[test]')")
    for item in items:
        if str(item.fspath).startswith(_HERE) and item.name != "test_missing_onnx_names_the_extra":
            item.add_marker(skip)


def _run(path, inputs):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds = dict(zip(names, inputs))
    return session.run(None, feeds)


@pytest.fixture
def check_onnx(tmp_path):
    """``check_onnx(model, x)``: export, run in onnxruntime, assert equal to ``model.predict`` (1e-5)."""

    def check(model, x, atol=1e-5, rtol=1e-5):
        path = tmp_path / f"{model.name}.onnx"
        model.export(str(path), format="onnx")
        inputs = x if isinstance(x, list) else [x]
        inputs = [np.asarray(a) for a in inputs]
        got = _run(path, inputs)
        expected = model.predict(x, verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, atol=atol, rtol=rtol)
        return got

    return check


@pytest.fixture
def rng():
    return np.random.default_rng(0)
