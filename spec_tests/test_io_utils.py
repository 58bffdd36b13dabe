"""`refkeras.utils.io_utils`: `h5dict`, Keras 2.2.4's dict-like view of an HDF5
file, group or plain dict; and how `ask_to_proceed_with_overwrite` reads its answer."""
import sys
import types

import h5py
import numpy as np
import pytest

from refkeras.utils import io_utils
from refkeras.utils.io_utils import H5Dict, h5dict


@pytest.fixture(params=['file', 'dict'])
def destination(request, tmp_path):
    if request.param == 'file':
        return str(tmp_path / 'data.h5')
    return {}


def test_h5dict_is_keras_2_2_4s_name_for_H5Dict():
    assert h5dict is H5Dict


def test_values_written_read_back_the_same_from_a_file_or_a_dict(destination):
    array = np.arange(24, dtype='float32').reshape(2, 3, 4) / 7.
    writer = h5dict(destination, mode='w')
    writer['text'] = 'abcd'
    writer['names'] = [b'efg', b'hij', b'klmn']
    writer['array'] = array
    writer['number'] = 3
    writer.close()

    reader = h5dict(destination, mode='r')
    assert reader['text'] == 'abcd'
    assert reader['names'] == [b'efg', b'hij', b'klmn']
    np.testing.assert_array_equal(reader['array'], array)
    assert reader['array'].dtype == np.float32
    assert reader['number'] == 3
    assert sorted(reader.keys()) == ['array', 'names', 'number', 'text']
    assert len(reader) == 4 and sorted(reader) == sorted(reader.keys())
    reader.close()


def test_a_missing_name_opens_a_new_group_that_nests(destination):
    writer = h5dict(destination, mode='w')
    inner = writer['outer']['inner']
    inner['x'] = 'deep'
    writer.close()
    reader = h5dict(destination, mode='r')
    assert 'outer' in reader and 'inner' in reader['outer']
    assert isinstance(reader['outer']['inner'], H5Dict)
    assert reader['outer']['inner']['x'] == 'deep'
    reader.close()


def test_read_only_mode_refuses_writes_and_creates_no_group(destination):
    h5dict(destination, mode='w').close()
    reader = h5dict(destination, mode='r')
    with pytest.raises(ValueError, match='read-only'):
        reader['x'] = 1
    with pytest.raises(KeyError, match='missing'):
        reader['missing']
    assert reader.get('missing', 'default') == 'default'
    assert 'missing' not in reader
    reader.close()


def test_a_list_too_large_for_one_hdf5_attribute_is_split_and_read_back_whole(tmp_path):
    path = str(tmp_path / 'big.h5')
    names = [('layer_%05d' % i).encode('ascii') for i in range(8000)]  # 88 kB > 64 kB
    writer = h5dict(path, mode='w')
    writer['names'] = names
    writer.close()
    with h5py.File(path, 'r') as raw:
        assert 'names' not in raw.attrs and 'names0' in raw.attrs and 'names1' in raw.attrs
    reader = h5dict(path, mode='r')
    assert reader['names'] == names
    reader.close()


def test_lists_of_str_are_stored_as_utf8_bytes_in_hdf5(tmp_path):
    path = str(tmp_path / 'text.h5')
    writer = h5dict(path, mode='w')
    writer['names'] = ['dense_1', 'd\u00e9nse_2']
    writer.close()
    reader = h5dict(path, mode='r')
    assert reader['names'] == [b'dense_1', 'd\u00e9nse_2'.encode('utf8')]
    reader.close()


def test_an_open_h5py_group_can_be_wrapped_and_is_left_open(tmp_path):
    path = str(tmp_path / 'group.h5')
    with h5py.File(path, 'w') as raw:
        wrapped = h5dict(raw.create_group('weights'))
        wrapped['kernel'] = np.ones((2, 2))
        wrapped.close()
        assert raw.id.valid
        np.testing.assert_array_equal(raw['weights']['kernel'][()], np.ones((2, 2)))


def test_writing_over_an_existing_dataset_is_a_clear_error(tmp_path):
    writer = h5dict(str(tmp_path / 'clash.h5'), mode='w')
    writer['x'] = np.zeros(3)
    with pytest.raises(KeyError, match="'x'"):
        writer['x'] = np.ones(3)
    writer.close()


def test_mode_w_clears_a_dict_and_update_stores_every_item():
    store = {'stale': 1}
    writer = h5dict(store, mode='w')
    assert 'stale' not in writer and len(writer) == 0
    writer.update({'a': 1, 'b': 'two'})
    assert writer['a'] == 1 and writer['b'] == 'two' and len(writer) == 2


def test_bad_paths_and_modes_are_rejected():
    with pytest.raises(TypeError, match='int'):
        h5dict(3)
    with pytest.raises(ValueError, match='mode'):
        h5dict({}, mode='x')


def test_ask_to_proceed_reads_through_a_replaced_six_moves_input(monkeypatch):
    fake_six_moves = types.ModuleType('six.moves')
    answers = iter(['maybe', 'n'])
    fake_six_moves.input = lambda prompt='': next(answers)
    monkeypatch.setitem(sys.modules, 'six.moves', fake_six_moves)
    assert io_utils.ask_to_proceed_with_overwrite('/nowhere/file.h5') is False


def test_ask_to_proceed_reads_builtins_input_when_six_is_untouched(monkeypatch):
    monkeypatch.delitem(sys.modules, 'six.moves', raising=False)
    monkeypatch.setattr('builtins.input', lambda prompt='': 'Y ')
    assert io_utils.ask_to_proceed_with_overwrite('/nowhere/file.h5') is True
