"""`Lambda.get_config` / `from_config`: in memory the layer's own functions come back;
from text, bytecode needs `safe_mode=False` (docs/differences.md, "Saving")."""
import copy
import json
import pickle

import numpy as np
import pytest

from refkeras import layers as L
from refkeras.layers.core import allow_code_loading
from refkeras.models import Sequential


def predict_with(layer, x):
    model = Sequential([layer])
    model.build((None,) + x.shape[1:])
    return model.predict(x)


def test_a_python_lambda_round_trips_in_memory_without_opting_in():
    layer = L.Lambda(lambda t, a, b: t * a + b, arguments={'a': 3.0, 'b': 1.0})
    clone = L.Lambda.from_config(layer.get_config())
    x = np.arange(6, dtype='float32').reshape(2, 3)
    np.testing.assert_array_equal(predict_with(clone, x), x * 3.0 + 1.0)


def test_a_local_named_function_and_output_shape_round_trip_in_memory():
    def doubled(t):
        return t * 2.0

    def same_shape(shape):
        return shape

    layer = L.Lambda(doubled, output_shape=same_shape)
    config = layer.get_config()
    assert config['function'] == 'doubled' and config['function_type'] == 'function'
    clone = L.Lambda.from_config(config)
    assert clone.function is doubled and clone._output_shape is same_shape


def test_bytecode_read_back_from_json_is_refused_without_opting_in():
    layer = L.Lambda(lambda t: t + 1.0)
    text_config = json.loads(json.dumps(layer.get_config()))
    with pytest.raises(ValueError, match='safe_mode=False'):
        L.Lambda.from_config(text_config)
    with allow_code_loading():
        clone = L.Lambda.from_config(text_config)
    x = np.ones((2, 3), dtype='float32')
    np.testing.assert_array_equal(predict_with(clone, x), x + 1.0)


def test_a_named_function_read_back_from_json_is_looked_up_by_name():
    def private_fn(t):
        return t

    text_config = json.loads(json.dumps(L.Lambda(private_fn).get_config()))
    with pytest.raises(ValueError, match='Unknown function.*private_fn'):
        L.Lambda.from_config(text_config)


def test_a_deep_copy_of_a_config_is_still_in_memory():
    config = copy.deepcopy(L.Lambda(lambda t: t * 4.0).get_config())
    clone = L.Lambda.from_config(config)
    x = np.ones((2, 3), dtype='float32')
    np.testing.assert_array_equal(predict_with(clone, x), x * 4.0)


def test_a_pickled_config_is_foreign_again():
    config = L.Lambda(lambda t: t - 1.0).get_config()
    restored = pickle.loads(pickle.dumps(config))
    assert type(restored['function']) is tuple
    with pytest.raises(ValueError, match='safe_mode=False'):
        L.Lambda.from_config(restored)


def test_custom_objects_given_by_name_win_over_the_remembered_function():
    def scale(t):
        return t * 2.0

    def other_scale(t):
        return t * 5.0

    config = L.Lambda(scale).get_config()
    clone = L.Lambda.from_config(config, custom_objects={'scale': other_scale})
    assert clone.function is other_scale
