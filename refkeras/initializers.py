"""Weight initializers: `Dense(64, kernel_initializer='glorot_uniform')`.

An initializer is called with a shape (and optionally a dtype) and returns a
NumPy array of that shape and dtype (default `K.floatx()`), which the layer
turns into a variable.

Random draws go through the backend's random functions, which use NumPy's
global generator: `np.random.seed(...)` at the start of a script makes every
unseeded initializer repeat from run to run (FAQ: "How can I obtain
reproducible results using Keras during development?"). An initializer built
with `seed=s` returns the same values at every call with the same shape, as
in Keras 2.2.4 (where each call made a new random op with that seed), and
leaves NumPy's global stream where it was.
"""
import contextlib
import inspect

import numpy as np

from refkeras import backend as K
from refkeras.utils.generic_utils import (deserialize_keras_object, get_custom_objects, has_arg,
                                          serialize_keras_object)


@contextlib.contextmanager
def _random_stream(seed):
    """Draws inside this block come from NumPy's global generator, restarted at
    `seed` when one is given; the global generator is restored afterwards."""
    if seed is None:
        yield
        return
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def _checked_shape(shape, who):
    """`shape` as a tuple of non-negative ints, or a clear error."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError('%s needs a shape (tuple of ints); received %r.' % (who, shape))
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0
               for d in dims):
        raise ValueError('%s needs a fully defined shape of non-negative ints; received %r.'
                         % (who, shape))
    return tuple(int(d) for d in dims)


def _compute_fans(shape, data_format='channels_last'):
    """The numbers of input and output units of a weight of shape `shape`.

    # Arguments
        shape: tuple of ints.
        data_format: layout of convolution kernels. refkeras's (and Keras's)
            kernels are always `(*kernel_size, input_channels, filters)`, i.e.
            'channels_last', whatever the data format of the inputs.

    # Returns
        `(fan_in, fan_out)`:
        - rank 2 (a Dense kernel `(input_dim, units)`): the two sizes;
        - rank 3 to 5 (convolution kernels): input and output channels, each
          times the receptive field size (the product of the kernel sizes);
        - any other rank: `sqrt(prod(shape))` for both.

    # Raises
        ValueError: for an unknown `data_format`.
    """
    shape = tuple(shape)
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) in (3, 4, 5):
        if data_format == 'channels_last':
            receptive_field = int(np.prod(shape[:-2]))
            return int(shape[-2]) * receptive_field, int(shape[-1]) * receptive_field
        if data_format == 'channels_first':
            receptive_field = int(np.prod(shape[2:]))
            return int(shape[1]) * receptive_field, int(shape[0]) * receptive_field
        raise ValueError('Invalid data_format: %r; expected "channels_last" or '
                         '"channels_first".' % (data_format,))
    fan = float(np.sqrt(np.prod(shape)))
    return fan, fan


class Initializer(object):
    """Base class of initializers.

    Subclasses implement `__call__(shape, dtype=None)` and, when they take
    arguments, `get_config()` returning them (so models can be saved).
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError('%s must implement __call__(shape, dtype=None).'
                                  % type(self).__name__)

    def get_config(self):
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds an initializer from `get_config()`'s output.

        A `dtype` entry (written by tf.keras) is ignored; `config` itself is
        not modified.
        """
        config = dict(config)
        config.pop('dtype', None)
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return K.constant(0, shape=_checked_shape(shape, 'Zeros'), dtype=dtype)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return K.constant(1, shape=_checked_shape(shape, 'Ones'), dtype=dtype)


class Constant(Initializer):
    """Every entry equal to `value`.

    # Arguments
        value: a number.
    """

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return K.constant(self.value, shape=_checked_shape(shape, 'Constant'), dtype=dtype)

    def get_config(self):
        return {'value': self.value}


class RandomNormal(Initializer):
    """Draws from a normal distribution.

    # Arguments
        mean: mean of the values.
        stddev: standard deviation of the values.
        seed: int, for the same values at every call; None draws from NumPy's
            global generator.
    """

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'RandomNormal')
        with _random_stream(self.seed):
            return K.random_normal(shape, self.mean, self.stddev, dtype=dtype)

    def get_config(self):
        return {'mean': self.mean, 'stddev': self.stddev, 'seed': self.seed}


class RandomUniform(Initializer):
    """Draws from a uniform distribution on `[minval, maxval)`.

    # Arguments
        minval: lower bound.
        maxval: upper bound.
        seed: int, for the same values at every call; None draws from NumPy's
            global generator.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'RandomUniform')
        with _random_stream(self.seed):
            return K.random_uniform(shape, self.minval, self.maxval, dtype=dtype)

    def get_config(self):
        return {'minval': self.minval, 'maxval': self.maxval, 'seed': self.seed}


class TruncatedNormal(Initializer):
    """Draws from a normal distribution, redrawing values more than two
    standard deviations from the mean.

    # Arguments
        mean: mean of the (untruncated) normal distribution.
        stddev: standard deviation of the (untruncated) normal distribution.
        seed: int, for the same values at every call; None draws from NumPy's
            global generator.
    """

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'TruncatedNormal')
        with _random_stream(self.seed):
            return K.truncated_normal(shape, self.mean, self.stddev, dtype=dtype)

    def get_config(self):
        return {'mean': self.mean, 'stddev': self.stddev, 'seed': self.seed}


# Standard deviation of a standard normal truncated to [-2, 2]: a truncated
# normal with stddev s / TRUNCATED_NORMAL_STD has standard deviation s.
TRUNCATED_NORMAL_STD = 0.87962566103423978


class VarianceScaling(Initializer):
    """Draws with a variance scaled to the weight's fans.

    With `n` the fan chosen by `mode` (`fan_in`, `fan_out`, or their mean for
    `fan_avg`; at least 1):
    - `distribution='normal'`: a truncated normal (within two standard
      deviations) whose standard deviation is `sqrt(scale / n)`;
    - `distribution='uniform'`: uniform on `[-limit, limit]` with
      `limit = sqrt(3 * scale / n)` (also variance `scale / n`).

    # Arguments
        scale: positive scaling factor.
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'normal' or 'uniform'.
        seed: int, for the same values at every call; None draws from NumPy's
            global generator.

    # Raises
        ValueError: for a non-positive `scale`, or an unknown `mode` or
            `distribution`.
    """

    def __init__(self, scale=1.0, mode='fan_in', distribution='normal', seed=None):
        if not scale > 0.:
            raise ValueError('VarianceScaling: `scale` must be a positive float; received %r.'
                             % (scale,))
        mode = str(mode).lower()
        if mode not in ('fan_in', 'fan_out', 'fan_avg'):
            raise ValueError('VarianceScaling: invalid `mode` %r; expected one of "fan_in", '
                             '"fan_out", "fan_avg".' % (mode,))
        distribution = str(distribution).lower()
        if distribution not in ('normal', 'uniform'):
            raise ValueError('VarianceScaling: invalid `distribution` %r; expected "normal" '
                             'or "uniform".' % (distribution,))
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed

    def variance(self, shape):
        """The variance of the values drawn for `shape`: `scale / n`."""
        fan_in, fan_out = _compute_fans(shape)
        fan = {'fan_in': fan_in, 'fan_out': fan_out,
               'fan_avg': (fan_in + fan_out) / 2.}[self.mode]
        return self.scale / max(1., float(fan))

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'VarianceScaling')
        variance = self.variance(shape)
        with _random_stream(self.seed):
            if self.distribution == 'normal':
                stddev = np.sqrt(variance) / TRUNCATED_NORMAL_STD
                return K.truncated_normal(shape, 0., stddev, dtype=dtype)
            limit = np.sqrt(3. * variance)
            return K.random_uniform(shape, -limit, limit, dtype=dtype)

    def get_config(self):
        return {'scale': self.scale, 'mode': self.mode, 'distribution': self.distribution,
                'seed': self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix (Saxe et al., 2013, arXiv:1312.6120).

    The shape is seen as a matrix `(prod(shape[:-1]), shape[-1])`; its rows
    (if there are fewer rows than columns) or its columns are orthonormal,
    then multiplied by `gain`. Built from the SVD of a standard normal matrix.

    # Arguments
        gain: factor applied to the orthogonal matrix.
        seed: int, for the same values at every call; None draws from NumPy's
            global generator. (Keras 2.2.4 reseeded NumPy's global generator
            here; refkeras leaves it as it was.)
    """

    def __init__(self, gain=1., seed=None):
        self.gain = gain
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'Orthogonal')
        if len(shape) < 2:
            raise ValueError('Orthogonal initializer needs a shape of rank 2 or more; received '
                             '%s.' % (shape,))
        flat_shape = (int(np.prod(shape[:-1])), shape[-1])
        with _random_stream(self.seed):
            a = K.random_normal(flat_shape, 0., 1., dtype='float64')
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat_shape else vt
        return (self.gain * q.reshape(shape)).astype(dtype or K.floatx())

    def get_config(self):
        return {'gain': self.gain, 'seed': self.seed}


class Identity(Initializer):
    """The identity matrix times `gain`, for 2D weights.

    A non-square shape whose long side is a multiple of its short side gets
    identity blocks stacked along the long side.

    # Arguments
        gain: factor applied to the identity.

    # Raises (when called)
        ValueError: for a shape that is not 2D, or whose long side is not a
            multiple of its short side.
    """

    def __init__(self, gain=1.):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _checked_shape(shape, 'Identity')
        if len(shape) != 2:
            raise ValueError('Identity matrix initializer can only be used for 2D matrices; '
                             'received shape %s.' % (shape,))
        rows, cols = shape
        if min(rows, cols) == 0 or max(rows, cols) % min(rows, cols) != 0:
            raise ValueError('Identity matrix initializer: the long side of shape %s must be '
                             'a multiple of the short side.' % (shape,))
        eye = np.identity(min(rows, cols))
        blocks = np.tile(eye, (rows // min(rows, cols), cols // min(rows, cols)))
        return (self.gain * blocks).astype(dtype or K.floatx())

    def get_config(self):
        return {'gain': self.gain}


def lecun_uniform(seed=None):
    """Uniform on `[-limit, limit]` with `limit = sqrt(3 / fan_in)` (LeCun et al., 1998)."""
    return VarianceScaling(scale=1., mode='fan_in', distribution='uniform', seed=seed)


def glorot_normal(seed=None):
    """Truncated normal with standard deviation `sqrt(2 / (fan_in + fan_out))`
    (Glorot & Bengio, 2010), also called Xavier normal."""
    return VarianceScaling(scale=1., mode='fan_avg', distribution='normal', seed=seed)


def glorot_uniform(seed=None):
    """Uniform on `[-limit, limit]` with `limit = sqrt(6 / (fan_in + fan_out))`
    (Glorot & Bengio, 2010), also called Xavier uniform; the default kernel
    initializer of most layers."""
    return VarianceScaling(scale=1., mode='fan_avg', distribution='uniform', seed=seed)


def he_normal(seed=None):
    """Truncated normal with standard deviation `sqrt(2 / fan_in)` (He et al., 2015)."""
    return VarianceScaling(scale=2., mode='fan_in', distribution='normal', seed=seed)


def lecun_normal(seed=None):
    """Truncated normal with standard deviation `sqrt(1 / fan_in)`; pairs with `selu`."""
    return VarianceScaling(scale=1., mode='fan_in', distribution='normal', seed=seed)


def he_uniform(seed=None):
    """Uniform on `[-limit, limit]` with `limit = sqrt(6 / fan_in)` (He et al., 2015)."""
    return VarianceScaling(scale=2., mode='fan_in', distribution='uniform', seed=seed)


# Keras's other names for the classes.
zero = zeros = Zeros
one = ones = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
identity = Identity
orthogonal = Orthogonal

# The names `get` and `deserialize` accept.
_BUILT_IN = {
    'Initializer': Initializer, 'Zeros': Zeros, 'Ones': Ones, 'Constant': Constant,
    'RandomNormal': RandomNormal, 'RandomUniform': RandomUniform,
    'TruncatedNormal': TruncatedNormal, 'VarianceScaling': VarianceScaling,
    'Orthogonal': Orthogonal, 'Identity': Identity,
    'lecun_uniform': lecun_uniform, 'glorot_normal': glorot_normal,
    'glorot_uniform': glorot_uniform, 'he_normal': he_normal, 'lecun_normal': lecun_normal,
    'he_uniform': he_uniform,
    'zero': Zeros, 'zeros': Zeros, 'one': Ones, 'ones': Ones, 'constant': Constant,
    'uniform': RandomUniform, 'random_uniform': RandomUniform, 'normal': RandomNormal,
    'random_normal': RandomNormal, 'truncated_normal': TruncatedNormal,
    'identity': Identity, 'orthogonal': Orthogonal,
}


def serialize(initializer):
    """`{'class_name': ..., 'config': ...}` for an initializer object."""
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """The initializer described by `config` (from `serialize`).

    # Arguments
        config: `{'class_name': ..., 'config': ...}`.
        custom_objects: dict of custom initializers by name.
    """
    if isinstance(config, dict) and not config.get('config'):
        # A custom initializer written as a plain function `f(shape, dtype=None)`
        # is saved by name; it is the initializer itself, not a factory to call
        # (Keras 2.2.4 called it with no arguments and failed).
        function = get_custom_objects().get(config.get('class_name'))
        if custom_objects and config.get('class_name') in custom_objects:
            function = custom_objects[config['class_name']]
        if inspect.isfunction(function) and has_arg(function, 'shape'):
            return function
    return deserialize_keras_object(config, module_objects=_BUILT_IN,
                                    custom_objects=custom_objects,
                                    printable_module_name='initializer')


def get(identifier):
    """The initializer a layer argument designates.

    # Arguments
        identifier: a name ('glorot_uniform', 'zeros', ...), a config dict, or
            a callable `(shape, dtype=None) -> array`.

    # Returns
        An initializer (a callable).

    # Raises
        ValueError: for an unknown name or anything else (None included, as in
            Keras 2.2.4).
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({'class_name': identifier, 'config': {}})
    if callable(identifier):
        return identifier
    raise ValueError('Could not interpret initializer identifier: %r (expected a name such '
                     'as "glorot_uniform", a config dict or a callable).' % (identifier,))
