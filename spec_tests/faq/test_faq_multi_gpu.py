"""FAQ: How can I run a Keras model on multiple GPUs? (data parallelism)

On the reference backend the replicas run one after the other on the CPU; the
semantics are Keras's: each replica gets a consecutive slice of every batch,
outputs are concatenated, and the template model's weights are the ones trained.
"""
import numpy as np
import pytest

from keras_under_test import backend as K, layers, models, refkeras_only, require, seed as seed_generators, utils

Dense, Input = layers.Dense, layers.Input
Model, Sequential = models.Model, models.Sequential
multi_gpu_model = getattr(utils, 'multi_gpu_model', None)


@pytest.fixture(autouse=True)
def _multi_gpu_model_exists():
    require('multi_gpu_model')


def _template(seed):
    seed_generators(seed)
    model = Sequential([Dense(16, activation='relu', input_shape=(10,)),
                        Dense(4, activation='softmax')])
    return model


def _data(n=300):
    rng = np.random.RandomState(0)
    return (rng.standard_normal((n, 10)).astype('float32'),
            np.eye(4, dtype='float32')[rng.randint(0, 4, n)])


def test_parallel_model_computes_the_same_function():
    model = _template(0)
    parallel_model = multi_gpu_model(model, gpus=8)
    x, _ = _data(257)  # not a multiple of 8: the last replica takes the remainder
    np.testing.assert_allclose(parallel_model.predict(x, batch_size=256), model.predict(x),
                               rtol=1e-6, atol=1e-7)
    assert parallel_model.output_names == model.output_names


@refkeras_only
def test_each_replica_gets_a_consecutive_slice_of_the_batch():
    from refkeras.utils.multi_gpu_utils import get_slice
    batch = np.arange(35).reshape(35, 1)
    slices = [get_slice(batch, i, 8) for i in range(8)]
    assert [len(s) for s in slices] == [4] * 7 + [7]  # 35 // 8 = 4, last takes the rest
    np.testing.assert_array_equal(np.concatenate(slices), batch)


def test_faq_example_trains_the_template_weights_like_whole_batches():
    x, y = _data()
    model = _template(1)
    reference = _template(1)
    parallel_model = multi_gpu_model(model, gpus=8)
    parallel_model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    reference.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    h1 = parallel_model.fit(x, y, epochs=3, batch_size=256, shuffle=False, verbose=0)
    h2 = reference.fit(x, y, epochs=3, batch_size=256, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history['loss'], h2.history['loss'], rtol=1e-5)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_multiple_inputs_and_outputs():
    a, b = Input((3,)), Input((2,))
    h = Dense(5)(a)
    model = Model([a, b], [Dense(1, name='o1')(h), Dense(2, name='o2')(b)])
    parallel_model = multi_gpu_model(model, gpus=[0, 1, 2])
    xa, xb = np.random.randn(10, 3), np.random.randn(10, 2)
    for p, q in zip(parallel_model.predict([xa, xb]), model.predict([xa, xb])):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('gpus', [1, 0, [3]])
def test_fewer_than_two_gpus_is_refused(gpus):
    with pytest.raises(ValueError, match='gpus'):
        multi_gpu_model(_template(0), gpus=gpus)


@refkeras_only
def test_device_names_normalize_to_keras_short_lower_case_form():
    from refkeras.utils.multi_gpu_utils import _normalize_device_name
    assert _normalize_device_name('/job:localhost/replica:0/task:0/device:GPU:3') == '/gpu:3'
    assert _normalize_device_name('/device:CPU:0') == '/cpu:0'
    assert _normalize_device_name('/GPU:7') == '/gpu:7'
    assert _normalize_device_name('gpu:1') == '/gpu:1'


@refkeras_only
def test_the_reference_backend_lists_only_the_host_cpu():
    from refkeras.utils.multi_gpu_utils import _get_available_devices, _normalize_device_name
    if K.backend() != 'numpy':
        pytest.skip('the reference backend has no GPUs; accel lists its own')
    devices = _get_available_devices()
    assert [_normalize_device_name(d) for d in devices] == ['/cpu:0']
    assert devices[0].startswith('/job:localhost/')


def test_a_saved_parallel_model_loads_and_computes_the_template_function(tmp_path):
    load_model = models.load_model
    model = _template(3)
    x, y = _data(40)
    parallel_model = multi_gpu_model(model, gpus=3)
    parallel_model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
    parallel_model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    path = str(tmp_path / 'parallel.h5')
    parallel_model.save(path)
    loaded = load_model(path)  # no custom_objects, no bytecode: the slicing is found by name
    np.testing.assert_allclose(loaded.predict(x, batch_size=10), model.predict(x, batch_size=10),
                               rtol=1e-6, atol=1e-7)
