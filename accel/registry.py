"""accel's primitive registry: the reference's primitives, re-implemented on the device.

Each accel primitive mirrors the reference primitive of the same name
(`refkeras.backend.registry.REGISTRY`): `forward(*inputs, **attrs)` and
`grad(g, out, *inputs, **attrs) -> tuple`, with the same signatures, taking and
returning `DeviceArray`s (host arrays given as inputs are copied in; Python
scalars are weak operands, see `accel.arrays`).

Adding a primitive (say the reference gains `conv2d`):

```python
# accel/prims_nn.py (or a new accel/prims_conv.py imported by accel/table.py)
@accel_primitive('conv2d')
def conv2d(x, kernel, strides=(1, 1), padding='valid'):
    ...launch kernels from accel/kernels/...

@conv2d.defgrad
def _conv2d_grad(g, out, x, kernel, strides=(1, 1), padding='valid', needs=(True, True)):
    ...
```

then add it to the property tests in `spec_tests/accelerator/test_accel_vs_reference.py`.
`spec_tests/accelerator/test_accel_coverage.py` fails, naming it, until both exist.
"""
import functools

from accel.errors import AccelMemoryError

ACCEL_REGISTRY = {}


def _shape(x):
    return tuple(x.shape) if hasattr(x, 'shape') else ()


def _naming_memory_errors(fn, what):
    """`fn`, with a device out-of-memory error raised inside it reworded to name
    the primitive (`what`) and its operands' shapes (the innermost one named wins)."""
    @functools.wraps(fn)
    def run(*args, **attrs):
        try:
            return fn(*args, **attrs)
        except AccelMemoryError as err:
            if getattr(err, 'primitive', None):
                raise
            shapes = ', '.join(str(_shape(a)) for a in args if a is not None)
            named = AccelMemoryError('%s (operand shapes %s): %s' % (what, shapes, err))
            named.primitive = what
            raise named from err
    return run


class AccelPrimitive(object):
    """An accel primitive: forward and gradient rule on device arrays.

    Running out of device memory in either raises `AccelMemoryError` naming
    the primitive and the shapes of its operands.

    # Arguments
        name: the reference primitive's name.
        forward: function of device arrays (positional) and attributes (keywords).
    """

    def __init__(self, name, forward):
        self.name = name
        self.forward = _naming_memory_errors(forward, 'primitive %r' % name)
        self.grad = None
        self.__doc__ = forward.__doc__

    def defgrad(self, rule):
        """Registers `rule(g, out, *inputs, **attrs)` as the gradient rule."""
        self.grad = _naming_memory_errors(rule, 'the gradient of primitive %r' % self.name)
        return rule

    def __repr__(self):
        return '<accel primitive %s>' % self.name


def accel_primitive(name):
    """Decorator registering `forward` as the accel implementation of primitive `name`.

    # Raises
        ValueError: if `name` is registered twice.
    """
    def register(forward):
        if name in ACCEL_REGISTRY:
            raise ValueError('accel primitive %r is registered twice' % name)
        prim = AccelPrimitive(name, forward)
        ACCEL_REGISTRY[name] = prim
        return prim
    return register
