"""Every shipped space loads, compiles to all three forms, and its names fit a KerasClassifier."""

import warnings

import numpy as np
import optuna
import pytest
from optuna.trial import FixedTrial
from sklearn.datasets import load_digits
from sklearn.model_selection import ParameterGrid, ParameterSampler

from automl.search import load_space
from automl.search._space import SPACES_DIR
from automl.wrappers import KerasClassifier
from automl.wrappers._base import ROUTING_PREFIXES

SHIPPED = sorted(p.name for p in SPACES_DIR.glob("*.yaml"))
#: Passed to every tiny fit (a space may override them).
TINY = {"epochs": 1, "batch_size": 16, "random_state": 0}


@pytest.fixture(scope="module")
def tiny():
    X, y = load_digits(return_X_y=True)  # 8x8 images: the CNN needs no image_shape
    rows = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
    return X[rows] / 16.0, y[rows]


def test_the_issue_spaces_are_shipped():
    assert {"mlp.yaml", "cnn.yaml", "optimizers.yaml", "lr_schedules.yaml",
            "regularization.yaml", "activations.yaml"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_space_is_documented_and_compiles(name):
    path = SPACES_DIR / name
    assert path.read_text().startswith("# ")  # a comment explains the space
    space = load_space(path)
    assert space.description
    grid = space.to_param_grid()
    assert grid and all(isinstance(v, list) and v for entry in grid for v in entry.values())
    assert len(list(ParameterGrid(grid))) <= 1000
    dists = space.to_param_distributions()
    assert {k for d in dists for k in d} == set(space.names)
    # A real Optuna study (random sampler) only suggests; finished trials rebuild their kwargs.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(8):
        trial = study.ask()
        params = space.suggest(trial)
        study.tell(trial, 0.0)
        assert space.suggest(FixedTrial(study.trials[-1].params)) == params


def _names_are_estimator_parameters(params: dict) -> KerasClassifier:
    """Plain names are KerasClassifier (or its builder's) parameters; routed names have a
    routing prefix; set_params accepts all of them and get_params returns them."""
    base = set(KerasClassifier().get_params())
    builder = set(KerasClassifier(model=params.get("model"))._builder_args())
    for key in params:
        prefix, sep, _ = key.partition("__")
        if sep:
            assert prefix in ROUTING_PREFIXES, key
        else:
            assert key in base | builder, key
    estimator = KerasClassifier(**TINY).set_params(**params)
    assert {k: estimator.get_params()[k] for k in params} == params
    return estimator


def _candidates(space, seed=0):
    """One draw from every dict of the distributions (every branch of the conditions),
    the first point of every grid dict, and two Optuna draws."""
    out = []
    for dist in space.to_param_distributions():
        out += list(ParameterSampler(dist, n_iter=1, random_state=seed))
    out += [next(iter(ParameterGrid(entry))) for entry in space.to_param_grid()]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for _ in range(2):
        trial = study.ask()
        out.append(space.suggest(trial))
        study.tell(trial, 0.0)
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_space_parameters_fit_a_classifier(name, tiny):
    X, y = tiny
    space = load_space(SPACES_DIR / name)
    candidates = _candidates(space)
    if name == "cnn.yaml":
        candidates = candidates[:3]  # convolutions are the slow part
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ParameterSampler on small grids
        for params in candidates:
            estimator = _names_are_estimator_parameters(params)
            estimator.fit(X, y)
            assert np.isfinite(estimator.history_["loss"]).all(), params


def test_shipped_spaces_combine_through_include(tmp_path):
    top = tmp_path / "combined.yaml"
    top.write_text("include: [mlp, optimizers, lr_schedules, regularization, activations]\n")
    space = load_space(top)
    # Later files win: the activation list and the optimizer choices of the later files.
    assert len(space.names) == len(set(space.names))
    activation = next(p for p in space.params if p.name == "activation")
    assert "gelu" in activation.kind.choices
    assert space.to_param_grid()
