"""The primitive registry: every backend operation, forward and gradient side by side.

A *primitive* is the unit the autodiff tape records and the unit an accelerator
re-implements. Each one is a plain NumPy forward function plus a gradient rule:

```python
@primitive()
def multiply(a, b):
    return a * b

@multiply.defgrad
def _multiply_grad(g, out, a, b):
    return unbroadcast(g * b, a), unbroadcast(g * a, b)
```

The gradient rule receives the upstream gradient `g`, the forward output `out`,
the forward inputs and the primitive's keyword attributes, and returns one
gradient per positional input (`None` where an input gets no gradient).

`REGISTRY` maps names to primitives; the test suite enumerates it so that no
primitive goes without a finite-difference check (docs/design.md, invariant 2).
"""
import numpy as np

REGISTRY = {}


class Primitive(object):
    """One backend operation: a forward function and its gradient rule.

    # Arguments
        name: unique name in the registry (also the accelerator's kernel name).
        forward: function of NumPy arrays (positional) and attributes (keywords).
        differentiable: False for operations whose output is piecewise constant
            or random (comparisons, argmax, random draws); their gradient is
            defined as "none" and the tape does not record them.
        wants_needs: if True the gradient rule gets a keyword `needs`, a tuple of
            booleans saying which inputs need a gradient, so that expensive rules
            (matrix products, convolutions) can skip work nobody asked for.
    """

    def __init__(self, name, forward, differentiable=True, wants_needs=False):
        self.name = name
        self.forward = forward
        self.grad = None
        self.differentiable = differentiable
        self.wants_needs = wants_needs
        self.__doc__ = forward.__doc__

    def defgrad(self, rule):
        """Registers `rule(g, out, *inputs, **attrs)` as this primitive's gradient."""
        self.grad = rule
        return rule

    def __call__(self, *inputs, **attrs):
        # Calling a primitive directly runs it through the tape-aware dispatcher.
        from refkeras.backend.tape import apply
        return apply(self, *inputs, **attrs)

    def __repr__(self):
        return '<primitive %s>' % self.name


def primitive(name=None, differentiable=True, wants_needs=False):
    """Decorator that registers a forward function as a primitive.

    # Arguments
        name: registry name; defaults to the function's name.
        differentiable: see `Primitive`.
        wants_needs: see `Primitive`.

    # Returns
        The `Primitive`, whose `defgrad` decorator attaches the gradient rule.

    # Raises
        ValueError: if the name is already registered.
    """
    def register(forward):
        key = name or forward.__name__
        if key in REGISTRY:
            raise ValueError('Primitive %r is registered twice.' % key)
        prim = Primitive(key, forward, differentiable, wants_needs)
        REGISTRY[key] = prim
        return prim
    return register


def unbroadcast(grad, like):
    """Sums `grad` over the axes NumPy broadcasting added or stretched for `like`.

    The gradient of a broadcasting binary operation has the broadcast shape; the
    input's gradient must have the input's own shape.

    # Arguments
        grad: array of the broadcast (output) shape.
        like: the forward input (array or Python scalar) whose shape to recover.

    # Returns
        An array of `np.shape(like)`.
    """
    shape = np.shape(like)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
