"""Result dtypes, read off the reference so that accel follows it exactly.

NumPy's type rules (weak Python scalars, `int / int -> float64`, `sum(int32)
-> int64`, `exp(int16) -> float32`...) are what the reference implements by
calling NumPy. accel obtains them the same way: it runs the reference forward
(or gradient rule) on one-element placeholder arrays of the operands' dtypes and
ranks and keeps only the result's dtype. This is metadata work on the host, a
few microseconds, cached per (primitive, dtypes, attributes); no tensor data is
involved.
"""
import warnings

import numpy as np

from accel import arrays
from refkeras.backend.registry import REGISTRY

_CACHE = {}


def _placeholder(x):
    if x is None or arrays.is_python_scalar(x):
        return x
    dt = np.dtype(x.dtype)
    return np.ones((1,) * len(arrays.shape_of(x)), dtype=dt)


def _key_item(x):
    if x is None:
        return None
    if arrays.is_python_scalar(x):
        return ('py', type(x).__name__)
    return (np.dtype(x.dtype).str, len(arrays.shape_of(x)))


def _attrs_key(attrs):
    try:
        return tuple(sorted((k, repr(v)) for k, v in attrs.items()))
    except Exception:  # pragma: no cover
        return None


def _reference(name):
    return REGISTRY[name]


def forward_dtype(name, *inputs, **attrs):
    """The dtype of the reference primitive `name`'s output for these operands."""
    key = ('f', name, tuple(_key_item(x) for x in inputs), _attrs_key(attrs))
    hit = _CACHE.get(key)
    if hit is None:
        with np.errstate(all='ignore'), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out = _reference(name).forward(*[_placeholder(x) for x in inputs], **attrs)
        hit = np.asarray(out).dtype
        _CACHE[key] = hit
    return hit


def grad_dtypes(name, g, out, *inputs, **attrs):
    """The dtypes (None where no gradient) of the reference gradient rule's results."""
    key = ('g', name, _key_item(g), _key_item(out), tuple(_key_item(x) for x in inputs),
           _attrs_key(attrs))
    hit = _CACHE.get(key)
    if hit is None:
        with np.errstate(all='ignore'), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            grads = _reference(name).grad(_placeholder(g), _placeholder(out),
                                          *[_placeholder(x) for x in inputs], **attrs)
        hit = tuple(None if r is None else np.asarray(r).dtype for r in grads)
        _CACHE[key] = hit
    return hit
