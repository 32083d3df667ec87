"""Study spec loading and validation: every error names the file and the key."""

import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml

from automl.search import DATASETS, GridSpace, SpecError, _samplers, load_spec
from automl.search._datasets import infer_task
from automl.search._plan import trial_space
from automl.search._samplers import PRUNERS, SAMPLER_PACKAGES, SAMPLERS, make_pruner, make_sampler

REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO / "studies" / "digits_mlp.yaml"
SMALL_SPACE = {
    "parameters": {"learning_rate": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}
}


def _write(tmp_path, text, name="study.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_study_loads_and_resolves_space():
    spec = load_spec(DEFAULT)
    assert spec.name == "digits_mlp" and spec.dataset == "digits" and spec.task == "classification"
    assert Path(spec.space.source) == REPO / "search_spaces" / "mlp.yaml"
    assert spec.n_trials >= 20 and spec.n_jobs == 2 and spec.seed == 0 and spec.metric == "accuracy"
    assert spec.sampler["name"] == "tpe" and spec.pruner["name"] == "median"
    assert spec.output == Path.cwd() / "runs" / "digits_mlp"


def test_overrides_replace_values_and_none_is_ignored(tmp_path):
    spec = load_spec(
        DEFAULT, n_trials=3, n_jobs=None, seed=7, output=str(tmp_path / "o"), timeout=5
    )
    assert (spec.n_trials, spec.n_jobs, spec.seed, spec.timeout) == (3, 2, 7, 5.0)
    assert spec.output == tmp_path / "o"
    with pytest.raises(SpecError, match="unknown override 'n_trails'"):
        load_spec(DEFAULT, n_trails=3)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml: study file not found"):
        load_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "text, match",
    [
        ("dataset: digits\nspace: [mlp.yaml\n", r"study\.yaml: malformed YAML"),
        ("- a\n- b\n", "must be a mapping of keys"),
        (
            "dataset: digits\nspace: mlp.yaml\nn_trails: 3\n",
            r"unknown key 'n_trails' \(did you mean 'n_trials'\?\)",
        ),
        ("space: mlp.yaml\n", "missing required key 'dataset'"),
    ],
    ids=["malformed_yaml_names_file", "not_a_mapping", "unknown_top_level_key_with_hint",
         "missing_required_key"],
)
def test_bad_study_file(tmp_path, text, match):
    with pytest.raises(SpecError, match=match):
        load_spec(_write(tmp_path, text))


def test_unknown_dataset_lists_valid_ones(tmp_path):
    path = _write(tmp_path, "dataset: cifar100\nspace: mlp.yaml\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: key 'dataset': unknown dataset 'cifar100'")
    assert all(name in msg for name in DATASETS)


def test_unknown_space_parameter_names_space_file(tmp_path):
    space = _write(
        tmp_path, "parameters:\n  learning_rat: {type: float, low: 0.001, high: 0.1}\n", "s.yaml"
    )
    path = _write(tmp_path, f"dataset: digits\nspace: {space}\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert msg.startswith(f"{space}: parameter 'learning_rat': not a parameter of KerasClassifier")
    assert "did you mean 'learning_rate'" in msg


@pytest.mark.parametrize(
    "name, message",
    [
        ("epochs", "is set by the study"),
        ("random_state", "is set by the study"),
        ("foo__bar", "unknown routing prefix 'foo__'"),
    ],
)
def test_reserved_and_badly_routed_space_parameters(name, message):
    spec = {"dataset": "iris", "space": {"parameters": {name: 1}}}
    with pytest.raises(SpecError, match=message):
        load_spec(spec)


def test_routed_parameter_accepted():
    spec = load_spec({"dataset": "iris", "space": {"parameters": {"optimizer__momentum": 0.9}}})
    assert spec.space.names == ["optimizer__momentum"]


def test_space_found_in_sibling_search_spaces_folder(tmp_path):
    (tmp_path / "search_spaces").mkdir()
    (tmp_path / "studies").mkdir()
    (tmp_path / "search_spaces" / "tiny.yaml").write_text("parameters:\n  dropout: 0.1\n")
    path = _write(tmp_path / "studies", "dataset: wine\nspace: tiny.yaml\n")
    spec = load_spec(path)
    assert Path(spec.space.source) == tmp_path / "search_spaces" / "tiny.yaml"
    assert spec.name == "study" and spec.scale == "standard"


def test_missing_space_file(tmp_path):
    path = _write(tmp_path, "dataset: digits\nspace: nothere.yaml\n")
    with pytest.raises(
        FileNotFoundError, match="key 'space': search space file 'nothere.yaml' not found"
    ):
        load_spec(path)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("n_trials", 0, "key 'n_trials': must be an int >= 1"),
        ("n_jobs", 0, "key 'n_jobs': must be an int >= 1 (or -1)"),
        ("test_size", 1.5, "key 'test_size': must be a number strictly between 0 and 1"),
        ("timeout", -1, "key 'timeout': must be a positive number"),
        ("metric", "r2", "key 'metric': unknown metric 'r2' for classification"),
        ("engine", "grid", "key 'engine': must be one of ['optuna', 'sklearn'], got 'grid'"),
        ("sampler", "bayes", "key 'sampler': unknown sampler 'bayes'"),
        ("sampler", {"name": "tpe", "bogus": 1}, "key 'sampler': invalid options for 'tpe'"),
        ("pruner", {"name": "median", "bogus": 1}, "key 'pruner': invalid options for 'median'"),
        ("pruner", {"name": "median", "seed": 1}, "do not set 'seed' here"),
        ("scale", "robust", "key 'scale': must be one of ['auto', 'standard', 'minmax', 'none']"),
    ],
)
def test_invalid_values(key, value, message):
    spec = {"dataset": "digits", "space": SMALL_SPACE, key: value}
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    assert str(info.value).startswith("<inline study>: ")
    assert message in str(info.value)


def test_regression_dataset_defaults():
    spec = load_spec({"dataset": "diabetes", "space": SMALL_SPACE})
    assert spec.task == "regression" and spec.metric == "r2" and spec.scale == "standard"


def test_estimator_parameter_as_routing_prefix():
    spec = load_spec({"dataset": "iris", "space": {"parameters": {"lr_schedule__alpha": 0.1}}})
    assert spec.space.names == ["lr_schedule__alpha"]


# ---------------------------------------------------------------------------
# New study keys: every one validated, with the file, the key and the value named.

CAT_SPACE = {
    "parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "hidden_layer_sizes": {"type": "categorical", "choices": [[8], [8, 8]]},
    }
}


def _load(**keys):
    return load_spec({"dataset": "iris", "space": SMALL_SPACE, **keys})


def _error(**keys) -> str:
    with pytest.raises(SpecError) as info:
        _load(**keys)
    msg = str(info.value)
    assert msg.startswith("<inline study>: key ")
    return msg


def test_new_defaults():
    spec = _load()
    assert spec.validation == {"kind": "holdout", "size": 0.2} and spec.validation_size == 0.2
    assert spec.preprocessing == spec.scale == "standard" and spec.model == "mlp"
    assert spec.direction == "maximize" and spec.directions == ["maximize"]
    assert spec.objectives == ["accuracy"] and spec.second_objective is None
    assert (spec.monitor, spec.monitor_sign) == ("val_accuracy", 1.0)
    assert spec.engine == "optuna" and spec.search is None
    assert spec.storage is None and spec.study_name == spec.name == "iris"
    assert spec.deterministic is False and spec.refit is True and spec.early_stopping is None
    assert spec.dataset_name == "iris"
    # digits pixels are already in [0, 1]: no scaling by default
    assert load_spec({"dataset": "digits", "space": SMALL_SPACE}).preprocessing == "none"


# --- task


def test_task_invalid_and_mismatch():
    assert "key 'task': must be one of ['auto', 'classification', 'regression']" in _error(
        task="clustering"
    )
    with pytest.raises(SpecError, match="dataset 'diabetes' is a regression dataset, got task"):
        load_spec({"dataset": "diabetes", "space": SMALL_SPACE, "task": "classification"})
    assert _load(task="classification").task == "classification"


def test_infer_task_rule():
    assert infer_task(np.array([0, 1, 2, 1])) == "classification"
    assert infer_task(np.arange(51)) == "regression"  # integers with > 50 values
    assert infer_task(np.arange(50)) == "classification"
    assert infer_task(np.array([True, False])) == "classification"
    assert infer_task(np.array(["cat", "dog"], dtype=object)) == "classification"
    assert infer_task(np.array([0.0, 1.0, 1.0])) == "classification"  # labels stored as floats
    assert infer_task(np.array([0.5, 1.5])) == "regression"


def test_task_auto_from_a_csv_file(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["a,b,price"] + [f"{x:.3f},{z:.3f},{x * 3 + z:.4f}" for x, z in rng.random((40, 2))]
    (tmp_path / "houses.csv").write_text("\n".join(lines) + "\n")
    path = _write(tmp_path, "dataset: {csv: houses.csv, target: price}\nspace: mlp.yaml\n")
    spec = load_spec(path)
    assert spec.task == "regression" and spec.metric == "r2" and spec.dataset_name == "houses"
    assert spec.load_data().X.shape == (40, 2)  # loaded once, cached
    # An explicit task needs no loading
    spec = load_spec(path, task="regression")
    assert spec._data is None and spec.task == "regression"


@pytest.mark.parametrize(
    "dataset, message",
    [
        ({"csv": "d.csv"}, "key 'dataset': missing key 'target'"),
        ({"csv": "d.csv", "npz": "d.npz", "target": "y"}, "needs exactly one of the keys"),
        ({"csv": "d.csv", "target": "y", "colour": 1}, "key 'dataset': unknown key 'colour'"),
        ({"csv": "d.csv", "target": 3}, "key 'dataset.target': must be a column name, got 3"),
        ({"npz": "d.npz", "task": "ranking"}, "key 'dataset.task': must be 'classification'"),
        ({"function": "nocolon"}, "key 'dataset.function': must be 'package.module:function'"),
        ("pkg:mod:fn", "key 'dataset': must be 'package.module:function', got 'pkg:mod:fn'"),
        (42, "key 'dataset': must be a name, 'package.module:function' or a mapping, got 42"),
    ],
)
def test_dataset_shape_errors(tmp_path, dataset, message):
    (tmp_path / "d.csv").write_text("x,y\n1,0\n")
    (tmp_path / "d.npz").write_bytes(b"")
    path = _write(tmp_path, "space: mlp.yaml\n")
    raw = yaml.safe_load(path.read_text())
    raw["dataset"] = dataset
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SpecError) as info:
        load_spec(path, task="classification")
    assert str(info.value).startswith(f"{path}: key 'dataset")
    assert message in str(info.value)


def test_dataset_file_not_found(tmp_path):
    path = _write(tmp_path, "dataset: {npz: nothere.npz}\nspace: mlp.yaml\ntask: regression\n")
    with pytest.raises(FileNotFoundError, match="key 'dataset.npz': data file 'nothere.npz'"):
        load_spec(path)


def test_dataset_mapping_task_and_npz(tmp_path):
    np.savez(tmp_path / "arrays.npz", X=np.ones((6, 2), np.float32), y=np.arange(6) % 2)
    path = _write(tmp_path, "dataset: {npz: arrays.npz, task: classification}\nspace: mlp.yaml\n")
    spec = load_spec(path)
    assert spec.task == "classification" and spec._data is None  # the mapping says it
    assert spec.dataset == {"npz": "arrays.npz", "task": "classification"}
    with pytest.raises(SpecError, match="is a classification dataset, got task 'regression'"):
        load_spec(path, task="regression")


# --- preprocessing


def test_preprocessing_and_scale_alias():
    assert _load(preprocessing="minmax").scale == "minmax"
    assert _load(scale="none").preprocessing == "none"
    assert "key 'preprocessing': must be one of" in _error(preprocessing="robust")
    msg = _error(scale="none", preprocessing="standard")
    assert "key 'scale': 'scale' is another name for 'preprocessing'" in msg
    # an override of one alias replaces the other
    spec = load_spec(
        {"dataset": "iris", "space": SMALL_SPACE, "scale": "none"}, preprocessing="minmax"
    )
    assert spec.preprocessing == "minmax"


# --- model


@pytest.fixture
def builders(tmp_path, monkeypatch):
    (tmp_path / "my_builders.py").write_text(
        textwrap.dedent(
            """
            from automl.keras import Input, Model, layers

            def tiny(n_features_in_, n_classes_=None, width=4):
                x = Input((n_features_in_,))
                h = layers.Dense(width, activation="relu")(x)
                out = layers.Dense(n_classes_ or 1,
                                   activation="softmax" if n_classes_ else None)(h)
                return Model(x, out)

            def loose(meta, **kwargs):
                return tiny(meta["n_features_in_"], meta.get("n_classes_"))

            NOT_CALLABLE = 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_builders"
    sys.modules.pop("my_builders", None)


def test_model_builders(builders):
    spec = _load(model=f"{builders}:tiny", space={"parameters": {"width": [4, 8]}})
    assert spec.model == "my_builders:tiny"
    with pytest.raises(SpecError, match=r"parameter 'depth': not a parameter of KerasClassifier "
                                        r"or of its model builder tiny"):
        _load(model=f"{builders}:tiny", space={"parameters": {"depth": 2}})
    # a builder taking **kwargs accepts any parameter name
    assert _load(model=f"{builders}:loose", space={"parameters": {"depth": 2}}).model
    # the built-in CNN's own parameters are valid space parameters
    assert _load(model="cnn", space={"parameters": {"conv_filters": [[4]]}}).model == "cnn"


@pytest.mark.parametrize(
    "model, message",
    [
        ("resnet", "key 'model': unknown model 'resnet'; expected one of ['cnn', 'mlp', "
                   "'transfer']"),
        ("no_such_module_xyz:build", "cannot import 'no_such_module_xyz:build': no module named"),
        ("my_builders:missing", "cannot import 'my_builders:missing'"),
        ("my_builders:NOT_CALLABLE", "'my_builders:NOT_CALLABLE' must name a model builder"),
        (3, "key 'model': must be one of ['cnn', 'mlp', 'transfer'] or "
            "'package.module:function' (or {transfer: {base: ...}}), got 3"),
    ],
)
def test_model_errors(builders, model, message):
    assert message in _error(model=model)


def test_model_builder_next_to_the_study_file(tmp_path):
    (tmp_path / "side_builders.py").write_text("def mlp(**kwargs):\n    raise RuntimeError\n")
    path = _write(tmp_path, "dataset: iris\nspace: mlp.yaml\nmodel: side_builders:mlp\n")
    try:
        assert load_spec(path).model == "side_builders:mlp"
    finally:
        sys.modules.pop("side_builders", None)


# --- validation


def test_validation_forms():
    assert _load(validation=0.3).validation == {"kind": "holdout", "size": 0.3}
    assert _load(validation={"holdout": 0.1}).validation_size == 0.1
    spec = _load(validation={"kfold": 4})
    assert spec.validation == {"kind": "kfold", "n_splits": 4} and spec.validation_size is None
    assert _load(validation_size=0.4).validation == {"kind": "holdout", "size": 0.4}
    assert "key 'validation.kfold': must be an int >= 2, got 1" in _error(validation={"kfold": 1})
    assert "key 'validation': unknown key 'folds'" in _error(validation={"folds": 3})
    assert "key 'validation': must be a holdout fraction" in _error(validation=1.5)
    assert "key 'validation_size': must be a holdout fraction" in _error(validation_size=0)
    assert "is another name for 'validation'" in _error(validation=0.2, validation_size=0.3)


# --- metric, direction, monitor


@pytest.mark.parametrize(
    "dataset, metric, monitor, sign",
    [
        ("iris", "accuracy", "val_accuracy", 1.0),
        ("iris", "balanced_accuracy", "val_accuracy", 1.0),
        ("iris", "f1_macro", "val_loss", -1.0),
        ("breast_cancer", "roc_auc", "val_loss", -1.0),
        ("iris", "neg_log_loss", "val_loss", -1.0),
        ("diabetes", "r2", "val_loss", -1.0),
        ("diabetes", "neg_root_mean_squared_error", "val_loss", -1.0),
    ],
)
def test_any_scorer_is_a_metric(dataset, metric, monitor, sign):
    spec = load_spec({"dataset": dataset, "space": SMALL_SPACE, "metric": metric})
    assert (spec.metric, spec.direction, spec.monitor, spec.monitor_sign) == (
        metric, "maximize", monitor, sign)


def test_metric_errors_and_direction():
    msg = _error(metric="acuracy")
    assert "unknown metric 'acuracy' for classification (did you mean 'accuracy'?)" in msg
    assert "'f1_macro'" in msg  # lists the valid scorers
    with pytest.raises(SpecError, match="'accuracy' for regression: it is a classification"):
        load_spec({"dataset": "diabetes", "space": SMALL_SPACE, "metric": "accuracy"})
    assert _load(direction="minimize").directions == ["minimize"]
    assert "key 'direction': must be one of ['maximize', 'minimize'], got 'max'" in _error(
        direction="max"
    )
    spec = _load(monitor="val_auc")
    assert (spec.monitor, spec.monitor_sign) == ("val_auc", 1.0)
    assert "key 'monitor': must be an epoch-log key" in _error(monitor=5)


# --- second objective


def test_second_objective():
    spec = _load(second_objective="n_params")
    assert spec.directions == ["maximize", "minimize"]
    assert spec.objectives == ["accuracy", "n_params"] and spec.is_multi_objective
    assert spec.pruner["name"] == "none"  # the default pruner becomes none
    assert _load(second_objective="latency", sampler="nsga2").sampler["name"] == "nsga2"
    assert "key 'second_objective': must be one of ['n_params', 'latency']" in _error(
        second_objective="size"
    )
    msg = _error(second_objective="n_params", pruner="median")
    assert "key 'pruner': must be 'none' with a 'second_objective'" in msg


def test_single_objective_sampler_rejected_for_two_objectives(monkeypatch):
    monkeypatch.setattr(_samplers, "_missing_packages", lambda name: [])
    msg = _error(second_objective="n_params", sampler="cmaes")
    assert "sampler 'cmaes' optimizes a single objective" in msg


# --- engine sklearn


def test_sklearn_engine_settings():
    spec = load_spec({"dataset": "iris", "space": CAT_SPACE, "engine": "sklearn"})
    assert spec.search == "grid" and spec.sampler is None and spec.pruner is None
    spec = _load(engine="sklearn", search="random", n_trials=7)
    assert spec.n_iter == 7
    spec = _load(engine="sklearn", search="halving_random", resource="epochs", min_resources=2)
    assert (spec.factor, spec.resource, spec.min_resources) == (3.0, "epochs", 2)
    spec = load_spec(
        {"dataset": "iris", "space": CAT_SPACE, "engine": "sklearn", "search": "halving_grid"}
    )
    assert (spec.resource, spec.min_resources) == ("n_samples", "exhaust")


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"search": "bayes"}, "key 'search': must be one of ['grid', 'random', 'halving_grid'"),
        ({"search": "grid", "n_iter": 5}, "key 'n_iter': is a setting of the random searches"),
        ({"search": "random", "factor": 2}, "key 'factor': is a setting of the halving searches"),
        ({"search": "halving_random", "factor": 1}, "key 'factor': must be a number > 1"),
        ({"search": "halving_random", "resource": "time"}, "key 'resource': must be one of"),
        ({"search": "halving_random", "resource": "epochs", "min_resources": 50},
         "key 'min_resources': must not exceed 'epochs' (20)"),
        ({"search": "halving_random", "min_resources": "few"}, "key 'min_resources': must be one"),
        ({"sampler": "tpe"}, "key 'sampler': is a setting of engine 'optuna'"),
        ({"second_objective": "n_params"}, "key 'second_objective': is a setting of engine"),
    ],
)
def test_sklearn_engine_errors(keys, message):
    assert message in _error(engine="sklearn", **keys)


def test_sklearn_settings_rejected_with_optuna_engine():
    assert "key 'search': is a setting of engine 'sklearn'" in _error(search="grid")
    assert "key 'n_iter': is a setting of engine 'sklearn'" in _error(n_iter=3)


def test_sklearn_grid_needs_grid_lists():
    # learning_rate is a range without a `grid:` list: the space says so at load time
    with pytest.raises(SpecError, match="learning_rate"):
        _load(engine="sklearn", search="grid")


# --- samplers


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_constructs(name):
    space = CAT_SPACE if name == "grid" else SMALL_SPACE
    missing = [p for p in SAMPLER_PACKAGES.get(name, ()) if importlib.util.find_spec(p) is None]
    if missing:
        with pytest.raises(SpecError) as info:
            _load(sampler=name, space=space)
        assert f"needs the package(s) {', '.join(missing)}" in str(info.value)
        assert f"pip install {' '.join(missing)}" in str(info.value)
        pytest.skip(f"sampler {name!r} needs {missing}, not installed (error message checked)")
    spec = _load(sampler=name, space=space)
    sampler = make_sampler(spec.sampler, 3, spec.space)
    assert type(sampler).__name__ == SAMPLERS[name]


def test_sampler_options_validated():
    spec = _load(sampler={"name": "tpe", "n_startup_trials": 3, "multivariate": True})
    assert spec.sampler == {"name": "tpe", "kwargs": {"n_startup_trials": 3, "multivariate": True}}
    msg = _error(sampler={"name": "tpe", "n_startup": 3})
    assert "invalid options for 'tpe': unknown option 'n_startup' (did you mean " in msg
    assert "valid options are [" in msg
    assert "option 'gamma' takes a Python object" in _error(sampler={"name": "tpe", "gamma": 1})
    assert "invalid options for 'random'" in _error(sampler={"name": "random", "n_startup": 1})
    assert "key 'sampler': missing 'name'" in _error(sampler={"n_startup_trials": 3})
    assert "do not set 'seed' here" in _error(sampler={"name": "tpe", "seed": 1})
    assert "invalid options for 'qmc'" in _error(sampler={"name": "qmc", "qmc_type": "lattice"})


def test_nsga2_crossover_by_name():
    spec = _load(sampler={"name": "nsga2", "crossover": "sbx", "population_size": 4})
    sampler = make_sampler(spec.sampler, 0)
    assert type(sampler._child_generation_strategy._crossover).__name__ == "SBXCrossover"
    assert "key 'sampler.crossover': must be one of" in _error(
        sampler={"name": "nsga2", "crossover": "magic"}
    )


def test_grid_sampler_uses_the_space_grid():
    spec = _load(sampler="grid", space=CAT_SPACE)
    space = trial_space(spec)
    assert isinstance(space, GridSpace) and space.size == 4
    study = optuna.create_study(sampler=make_sampler(spec.sampler, 0, spec.space))
    seen = set()

    def objective(trial):
        params = space.suggest(trial)
        seen.add((params["optimizer"], params["hidden_layer_sizes"]))
        return 0.0

    study.optimize(objective, n_trials=10)  # the grid sampler stops the study after 4
    assert len(study.trials) == 4
    assert seen == {("adam", (8,)), ("adam", (8, 8)), ("sgd", (8,)), ("sgd", (8, 8))}
    # a range without a grid list cannot be a grid
    msg = _error(sampler="grid")
    assert "key 'sampler': sampler 'grid':" in msg and "learning_rate" in msg


def test_grid_space_with_conditional_sub_grids():
    space = load_spec({"dataset": "iris", "sampler": "grid", "space": {"parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "optimizer__momentum": {"type": "categorical", "choices": [0.0, 0.9],
                                "when": {"optimizer": "sgd"}},
    }}})
    grid = trial_space(space)
    got = grid.suggest(optuna.trial.FixedTrial({"optimizer": "adam", "optimizer__momentum": 0.9}))
    assert got == {"optimizer": "adam"}  # the inactive conditional parameter is dropped
    got = grid.suggest(optuna.trial.FixedTrial({"optimizer": "sgd", "optimizer__momentum": 0.9}))
    assert got == {"optimizer": "sgd", "optimizer__momentum": 0.9}
    with pytest.raises(SpecError, match="cannot be searched as one product"):
        GridSpace([{"a": [1], "b": ["x"]}, {"a": [2], "b": ["y"]}])


# --- pruners


PRUNER_OPTIONS = {
    "percentile": {"percentile": 25.0},
    "patient": {"patience": 2, "wrapped": {"name": "median", "n_startup_trials": 1}},
    "threshold": {"lower": 0.1},
}


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_pruner_constructs(name):
    spec = _load(pruner={"name": name, **PRUNER_OPTIONS.get(name, {})})
    pruner = make_pruner(spec.pruner)
    assert type(pruner).__name__ == PRUNERS[name]
    if name == "patient":
        assert type(pruner._wrapped_pruner).__name__ == "MedianPruner"
        assert spec.pruner["kwargs"]["wrapped"] == {
            "name": "median", "kwargs": {"n_startup_trials": 1}}


def test_explicit_null_pruner_means_none():
    unset = load_spec({"dataset": "iris", "space": SMALL_SPACE}, pruner=None)
    assert unset.pruner["name"] == "median"  # an unset override changes nothing
    assert load_spec({"dataset": "iris", "space": SMALL_SPACE, "pruner": None}).pruner == {
        "name": "none", "kwargs": {}}


def test_pruner_errors():
    assert "unknown pruner 'early'; valid names are" in _error(pruner="early")
    assert "missing required option 'percentile'" in _error(pruner="percentile")
    assert "missing required option 'patience'" in _error(pruner="patient")
    assert "pruner 'threshold' needs 'lower' and/or 'upper'" in _error(pruner="threshold")
    assert "invalid options for 'threshold'" in _error(
        pruner={"name": "threshold", "lower": 2.0, "upper": 1.0}
    )
    msg = _error(pruner={"name": "patient", "patience": 1, "wrapped": "fancy"})
    assert "key 'pruner.wrapped': unknown pruner 'fancy'" in msg
    assert "unknown option 'reduction'" in _error(pruner={"name": "hyperband", "reduction": 2})
    assert make_pruner("none").__class__.__name__ == "NopPruner"
    assert type(make_pruner({"name": "patient", "kwargs": {"patience": 1, "wrapped": None}}))


def test_hyperband_max_resource_defaults_to_all_steps():
    assert _load(pruner="hyperband", epochs=7).pruner["kwargs"]["max_resource"] == 7
    spec = _load(pruner="hyperband", epochs=7, validation={"kfold": 3})
    assert spec.pruner["kwargs"]["max_resource"] == 21  # steps are fold * epochs + epoch
    spec = _load(pruner={"name": "hyperband", "max_resource": 5}, epochs=7)
    assert spec.pruner["kwargs"]["max_resource"] == 5


# --- budget, storage, flags


def test_storage_study_name_and_flags(tmp_path):
    assert _load(storage="sqlite:///x.db").storage == "sqlite:///x.db"
    assert _load(storage=str(tmp_path / "j.log")).storage == tmp_path / "j.log"
    assert _load(storage="rel.journal").storage == Path.cwd() / "rel.journal"
    assert "key 'storage': must be null, an Optuna storage URL" in _error(storage=3)
    assert _load(study_name="shared").study_name == "shared"
    assert "key 'study_name': must be a non-empty string" in _error(study_name="")
    assert _load(deterministic=True, refit=False).deterministic is True
    assert "key 'deterministic': must be true or false, got 'yes'" in _error(deterministic="yes")
    assert "key 'refit': must be true or false" in _error(refit=1)


def test_early_stopping():
    assert _load(early_stopping=3).early_stopping == {
        "patience": 3, "min_delta": 0.0, "start_from_epoch": 0}
    spec = _load(early_stopping={"patience": 2, "min_delta": 0.01})
    assert spec.early_stopping["min_delta"] == 0.01
    assert "key 'early_stopping': missing key 'patience'" in _error(
        early_stopping={"min_delta": 1})
    assert "key 'early_stopping': unknown key 'delta'" in _error(
        early_stopping={"patience": 1, "delta": 1})
    assert "key 'early_stopping.patience': must be an int >= 0" in _error(
        early_stopping={"patience": -1})
    assert "key 'early_stopping': must be null, a patience" in _error(early_stopping="yes")


def test_revalidating_a_spec_keeps_base_dir(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.ones((4, 2), np.float32), y=np.arange(4) % 2)
    path = _write(tmp_path, "dataset: {npz: a.npz}\nspace: mlp.yaml\ntask: classification\n")
    spec = load_spec(path)
    again = load_spec(spec, n_trials=2)
    assert again.base_dir == tmp_path and again.n_trials == 2 and again.name == "study"
