"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute,
RepeatVector, Lambda, ActivityRegularization, Masking."""
import contextlib
import types

import numpy as np

from refkeras import activations, constraints, initializers, regularizers
from refkeras import backend as K
from refkeras.engine.base_layer import InputSpec, Layer
from refkeras.utils.generic_utils import (deserialize_keras_object, func_dump, func_load,
                                          has_arg)
from refkeras.legacy import interfaces


def _merge_config(base, extra):
    config = dict(base)
    config.update(extra)
    return config


# The built-in activations `K.bias_activation` computes together with the bias,
# found by identity: a custom function, or `relu` wrapped with other arguments,
# is not among them and runs after `K.bias_add` as before. (Filled on first use:
# `refkeras.activations` may still be importing when this module is loaded.)
_FUSED_ACTIVATIONS = {}


def _fused_activation_name(activation):
    """The `K.bias_activation` name of a built-in activation function, else None."""
    if not _FUSED_ACTIVATIONS:
        _FUSED_ACTIVATIONS.update({getattr(activations, name): name for name in (
            'linear', 'relu', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'tanh', 'softplus',
            'softsign', 'exponential')})
    return _FUSED_ACTIVATIONS.get(activation)


def bias_and_activation(x, bias, activation, data_format):
    """`activation(K.bias_add(x, bias, data_format))`, the end of Dense and the convolutions.

    For the elementwise built-in activations this is one primitive,
    `K.bias_activation` (one pass forward, one pass plus the bias's sum
    backward; see `refkeras/backend/prims_fused.py`), with the same values.

    # Arguments
        x: the layer's output before the bias.
        bias: the bias vector, or None for a layer without one.
        activation: the layer's activation function, or None for none.
        data_format: 'channels_last' or 'channels_first'.
    """
    name = 'linear' if activation is None else _fused_activation_name(activation)
    if bias is not None and name is not None and K.ndim(bias) == 1:
        # The two steps below as one fused primitive: the same numbers, one pass.
        return K.bias_activation(x, bias, activation=name, data_format=data_format)
    if bias is not None:
        x = K.bias_add(x, bias, data_format=data_format)
    if activation is not None:
        x = activation(x)
    return x


class Dense(Layer):
    """A fully connected layer: `activation(dot(input, kernel) + bias)`.

    # Arguments
        units: positive int, the output size.
        activation: activation name or function (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers
            (default 'glorot_uniform' and 'zeros').
        kernel_regularizer, bias_regularizer, activity_regularizer: optional
            penalties added to the training loss.
        kernel_constraint, bias_constraint: optional projections applied after
            each update.
        input_dim: shortcut for `input_shape=(input_dim,)` on a first layer.

    # Input shape
        `(batch, ..., input_dim)`; for rank > 2 the kernel is applied to the
        last axis.

    # Output shape
        `(batch, ..., units)`.
    """

    @interfaces.legacy_dense_support
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer='glorot_uniform',
                 bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        if 'input_shape' not in kwargs and 'input_dim' in kwargs:
            kwargs['input_shape'] = (kwargs.pop('input_dim'),)
        super(Dense, self).__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError('Dense layer %s: `units` must be a positive integer, received %r.'
                             % (self.name, units))
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError('Dense layer %s needs the last axis of its input to be known; '
                             'received input shape %s.' % (self.name, input_shape))
        self.kernel = self.add_weight(shape=(input_dim, self.units), name='kernel',
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), name='bias',
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        output = K.dot(inputs, self.kernel)
        # Keras's `K.bias_add` then `self.activation`; fused into one primitive
        # where the activation is elementwise (`bias_and_activation`).
        return bias_and_activation(output, self.bias if self.use_bias else None,
                                   self.activation, 'channels_last')

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return _merge_config(super(Dense, self).get_config(), {
            'units': self.units,
            'activation': activations.serialize(self.activation),
            'use_bias': self.use_bias,
            'kernel_initializer': initializers.serialize(self.kernel_initializer),
            'bias_initializer': initializers.serialize(self.bias_initializer),
            'kernel_regularizer': regularizers.serialize(self.kernel_regularizer),
            'bias_regularizer': regularizers.serialize(self.bias_regularizer),
            'activity_regularizer': regularizers.serialize(self.activity_regularizer),
            'kernel_constraint': constraints.serialize(self.kernel_constraint),
            'bias_constraint': constraints.serialize(self.bias_constraint)})


class Activation(Layer):
    """Applies an activation function (`Activation('relu')`)."""

    def __init__(self, activation, **kwargs):
        super(Activation, self).__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return _merge_config(super(Activation, self).get_config(),
                             {'activation': activations.serialize(self.activation)})


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 in training, scaling the rest by `1/(1-rate)`.

    In test mode (evaluate, predict, learning phase 0) it is the identity (FAQ:
    "Why is the training loss much higher than the testing loss?").

    # Arguments
        rate: float in [0, 1), the fraction to drop.
        noise_shape: shape of the binary mask (None entries take the input's
            size), e.g. `(batch, 1, features)` to drop the same features at
            every timestep.
        seed: optional seed.
    """

    @interfaces.legacy_dropout_support
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super(Dropout, self).__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError('Dropout layer %s: `rate` must be in [0, 1], received %r.'
                             % (self.name, rate))
        self.rate = min(1.0, max(0.0, float(rate)))
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _get_noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        shape = K.int_shape(inputs)
        return tuple(shape[i] if s is None else s for i, s in enumerate(self.noise_shape))

    def _call_uses_learning_phase(self, arguments):
        return 0.0 < self.rate < 1.0 and arguments.get('training') is None

    def call(self, inputs, training=None):
        if 0.0 < self.rate < 1.0:
            noise_shape = self._get_noise_shape(inputs)

            def dropped():
                return K.dropout(inputs, self.rate, noise_shape, seed=self.seed)
            return K.in_train_phase(dropped, inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return _merge_config(super(Dropout, self).get_config(),
                             {'rate': self.rate, 'noise_shape': self.noise_shape,
                              'seed': self.seed})


class Flatten(Layer):
    """Flattens all axes but the batch axis: `(batch, a, b, c) -> (batch, a*b*c)`.

    # Arguments
        data_format: for 4D+ inputs, 'channels_first' flattens in the order a
            channels_last model would (so weights carry over); default from
            `K.image_data_format()`.

    # Raises
        ValueError: if a non-batch size of the input is unknown.
    """

    def __init__(self, data_format=None, **kwargs):
        super(Flatten, self).__init__(**kwargs)
        self.input_spec = InputSpec(min_ndim=2)
        self.data_format = K.normalize_data_format(data_format)

    def compute_output_shape(self, input_shape):
        if not all(input_shape[1:]):
            raise ValueError('The shape of the input to "Flatten" (layer %s) is not fully '
                             'defined (got %s). Make sure to pass a complete "input_shape" or '
                             '"batch_input_shape" argument to the first layer in your model.'
                             % (self.name, tuple(input_shape[1:])))
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def call(self, inputs):
        if self.data_format == 'channels_first' and K.ndim(inputs) > 2:
            ndim = K.ndim(inputs)
            inputs = K.permute_dimensions(inputs, [0] + list(range(2, ndim)) + [1])
        return K.batch_flatten(inputs)

    def get_config(self):
        return _merge_config(super(Flatten, self).get_config(), {'data_format': self.data_format})


class Reshape(Layer):
    """Reshapes the non-batch axes to `target_shape` (one entry may be -1).

    # Raises
        ValueError: if the input's size cannot be reshaped to `target_shape`.
    """

    def __init__(self, target_shape, **kwargs):
        super(Reshape, self).__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def _fix_unknown_dimension(self, input_shape, output_shape):
        output_shape = list(output_shape)
        msg = ('Layer %s: total size of the new array must be unchanged (input shape %s, '
               'target shape %s).' % (self.name, tuple(input_shape), tuple(output_shape)))
        known, unknown = 1, None
        for index, dim in enumerate(output_shape):
            if dim < 0:
                if unknown is not None:
                    raise ValueError('Layer %s: can only specify one unknown dimension in '
                                     'target_shape %s.' % (self.name, self.target_shape))
                unknown = index
            else:
                known *= dim
        original = int(np.prod(input_shape))
        if unknown is not None:
            if known == 0 or original % known != 0:
                raise ValueError(msg)
            output_shape[unknown] = original // known
        elif original != known:
            raise ValueError(msg)
        return tuple(output_shape)

    def compute_output_shape(self, input_shape):
        if None in input_shape[1:]:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._fix_unknown_dimension(input_shape[1:], self.target_shape)

    def call(self, inputs):
        shape = self._fix_unknown_dimension(K.int_shape(inputs)[1:], self.target_shape)
        return K.reshape(inputs, (K.int_shape(inputs)[0],) + shape)

    def get_config(self):
        return _merge_config(super(Reshape, self).get_config(),
                             {'target_shape': self.target_shape})


class Permute(Layer):
    """Permutes the non-batch axes; `dims` is 1-indexed, e.g. `Permute((2, 1))`.

    # Raises
        ValueError: if `dims` is not a permutation of 1..n.
    """

    def __init__(self, dims, **kwargs):
        super(Permute, self).__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError('Permute layer %s: invalid permutation `dims` %r; it must hold each '
                             'of 1..%d exactly once.' % (self.name, dims, len(self.dims)))
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs):
        return K.permute_dimensions(inputs, (0,) + self.dims)

    def get_config(self):
        return _merge_config(super(Permute, self).get_config(), {'dims': self.dims})


class RepeatVector(Layer):
    """Repeats a 2D input `n` times: `(batch, features) -> (batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super(RepeatVector, self).__init__(**kwargs)
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        return K.repeat(inputs, self.n)

    def get_config(self):
        return _merge_config(super(RepeatVector, self).get_config(), {'n': self.n})


class ActivityRegularization(Layer):
    """Identity that adds an L1/L2 penalty on its input to the training loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super(ActivityRegularization, self).__init__(**kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return _merge_config(super(ActivityRegularization, self).get_config(),
                             {'l1': self.l1, 'l2': self.l2})


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`.

    Downstream layers that support masking skip those timesteps; the output
    has them set to 0.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super(Masking, self).__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return K.any(K.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = K.any(K.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return K.multiply(inputs, K.cast(keep, K.dtype(inputs)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return _merge_config(super(Masking, self).get_config(), {'mask_value': self.mask_value})


# --- Lambda -------------------------------------------------------------------

_CODE_LOADING = {'allowed': False}


@contextlib.contextmanager
def allow_code_loading(allowed=True):
    """Within this block, `Lambda.from_config` may rebuild lambdas from bytecode.

    Loading a Lambda stored as bytecode runs code from the file, so refkeras
    refuses it unless the caller opts in (`load_model(..., safe_mode=False)`
    uses this context).
    """
    previous = _CODE_LOADING['allowed']
    _CODE_LOADING['allowed'] = bool(allowed)
    try:
        yield
    finally:
        _CODE_LOADING['allowed'] = previous


class _SavedFunction(object):
    """Mixin for a Lambda config entry that also holds the function it names.

    `Lambda.get_config` stores a function as its name (a named function) or
    as bytecode (a Python `lambda`), as Keras 2.2.4 files do. The entry it
    returns in memory is a `str` / `tuple` subclass that also carries the
    function object itself, so `from_config` on that same config gives back
    the very function, and runs no stored code (Keras 2.2.4's `layer_test`
    round-trips every layer in memory this way). JSON, YAML, HDF5 and pickle
    keep only the plain value, so a config read back from a file or string
    is rebuilt from the name (custom objects) or, for bytecode, only with
    `safe_mode=False` / `allow_code_loading()`. Copies made in memory
    (`copy.deepcopy` of a config) keep the function.
    """

    def __reduce__(self):
        return (self._plain_type, (self._plain_type(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self  # an immutable value; functions are shared by deepcopy too


class _SavedName(_SavedFunction, str):
    _plain_type = str


class _SavedBytecode(_SavedFunction, tuple):
    _plain_type = tuple


def _saved_function(value, function):
    entry = (_SavedName if isinstance(value, str) else _SavedBytecode)(value)
    entry.function = function
    return entry


class Lambda(Layer):
    """Wraps an expression of backend functions as a layer.

    # Arguments
        function: `function(inputs, **arguments)` using backend functions.
        output_shape: the output shape (without batch axis) or a function of
            the input shape; inferred by running the function when omitted.
        mask: a mask, or a function `(inputs, mask) -> mask`.
        arguments: dict of keyword arguments for `function`.

    # Example
    ```python
    model.add(Lambda(lambda x: x ** 2))
    ```
    """

    @interfaces.legacy_lambda_support
    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super(Lambda, self).__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape

    def call(self, inputs, mask=None):
        arguments = dict(self.arguments)
        if has_arg(self.function, 'mask'):
            arguments['mask'] = mask
        return self.function(inputs, **arguments)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return self._infer_output_shape(input_shape)
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
            return shape if isinstance(shape, list) else tuple(shape)
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def get_config(self):
        if isinstance(self.function, types.LambdaType) and self.function.__name__ == '<lambda>':
            function, function_type = func_dump(self.function), 'lambda'
        else:
            function, function_type = self.function.__name__, 'function'
        function = _saved_function(function, self.function)
        if isinstance(self._output_shape, types.LambdaType) and \
                self._output_shape.__name__ == '<lambda>':
            output_shape = _saved_function(func_dump(self._output_shape), self._output_shape)
            output_shape_type = 'lambda'
        elif callable(self._output_shape):
            output_shape = _saved_function(self._output_shape.__name__, self._output_shape)
            output_shape_type = 'function'
        else:
            output_shape, output_shape_type = self._output_shape, 'raw'
        arguments = {}
        for key, value in self.arguments.items():
            if isinstance(value, np.ndarray):
                value = {'type': 'ndarray', 'value': value.tolist()}
            arguments[key] = value
        return _merge_config(super(Lambda, self).get_config(), {
            'function': function, 'function_type': function_type,
            'output_shape': output_shape, 'output_shape_type': output_shape_type,
            'arguments': arguments})

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Lambda from `get_config`'s output.

        A config that `get_config` returned in this process gives back the
        layer's own functions (see `_SavedFunction`). Read from a file or a
        string, a named function is looked up by name (custom objects), and a
        Python `lambda` stored as bytecode is rebuilt only inside
        `allow_code_loading()` (what `safe_mode=False` uses).

        # Raises
            ValueError: for an unknown function name, or for bytecode from
                outside when code loading is not allowed.
        """
        config = dict(config)
        function = cls._load_callable(config.pop('function'), config.pop('function_type'),
                                      custom_objects, 'function in Lambda layer',
                                      config.get('name'))
        output_shape = cls._load_callable(config.pop('output_shape', None),
                                          config.pop('output_shape_type', 'raw'),
                                          custom_objects, 'output_shape function in Lambda layer',
                                          config.get('name'))
        arguments = dict(config.pop('arguments', None) or {})
        for key, value in arguments.items():
            if isinstance(value, dict) and value.get('type') == 'ndarray':
                arguments[key] = np.array(value['value'])
        return cls(function, output_shape=output_shape, arguments=arguments, **config)

    @staticmethod
    def _load_callable(value, kind, custom_objects, what, layer_name):
        if isinstance(value, _SavedFunction) and kind in ('function', 'lambda') and \
                not (kind == 'function' and value in (custom_objects or {})):
            return value.function
        if kind == 'function':
            # refkeras's own functions that the models it builds wrap in a Lambda
            # (multi_gpu_model's batch slicing) are found by name.
            from refkeras.utils.multi_gpu_utils import LAMBDA_FUNCTIONS
            return deserialize_keras_object(value, module_objects=LAMBDA_FUNCTIONS,
                                            custom_objects=custom_objects,
                                            printable_module_name=what)
        if kind == 'lambda':
            if not _CODE_LOADING['allowed']:
                raise ValueError(
                    'Lambda layer %r stores its %s as Python bytecode; loading it would run code '
                    'from the file, so refkeras refuses by default. If you trust the file, load '
                    'it with `safe_mode=False` (e.g. `load_model(path, safe_mode=False)` or '
                    '`model_from_json(s, safe_mode=False)`), or pass the function by name in '
                    '`custom_objects` after re-saving it as a named function.'
                    % (layer_name, what))
            return func_load(value, globs=dict(vars(K), K=K))
        if kind == 'raw' or kind is None:
            return tuple(value) if isinstance(value, list) else value
        raise TypeError('Unknown function type %r in Lambda layer %r.' % (kind, layer_name))


# Keras 2.2.4 defines the spatial dropouts in `keras.layers.core`; refkeras keeps
# them in their own module and makes them importable from here too.
from refkeras.layers.core_spatial import (SpatialDropout1D, SpatialDropout2D,  # noqa: E402,F401
                                          SpatialDropout3D)
