"""The end of a run: the best trial's parameters, the refit, and the outputs it writes."""

from __future__ import annotations

import time

from automl._random import trial_seed

from ._console import print_report
from ._objective import PARAMS_ATTR, evaluate, trial_params
from ._plan import StudyPlan
from ._results import StudyResult
from ._run_directory import RunDirectory
from ._summary import RunInfo, base_summary, pareto, select_best, states, write_summary_last
from ._tables import epochs_table, trials_table

__all__ = ["finish", "write_partial"]


def write_partial(plan: StudyPlan, study, info: RunInfo, *, status: str | None) -> dict:
    """The tables and a summary without the refit; ``status`` None: from the study's state."""
    run = RunDirectory(plan.spec.output)
    trials = study.get_trials(deepcopy=False)
    run.write_tables(trials_table(study), epochs_table(study))
    summary = base_summary(plan.spec, info, trials)
    if status is not None:
        summary["status"] = status
    if any(t.state.name == "COMPLETE" for t in trials):
        best = select_best(trials, info.directions)
        summary.update(
            best_value=best.values[0],
            best_trial=best.number,
            best_trial_seed=best.user_attrs.get("seed"),
            best_trial_params=dict(best.params),
        )
    write_summary_last(run, summary)
    return summary


def _best_params(plan: StudyPlan, best) -> dict:
    """The estimator kwargs the best trial trained with."""
    if PARAMS_ATTR in best.user_attrs:
        return trial_params(best)
    # A trial recorded before trials stored their parameters (an older study resumed).
    import optuna

    return plan.space.suggest(optuna.trial.FixedTrial(best.params))


def _refit(plan: StudyPlan, best, params: dict, *, seed: int, threads: int):
    """The best configuration fit on train + validation: ``(model, epochs)``.

    With early stopping the refit trains the best trial's ``best_epochs``
    (mean over folds) without the callback: there is no validation data left.
    """
    from threadpoolctl import threadpool_limits

    spec, data = plan.spec, plan.data
    params = dict(params)
    epochs = int(params.pop("epochs", spec.epochs))
    best_epochs = best.user_attrs.get("best_epochs")
    if spec.early_stopping and isinstance(best_epochs, (int, float)) and best_epochs > 0:
        epochs = min(epochs, int(best_epochs))
    model = plan.make_estimator(params, seed, epochs=epochs)
    with threadpool_limits(limits=threads):  # same BLAS threads as a trial
        model.fit(data["X_trval"], data["y_trval"])
    return model, epochs


def finish(plan: StudyPlan, study, info: RunInfo, *, search, verbose) -> StudyResult:
    from threadpoolctl import threadpool_limits

    spec, data = plan.spec, plan.data
    run = RunDirectory(spec.output)
    trials = study.get_trials(deepcopy=False)
    if any(t.state.name == "RUNNING" for t in trials):
        # Other processes still run trials of the study and may find a better one: the
        # last of them to finish refits the best (and rewrites the summary).
        summary = write_partial(plan, study, info, status=None)
        if verbose > 0:
            print(f"{summary['trials_running']} trials of study {info.study_name!r} still run "
                  "in other processes; the last of them to finish refits the best model.")
        return StudyResult(output_dir=run.path, summary=run.read_summary(), best_params=None,
                           study=study, best_model=None, search=search, spec=spec,
                           storage=info.storage_url, study_name=info.study_name)
    counts = states(trials)
    if not counts["complete"]:
        write_partial(plan, study, info, status="no_complete_trial")
        errors = [t.user_attrs["error"] for t in trials if "error" in t.user_attrs]
        reason = f" First error: {errors[0]}" if errors else ""
        raise RuntimeError(f"No trial of study {info.study_name!r} completed ({counts}).{reason}")
    best = select_best(trials, info.directions)
    best_params = _best_params(plan, best)
    best_seed = best.user_attrs.get("seed", trial_seed(info.seed, best.number))

    t_refit = time.perf_counter()
    model, test_score, refit_epochs = None, None, None
    if spec.refit:
        model, refit_epochs = _refit(plan, best, best_params, seed=best_seed,
                                     threads=info.threads)
        if data["X_test"] is not None:  # test_size: 0 leaves no test split
            with threadpool_limits(limits=info.threads):
                test_score = evaluate(spec.metric, model, data["X_test"], data["y_test"])
                run.write_test_predictions(model, data["X_test"], data["y_test"], spec.task)
        run.write_model(model, pickle=spec.pickle_best_model)
    refit_s = time.perf_counter() - t_refit

    summary = base_summary(spec, info, trials)
    summary.update(
        best_value=float(best.values[0]),
        test_score=None if test_score is None else float(test_score),
        best_trial=best.number,
        best_trial_seed=best_seed,
        best_trial_params=dict(best.params),
        refit_epochs=refit_epochs,
    )
    if len(info.directions) > 1:
        summary["best_values"] = list(best.values)
        complete = [t for t in trials if t.state.name == "COMPLETE" and t.values]
        summary["pareto_front"] = [t.number for t in pareto(complete, info.directions)]
    summary["wall_time_s"]["refit"] = round(refit_s, 3)
    summary["wall_time_s"]["total"] = round(time.perf_counter() - info.t_start, 3)
    run.write_tables(trials_table(study), epochs_table(study))
    run.write_best_params(best_params)
    write_summary_last(run, summary)

    result = StudyResult(
        output_dir=run.path,
        summary=run.read_summary(),
        best_params=best_params,
        study=study,
        best_model=model,
        search=search,
        spec=spec,
        storage=info.storage_url,
        study_name=info.study_name,
    )
    if verbose > 0:
        print_report(result)
    return result
