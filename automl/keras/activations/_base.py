"""The activation base class, its registry and the resolution of identifiers.

Each activation is an :class:`Activation` object. Called on an array it is the
plain function (``activations.relu(x)``, ``activations.relu(x, negative_slope=0.1)``);
layers use :meth:`Activation.forward`, which may overwrite its input, and
:meth:`Activation.backward`, which maps the gradient w.r.t. the output to the
gradient w.r.t. the input, written in terms of the output where the
derivative allows it (``needs_input`` is set when it needs the input too).

The registry holds one instance per name with Keras's default parameters;
parametrized activations are new instances of the same class
(``type(activations.relu)(negative_slope=0.1)``), serialized as
``{"class_name": "relu", "config": {...}}``.

The activations themselves live in modules by family: ``_elementary``
(linear, exponential), ``_rectifiers``, ``_sigmoidal``, ``_shrinkage``,
``_normalizing`` (softmax, log-softmax, sparsemax) and ``_gated`` (GLU).
"""

from __future__ import annotations

import numpy as np

from ..._registry import Registry
from ..._validation import Interval, check_param
from ..backend import floatx

__all__ = ["ACTIVATIONS", "Activation", "deserialize", "get", "serialize"]

ACTIVATIONS = Registry("activation")


class Activation:
    """An activation function ``y = f(z)`` with its backward pass.

    Calling it on an array returns ``f(x)`` without modifying ``x``; float
    arrays keep their dtype, other inputs become ``backend.floatx()``. Extra
    arguments are the function's parameters, as in Keras
    (``activations.relu(x, negative_slope=0.1)``).

    Subclasses implement ``forward(z)`` (may work in place in ``z``) and
    ``backward(grad_y, y, z)`` (may overwrite ``grad_y``). ``needs_input``
    says whether ``backward`` reads ``z`` (else ``z`` need not be kept after
    the forward pass and is passed as ``None``). Parametrized subclasses
    list their parameters in ``_param_names``, in Keras's argument order,
    and store them as attributes of the same names.
    """

    needs_input = False
    __name__ = "activation"
    _param_names: tuple = ()

    def __call__(self, x, *args, **kwargs):
        act = self.with_params(*args, **kwargs) if (args or kwargs) else self
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            return act.forward(x.copy())  # float arrays keep their dtype
        return act.forward(np.array(x, dtype=floatx()))  # lists, scalars, ints: floatx

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Return f(z), possibly computed in place in ``z``."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray, y: np.ndarray, z: np.ndarray | None) -> np.ndarray:
        """Return dL/dz from dL/dy; may overwrite ``grad``."""
        raise NotImplementedError

    # -- parameters and serialization ---------------------------------------
    def get_config(self) -> dict:
        """The parameters of this activation (empty for parameter-free ones)."""
        return {name: _jsonable(getattr(self, name)) for name in self._param_names}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def with_params(self, *args, **kwargs) -> Activation:
        """A copy of this activation with some parameters replaced (Keras argument order)."""
        names = self._param_names
        if len(args) > len(names):
            raise TypeError(
                f"{self.__name__}() takes at most {len(names)} parameter(s) after x "
                f"({', '.join(names) or 'none'}). Got {len(args)}."
            )
        params = self.get_config()
        params.update(zip(names, args))
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise TypeError(
                f"{self.__name__}() got unexpected keyword argument(s): {', '.join(unknown)}. "
                f"Its parameters are: {', '.join(names) or 'none'}."
            )
        params.update(kwargs)
        return type(self)(**params)

    def _is_registered_default(self) -> bool:
        if self.__name__ not in ACTIVATIONS:
            return False
        registered = ACTIVATIONS.lookup(self.__name__)
        return registered is self or (
            type(registered) is type(self) and registered.get_config() == self.get_config()
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"<activation {self.__name__}{f'({params})' if params else ''}>"

    def __reduce__(self):
        if self.__name__ in ACTIVATIONS and type(ACTIVATIONS.lookup(self.__name__)) is type(self):
            return (get, (serialize(self),))
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def _real(name, value, owner, low=None):
    check_param(name, value, [Interval(float, low, None)], owner)
    return float(value)


def _axis(value, owner):
    if isinstance(value, (list, tuple)):
        if not value or not all(_is_int(a) for a in value):
            raise TypeError(
                f"The 'axis' parameter of {owner} must be an int or a non-empty list of ints. "
                f"Got {value!r} instead."
            )
        return tuple(int(a) for a in value) if len(value) > 1 else int(value[0])
    if not _is_int(value):
        raise TypeError(
            f"The 'axis' parameter of {owner} must be an int or a non-empty list of ints. "
            f"Got {value!r} instead."
        )
    return int(value)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _register(cls=None, *, aliases=()):
    def _add(cls):
        obj = cls()
        ACTIVATIONS.register(obj, name=cls.__name__, aliases=aliases)
        return obj

    return _add if cls is None else _add(cls)


def _sigmoid(z, out=None):
    """Logistic sigmoid as ``(1 + tanh(z/2)) / 2`` (no overflow), into ``out``."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _log1p(t):
    """``log(1 + t)`` for ``t >= 0``, to about an ulp, overwriting ``t``.

    ``u = 1 + t`` is rounded by ``d = (u - 1) - t`` (computed exactly) and
    ``log(u) - d / u`` removes that rounding to first order. This is several
    times faster than ``np.log1p``, whose loops are not vectorized.
    """
    u = t + 1.0
    d = np.subtract(u, 1.0)
    d -= t
    d /= u
    np.log(u, out=t)
    t -= d
    return t


def _softplus(z, out=None):
    """``log(1 + exp(z))`` as ``max(z, 0) + log1p(exp(-|z|))`` (no overflow)."""
    tmp = np.abs(z)
    np.negative(tmp, out=tmp)
    np.exp(tmp, out=tmp)
    _log1p(tmp)
    out = np.maximum(z, 0.0, out=out)
    out += tmp
    return out


# -- resolution ---------------------------------------------------------------


def get(identifier) -> Activation:
    """Resolve None, a name, a config dict or an :class:`Activation` to an activation.

    >>> from automl.keras import activations
    >>> activations.get("relu")([-1.0, 2.0])
    array([0., 2.], dtype=float32)
    >>> activations.get({"class_name": "leaky_relu", "config": {"negative_slope": 0.5}})
    <activation leaky_relu(negative_slope=0.5)>
    """
    if identifier is None:
        return ACTIVATIONS.lookup("linear")
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Activation):
        return identifier()
    if callable(identifier):
        raise TypeError(
            f"Could not interpret activation identifier: {identifier!r}. Plain callables have no "
            f"gradient in this engine; use one of: {', '.join(ACTIVATIONS.names())}, "
            "or subclass automl.keras.activations.Activation with forward/backward."
        )
    return ACTIVATIONS.get(identifier, allow_callable=False)


def serialize(activation: Activation):
    """The name of a registered activation with default parameters, else its config dict."""
    if not activation._param_names or activation._is_registered_default():
        return activation.__name__
    return {"class_name": activation.__name__, "config": activation.get_config()}


def deserialize(config, custom_objects=None) -> Activation:
    """Inverse of :func:`serialize`; also reads Keras 3's ``{"class_name": "function"}`` form."""
    if isinstance(config, str):
        return _as_activation(ACTIVATIONS.lookup(config, custom_objects))
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret activation config {config!r}: expected a name or a dict "
            "with a 'class_name' key."
        )
    name, inner = config["class_name"], config.get("config") or {}
    if name == "function" and isinstance(inner, str):  # Keras 3 serialized function
        return _as_activation(ACTIVATIONS.lookup(inner, custom_objects))
    obj = ACTIVATIONS.lookup(name, custom_objects)
    if isinstance(obj, type):
        return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
    obj = _as_activation(obj)
    if not inner:
        return obj
    new = obj.with_params(**inner)
    return obj if new.get_config() == obj.get_config() else new


def _as_activation(obj):
    if isinstance(obj, type) and issubclass(obj, Activation):
        return obj()
    if isinstance(obj, Activation):
        return obj
    raise TypeError(
        f"Could not interpret activation {obj!r}: custom activations must be "
        "automl.keras.activations.Activation instances or subclasses."
    )
