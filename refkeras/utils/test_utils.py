"""Helpers for testing layers and models, as Keras 2.2.4's `keras.utils.test_utils`.

Keras 2.2.4's own tests and many users' tests call these: `get_test_data`
makes a small learnable data set, `layer_test` puts one layer through what any
layer must survive (weights round trip, a model around it, a config round trip,
a training step), and `keras_test` wraps a test so that it leaves no session
state behind.
"""
import functools

import numpy as np

from refkeras import backend as K
from refkeras.engine.input_layer import Input
from refkeras.engine.training import Model
from refkeras.utils.generic_utils import has_arg


def get_test_data(num_train=1000, num_test=500, input_shape=(10,), output_shape=(2,),
                  classification=True, num_classes=2):
    """A data set a small model can learn: inputs scattered around their target.

    # Arguments
        num_train, num_test: numbers of training and test samples.
        input_shape: shape of one input sample.
        output_shape: shape of one target sample (regression only).
        classification: integer class targets in `[0, num_classes)` when True,
            each input drawn from a normal distribution centred on its class;
            otherwise float targets of `output_shape`, inputs and targets
            both drawn around one random centre per sample.
        num_classes: number of classes (classification only).

    # Returns
        `((x_train, y_train), (x_test, y_test))`, inputs as float32.
    """
    samples = num_train + num_test
    x = np.zeros((samples,) + tuple(input_shape), dtype=np.float32)
    if classification:
        y = np.random.randint(0, num_classes, size=(samples,))
        centres = y
    else:
        centres = np.random.random((samples,))
        y = np.zeros((samples,) + tuple(output_shape), dtype=np.float32)
    for i in range(samples):
        x[i] = np.random.normal(loc=centres[i], scale=0.7, size=input_shape)
        if not classification:
            y[i] = np.random.normal(loc=centres[i], scale=0.7, size=output_shape)
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])


def _random_input(input_shape, input_dtype):
    """Values in [0, 10) of `input_shape`, unknown dimensions drawn in 1..3."""
    shape = [np.random.randint(1, 4) if dim is None else dim for dim in input_shape]
    return (10 * np.random.random(shape)).astype(input_dtype)


def _check_shape(expected_shape, actual_shape, what):
    for expected, actual in zip(expected_shape, actual_shape):
        if expected is not None and expected != actual:
            raise AssertionError('%s: compute_output_shape said %s, the layer gave %s'
                                 % (what, expected_shape, actual_shape))


def layer_test(layer_cls, kwargs={}, input_shape=None, input_dtype=None, input_data=None,
               expected_output=None, expected_output_dtype=None, fixed_batch_size=False):
    """Puts a layer with one input and one output through the checks every layer must pass.

    The layer is built from `kwargs`, its weights are read and written back
    (and passed to a second instance through `weights=` where the layer takes
    it), it is called on an `Input` inside a `Model` whose predictions must
    have the shape `compute_output_shape` announced (and equal
    `expected_output` when given, to a relative 1e-3), the model is rebuilt
    from its config and must predict the same with the same weights, a layer
    with a `training` argument takes one training step, and the layer is
    rebuilt from its own config.

    # Arguments
        layer_cls: the layer class.
        kwargs: its constructor's arguments.
        input_shape: the input's shape with the batch dimension (None for
            unknown dimensions); taken from `input_data` when not given.
        input_dtype: the input's dtype (default: floatx, or `input_data`'s).
        input_data: the input; random values in [0, 10) when not given.
        expected_output: the output the layer must give, if known.
        expected_output_dtype: the output's dtype (default: the input's).
        fixed_batch_size: build the `Input` with the batch dimension fixed.

    # Returns
        The layer's output on `input_data`, for further checks.

    # Raises
        AssertionError: naming the check that failed.
    """
    if input_data is None:
        if not input_shape:
            raise ValueError('layer_test needs input_shape or input_data')
        input_dtype = input_dtype or K.floatx()
        input_data = _random_input(input_shape, input_dtype)
    else:
        input_shape = input_data.shape if input_shape is None else input_shape
        input_dtype = input_data.dtype if input_dtype is None else input_dtype
    expected_output_dtype = expected_output_dtype or input_dtype

    layer = layer_cls(**kwargs)
    weights = layer.get_weights()
    layer.set_weights(weights)
    if has_arg(layer_cls.__init__, 'weights') and len(weights):
        kwargs['weights'] = weights
        layer = layer_cls(**kwargs)
    expected_output_shape = layer.compute_output_shape(input_shape)

    if fixed_batch_size:
        x = Input(batch_shape=input_shape, dtype=input_dtype)
    else:
        x = Input(shape=input_shape[1:], dtype=input_dtype)
    y = layer(x)
    if K.dtype(y) != expected_output_dtype:
        raise AssertionError('%s: output dtype %s, expected %s'
                             % (layer.name, K.dtype(y), expected_output_dtype))
    model = Model(x, y)

    actual_output = model.predict(input_data)
    _check_shape(expected_output_shape, actual_output.shape, layer.name)
    if expected_output is not None:
        np.testing.assert_allclose(actual_output, expected_output, rtol=1e-3)

    recovered = model.__class__.from_config(model.get_config())
    if model.weights:
        recovered.set_weights(model.get_weights())
        np.testing.assert_allclose(recovered.predict(input_data), actual_output, rtol=1e-3)

    if has_arg(layer.call, 'training'):
        model.compile('rmsprop', 'mse')
        model.train_on_batch(input_data, actual_output)

    layer_config = layer.get_config()
    layer_config['batch_input_shape'] = input_shape
    layer.__class__.from_config(layer_config)
    return actual_output


def keras_test(test_function):
    """Decorator: runs the test, then clears the session (layer names, graph state)."""
    @functools.wraps(test_function)
    def wrapper(*args, **kwargs):
        try:
            return test_function(*args, **kwargs)
        finally:
            K.clear_session()
    return wrapper
