"""Helpers of the runner tests: a tiny study, and a model builder that fails on purpose.

:func:`tiny` returns a 3-epoch iris study (a few seconds). :func:`mlp` is a builder
for ``model: "runner_helpers:mlp"`` (with this folder on ``sys.path``).

``$AUTOML_FAULT`` is ``"<kind>@<n>"``: the ``n``-th model built (counted across
processes in ``$AUTOML_FAULT_DIR/builds``) fails once, with ``kind``:

- ``kill``: the process kills itself with SIGKILL (a worker dying mid-trial);
- ``interrupt``: ``KeyboardInterrupt`` (Ctrl-C during a trial);
- ``raise``: ``RuntimeError("injected fault")``.

Without ``$AUTOML_FAULT`` it is a plain one-hidden-layer MLP.
"""

import os
import signal
from pathlib import Path

TINY_SPACE = {
    "parameters": {
        "hidden_layer_sizes": {
            "type": "layers",
            "n_layers": 1,
            "units": {"low": 8, "high": 32, "log": True},
        },
        "learning_rate": {"type": "float", "low": 3e-3, "high": 3e-2, "log": True},
        "batch_size": 32,
    }
}


def tiny(tmp_path, **extra):
    """A 3-trial, 3-epoch iris study writing to ``tmp_path/out``; ``extra`` overrides keys."""
    spec = {
        "name": "tiny",
        "dataset": "iris",
        "space": TINY_SPACE,
        "epochs": 3,
        "n_trials": 3,
        "n_jobs": 1,
        "seed": 0,
        "output": str(tmp_path / "out"),
        "sampler": {"name": "tpe", "n_startup_trials": 2},
        "pruner": "none",
    }
    return {**spec, **extra}


def _maybe_fail() -> None:
    fault = os.environ.get("AUTOML_FAULT")
    if not fault:
        return
    kind, n = fault.split("@")
    folder = Path(os.environ["AUTOML_FAULT_DIR"])
    with open(folder / "builds", "a") as f:
        f.write("x")
    count = (folder / "builds").stat().st_size
    done = folder / "done"
    if count != int(n) or done.exists():
        return
    done.write_text(str(os.getpid()))
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "interrupt":
        raise KeyboardInterrupt
    raise RuntimeError("injected fault")


def mlp(meta, units=8):
    """``Input → Dense(units, relu) → Dense(n_classes, softmax)``, failing as configured."""
    from automl import keras
    from automl.keras import layers

    _maybe_fail()
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            layers.Dense(units, activation="relu"),
            layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


def mlp_reporting_maps(meta, units=8):
    """:func:`mlp`, after appending the study data files this process maps to ``$AUTOML_MAPS_FILE``."""
    with open("/proc/self/maps") as f:
        mapped = sorted({line.split()[-1] for line in f if "automl-data-" in line})
    with open(os.environ["AUTOML_MAPS_FILE"], "a") as out:
        out.write("".join(f"{path}\n" for path in mapped))
    return mlp(meta, units)


def mlp_dying_below_8(meta, units=8):
    """:func:`mlp` whose process kills itself with SIGKILL when ``units < 8`` (an OOM kill)."""
    if units < 8:
        os.kill(os.getpid(), signal.SIGKILL)
    return mlp(meta, units)


def always_failing(meta, units=8):
    """A builder that always raises, with the unit count in its message."""
    raise RuntimeError(f"cannot build {units} units")
