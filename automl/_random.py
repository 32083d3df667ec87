"""Seeds for trials, samplers and folds: one study seed spawns independent child seeds.

Every seed of a study is a function of the study seed and a trial number. A
trial number is handed out by the storage, atomically, to exactly one process,
so processes sharing a study draw from disjoint seed streams without knowing
of each other, and a single process draws the same seeds at any run.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spawn_seeds", "trial_seed", "sampler_seed", "check_random_state"]


def spawn_seeds(seed: int | None, n: int) -> list[int]:
    """Return ``n`` independent 32-bit seeds derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1)[0]) for c in children]


def trial_seed(study_seed: int | None, trial_number: int) -> int:
    """Seed of trial ``trial_number``: depends only on the study seed and the number.

    >>> trial_seed(0, 3) == trial_seed(0, 3)
    True
    >>> trial_seed(0, 3) != trial_seed(0, 4)
    True
    """
    seq = np.random.SeedSequence(study_seed, spawn_key=(int(trial_number),))
    return int(seq.generate_state(1)[0])


def sampler_seed(study_seed: int | None, trial_number: int) -> int:
    """Seed of the sampler that draws trial ``trial_number``'s parameters.

    Independent of :func:`trial_seed` (another spawn key). Keyed by the
    trial's number, not by the count of trials a process sees when it asks:
    processes asking at the same moment see the same count but never get
    the same number, so they never draw the same configuration from the
    same history, while one process alone (where the number is the count)
    draws as it always did.

    >>> sampler_seed(0, 3) == sampler_seed(0, 3)
    True
    >>> len({sampler_seed(0, n) for n in range(1000)})
    1000
    >>> sampler_seed(0, 3) != trial_seed(0, 3)
    True
    """
    seq = np.random.SeedSequence(study_seed, spawn_key=(0x5A3, int(trial_number)))
    return int(seq.generate_state(1)[0])


def check_random_state(seed) -> np.random.Generator:
    """Turn None, an int or a Generator into a ``numpy.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
