"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average,
Maximum, Minimum, Concatenate, Dot, and their functional forms."""
from refkeras import backend as K
from refkeras.engine.base_layer import Layer


class _Merge(Layer):
    """Elementwise merge of several inputs, broadcasting as Keras 2.2.4 does.

    Inputs may differ in rank or have size-1 axes: sizes must be equal or 1
    (or unknown), compared from the last axis.
    """

    def __init__(self, **kwargs):
        super(_Merge, self).__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _broadcast_shape(self, shape1, shape2):
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._broadcast_shape(shape2, shape1)
        if not shape2:
            return tuple(shape1)
        out = list(shape1[:-len(shape2)])
        for a, b in zip(shape1[-len(shape2):], shape2):
            if a is None or b is None:
                out.append(None)
            elif a == 1:
                out.append(b)
            elif b == 1 or a == b:
                out.append(a)
            else:
                raise ValueError('Layer %s: operands could not be broadcast together with shapes '
                                 '%s %s' % (self.name, tuple(shape1), tuple(shape2)))
        return tuple(out)

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list):
            raise ValueError('A merge layer (%s) should be called on a list of inputs; received '
                             '%s.' % (self.name, input_shape))
        if len(input_shape) < 2:
            raise ValueError('A merge layer (%s) should be called on a list of at least 2 inputs. '
                             'Got %d inputs.' % (self.name, len(input_shape)))
        batch_sizes = {s[0] for s in input_shape if s is not None and s[0] is not None}
        if len(batch_sizes) > 1:
            raise ValueError('Layer %s: can not merge tensors with different batch sizes. Got '
                             'tensors with shapes: %s' % (self.name, input_shape))

    def build(self, input_shape):
        self._check_inputs(input_shape)
        shape = input_shape[0][1:]
        for s in input_shape[1:]:
            shape = self._broadcast_shape(shape, s[1:])
        self.built = True

    def call(self, inputs):
        ranks = [K.ndim(x) for x in inputs]
        top = max(ranks)
        aligned = []
        for x, r in zip(inputs, ranks):
            while r < top:
                # As Keras 2.2.4: new axes go after the batch axis, so shapes
                # line up from the last axis (as compute_output_shape assumes).
                x = K.expand_dims(x, 1)
                r += 1
            aligned.append(x)
        return self._merge_function(aligned)

    def compute_output_shape(self, input_shape):
        # Checked here too: a built layer called again skips `build`.
        self._check_inputs(input_shape)
        shape = input_shape[0][1:]
        for s in input_shape[1:]:
            shape = self._broadcast_shape(shape, s[1:])
        batch_sizes = {s[0] for s in input_shape if s[0] is not None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch,) + tuple(shape)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_mask_list(self, inputs, mask)
        present = [K.cast(m, 'bool') for m in mask if m is not None]
        if not present:
            return None
        return _all_masks(present)


def _check_mask_list(layer, inputs, mask):
    """A merge layer's masks come as a list, one entry per input.

    # Raises
        ValueError: naming the layer, when `inputs` or `mask` is not a list
            or their lengths differ.
    """
    if not isinstance(inputs, list):
        raise ValueError('Layer %s: `inputs` should be a list of tensors, received %r.'
                         % (layer.name, inputs))
    if not isinstance(mask, list):
        raise ValueError('Layer %s: `mask` should be a list (one mask or None per input), '
                         'received %s.' % (layer.name, type(mask).__name__))
    if len(mask) != len(inputs):
        raise ValueError('Layer %s: `mask` should be a list of the same length as the inputs; '
                         'received %d masks for %d inputs.' % (layer.name, len(mask), len(inputs)))


def _all_masks(masks):
    merged = K.expand_dims(masks[0], 0)
    for m in masks[1:]:
        merged = K.concatenate([merged, K.expand_dims(m, 0)], axis=0)
    return K.all(merged, axis=0)


class Add(_Merge):
    """Sums a list of inputs (same shape, or broadcastable)."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = K.add(out, x)
        return out


class Subtract(_Merge):
    """Subtracts the second of exactly two inputs from the first."""

    def _check_inputs(self, input_shape):
        super(Subtract, self)._check_inputs(input_shape)
        if len(input_shape) != 2:
            raise ValueError('A `Subtract` layer (%s) should be called on exactly 2 inputs; got %d.'
                             % (self.name, len(input_shape)))

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError('A `Subtract` layer (%s) should be called on exactly 2 inputs.'
                             % self.name)
        return K.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """Elementwise product of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = K.multiply(out, x)
        return out


class Average(_Merge):
    """Elementwise mean of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = K.add(out, x)
        return K.divide(out, float(len(inputs)))


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = K.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = K.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Concatenates a list of inputs along `axis` (default -1).

    # Raises
        ValueError: if the inputs' other axes differ.
    """

    def __init__(self, axis=-1, **kwargs):
        super(Concatenate, self).__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.built = True

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError('A `Concatenate` layer (%s) should be called on a list of at least 2 '
                             'inputs.' % self.name)
        if any(s is None for s in input_shape):
            return
        reduced = set()
        for s in input_shape:
            s = list(s)
            del s[self.axis]
            reduced.add(tuple(s))
        if len(reduced) > 1:
            raise ValueError('A `Concatenate` layer (%s) requires inputs with matching shapes '
                             'except for the concat axis. Got inputs shapes: %s'
                             % (self.name, input_shape))

    def call(self, inputs):
        return K.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        out = list(input_shape[0])
        for s in input_shape[1:]:
            if out[self.axis] is None or s[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += s[self.axis]
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        _check_mask_list(self, inputs, mask)
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(K.ones_like(x, dtype='bool'))
            elif K.ndim(m) < K.ndim(x):
                masks.append(K.expand_dims(m))
            else:
                masks.append(m)
        return K.all(K.concatenate([K.cast(m, 'bool') for m in masks], axis=self.axis),
                     axis=-1)

    def get_config(self):
        config = dict(super(Concatenate, self).get_config())
        config['axis'] = self.axis
        return config


class Dot(_Merge):
    """Dot product of two samples-wise tensors along `axes` (`batch_dot`).

    # Arguments
        axes: int or pair of ints: the axes to contract.
        normalize: L2-normalise along those axes first (cosine proximity).
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super(Dot, self).__init__(**kwargs)
        if not isinstance(axes, int) and not (isinstance(axes, (list, tuple)) and len(axes) == 2
                                              and all(isinstance(a, int) for a in axes)):
            raise ValueError('Dot layer %s: `axes` should be an int or a list/tuple of 2 ints; '
                             'received %r.' % (self.name, axes))
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _resolved_axes(self, shapes):
        if isinstance(self.axes, int):
            axes = [self.axes, self.axes]
        else:
            axes = list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.built = True

    def _check_inputs(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError('A `Dot` layer (%s) should be called on a list of 2 inputs.'
                             % self.name)
        s1, s2 = input_shape
        a1, a2 = self._resolved_axes(input_shape)
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError('Dimension incompatibility in layer %s: %s != %s. Layer shapes: %s, '
                             '%s' % (self.name, s1[a1], s2[a2], s1, s2))

    def call(self, inputs):
        x1, x2 = inputs
        axes = self._resolved_axes([K.int_shape(x1), K.int_shape(x2)])
        if self.normalize:
            x1 = K.l2_normalize(x1, axis=axes[0])
            x2 = K.l2_normalize(x2, axis=axes[1])
        return K.batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._resolved_axes(input_shape)
        s1.pop(a1)
        s2.pop(a2)
        s2.pop(0)
        shape = s1 + s2
        if len(shape) == 1:
            shape += [1]
        return tuple(shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = dict(super(Dot, self).get_config())
        config.update({'axes': self.axes, 'normalize': self.normalize})
        return config


def add(inputs, **kwargs):
    """Functional form of `Add`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of `Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """Functional form of `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
