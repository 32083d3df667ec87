"""Helpers shared by the ONNX export tests: random float32 inputs and weights."""


def random_input(rng, *shape, scale=1.0):
    """A float32 array of the given shape, normal with standard deviation ``scale``."""
    return (rng.normal(size=shape) * scale).astype("float32")


def randomize_weights(model, rng, scale=0.5):
    """Give every weight of ``model`` normal values of standard deviation ``scale`` (its dtype kept)."""
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([(rng.normal(size=w.shape) * scale).astype(w.dtype) for w in weights])
