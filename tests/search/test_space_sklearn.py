"""Search spaces compiled for scikit-learn: ``to_param_grid`` and ``to_param_distributions``."""

import math
import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from automl.search import SpecError, compile_space
from automl.wrappers import KerasClassifier

OPTIMIZERS = {
    "optimizer": {"type": "categorical", "choices": ["adam", "rmsprop", "sgd"]},
    "optimizer__momentum": {"type": "float", "low": 0.0, "high": 0.9, "grid": [0.5, 0.9],
                            "when": {"optimizer": "sgd"}},
    "optimizer__nesterov": {"type": "categorical", "choices": [False, True],
                            "when": {"optimizer": "sgd"}},
}


@pytest.fixture(scope="module")
def tiny():
    X, y = load_digits(return_X_y=True)
    rows = np.concatenate([np.flatnonzero(y == c)[:12] for c in range(3)])
    return X[rows] / 16.0, y[rows]


# ----------------------------------------------------------------------
# to_param_grid
# ----------------------------------------------------------------------
def test_param_grid_of_every_kind():
    space = compile_space({"parameters": {
        "hidden_layer_sizes": {"type": "layers", "n_layers": {"low": 1, "high": 2},
                               "units": {"low": 8, "high": 64}, "grid": [[8], [16, 16], 32]},
        "activation": {"type": "categorical", "choices": ["relu", "tanh"]},
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True,
                          "grid": [1e-3, 1e-2]},
        "batch_size": {"type": "int", "low": 16, "high": 64, "step": 16, "grid": [16, 64]},
        "epochs": 3,
        "dropout": {"type": "float", "low": 0.25, "high": 0.25},  # one value: no grid needed
        "conv_filters": {"type": "categorical", "choices": [[8], [8, 16]]},
    }})
    assert space.to_param_grid() == [{
        "hidden_layer_sizes": [(8,), (16, 16), (32,)],
        "activation": ["relu", "tanh"],
        "learning_rate": [1e-3, 1e-2],
        "batch_size": [16, 64],
        "epochs": [3],
        "dropout": [0.25],
        "conv_filters": [(8,), (8, 16)],
    }]
    [prefixed] = space.to_param_grid(prefix="model__")
    assert list(prefixed)[0] == "model__hidden_layer_sizes"
    assert space.values_of("batch_size") == [16, 64] and space.values_of("epochs") == [3]
    assert space.values_of("activation") == ["relu", "tanh"] and space.values_of("nope") is None
    assert compile_space({"parameters": {"u": {"type": "int", "low": 1, "high": 3}}}).values_of(
        "u") is None


def test_param_grid_expands_conditions():
    space = compile_space({"parameters": {**OPTIMIZERS, "units": {"type": "categorical",
                                                                  "choices": [4, 8]}}})
    grid = space.to_param_grid()
    assert grid == [
        {"optimizer": ["adam", "rmsprop"], "units": [4, 8]},
        {"optimizer": ["sgd"], "optimizer__momentum": [0.5, 0.9],
         "optimizer__nesterov": [False, True], "units": [4, 8]},
    ]
    points = list(ParameterGrid(grid))
    assert len(points) == 2 * 2 + 2 * 2 * 2
    assert all(("optimizer__momentum" in p) == (p["optimizer"] == "sgd") for p in points)


def test_param_grid_follows_chained_conditions():
    space = compile_space({"parameters": {
        "lr_schedule": {"type": "categorical", "choices": [None, "cosine"]},
        "lr_schedule__warmup_epochs": {"type": "int", "low": 0, "high": 2, "grid": [0, 1],
                                       "when": {"lr_schedule": "cosine"}},
        "lr_schedule__warmup_target": {"type": "float", "low": 0.01, "high": 0.1, "grid": [0.05],
                                       "when": {"lr_schedule__warmup_epochs": 1}},
    }})
    points = list(ParameterGrid(space.to_param_grid()))
    assert sorted(points, key=str) == sorted([
        {"lr_schedule": None},
        {"lr_schedule": "cosine", "lr_schedule__warmup_epochs": 0},
        {"lr_schedule": "cosine", "lr_schedule__warmup_epochs": 1,
         "lr_schedule__warmup_target": 0.05},
    ], key=str)


@pytest.mark.parametrize(
    ("pspec", "example"),
    [
        ({"type": "float", "low": 1e-4, "high": 1e-2, "log": True}, "grid: [0.0001, 0.001, 0.01]"),
        ({"type": "int", "low": 8, "high": 64, "step": 8}, "grid: [8, 40, 64]"),
        ({"type": "layers", "n_layers": {"low": 1, "high": 2}, "units": 16},
         "grid: [[16], [16, 16]]"),
    ],
)
def test_param_grid_needs_grid_lists_for_ranges(pspec, example):
    space = compile_space({"parameters": {"opt": "adam", "p": pspec}}, source="spaces/s.yaml")
    with pytest.raises(SpecError) as info:
        space.to_param_grid()
    text = str(info.value)
    assert text.startswith("spaces/s.yaml: parameter 'p': ")
    assert "cannot be compiled to a scikit-learn param_grid: add a 'grid:' list" in text
    assert example in text


def test_grid_search_accepts_the_compiled_grid(tiny):
    X, y = tiny
    space = compile_space({"parameters": {
        **OPTIMIZERS,
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "hidden_layer_sizes": {"type": "layers", "n_layers": 1, "units": {"low": 4, "high": 8},
                               "grid": [[4]]},
    }})
    estimator = KerasClassifier(epochs=1, batch_size=16, random_state=0)
    search = GridSearchCV(estimator, space.to_param_grid(), cv=2).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 1 + 4
    assert {p["optimizer"] for p in params} == {"adam", "sgd"}
    assert all(("optimizer__momentum" in p) == (p["optimizer"] == "sgd") for p in params)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # The same grid with a prefix searches a Pipeline step.
    pipe = Pipeline([("scale", StandardScaler()), ("model", estimator)])
    grid = compile_space({"parameters": {"optimizer": OPTIMIZERS["optimizer"]}}).to_param_grid(
        prefix="model__")
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.best_estimator_.named_steps["model"].model_.optimizer.name in (
        "adam", "rmsprop", "sgd")


# ----------------------------------------------------------------------
# to_param_distributions
# ----------------------------------------------------------------------
def test_distributions_of_every_kind():
    space = compile_space({"parameters": {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True, "grid": [1e-3]},
        "momentum": {"type": "float", "low": 0.5, "high": 0.9},
        "dropout": {"type": "float", "low": 0.0, "high": 0.3, "step": 0.1},
        "units": {"type": "int", "low": 4, "high": 9},
        "filters": {"type": "int", "low": 8, "high": 32, "step": 8},
        "width": {"type": "int", "low": 1, "high": 100, "log": True},
        "opt": {"type": "categorical", "choices": ["adam", "sgd"]},
        "epochs": 3,
    }})
    [dist] = space.to_param_distributions()
    assert [float(b) for b in dist["lr"].support()] == [1e-4, 1e-1]  # the range, not the grid
    assert dist["lr"].dist.name == "loguniform"
    assert dist["momentum"].dist.name == "uniform"
    assert [float(b) for b in dist["momentum"].support()] == [0.5, 0.9]
    assert dist["dropout"] == [0.0, 0.1, 0.2, 0.3]
    assert dist["units"].dist.name == "randint"
    assert [int(b) for b in dist["units"].support()] == [4, 9]
    assert dist["filters"] == [8, 16, 24, 32]
    assert dist["opt"] == ["adam", "sgd"] and dist["epochs"] == [3]
    for layers, expected in [
        ({"units": {"low": 4, "high": 6}}, [(4,), (5,), (6,), (4, 4), (5, 5), (6, 6)]),
        ({"units": {"low": 4, "high": 5}, "per_layer": True},
         [(4,), (5,), (4, 4), (4, 5), (5, 4), (5, 5)]),
        ({"units": {"low": 4, "high": 512}, "grid": [[64], [64, 64]]}, [(64,), (64, 64)]),
    ]:
        spec = {"type": "layers", "n_layers": {"low": 1, "high": 2}, **layers}
        [dist_layers] = compile_space({"parameters": {"h": spec}}).to_param_distributions()
        assert dist_layers == {"h": expected}
    # Log ints: a log-uniform value on [low - 0.5, high + 0.5] rounded, as Optuna draws them.
    width = dist["width"]
    assert width.pmf(1) == pytest.approx(math.log(1.5 / 0.5) / math.log(100.5 / 0.5))
    assert width.pmf(1) > width.pmf(10) > width.pmf(100) and width.cdf(100) == pytest.approx(1)
    draws = width.rvs(size=4000, random_state=0)
    assert draws.min() >= 1 and draws.max() <= 100 and np.mean(draws < 10) > 0.35


def test_distributions_give_each_controlling_value_its_probability():
    space = compile_space({"parameters": {
        **OPTIMIZERS,
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    }})
    dists = space.to_param_distributions(prefix="model__")
    assert [d["model__optimizer"] for d in dists] == [["adam"], ["rmsprop"], ["sgd"]]
    assert dists[2]["model__optimizer__momentum"].dist.name == "uniform"
    samples = list(ParameterSampler(dists, n_iter=600, random_state=0))
    counts = Counter(s["model__optimizer"] for s in samples)
    assert all(150 < counts[o] < 250 for o in ("adam", "rmsprop", "sgd"))  # 1/3 each
    for s in samples:
        assert ("model__optimizer__momentum" in s) == (s["model__optimizer"] == "sgd")
        assert 1e-4 <= s["model__learning_rate"] <= 1e-1
        if "model__optimizer__momentum" in s:
            assert 0.0 <= s["model__optimizer__momentum"] <= 0.9  # the range, not the grid


def test_distributions_made_only_of_lists_are_merged():
    space = compile_space({"parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "rmsprop", "sgd"]},
        "optimizer__nesterov": {"type": "categorical", "choices": [False, True],
                                "when": {"optimizer": "sgd"}},
    }})
    dists = space.to_param_distributions()
    assert dists == [{"optimizer": ["adam", "rmsprop"]},
                     {"optimizer": ["sgd"], "optimizer__nesterov": [False, True]}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        samples = list(ParameterSampler(dists, n_iter=4, random_state=0))
    assert len({tuple(sorted(s.items())) for s in samples}) == 4  # without replacement


def test_distribution_errors_name_the_parameter():
    big = compile_space({"parameters": {"hidden_layer_sizes": {
        "type": "layers", "n_layers": {"low": 1, "high": 3}, "units": {"low": 1, "high": 512},
        "per_layer": True}}}, source="big.yaml")
    with pytest.raises(SpecError) as info:
        big.to_param_distributions()
    assert str(info.value).startswith("big.yaml: parameter 'hidden_layer_sizes': its ")
    assert "too many to enumerate for param_distributions (at most 10000); add a 'grid:'" in str(
        info.value)
    controller = compile_space({"parameters": {
        "units": {"type": "int", "low": 1, "high": 4},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "when": {"units": 4}},
    }}, source="c.yaml")
    with pytest.raises(SpecError, match=r"^c\.yaml: parameter 'units': it is used in the 'when:' "
                                        r"condition of 'dropout'.*add a 'grid:' list"):
        controller.to_param_distributions()
    gridded = compile_space({"parameters": {
        "units": {"type": "int", "low": 1, "high": 4, "grid": [2, 4]},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "when": {"units": 4}},
    }})
    assert [d["units"] for d in gridded.to_param_distributions()] == [[2], [4]]


def test_randomized_search_accepts_and_samples_the_distributions(tiny):
    X, y = tiny
    space = compile_space({"parameters": {
        **OPTIMIZERS,
        "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
        "hidden_layer_sizes": {"type": "layers", "n_layers": {"low": 1, "high": 2},
                               "units": {"low": 4, "high": 8, "step": 4}},
    }})
    search = RandomizedSearchCV(KerasClassifier(epochs=1, batch_size=16, random_state=0),
                                space.to_param_distributions(), n_iter=4, cv=2,
                                random_state=0).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 4
    for p in params:
        assert p["hidden_layer_sizes"] in [(4,), (8,), (4, 4), (8, 8)]
        assert 1e-3 <= p["learning_rate"] <= 1e-1
        assert ("optimizer__momentum" in p) == (p["optimizer"] == "sgd")
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
