"""The optional ``onnx`` dependency, imported on first use with an error that names the extra."""

from __future__ import annotations

import importlib

__all__ = ["import_onnx"]

_HINT = 'Exporting to ONNX needs the onnx package: pip install "automl[onnx]" (or pip install onnx).'


def import_onnx():
    """Return the ``onnx`` module, or raise ImportError saying how to install it."""
    try:
        return importlib.import_module("onnx")
    except ImportError as error:
        raise ImportError(f"{_HINT} ({error})") from error
