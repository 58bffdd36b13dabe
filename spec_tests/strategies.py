"""Hypothesis strategies the spec tests share (one copy, imported by name).

- `shapes`: array shapes with every side at least `min_side`;
- `finite_floats`: floats in [low, high] of a dtype's width, never NaN,
  infinite or subnormal (subnormals make relative tolerances meaningless);
- `float_arrays`: arrays of those floats;
- `axis_argument`: an `axis` attribute for an array of `ndim` axes.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=3):
    """Shapes of `min_dims` to `max_dims` dimensions, sides `min_side` to `max_side`."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def finite_floats(low=-3.0, high=3.0, dtype=np.float64):
    """Finite, normal floats in [low, high], representable in `dtype`."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(low, high, width=width, allow_nan=False, allow_infinity=False,
                     allow_subnormal=False)


def float_arrays(shape, low=-3.0, high=3.0, dtype=np.float64, unique=False):
    """Arrays of `finite_floats(low, high, dtype)` of a shape (or a shape strategy)."""
    return hnp.arrays(dtype, shape, elements=finite_floats(low, high, dtype), unique=unique)


@st.composite
def axis_argument(draw, ndim, allow_tuple=True, allow_none=True):
    """None, one axis (maybe negative) or a tuple of distinct axes (maybe empty)."""
    options = ['none'] if allow_none or ndim == 0 else []
    if ndim:
        options.append('int')
        if allow_tuple:
            options.append('tuple')
    elif allow_tuple:
        options.append('tuple')
    kind = draw(st.sampled_from(options))
    if kind == 'none':
        return None
    if kind == 'int':
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return tuple(draw(st.sampled_from([a, a - ndim])) for a in chosen)
