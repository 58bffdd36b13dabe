"""Activations and initializers (`refkeras.activations`, `refkeras.initializers`).

Activations are compared with their formulas evaluated by hand and, through
the tape, with finite differences. Initializers are checked by the statistics
their definitions imply (bounds, variances worked out from the fans), by the
fan computation for convolution kernels, and by their serialization.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras import activations
from refkeras import backend as K
from refkeras import initializers
from refkeras.utils.generic_utils import CustomObjectScope

# --- activations: values ---------------------------------------------------------

X = np.array([[-3.0, -1.0, -0.25, 0.0], [0.3, 1.0, 2.6, 4.0]])


def elementwise(fn, x):
    return np.vectorize(fn)(x)


def test_relu_elu_selu_match_formulas():
    np.testing.assert_allclose(activations.relu(X), elementwise(lambda v: v if v > 0 else 0., X))
    np.testing.assert_allclose(
        activations.relu(X, alpha=0.1, max_value=2.0, threshold=0.5),
        elementwise(lambda v: 2.0 if v >= 2.0 else (v if v > 0.5 else 0.1 * (v - 0.5)), X))
    np.testing.assert_allclose(activations.elu(X, alpha=0.7),
                               elementwise(lambda v: v if v > 0 else 0.7 * (math.exp(v) - 1), X),
                               rtol=1e-12)
    alpha, scale = 1.6732632423543772, 1.0507009873554805  # Klambauer et al., 2017
    np.testing.assert_allclose(
        activations.selu(X),
        elementwise(lambda v: scale * (v if v > 0 else alpha * (math.exp(v) - 1)), X), rtol=1e-12)


def test_smooth_activations_match_formulas():
    cases = {
        'softplus': lambda v: math.log(1 + math.exp(v)),
        'softsign': lambda v: v / (1 + abs(v)),
        'tanh': math.tanh,
        'sigmoid': lambda v: 1 / (1 + math.exp(-v)),
        'hard_sigmoid': lambda v: 0.0 if v < -2.5 else (1.0 if v > 2.5 else 0.2 * v + 0.5),
        'exponential': math.exp,
        'linear': lambda v: v,
    }
    for name, formula in cases.items():
        np.testing.assert_allclose(activations.get(name)(X), elementwise(formula, X),
                                   rtol=1e-12, atol=1e-15, err_msg=name)


def softmax_by_loops(x, axis):
    x = np.moveaxis(x, axis, -1)
    out = np.empty_like(x)
    for idx in np.ndindex(*x.shape[:-1]):
        row = [math.exp(v) for v in x[idx]]
        out[idx] = [v / sum(row) for v in row]
    return np.moveaxis(out, -1, axis)


def test_softmax_along_each_axis():
    rng = np.random.RandomState(0)
    x2 = rng.randn(3, 5)
    x3 = rng.randn(2, 3, 4)
    np.testing.assert_allclose(activations.softmax(x2), softmax_by_loops(x2, -1), rtol=1e-12)
    np.testing.assert_allclose(activations.softmax(x2, axis=0), softmax_by_loops(x2, 0),
                               rtol=1e-12)
    for axis in (-1, 1, 0):
        np.testing.assert_allclose(activations.softmax(x3, axis=axis),
                                   softmax_by_loops(x3, axis), rtol=1e-12)


def test_softmax_of_large_values_does_not_overflow():
    out = activations.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(out, [[0.5, 0.5, 0.0]], atol=1e-300)


def test_softmax_rejects_1d_and_0d_input():
    with pytest.raises(ValueError, match='1D'):
        activations.softmax(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match='0D'):
        activations.softmax(np.array(1.0))


def test_activations_keep_float32():
    x = X.astype('float32')
    for name in activations._BUILT_IN:
        assert activations.get(name)(x).dtype == np.float32, name


# --- activations: gradients and symbolic use ----------------------------------------

@pytest.mark.parametrize('name', ['softmax', 'elu', 'selu', 'softplus', 'softsign', 'relu',
                                  'tanh', 'sigmoid', 'hard_sigmoid', 'exponential', 'linear'])
def test_activation_gradients_match_finite_differences(name):
    fn = activations.get(name)
    # Values away from the kinks of relu (0) and hard_sigmoid (+-2.5).
    x0 = np.array([[-2.2, -0.7, 0.4, 1.3], [0.9, -1.6, 2.1, -0.2]])
    weights = np.arange(1.0, 9.0).reshape(2, 4)  # makes the target depend on every output
    v = K.variable(x0, dtype='float64')
    with K.GradientTape([v]) as tape:
        target = K.sum(K.multiply(fn(v), weights))
    grad, = tape.gradient(target, [v])
    numeric = np.zeros_like(x0)
    h = 1e-6
    for idx in np.ndindex(*x0.shape):
        up, down = x0.copy(), x0.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (np.sum(fn(up) * weights) - np.sum(fn(down) * weights)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_activations_work_on_symbolic_tensors():
    x = K.placeholder(shape=(None, 4))
    outputs = [activations.selu(x), activations.softmax(x), activations.hard_sigmoid(x)]
    f = K.function([x], outputs)
    values = f([X.astype('float32')])
    for out, fn in zip(values, (activations.selu, activations.softmax, activations.hard_sigmoid)):
        np.testing.assert_allclose(out, fn(X.astype('float32')), rtol=1e-6)


# --- activations: get / serialize / deserialize -----------------------------------------

def test_get_none_name_and_callable():
    assert activations.get(None) is activations.linear
    assert activations.get('relu') is activations.relu

    def my_act(x):
        return x

    assert activations.get(my_act) is my_act


def test_serialize_deserialize_round_trip_every_builtin():
    for name in ('softmax', 'elu', 'selu', 'softplus', 'softsign', 'relu', 'tanh', 'sigmoid',
                 'hard_sigmoid', 'exponential', 'linear'):
        fn = activations.get(name)
        assert activations.serialize(fn) == name
        assert activations.deserialize(activations.serialize(fn)) is fn


def test_custom_activation_by_custom_objects_and_scope():
    def swish(x):
        return K.multiply(x, K.sigmoid(x))

    assert activations.deserialize('swish', custom_objects={'swish': swish}) is swish
    with CustomObjectScope({'swish': swish}):
        assert activations.get('swish') is swish
    with pytest.raises(ValueError):
        activations.get('swish')


def test_unknown_activation_names_it_and_says_how_to_pass_it():
    with pytest.raises(ValueError) as info:
        activations.get('relux')
    message = str(info.value)
    assert 'relux' in message and 'activation' in message
    assert 'custom_objects' in message and 'CustomObjectScope' in message
    # Module internals are not activations.
    for name in ('K', 'warnings', 'get', 'deserialize'):
        with pytest.raises(ValueError):
            activations.get(name)


def test_uninterpretable_activation_identifier():
    with pytest.raises(ValueError, match='activation'):
        activations.get(3)


def test_layer_passed_as_activation_warns():
    base_layer = pytest.importorskip('refkeras.engine.base_layer')

    class Doubler(base_layer.Layer):
        def call(self, inputs):
            return K.multiply(inputs, 2.0)

    layer = Doubler()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert activations.get(layer) is layer
        assert activations.get(activations.relu) is activations.relu
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert 'Do not pass a layer instance' in messages[0] and 'Doubler' in messages[0]


# --- initializers: fans -------------------------------------------------------------------

@pytest.mark.parametrize('shape, fans', [
    ((20, 30), (20, 30)),                 # Dense kernel
    ((5, 8, 4), (5 * 8, 5 * 4)),          # Conv1D: (width, in, out)
    ((3, 3, 16, 32), (9 * 16, 9 * 32)),   # Conv2D: (rows, cols, in, out)
    ((2, 3, 4, 5, 6), (24 * 5, 24 * 6)),  # Conv3D
])
def test_fans_of_dense_and_conv_kernels(shape, fans):
    assert initializers._compute_fans(shape) == fans


def test_fans_channels_first_and_other_ranks():
    assert initializers._compute_fans((32, 16, 3, 3), data_format='channels_first') == (144, 288)
    assert initializers._compute_fans((10,)) == (math.sqrt(10), math.sqrt(10))
    assert initializers._compute_fans((2, 2, 2, 2, 2, 2)) == (8.0, 8.0)
    with pytest.raises(ValueError, match='data_format'):
        initializers._compute_fans((3, 3, 2, 2), data_format='nhwc')


@given(kernel=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       channels_in=st.integers(1, 6), channels_out=st.integers(1, 6))
def test_fans_by_direct_count(kernel, channels_in, channels_out):
    shape = tuple(kernel) + (channels_in, channels_out)
    # Each output unit sees every kernel position of every input channel.
    positions = 1
    for k in kernel:
        positions *= k
    assert initializers._compute_fans(shape) == (positions * channels_in,
                                                 positions * channels_out)


# --- initializers: statistics ----------------------------------------------------------------

def truncated_std(bound=2.0):
    """Standard deviation of a standard normal truncated to [-bound, bound]."""
    density = math.exp(-bound ** 2 / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(bound / math.sqrt(2))
    return math.sqrt(1 - 2 * bound * density / mass)


def test_truncated_normal_constant():
    assert abs(initializers.TRUNCATED_NORMAL_STD - truncated_std()) < 1e-12


def check_uniform(w, limit):
    # 60000 draws: the largest |w| is within 0.1% of the limit (the chance it
    # is not is 0.999 ** 60000 ~ 1e-26); the variance limit**2 / 3 is checked
    # to 3%, ~8 standard errors of the sample variance.
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit
    assert abs(np.var(w) / (limit ** 2 / 3) - 1) < 0.03
    assert abs(np.mean(w)) < 0.02 * limit


def check_truncated_normal(w, target_std):
    # Values lie within two standard deviations of the untruncated normal,
    # and the truncated distribution has standard deviation `target_std`.
    bound = 2 * target_std / truncated_std()
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.99 * bound
    assert abs(np.std(w) / target_std - 1) < 0.02
    assert abs(np.mean(w)) < 0.02 * target_std


SHAPE = (200, 300)
FAN_IN, FAN_OUT = 200, 300


def test_glorot_uniform_limit_and_variance():
    w = initializers.glorot_uniform(seed=1)(SHAPE)
    check_uniform(w, math.sqrt(6.0 / (FAN_IN + FAN_OUT)))


def test_glorot_normal_std():
    w = initializers.glorot_normal(seed=2)(SHAPE)
    check_truncated_normal(w, math.sqrt(2.0 / (FAN_IN + FAN_OUT)))


def test_he_and_lecun_initializers():
    check_uniform(initializers.he_uniform(seed=3)(SHAPE), math.sqrt(6.0 / FAN_IN))
    check_uniform(initializers.lecun_uniform(seed=4)(SHAPE), math.sqrt(3.0 / FAN_IN))
    check_truncated_normal(initializers.he_normal(seed=5)(SHAPE), math.sqrt(2.0 / FAN_IN))
    check_truncated_normal(initializers.lecun_normal(seed=6)(SHAPE), math.sqrt(1.0 / FAN_IN))


def test_conv_kernel_uses_receptive_field_fans():
    shape = (5, 5, 40, 60)  # fan_in 1000, fan_out 1500
    check_uniform(initializers.glorot_uniform(seed=7)(shape), math.sqrt(6.0 / 2500))
    check_uniform(initializers.he_uniform(seed=8)(shape), math.sqrt(6.0 / 1000))


def test_variance_scaling_modes():
    for mode, fan in (('fan_in', FAN_IN), ('fan_out', FAN_OUT),
                      ('fan_avg', (FAN_IN + FAN_OUT) / 2)):
        init = initializers.VarianceScaling(scale=3.0, mode=mode, distribution='uniform', seed=9)
        check_uniform(init(SHAPE), math.sqrt(3 * 3.0 / fan))
        init = initializers.VarianceScaling(scale=3.0, mode=mode, distribution='normal', seed=9)
        check_truncated_normal(init(SHAPE), math.sqrt(3.0 / fan))


def test_variance_scaling_fan_below_one_counts_as_one():
    init = initializers.VarianceScaling(scale=0.5, mode='fan_in', distribution='uniform')
    assert init.variance((1, 1)) == 0.5
    assert init.variance(()) == 0.5


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match='scale'):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match='mode'):
        initializers.VarianceScaling(mode='fan_sum')
    with pytest.raises(ValueError, match='distribution'):
        initializers.VarianceScaling(distribution='cauchy')
    # Case does not matter, as in Keras.
    assert initializers.VarianceScaling(mode='FAN_AVG', distribution='Uniform').mode == 'fan_avg'


def test_random_normal_uniform_and_truncated():
    w = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=10)(SHAPE)
    assert abs(np.mean(w) - 1.0) < 0.01 and abs(np.std(w) / 0.5 - 1) < 0.02
    w = initializers.RandomUniform(minval=-2.0, maxval=1.0, seed=11)(SHAPE)
    assert w.min() >= -2.0 and w.max() < 1.0
    assert abs(np.mean(w) + 0.5) < 0.02 and abs(np.var(w) / (9 / 12.) - 1) < 0.03
    w = initializers.TruncatedNormal(mean=3.0, stddev=0.2, seed=12)(SHAPE)
    assert np.abs(w - 3.0).max() <= 0.4 * (1 + 1e-6)
    assert abs(np.std(w) / (0.2 * truncated_std()) - 1) < 0.02


def test_constant_initializers_and_dtypes():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    for init in (initializers.Zeros(), initializers.Ones(), initializers.Constant(1.5),
                 initializers.RandomNormal(), initializers.RandomUniform(),
                 initializers.TruncatedNormal(), initializers.glorot_uniform(),
                 initializers.he_normal(), initializers.Orthogonal(), initializers.Identity()):
        w = init((3, 3))
        assert isinstance(w, np.ndarray) and w.shape == (3, 3)
        assert w.dtype == np.dtype(K.floatx()), type(init).__name__
        assert init((3, 3), dtype='float64').dtype == np.float64, type(init).__name__


def test_default_dtype_follows_floatx():
    old = K.floatx()
    K.set_floatx('float64')
    try:
        assert initializers.glorot_uniform()((2, 2)).dtype == np.float64
        assert initializers.Zeros()((2,)).dtype == np.float64
    finally:
        K.set_floatx(old)


def test_initializers_reject_undefined_shapes():
    with pytest.raises(ValueError, match='RandomNormal'):
        initializers.RandomNormal()((None, 3))
    with pytest.raises(ValueError, match='VarianceScaling'):
        initializers.glorot_uniform()((3, -1))


# --- orthogonal and identity ------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(5, 3), (3, 5), (4, 4), (2, 3, 4)])
def test_orthogonal_is_orthogonal(shape):
    q = initializers.Orthogonal(gain=2.0, seed=13)(shape, dtype='float64')
    assert q.shape == shape
    m = q.reshape(-1, shape[-1])
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_rejects_vectors():
    with pytest.raises(ValueError, match='rank 2'):
        initializers.Orthogonal()((5,))


def test_identity_blocks():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 3)), 3.0 * np.eye(3))
    expected_wide = np.array([[1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]], dtype=float)
    np.testing.assert_array_equal(initializers.Identity()((2, 6)), expected_wide)
    np.testing.assert_array_equal(initializers.Identity()((6, 2)), expected_wide.T)
    with pytest.raises(ValueError, match='multiple'):
        initializers.Identity()((2, 3))
    with pytest.raises(ValueError, match='2D'):
        initializers.Identity()((2, 2, 2))


# --- seeds and reproducibility --------------------------------------------------------------

SEEDED = [lambda s: initializers.RandomNormal(seed=s), lambda s: initializers.RandomUniform(seed=s),
          lambda s: initializers.TruncatedNormal(seed=s), lambda s: initializers.glorot_normal(s),
          lambda s: initializers.he_uniform(s), lambda s: initializers.Orthogonal(seed=s)]


@pytest.mark.parametrize('make', SEEDED)
def test_same_seed_same_values_and_global_stream_untouched(make):
    np.random.seed(0)
    expected_next = np.random.rand(3)
    np.random.seed(0)
    first = make(21)((6, 4))
    again = make(21)((6, 4))
    same_instance = make(21)
    np.testing.assert_array_equal(same_instance((6, 4)), same_instance((6, 4)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, make(22)((6, 4)))
    # Seeded draws leave NumPy's global generator where it was.
    np.testing.assert_array_equal(np.random.rand(3), expected_next)


def test_np_random_seed_makes_unseeded_initializers_repeat():
    """FAQ: "How can I obtain reproducible results using Keras during development?"."""
    def draw():
        return [initializers.glorot_uniform()((4, 5)), initializers.RandomNormal()((3,)),
                initializers.Orthogonal()((3, 3)), initializers.he_normal()((2, 2, 3))]

    np.random.seed(1234)
    first = draw()
    second = draw()
    np.random.seed(1234)
    repeat = draw()
    for a, b, c in zip(first, second, repeat):
        np.testing.assert_array_equal(a, c)
        assert not np.array_equal(a, b)


# --- get / serialize / deserialize ------------------------------------------------------------

ROUND_TRIP = [initializers.Zeros(), initializers.Ones(), initializers.Constant(value=0.7),
              initializers.RandomNormal(mean=0.1, stddev=2.0, seed=3),
              initializers.RandomUniform(minval=-1.0, maxval=3.0, seed=4),
              initializers.TruncatedNormal(mean=-1.0, stddev=0.3, seed=5),
              initializers.VarianceScaling(scale=2.5, mode='fan_out', distribution='uniform',
                                           seed=6),
              initializers.Orthogonal(gain=1.5, seed=7), initializers.Identity(gain=0.5)]


@pytest.mark.parametrize('init', ROUND_TRIP, ids=lambda i: type(i).__name__)
def test_serialize_deserialize_round_trip(init):
    config = initializers.serialize(init)
    assert config['class_name'] == type(init).__name__
    rebuilt = initializers.deserialize(config)
    assert type(rebuilt) is type(init)
    assert rebuilt.get_config() == init.get_config()
    np.testing.assert_array_equal(rebuilt((4, 4)), init((4, 4)))  # seeded or deterministic
    assert type(initializers.get(config)) is type(init)


def test_get_by_name_gives_the_keras_defaults():
    glorot = initializers.get('glorot_uniform')
    assert isinstance(glorot, initializers.VarianceScaling)
    assert glorot.get_config() == {'scale': 1.0, 'mode': 'fan_avg', 'distribution': 'uniform',
                                   'seed': None}
    assert initializers.get('he_normal').get_config()['scale'] == 2.0
    for name, cls in (('zeros', initializers.Zeros), ('zero', initializers.Zeros),
                      ('ones', initializers.Ones), ('one', initializers.Ones),
                      ('constant', initializers.Constant), ('uniform', initializers.RandomUniform),
                      ('random_uniform', initializers.RandomUniform),
                      ('normal', initializers.RandomNormal),
                      ('random_normal', initializers.RandomNormal),
                      ('truncated_normal', initializers.TruncatedNormal),
                      ('identity', initializers.Identity),
                      ('orthogonal', initializers.Orthogonal), ('Zeros', initializers.Zeros)):
        assert type(initializers.get(name)) is cls, name
    assert initializers.get('random_uniform').get_config()['maxval'] == 0.05
    assert initializers.get('normal').get_config()['stddev'] == 0.05


def test_get_callable_and_bad_identifiers():
    def my_init(shape, dtype=None):
        return np.full(shape, 7.0, dtype=dtype or 'float32')

    assert initializers.get(my_init) is my_init
    with pytest.raises(ValueError, match='initializer'):
        initializers.get(None)
    with pytest.raises(ValueError, match='initializer'):
        initializers.get(0.5)


def test_unknown_initializer_names_it_and_says_how_to_pass_it():
    with pytest.raises(ValueError) as info:
        initializers.get('glorot_unifrom')
    message = str(info.value)
    assert 'Unknown initializer' in message and 'glorot_unifrom' in message
    assert 'custom_objects' in message and 'CustomObjectScope' in message
    assert "'glorot_uniform'" in message  # the close match is suggested
    with pytest.raises(ValueError, match='MyInit'):
        initializers.deserialize({'class_name': 'MyInit', 'config': {}})
    for internal in ('K', 'np', 'get', 'serialize', '_compute_fans'):
        with pytest.raises(ValueError):
            initializers.get(internal)


def test_custom_initializer_class_round_trip():
    class Halves(initializers.Initializer):
        def __init__(self, scale=0.5):
            self.scale = scale

        def __call__(self, shape, dtype=None):
            return np.full(shape, self.scale, dtype=dtype or K.floatx())

        def get_config(self):
            return {'scale': self.scale}

    config = initializers.serialize(Halves(0.25))
    rebuilt = initializers.deserialize(config, custom_objects={'Halves': Halves})
    np.testing.assert_array_equal(rebuilt((2,)), [0.25, 0.25])
    with CustomObjectScope({'Halves': Halves}):
        assert initializers.get(config).scale == 0.25


def test_from_config_ignores_tf_keras_dtype_without_changing_the_config():
    config = {'mean': 0.0, 'stddev': 1.0, 'seed': None, 'dtype': 'float32'}
    init = initializers.RandomNormal.from_config(config)
    assert init.stddev == 1.0
    assert config['dtype'] == 'float32'
