"""Signals while a study runs: Ctrl-C and SIGTERM stop it cleanly, never half-way through an ask."""

from __future__ import annotations

import signal
from contextlib import contextmanager

__all__ = ["deferred_sigint", "no_sigint", "sigterm_interrupts"]


@contextmanager
def _signal_handler(signum, handler):
    """``handler`` for ``signum`` inside the block; a no-op outside the main thread."""
    try:
        old = signal.signal(signum, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signum, old)


@contextmanager
def deferred_sigint():
    """Hold a Ctrl-C until the block ends, then raise it.

    Asking a trial creates it RUNNING and then tags it with this process; a
    Ctrl-C in between would leave an untagged trial that the clean-up cannot
    tell from another process's.
    """
    received = []
    with _signal_handler(signal.SIGINT, lambda signum, frame: received.append(signum)):
        yield
    if received:
        raise KeyboardInterrupt


@contextmanager
def no_sigint():
    """Ignore a second Ctrl-C while cleaning up after the first."""
    with _signal_handler(signal.SIGINT, signal.SIG_IGN):
        yield


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def sigterm_interrupts():
    """Treat SIGTERM like Ctrl-C while trials run, so ``kill`` also stops cleanly."""
    with _signal_handler(signal.SIGTERM, _raise_interrupt):
        yield
