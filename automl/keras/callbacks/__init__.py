"""Callbacks (``automl.keras.callbacks``)."""

from ._backup_and_restore import BackupAndRestore
from ._base import Callback, CallbackList
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping, MonitorCallback
from ._history import History
from ._lambda_callback import LambdaCallback
from ._lr_finder import LRFinder, LRFinderResult, find_learning_rate
from ._lr_scheduler import LearningRateLogger, LearningRateScheduler, current_learning_rate
from ._model_checkpoint import ModelCheckpoint
from ._progbar import Progbar, ProgbarLogger
from ._reduce_lr_on_plateau import ReduceLROnPlateau
from ._tensorboard import TensorBoard
from ._terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LRFinder",
    "LRFinderResult",
    "LambdaCallback",
    "LearningRateLogger",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "current_learning_rate",
    "find_learning_rate",
]
