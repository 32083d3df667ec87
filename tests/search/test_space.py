"""Search-space compilation: types, log, step, fixed values, conditions, errors."""

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FixedTrial

from automl.search import SearchSpace, SpecError, compile_space, load_space

REPO = Path(__file__).resolve().parents[2]


def _draw(space: SearchSpace, n=20, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append((space.suggest(trial), trial.distributions))
        study.tell(trial, 0.0)
    return out


def test_types_ranges_and_distributions():
    space = compile_space(
        {
            "parameters": {
                "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
                "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
                "units": {"type": "int", "low": 8, "high": 64, "step": 8},
                "width": {"type": "int", "low": 2, "high": 256, "log": True},
                "opt": {"type": "categorical", "choices": ["adam", "sgd"]},
                "epochs": 7,
                "seed_like": {"type": "fixed", "value": 3},
            }
        }
    )
    assert space.names == ["lr", "dropout", "units", "width", "opt", "epochs", "seed_like"]
    for params, dists in _draw(space):
        assert 1e-4 <= params["lr"] <= 1e-1
        assert dists["lr"] == FloatDistribution(1e-4, 1e-1, log=True)
        assert dists["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
        assert round(params["dropout"] * 10, 6) == int(round(params["dropout"] * 10))
        assert params["units"] % 8 == 0 and dists["units"] == IntDistribution(8, 64, step=8)
        assert dists["width"] == IntDistribution(2, 256, log=True)
        assert isinstance(params["units"], int) and isinstance(params["width"], int)
        assert params["opt"] in ("adam", "sgd")
        assert dists["opt"] == CategoricalDistribution(("adam", "sgd"))
        assert params["epochs"] == 7 and params["seed_like"] == 3
        assert set(dists) == {"lr", "dropout", "units", "width", "opt"}  # fixed: not searched


def test_log_spreads_over_decades():
    space = compile_space(
        {"parameters": {"lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True}}}
    )
    values = [p["lr"] for p, _ in _draw(space, n=200)]
    assert sum(v < 1e-3 for v in values) > 50  # uniform would put ~0.1% below 1e-3


def test_layers_shared_and_per_layer():
    shared = compile_space(
        {
            "parameters": {
                "hidden_layer_sizes": {
                    "type": "layers",
                    "n_layers": {"low": 1, "high": 3},
                    "units": {"low": 16, "high": 32},
                }
            }
        }
    )
    for params, dists in _draw(shared):
        sizes = params["hidden_layer_sizes"]
        assert isinstance(sizes, tuple) and 1 <= len(sizes) <= 3 and len(set(sizes)) == 1
        assert set(dists) == {"n_layers", "units"}
    per = compile_space(
        {
            "parameters": {
                "hidden_layer_sizes": {
                    "type": "layers",
                    "n_layers": 2,
                    "units": {"low": 16, "high": 32},
                    "per_layer": True,
                }
            }
        }
    )
    params = per.suggest(FixedTrial({"units_1": 20, "units_2": 30}))
    assert params == {"hidden_layer_sizes": (20, 30)}


def test_list_choices_become_tuples_and_round_trip():
    space = compile_space(
        {
            "parameters": {
                "hidden_layer_sizes": {"type": "categorical", "choices": [[64], [128, 64]]}
            }
        }
    )
    (params, dists), *_ = _draw(space, n=1)
    assert params["hidden_layer_sizes"] in ((64,), (128, 64))
    assert space.suggest(FixedTrial({"hidden_layer_sizes": "[128, 64]"})) == {
        "hidden_layer_sizes": (128, 64)
    }


def test_when_conditions():
    space = compile_space(
        {
            "parameters": {
                "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
                "optimizer__momentum": {
                    "type": "float",
                    "low": 0.5,
                    "high": 0.9,
                    "when": {"optimizer": "sgd"},
                },
            }
        }
    )
    assert space.suggest(FixedTrial({"optimizer": "adam"})) == {"optimizer": "adam"}
    assert space.suggest(FixedTrial({"optimizer": "sgd", "optimizer__momentum": 0.6})) == {
        "optimizer": "sgd",
        "optimizer__momentum": 0.6,
    }


def test_fixed_trial_rebuilds_kwargs_of_a_real_trial():
    space = load_space(REPO / "search_spaces" / "mlp.yaml")
    for params, _ in _draw(space, n=10):
        assert all(64 <= u <= 512 for u in params["hidden_layer_sizes"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()
    drawn = space.suggest(trial)
    study.tell(trial, 0.0)
    assert space.suggest(FixedTrial(study.trials[0].params)) == drawn


@pytest.mark.parametrize(
    "pspec, message",
    [
        ({"type": "floaty", "low": 0, "high": 1}, "unknown type 'floaty'; valid types are"),
        ({"low": 0, "high": 1}, "missing key 'type'"),
        ({"type": "float", "low": 0}, "missing key 'high'"),
        ({"type": "float", "low": 0, "high": 1, "lo": 3}, "unknown key 'lo'"),
        (
            {"type": "float", "low": 2, "high": 1},
            "'low' (2) of a float parameter must not exceed 'high' (1)",
        ),
        ({"type": "float", "low": 0, "high": 1, "log": True}, "must be > 0 when 'log' is true"),
        (
            {"type": "float", "low": 0.1, "high": 1, "log": True, "step": 0.1},
            "cannot have both 'log: true' and 'step'",
        ),
        ({"type": "int", "low": 1.5, "high": 4}, "'low' of an int parameter must be an int"),
        (
            {"type": "int", "low": 1, "high": 4, "step": 0},
            "'step' of an int parameter must be a positive int",
        ),
        ({"type": "float", "low": "a", "high": 1}, "must be a finite number"),
        (
            {"type": "float", "low": 0, "high": 1, "log": "yes"},
            "'log' of a float parameter must be true or false",
        ),
        ({"type": "categorical", "choices": []}, "'choices' must be a non-empty list"),
        ({"type": "categorical", "choices": ["a", "a"]}, "duplicates"),
        ({"type": "categorical", "choices": [{"a": 1}]}, "must be strings, numbers"),
        (
            {"type": "layers", "n_layers": {"low": 0, "high": 2}, "units": 8},
            "'low' of 'n_layers' must be >= 1",
        ),
        ({"type": "float", "low": 0, "high": 1, "when": {"nope": 1}}, "'when' refers to 'nope'"),
        (
            {"type": "float", "low": 0, "high": 1, "when": {"opt": "rmsprop"}},
            "'when' value 'rmsprop' is not one of the choices",
        ),
        ({"type": "float", "low": 0, "high": 1, "when": {"p": 1}}, "'when' refers to the parameter itself"),
        (
            {"type": "float", "low": 0, "high": 1, "step": 0.3},
            "'step' (0.3) of a float parameter must divide high - low (1 - 0)",
        ),
        (
            {"type": "int", "low": 1, "high": 10, "step": 4},
            "'step' (4) of an int parameter must divide high - low (10 - 1)",
        ),
        (
            {"type": "float", "low": 0, "high": 1, "grid": [0.5, 2.0]},
            "'grid' value 2.0 of a float parameter is outside [low, high] = [0.0, 1.0]",
        ),
        (
            {"type": "int", "low": 8, "high": 64, "step": 8, "grid": [8, 12]},
            "'grid' value 12 of an int parameter is not on its steps (low + k * 8)",
        ),
        (
            {"type": "int", "low": 1, "high": 4, "grid": [1.5]},
            "'grid' values of an int parameter must be ints, got 1.5",
        ),
        (
            {"type": "float", "low": 0, "high": 1, "grid": []},
            "'grid' of a float parameter must be a non-empty list of values, got []",
        ),
        (
            {"type": "float", "low": 0, "high": 1, "grid": 0.5},
            "'grid' of a float parameter must be a non-empty list of values, got 0.5",
        ),
        ({"type": "float", "low": 0, "high": 1, "grid": [0.1, 0.1]}, "contains duplicates"),
        (
            {"type": "categorical", "choices": ["a"], "grid": ["a"]},
            "unknown key 'grid' for type 'categorical'",
        ),
        (
            {"type": "layers", "n_layers": {"low": 1, "high": 2}, "units": {"low": 4, "high": 8},
             "grid": [[4, 4, 4]]},
            "'grid' value [4, 4, 4] of a layers parameter has a number of layers outside 'n_layers'",
        ),
        (
            {"type": "layers", "n_layers": 1, "units": {"low": 4, "high": 8}, "grid": [[16]]},
            "'grid' value [16] of a layers parameter has units 16 outside 'units'",
        ),
        (
            {"type": "layers", "n_layers": 2, "units": {"low": 4, "high": 8}, "grid": [[4, 8]]},
            "has different units per layer, but 'per_layer' is false",
        ),
        (
            {"type": "layers", "n_layers": 1, "units": 8, "grid": ["a"]},
            "'grid' values of a layers parameter must be lists of positive ints",
        ),
        (
            {"type": "layers", "n_layers": 1, "units": {"low": 4, "high": 8, "grid": [4]}},
            "unknown key 'grid' for 'units'",
        ),
        (
            {"type": "float", "low": "1e-4", "high": 1},
            "'low' of a float parameter must be a finite number, got '1e-4' (YAML reads 1e-4 as a "
            "string: write 0.0001; exponents need a decimal point and a sign, as in 1.0e-4)",
        ),
        ({"type": "categorical", "choices": [0.0, "1e-5"]}, "'choices' value '1e-5' is a string"),
        ("1.0e4", "fixed value '1.0e4' is a string (YAML reads 1.0e4 as a string: write 10000.0"),
    ],
)
def test_invalid_parameter_names_source_parameter_and_problem(pspec, message):
    spec = {"parameters": {"opt": {"type": "categorical", "choices": ["adam", "sgd"]}, "p": pspec}}
    with pytest.raises(SpecError) as info:
        compile_space(spec, source="spaces/bad.yaml")
    text = str(info.value)
    assert text.startswith("spaces/bad.yaml: parameter 'p': ")
    assert message in text


@pytest.mark.parametrize(
    "spec, message",
    [
        ([1, 2], "must be a mapping with a 'parameters' key"),
        ({"parameters": {}}, "'parameters' must be a non-empty mapping"),
        ({"params": {"a": 1}}, "unknown top-level key 'params'"),
    ],
)
def test_invalid_space_structure(spec, message):
    with pytest.raises(SpecError, match="^bad.yaml: ") as info:
        compile_space(spec, source="bad.yaml")
    assert message in str(info.value)


def test_when_refers_to_parameters_above_with_possible_values():
    later = {
        "parameters": {
            "p": {"type": "float", "low": 0, "high": 1, "when": {"units": 4}},
            "units": {"type": "int", "low": 1, "high": 8},
        }
    }
    with pytest.raises(SpecError) as info:
        compile_space(later, source="s.yaml")
    assert str(info.value) == (
        "s.yaml: parameter 'p': 'when' refers to 'units', which is defined below this "
        "parameter; conditions may only refer to parameters defined above them"
    )
    numeric = {
        "parameters": {
            "units": {"type": "int", "low": 1, "high": 8, "step": 1},
            "p": {"type": "float", "low": 0, "high": 1, "when": {"units": [4, 16]}},
        }
    }
    with pytest.raises(SpecError, match=r"^s\.yaml: parameter 'p': 'when' value 16 of 'units' is "
                                        r"outside \[low, high\] = \[1, 8\]"):
        compile_space(numeric, source="s.yaml")
    numeric["parameters"]["p"]["when"] = {"units": [4, 8]}
    space = compile_space(numeric)
    assert space.suggest(FixedTrial({"units": 8, "p": 0.5})) == {"units": 8, "p": 0.5}
    assert space.suggest(FixedTrial({"units": 3})) == {"units": 3}


def test_trial_name_clash():
    spec = {
        "parameters": {
            "units": {"type": "int", "low": 1, "high": 4},
            "hidden_layer_sizes": {"type": "layers", "n_layers": 1, "units": {"low": 1, "high": 3}},
        }
    }
    with pytest.raises(
        SpecError, match="parameter 'hidden_layer_sizes': its trial parameter 'units' clashes"
    ):
        compile_space(spec)


def test_load_space_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_space(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters: {lr: [1, 2\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: malformed YAML"):
        load_space(bad)


def test_mlp_space_compiles():
    space = load_space(REPO / "search_spaces" / "mlp.yaml")
    assert {
        "hidden_layer_sizes",
        "optimizer",
        "learning_rate",
        "dropout",
        "l2",
        "batch_size",
    } <= set(space.names)
