"""The state of recorded layer calls, owned here and shared by layers and models.

A subclassed model (or a user-defined layer) that trains records its forward pass on a
tape of layer calls (:mod:`automl.keras.models.subclassing`); every eager layer call checks
:data:`STATE` once to know whether to route itself to that tape.
"""

__all__ = ["RecordingState", "STATE"]


class RecordingState:
    """What the engine's layer-call recording currently is.

    Attributes
    ----------
    tape : object or None
        The tape recording a subclassed model's training forward pass, or None.
    losses_used : bool
        Whether any layer ever called ``add_loss`` (models then collect the terms each step).
    weights_epoch : int
        Incremented when a model prepares training (compile / fit): cached weight lists renew.
    record_inference : bool
        Whether traced calls in inference mode still record (set by a functional model in a
        training step for a call made with ``training=False``, e.g. a frozen base model).
    """

    __slots__ = ("tape", "losses_used", "weights_epoch", "record_inference")

    def __init__(self):
        self.tape = None
        self.losses_used = False
        self.weights_epoch = 0
        self.record_inference = False


#: The one recording state of the process.
STATE = RecordingState()
