"""Exporting models for inference elsewhere (``automl.keras.export``).

``Model.export(path, format="onnx")`` writes an ONNX graph of the model's
inference pass through :func:`export_onnx`. The ``onnx`` package is an
optional dependency: ``pip install "automl[onnx]"``.
"""

from ._onnx import export_onnx, to_onnx

__all__ = ["export_onnx", "to_onnx"]
