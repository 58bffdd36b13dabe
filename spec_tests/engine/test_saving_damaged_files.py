"""Damaged model and weights files (issue: "Robust files").

Truncated files, flipped bytes, deleted groups and attributes are fed to
`load_model` and `model.load_weights`. Only the documented exceptions may come
out (`refkeras.engine.saving.ModelFileError` and its subclasses, naming the
file), and a model that fails to load weights keeps the weights it had.
A damage that leaves the file readable (a flipped bit inside a weight's
value, say) may load; then it must load completely.
"""
import os
import shutil
import tempfile
import warnings

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refkeras import layers
from refkeras.engine import saving
from refkeras.models import Sequential, load_model


def build(seed):
    np.random.seed(seed)
    return Sequential([layers.Dense(3, input_shape=(4,), activation='relu', name='first'),
                       layers.Dropout(0.1, name='drop'),
                       layers.Dense(2, name='second')])


@pytest.fixture(scope='module')
def files():
    folder = tempfile.mkdtemp(prefix='refkeras-damaged-')
    model = build(0)
    model.compile('adam', 'mse', metrics=['mae'])
    model.train_on_batch(np.ones((2, 4)), np.zeros((2, 2)))
    paths = {'model': os.path.join(folder, 'model.h5'),
             'weights': os.path.join(folder, 'weights.h5')}
    model.save(paths['model'])
    model.save_weights(paths['weights'])
    contents = {kind: open(path, 'rb').read() for kind, path in paths.items()}
    items = {kind: deletable_items(path) for kind, path in paths.items()}
    yield {'folder': folder, 'contents': contents, 'items': items}
    shutil.rmtree(folder, ignore_errors=True)


def deletable_items(path):
    """Every object (group, dataset) and attribute of the file, as deletion targets."""
    items = []
    with h5py.File(path, 'r') as handle:
        names = ['/']
        handle.visit(names.append)
        for name in names:
            if name != '/':
                items.append(('object', name, None))
            for attribute in handle[name].attrs:
                items.append(('attribute', name, attribute))
    return items


def write_damaged(files, kind, damage):
    path = os.path.join(files['folder'], 'damaged-%s.h5' % kind)
    with open(path, 'wb') as out:
        out.write(damage(bytearray(files['contents'][kind])))
    return path


def check_loading(path, expect_failure=False):
    """Loads `path` both ways; only documented errors, and no change on failure."""
    failures = 0
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            loaded = load_model(path)
            assert len(loaded.layers) == 3 and loaded.predict(np.ones((1, 4))).shape == (1, 2)
        except saving.ModelFileError as error:
            assert repr(path) in str(error)  # names the file
            failures += 1
        for by_name in (False, True):
            target = build(1)
            before = [np.array(w) for w in target.get_weights()]
            try:
                target.load_weights(path, by_name=by_name)
            except saving.ModelFileError as error:
                assert repr(path) in str(error)
                after = target.get_weights()
                assert all(np.array_equal(a, b) for a, b in zip(before, after))
                failures += 1
    if expect_failure:
        assert failures == 3
    return failures


@given(fraction=st.floats(0.0, 0.999), kind=st.sampled_from(['model', 'weights']))
def test_truncated_files(files, fraction, kind):
    size = len(files['contents'][kind])
    path = write_damaged(files, kind, lambda data: bytes(data[:int(size * fraction)]))
    # HDF5 notices any truncation (the end-of-file address is in the superblock).
    check_loading(path, expect_failure=True)


@given(data=st.data(), kind=st.sampled_from(['model', 'weights']))
def test_flipped_bytes(files, data, kind):
    size = len(files['contents'][kind])
    flips = data.draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)),
                               min_size=1, max_size=6))

    def damage(content):
        for position, mask in flips:
            content[position] ^= mask
        return bytes(content)
    check_loading(write_damaged(files, kind, damage))


@given(data=st.data(), kind=st.sampled_from(['model', 'weights']))
def test_deleted_groups_and_attributes(files, data, kind):
    what, name, attribute = data.draw(st.sampled_from(files['items'][kind]))
    path = os.path.join(files['folder'], 'deleted-%s.h5' % kind)
    with open(path, 'wb') as out:
        out.write(files['contents'][kind])
    with h5py.File(path, 'a') as handle:
        if what == 'object':
            del handle[name]
        else:
            del handle[name].attrs[attribute]
    failures = check_loading(path)
    weights_root = 'model_weights/' if kind == 'model' else ''
    removes_a_weight = (what == 'object' and name.startswith(weights_root + 'first') or
                        what == 'object' and name.startswith(weights_root + 'second'))
    if removes_a_weight:  # a missing weight is always an error
        assert failures >= 2


def test_deleting_one_weight_is_reported_by_name(files):
    path = os.path.join(files['folder'], 'one-missing.h5')
    with open(path, 'wb') as out:
        out.write(files['contents']['model'])
    with h5py.File(path, 'a') as handle:
        del handle['model_weights/second/second/bias:0']
    with pytest.raises(saving.CorruptModelFileError, match="'second/bias:0' of layer 'second'"
                       ".* missing"):
        load_model(path)
    target = build(3)
    before = target.get_weights()
    with pytest.raises(saving.CorruptModelFileError, match='missing'):
        target.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights()))


def test_not_hdf5_and_not_keras_files(tmp_path):
    text = tmp_path / 'notes.h5'
    text.write_text('not an HDF5 file')
    empty = tmp_path / 'empty.h5'
    empty.write_bytes(b'')
    for path in (text, empty):
        with pytest.raises(saving.CorruptModelFileError, match='not a readable HDF5 file'):
            load_model(str(path))
        with pytest.raises(saving.CorruptModelFileError, match=repr(str(path))):
            build(0).load_weights(str(path))
    other = tmp_path / 'other.h5'
    with h5py.File(str(other), 'w') as handle:
        handle['data'] = np.arange(3)
    with pytest.raises(saving.CorruptModelFileError, match='model_config'):
        load_model(str(other))
    with pytest.raises(saving.CorruptModelFileError, match='layer_names'):
        build(0).load_weights(str(other))
    with pytest.raises(FileNotFoundError):
        load_model(str(tmp_path / 'missing.h5'))


def test_a_weight_declaring_a_huge_shape_is_refused_before_reading(tmp_path):
    path = str(tmp_path / 'huge.h5')
    model = build(0)
    model.save_weights(path)
    with h5py.File(path, 'a') as handle:
        group = handle['second']
        del group['second/bias:0']
        # Declared 2**40 floats, never written: the file cannot hold it.
        group.create_dataset('second/bias:0', shape=(2 ** 40,), dtype='float32')
    with pytest.raises(saving.CorruptModelFileError, match='more than the file holds'):
        build(1).load_weights(path)
