"""Object (de)serialization and small helpers (`refkeras.utils.generic_utils`, `np_utils`).

FAQ: "Handling custom layers (or other custom objects) in saved models": custom
objects are passed by `custom_objects={...}` or found inside a
`CustomObjectScope`.
"""
import base64
import codecs
import json
import marshal

import numpy as np
import pytest

from refkeras import utils
from refkeras.utils import generic_utils as gu
from refkeras.utils.np_utils import normalize, to_categorical


@pytest.fixture(autouse=True)
def clean_global_custom_objects():
    saved = dict(gu.get_custom_objects())
    yield
    gu.get_custom_objects().clear()
    gu.get_custom_objects().update(saved)


class Thing(object):
    def __init__(self, size=1):
        self.size = size

    def get_config(self):
        return {'size': self.size}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class OtherThing(Thing):
    pass


# --- custom object scopes ----------------------------------------------------------------------

def test_utils_exports():
    for name in ('CustomObjectScope', 'custom_object_scope', 'get_custom_objects',
                 'serialize_keras_object', 'deserialize_keras_object', 'to_categorical',
                 'normalize'):
        assert hasattr(utils, name), name


def test_scope_adds_objects_and_restores_on_exit():
    registry = gu.get_custom_objects()
    assert 'Thing' not in registry
    with gu.CustomObjectScope({'Thing': Thing}) as scope:
        assert isinstance(scope, gu.CustomObjectScope)
        assert gu.get_custom_objects()['Thing'] is Thing
    assert 'Thing' not in gu.get_custom_objects()
    assert gu.get_custom_objects() is registry  # the same live dict throughout


def test_nested_scopes_override_and_restore_layer_by_layer():
    with gu.custom_object_scope({'Thing': Thing, 'A': 1}):
        with gu.custom_object_scope({'Thing': OtherThing}, {'B': 2, 'A': 3}):
            objects = gu.get_custom_objects()
            assert objects['Thing'] is OtherThing
            assert objects['A'] == 3 and objects['B'] == 2  # later dicts win
        objects = gu.get_custom_objects()
        assert objects['Thing'] is Thing and objects['A'] == 1 and 'B' not in objects
    assert 'Thing' not in gu.get_custom_objects() and 'A' not in gu.get_custom_objects()


def test_changes_made_inside_a_scope_do_not_escape_it():
    gu.get_custom_objects()['Kept'] = 'outside'
    with gu.CustomObjectScope():
        gu.get_custom_objects()['Temporary'] = 'inside'
        gu.get_custom_objects()['Kept'] = 'overwritten'
        del gu.get_custom_objects()['Kept']
    assert gu.get_custom_objects() == {'Kept': 'outside'}


def test_scope_restores_after_an_exception():
    with pytest.raises(RuntimeError):
        with gu.CustomObjectScope({'Thing': Thing}):
            raise RuntimeError('boom')
    assert 'Thing' not in gu.get_custom_objects()


def test_scope_rejects_non_dicts():
    with pytest.raises(TypeError, match='dictionaries'):
        gu.CustomObjectScope(['Thing'])


def test_get_custom_objects_registration_persists():
    gu.get_custom_objects()['Thing'] = Thing
    obj = gu.deserialize_keras_object({'class_name': 'Thing', 'config': {'size': 4}})
    assert isinstance(obj, Thing) and obj.size == 4


# --- serialize / deserialize -------------------------------------------------------------------

def test_serialize_keras_object():
    assert gu.serialize_keras_object(None) is None
    assert gu.serialize_keras_object(Thing(3)) == {'class_name': 'Thing', 'config': {'size': 3}}

    def act(x):
        return x

    assert gu.serialize_keras_object(act) == 'act'
    with pytest.raises(ValueError, match='Cannot serialize'):
        gu.serialize_keras_object(object())


def test_deserialize_lookup_order():
    module_objects = {'Thing': Thing}
    config = {'class_name': 'Thing', 'config': {'size': 2}}
    assert type(gu.deserialize_keras_object(config, module_objects)) is Thing
    with gu.CustomObjectScope({'Thing': OtherThing}):
        # Global custom objects come before the module's own table...
        assert type(gu.deserialize_keras_object(config, module_objects)) is OtherThing
        # ...and the custom_objects argument before both.
        obj = gu.deserialize_keras_object(config, module_objects, custom_objects={'Thing': dict})
        assert obj == {'size': 2}  # dict has no from_config: called with the config as kwargs


def test_deserialize_string_returns_the_object():
    def f():
        return 1

    assert gu.deserialize_keras_object('f', module_objects={'f': f}) is f
    assert gu.deserialize_keras_object('f', custom_objects={'f': f}) is f
    with gu.CustomObjectScope({'f': f}):
        assert gu.deserialize_keras_object('f') is f


def test_from_config_receives_custom_objects_when_it_accepts_them():
    seen = {}

    class Container(object):
        @classmethod
        def from_config(cls, config, custom_objects=None):
            seen.update(custom_objects)
            return cls()

    gu.get_custom_objects()['Global'] = 'g'
    gu.deserialize_keras_object({'class_name': 'Container', 'config': {}},
                                custom_objects={'Container': Container, 'Local': 'l'})
    assert seen['Global'] == 'g' and seen['Local'] == 'l' and seen['Container'] is Container


def test_from_config_without_the_argument_runs_inside_a_scope():
    seen = {}

    class Leaf(object):
        @classmethod
        def from_config(cls, config):
            seen.update(gu.get_custom_objects())
            return cls()

    gu.deserialize_keras_object({'class_name': 'Leaf', 'config': {}},
                                custom_objects={'Leaf': Leaf, 'Helper': 'h'})
    assert seen['Helper'] == 'h'
    assert 'Helper' not in gu.get_custom_objects()


def test_config_of_a_function_returning_an_object():
    def make_thing(size=5):
        return Thing(size)

    obj = gu.deserialize_keras_object({'class_name': 'make_thing', 'config': {'size': 7}},
                                      module_objects={'make_thing': make_thing})
    assert isinstance(obj, Thing) and obj.size == 7


@pytest.mark.parametrize('identifier', [{'class_name': 'Missing', 'config': {}}, 'Missing'])
def test_unknown_name_error_names_it_and_says_how_to_pass_it(identifier):
    with pytest.raises(ValueError) as info:
        gu.deserialize_keras_object(identifier, module_objects={'Thing': Thing},
                                    printable_module_name='layer')
    message = str(info.value)
    assert message.startswith('Unknown layer: Missing')
    assert "custom_objects={'Missing': Missing}" in message
    assert "CustomObjectScope({'Missing': Missing})" in message


def test_unknown_name_error_suggests_close_names():
    with pytest.raises(ValueError, match="Did you mean 'Thing'"):
        gu.deserialize_keras_object('Thimg', module_objects={'Thing': Thing})


def test_malformed_identifiers():
    with pytest.raises(ValueError, match='class_name'):
        gu.deserialize_keras_object({'config': {}}, printable_module_name='layer')
    with pytest.raises(ValueError, match='Could not interpret serialized initializer'):
        gu.deserialize_keras_object(42, printable_module_name='initializer')


# --- has_arg and list helpers ------------------------------------------------------------------

def test_has_arg():
    def f(a, b=1, *args, c, **kwargs):
        pass

    def g(a, /, b):
        pass

    assert gu.has_arg(f, 'a') and gu.has_arg(f, 'b') and gu.has_arg(f, 'c')
    assert not gu.has_arg(f, 'args') and not gu.has_arg(f, 'kwargs')
    assert not gu.has_arg(f, 'd')
    assert gu.has_arg(f, 'd', accept_all=True)
    assert not gu.has_arg(g, 'a')  # positional-only
    assert gu.has_arg(g, 'b')
    assert not gu.has_arg(g, 'z', accept_all=True)
    assert gu.has_arg(Thing.from_config, 'config')


def test_list_helpers():
    a = [1, 2]
    assert gu.to_list(a) is a
    assert gu.to_list((1, 2)) == [(1, 2)]
    assert gu.to_list((1, 2), allow_tuple=True) == [1, 2]
    assert gu.to_list(5) == [5]
    assert gu.unpack_singleton([7]) == 7
    assert gu.unpack_singleton((7,)) == 7
    assert gu.unpack_singleton([1, 2]) == [1, 2]
    x, y = object(), object()
    assert gu.object_list_uid([x, y]) == '%d, %d' % (id(x), id(y))
    assert gu.object_list_uid(x) == str(id(x))
    assert gu.is_all_none([None, None]) and gu.is_all_none(None)
    assert not gu.is_all_none((None, 0))


def test_slice_arrays_and_transpose_shape():
    a, b = np.arange(10), np.arange(10, 20)
    np.testing.assert_array_equal(gu.slice_arrays(a, 2, 5), [2, 3, 4])
    sliced = gu.slice_arrays([a, None, b], np.array([0, 9]))
    np.testing.assert_array_equal(sliced[0], [0, 9])
    assert sliced[1] is None
    np.testing.assert_array_equal(sliced[2], [10, 19])
    assert gu.slice_arrays(None) == [None]
    assert gu.transpose_shape((16, 128, 64, 32), 'channels_first', (1, 2)) == (16, 32, 128, 64)
    assert gu.transpose_shape([128, 64, 3], 'channels_first', (0, 1)) == [3, 128, 64]
    assert gu.transpose_shape((16, 5, 3), 'channels_last', (1,)) == (16, 5, 3)
    with pytest.raises(ValueError, match='data_format'):
        gu.transpose_shape((1, 2), 'nchw', (0,))


# --- func_dump / func_load ---------------------------------------------------------------------

def make_closure(offset, scale=2.0):
    def shifted(x, power=2):
        return scale * (x + offset) ** power
    return shifted


def test_func_round_trip_with_defaults_and_closure():
    fn = make_closure(3.0)
    code, defaults, closure = gu.func_dump(fn)
    assert isinstance(code, str) and defaults == (2,) and closure == (3.0, 2.0)
    loaded = gu.func_load(code, defaults, closure)
    assert loaded(1.0) == fn(1.0) == 32.0
    assert loaded(1.0, power=1) == 8.0
    assert loaded.__name__ == 'shifted'


def test_func_round_trip_through_json_like_a_saved_lambda_config():
    fn = make_closure(-1.0, scale=0.5)
    stored = json.loads(json.dumps(gu.func_dump(fn)))  # tuples come back as lists
    loaded = gu.func_load(stored)
    assert loaded(5.0) == fn(5.0) == 8.0
    assert loaded(5.0, 3) == fn(5.0, 3)


def test_func_dump_writes_the_keras_format():
    """Keras 2.2.4 stores `codecs.encode(marshal.dumps(code), 'base64')`, read back by
    `codecs.decode(..., 'base64')`; the two encodings must agree both ways."""
    fn = make_closure(1.0)
    code, _, _ = gu.func_dump(fn)
    assert code == codecs.encode(marshal.dumps(fn.__code__), 'base64').decode('ascii')
    assert marshal.loads(codecs.decode(code.encode('ascii'), 'base64')) == fn.__code__
    keras_written = codecs.encode(marshal.dumps((lambda x: x * 3).__code__),
                                  'base64').decode('ascii')
    assert gu.func_load(keras_written)(4) == 12


def test_func_load_reads_pre_2_1_2_raw_text():
    raw_text = marshal.dumps((lambda x: x - 1).__code__).decode('raw_unicode_escape')
    assert gu.func_load(raw_text)(10) == 9


def test_func_load_uses_the_given_globals():
    def uses_global(x):
        return helper(x)  # noqa: F821 (resolved through globs)

    loaded = gu.func_load(gu.func_dump(uses_global), globs={'helper': lambda v: v + 100})
    assert loaded(1) == 101


def test_func_load_rejects_unreadable_bytecode():
    with pytest.raises(ValueError, match='Python version'):
        gu.func_load(base64.encodebytes(b'\x00\x01not marshal').decode('ascii'))
    with pytest.raises(ValueError, match='not bytecode'):
        gu.func_load(base64.encodebytes(marshal.dumps([1, 2])).decode('ascii'))


def test_func_load_warns_in_its_documentation():
    doc = gu.func_load.__doc__.lower()
    assert 'runs code' in doc and 'opted' in doc and 'untrusted' in doc


# --- np_utils ----------------------------------------------------------------------------------

def test_to_categorical():
    out = to_categorical([0, 2, 1, 2])
    expected = np.zeros((4, 3))
    for row, label in enumerate([0, 2, 1, 2]):
        expected[row, label] = 1
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32
    assert to_categorical(np.array([[1], [0]]), 4, dtype='int32').shape == (2, 4)
    assert to_categorical(np.array([[1], [0]]), 4, dtype='int32').dtype == np.int32
    grid = np.array([[0, 1], [2, 0]])
    out = to_categorical(grid, 3)
    assert out.shape == (2, 2, 3)
    for idx in np.ndindex(2, 2):
        assert out[idx].tolist() == [1.0 if k == grid[idx] else 0.0 for k in range(3)]


def test_to_categorical_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match='labels'):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match='labels'):
        to_categorical([-1, 1])
    with pytest.raises(ValueError, match='num_classes'):
        to_categorical([])


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0.0, 0.0],
                                              [2 ** -0.5, -2 ** -0.5]], rtol=1e-12)
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0], [0.5, -0.5]],
                               rtol=1e-12)
    np.testing.assert_allclose(normalize(x, axis=0),
                               x / np.array([[10 ** 0.5, 17 ** 0.5]]), rtol=1e-12)


def test_progbar_is_importable_from_generic_utils_where_keras_2_2_4_defines_it():
    from refkeras.utils.progbar import Progbar
    assert gu.Progbar is Progbar
