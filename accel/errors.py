"""The exceptions accel raises.

Every accel error derives from `AccelError` and from the built-in exception a
NumPy user would expect (`TypeError` for dtypes, `ValueError` for shapes,
`IndexError` for indices, `MemoryError` for device memory), so code written
against the reference keeps catching what it caught before.
"""


class AccelError(Exception):
    """Base class of every error raised by accel."""


class AccelUnavailableError(AccelError, RuntimeError):
    """Neither a usable CUDA GPU nor the Numba CUDA simulator is present."""


class AccelDtypeError(AccelError, TypeError):
    """An array has a dtype that accel's kernels do not implement."""


class AccelShapeError(AccelError, ValueError):
    """Operand shapes do not fit the primitive (broadcasting, matmul, axes...)."""


class AccelIndexError(AccelError, IndexError):
    """An index is out of range or of a kind accel does not support."""


class AccelMemoryError(AccelError, MemoryError):
    """The device ran out of memory while allocating an array."""
