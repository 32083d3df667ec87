"""StudyPlan: one make_estimator for trials and refit; parameters drawn once per trial."""

import subprocess
import sys

import optuna
import pytest

from automl.search import GridSpace, StudyPlan, load_spec, parse_spec
from automl.search._objective import PARAMS_ATTR

SPACE = {
    "parameters": {
        "hidden_layer_sizes": {"type": "categorical", "choices": [[4], [6, 6]]},
        "batch_size": 16,
    }
}

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _plan(**keys):
    return StudyPlan.from_spec(
        load_spec({"dataset": "iris", "space": SPACE, "epochs": 2, "seed": 0, **keys})
    )


def test_the_objective_builds_with_the_plans_make_estimator():
    plan = _plan(preprocessing="minmax")
    objective = plan.objective(0)
    assert objective.make_estimator is plan.make_estimator
    est = plan.make_estimator({"batch_size": 8}, 3, epochs=5)
    assert est.named_steps["model"].epochs == 5 and est.named_steps["model"].random_state == 3


def test_a_trial_draws_its_parameters_once_and_keeps_them():
    plan = _plan()
    objective = plan.objective(0)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    params = trial.user_attrs[PARAMS_ATTR]
    assert params["batch_size"] == 16 and isinstance(params["hidden_layer_sizes"], list)

    # A trial that carries its parameters (drawn in the parent) is not drawn again.
    trial = study.ask()
    trial.set_user_attr(PARAMS_ATTR, {"hidden_layer_sizes": [3], "batch_size": 32})
    study.tell(trial, objective(trial))
    frozen = study.trials[-1]
    assert frozen.params == {} and frozen.user_attrs["n_params"] == (4 + 1) * 3 + (3 + 1) * 3


def test_grid_sampler_plans_draw_from_a_grid_space():
    plan = _plan(sampler="grid")
    assert isinstance(plan.space, GridSpace) and plan.space.size == 2
    assert isinstance(plan.sampler(0, 0), optuna.samplers.GridSampler)
    assert plan.data["sizes"] == {"train": 89, "val": 23, "test": 38}


def test_each_trial_gets_its_own_sampler_seed():
    plan = _plan(sampler={"name": "random"})

    def first_draw(k):
        trial = optuna.create_study(sampler=plan.sampler(0, k)).ask()
        return trial.suggest_float("x", 0.0, 1.0)

    assert first_draw(1) == first_draw(1) and len({first_draw(k) for k in range(3)}) == 3


def test_parsing_a_study_does_not_import_the_wrappers():
    code = (
        "import sys\n"
        "from automl.search import parse_spec\n"
        "parse_spec({'dataset': 'iris', 'space': {'parameters': {'batch_size': 16}}})\n"
        "assert 'automl.wrappers' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_load_spec_checks_the_space_against_the_estimator_parse_spec_does_not():
    raw = {"dataset": "iris", "space": {"parameters": {"hiden_layer_sizes": [8]}}}
    assert parse_spec(raw).space.names == ["hiden_layer_sizes"]
    with pytest.raises(ValueError, match="did you mean 'hidden_layer_sizes'"):
        load_spec(raw)
