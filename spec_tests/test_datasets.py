"""`get_file` and the datasets' `load_data()`, offline.

The FAQ ("Where is the Keras configuration file stored?") puts downloaded
datasets in `~/.keras/datasets/`, or `$KERAS_HOME/datasets/`. No network is
used: each test makes small files in the real formats (npz, gzipped IDX,
pickled CIFAR batches in a tar.gz) and serves them from a `file://` URL or a
loopback HTTP server, pointing the dataset module's origin (and hash) at
them. Expected values are computed independently (hashlib, NumPy's global
generator seeded the way Keras 2.2.4 did, the CIFAR pixel layout by formula,
the digits CSV parsed with the csv module).
"""
import csv
import gzip
import hashlib
import http.server
import io
import json
import os
import pathlib
import pickle
import struct
import tarfile
import threading
import warnings
import zipfile

import numpy as np
import pytest

from refkeras import backend as K
from refkeras.datasets import (boston_housing, cifar10, cifar100, digits, fashion_mnist, imdb,
                               mnist, reuters)
from refkeras.datasets.cifar import load_batch
from refkeras.utils import get_file
from refkeras.utils.data_utils import _hash_file, validate_file


def digest(path, algorithm='sha256'):
    with open(path, 'rb') as f:
        return hashlib.new(algorithm, f.read()).hexdigest()


def url(path):
    return pathlib.Path(path).resolve().as_uri()


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in pathlib.Path(folder).rglob('*'))


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / 'keras_home'
    monkeypatch.setenv('KERAS_HOME', str(home))
    return home


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / 'source'
    folder.mkdir()
    return folder


def make_blob(folder, name='blob.bin', size=5000, seed=0):
    path = folder / name
    path.write_bytes(np.random.RandomState(seed).bytes(size))
    return path


# --- get_file -----------------------------------------------------------------------------


def test_get_file_caches_in_keras_home_datasets(keras_home, source):
    blob = make_blob(source)
    path = get_file('blob.bin', origin=url(blob))
    assert path == str(keras_home / 'datasets' / 'blob.bin')
    assert pathlib.Path(path).read_bytes() == blob.read_bytes()
    assert files_under(keras_home / 'datasets') == ['blob.bin']  # no temporary file left
    blob.unlink()  # cached: not downloaded again
    assert get_file('blob.bin', origin=url(blob)) == path


def test_get_file_defaults_to_home_dot_keras(tmp_path, source, monkeypatch):
    monkeypatch.delenv('KERAS_HOME', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path / 'user'))
    blob = make_blob(source)
    path = get_file('blob.bin', origin=url(blob))
    assert path == str(tmp_path / 'user' / '.keras' / 'datasets' / 'blob.bin')


def test_get_file_cache_dir_and_subdir(tmp_path, source):
    blob = make_blob(source)
    path = get_file('b.bin', origin=url(blob), cache_dir=str(tmp_path / 'cache'),
                    cache_subdir='models')
    assert path == str(tmp_path / 'cache' / 'models' / 'b.bin')
    absolute = tmp_path / 'elsewhere' / 'c.bin'
    absolute.parent.mkdir()
    assert get_file(str(absolute), origin=url(blob)) == str(absolute)


@pytest.mark.parametrize('algorithm', ['sha256', 'md5'])
def test_get_file_accepts_a_matching_hash(keras_home, source, algorithm):
    blob = make_blob(source)
    expected = digest(blob, algorithm)
    path = get_file('blob.bin', origin=url(blob), file_hash=expected)  # 'auto' by length
    assert digest(path, algorithm) == expected
    os.remove(path)
    path = get_file('blob.bin', origin=url(blob), file_hash=expected.upper(),
                    hash_algorithm=algorithm)
    assert os.path.exists(path)
    if algorithm == 'md5':
        os.remove(path)
        assert os.path.exists(get_file('blob.bin', origin=url(blob), md5_hash=expected))


def test_a_download_with_the_wrong_hash_is_removed_and_the_error_says_so(keras_home, source):
    blob = make_blob(source)
    wrong = hashlib.sha256(b'something else').hexdigest()
    with pytest.raises(ValueError, match='sha256 hash %s, but %s was expected.*removed'
                       % (digest(blob), wrong)):
        get_file('blob.bin', origin=url(blob), file_hash=wrong)
    assert files_under(keras_home / 'datasets') == []


def test_a_stale_cached_file_is_downloaded_again(keras_home, source, capsys):
    blob = make_blob(source)
    target = keras_home / 'datasets' / 'blob.bin'
    target.parent.mkdir(parents=True)
    target.write_bytes(b'half a file')
    path = get_file('blob.bin', origin=url(blob), file_hash=digest(blob))
    assert pathlib.Path(path).read_bytes() == blob.read_bytes()
    assert 'so we will re-download the data' in capsys.readouterr().out


def test_hash_helpers_match_hashlib(source):
    blob = make_blob(source, size=200000)
    assert _hash_file(str(blob)) == digest(blob)
    assert _hash_file(str(blob), 'md5', chunk_size=1000) == digest(blob, 'md5')
    assert _hash_file(str(blob), 'auto') == digest(blob)
    assert validate_file(str(blob), digest(blob)) and validate_file(str(blob), digest(blob, 'md5'))
    assert not validate_file(str(blob), digest(blob, 'md5'), algorithm='sha256')
    with pytest.raises(ValueError, match='Unknown hash algorithm'):
        _hash_file(str(blob), 'crc32')


# --- over HTTP (loopback only) ------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == '/truncated':
            self.send_response(200)
            self.send_header('Content-Length', '100000')
            self.end_headers()
            self.wfile.write(b'x' * 1000)
            self.wfile.flush()
            self.close_connection = True
            return
        super(_Handler, self).do_GET()


@pytest.fixture
def http_origin(source):
    """Serves `source` on 127.0.0.1 (an ephemeral port) for the test's duration."""
    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(source), **kwargs)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05},
                              daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_download_shows_a_progress_bar(keras_home, source, http_origin, capsys):
    blob = make_blob(source, size=300000)
    path = get_file('blob.bin', origin=http_origin + '/blob.bin', file_hash=digest(blob))
    assert pathlib.Path(path).read_bytes() == blob.read_bytes()
    out = capsys.readouterr().out
    assert 'Downloading data from %s/blob.bin' % http_origin in out
    assert '300000/300000 [==============================]' in out


def test_http_errors_leave_nothing_in_the_cache(keras_home, source, http_origin):
    with pytest.raises(OSError, match='URL fetch failure on .*/missing.bin: 404'):
        get_file('missing.bin', origin=http_origin + '/missing.bin')
    with pytest.raises(OSError, match='URL fetch failure on .*/truncated'):
        get_file('truncated.bin', origin=http_origin + '/truncated')
    assert files_under(keras_home / 'datasets') == []


# --- extraction ---------------------------------------------------------------------------


def make_tar(path, members, mode='w:gz'):
    with tarfile.open(str(path), mode) as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_extract_tar_and_zip(keras_home, source):
    tar = make_tar(source / 'pack.tar.gz', {'pack/a.txt': b'alpha', 'pack/sub/b.txt': b'beta'})
    path = get_file('pack.tar.gz', origin=url(tar), extract=True)
    datasets = keras_home / 'datasets'
    assert path == str(datasets / 'pack.tar.gz')
    assert (datasets / 'pack' / 'sub' / 'b.txt').read_bytes() == b'beta'
    with zipfile.ZipFile(str(source / 'z.zip'), 'w') as archive:
        archive.writestr('zipped/c.txt', b'gamma')
    get_file('z.zip', origin=url(source / 'z.zip'), extract=True)
    assert (datasets / 'zipped' / 'c.txt').read_bytes() == b'gamma'
    assert not [name for name in files_under(datasets) if '.extract-' in name]


def test_untar_returns_the_extracted_folder(keras_home, source):
    tar = make_tar(source / 'upload.tar.gz', {'folder/data': b'payload'})
    path = get_file('folder', origin=url(tar), untar=True)
    assert path == str(keras_home / 'datasets' / 'folder')
    assert (keras_home / 'datasets' / 'folder.tar.gz').exists()
    assert (pathlib.Path(path) / 'data').read_bytes() == b'payload'


def test_a_tar_member_escaping_the_cache_is_refused(keras_home, source):
    tar = make_tar(source / 'evil.tar.gz', {'../escaped.txt': b'owned', 'fine.txt': b'ok'})
    with pytest.raises((tarfile.TarError, ValueError)):
        get_file('evil.tar.gz', origin=url(tar), extract=True)
    assert not (keras_home / 'escaped.txt').exists()
    assert files_under(keras_home / 'datasets') == ['evil.tar.gz']  # nothing extracted


# --- the datasets -------------------------------------------------------------------------


def serve(monkeypatch, module, path, origin='ORIGIN', file_hash='FILE_HASH'):
    """Points a dataset module at a local file (and its real hash)."""
    monkeypatch.setattr(module, origin, url(path))
    if file_hash:
        monkeypatch.setattr(module, file_hash, digest(path))


def test_mnist(keras_home, source, monkeypatch):
    rng = np.random.RandomState(0)
    arrays = {'x_train': rng.randint(0, 256, (6, 28, 28)).astype('uint8'),
              'y_train': rng.randint(0, 10, 6).astype('uint8'),
              'x_test': rng.randint(0, 256, (3, 28, 28)).astype('uint8'),
              'y_test': rng.randint(0, 10, 3).astype('uint8')}
    np.savez(str(source / 'mnist.npz'), **arrays)
    monkeypatch.setattr(mnist, 'ORIGIN', url(source / 'mnist.npz'))
    # Keras 2.2.4's md5 of the real file does not match this one: refused.
    with pytest.raises(ValueError, match='8a61469f7ea1b51cbae51d4f78837e45 was expected'):
        mnist.load_data()
    serve(monkeypatch, mnist, source / 'mnist.npz')
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, name in [(x_train, 'x_train'), (y_train, 'y_train'), (x_test, 'x_test'),
                      (y_test, 'y_test')]:
        np.testing.assert_array_equal(got, arrays[name])
    assert (keras_home / 'datasets' / 'mnist.npz').exists()


def test_keras_origins_and_hashes():
    assert mnist.ORIGIN == 'https://s3.amazonaws.com/img-datasets/mnist.npz'
    assert imdb.ORIGIN == 'https://s3.amazonaws.com/text-datasets/imdb.npz'
    assert reuters.FILE_HASH == '87aedbeb0cb229e378797a632c1997b6'
    assert boston_housing.ORIGIN == 'https://s3.amazonaws.com/keras-datasets/boston_housing.npz'
    assert cifar10.ORIGIN == 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
    assert cifar100.DIRNAME == 'cifar-100-python'
    assert fashion_mnist.BASE_URL == 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'


def _idx_gz(path, magic, array):
    header = struct.pack('>II', magic, array.shape[0])
    if array.ndim == 3:
        header += struct.pack('>II', *array.shape[1:])
    with gzip.open(str(path), 'wb') as f:
        f.write(header + array.astype('uint8').tobytes())


def test_fashion_mnist(keras_home, source, monkeypatch):
    rng = np.random.RandomState(1)
    x_train, x_test = rng.randint(0, 256, (5, 28, 28)), rng.randint(0, 256, (2, 28, 28))
    y_train, y_test = rng.randint(0, 10, 5), rng.randint(0, 10, 2)
    _idx_gz(source / 'train-labels-idx1-ubyte.gz', 2049, y_train)
    _idx_gz(source / 'train-images-idx3-ubyte.gz', 2051, x_train)
    _idx_gz(source / 't10k-labels-idx1-ubyte.gz', 2049, y_test)
    _idx_gz(source / 't10k-images-idx3-ubyte.gz', 2051, x_test)
    monkeypatch.setattr(fashion_mnist, 'BASE_URL', url(source) + '/')
    (a, b), (c, d) = fashion_mnist.load_data()
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(b, y_train)
    np.testing.assert_array_equal(c, x_test)
    np.testing.assert_array_equal(d, y_test)
    assert a.dtype == np.uint8 and a.shape == (5, 28, 28)
    assert sorted(os.listdir(keras_home / 'datasets' / 'fashion-mnist')) == sorted(
        fashion_mnist.FILES)


def _cifar_batch(data, labels, label_keys=(b'labels',)):
    content = {b'batch_label': b'synthetic', b'data': data}
    for key, values in zip(label_keys, labels):
        content[key] = list(values)
    return pickle.dumps(content, protocol=2)


def _pixel(data, i, row, col, channel):
    """CIFAR rows hold 1024 red, then 1024 green, then 1024 blue values, row-major."""
    return data[i, channel * 1024 + row * 32 + col]


@pytest.mark.parametrize('data_format', ['channels_last', 'channels_first'])
def test_cifar10(keras_home, source, monkeypatch, data_format):
    rng = np.random.RandomState(2)
    members, train_data, train_labels = {}, [], []
    for i in range(1, 6):
        data, labels = rng.randint(0, 256, (2, 3072)).astype('uint8'), rng.randint(0, 10, 2)
        members['cifar-10-batches-py/data_batch_%d' % i] = _cifar_batch(data, [labels])
        train_data.append(data)
        train_labels.extend(labels)
    test_data, test_labels = rng.randint(0, 256, (3, 3072)).astype('uint8'), [4, 0, 9]
    members['cifar-10-batches-py/test_batch'] = _cifar_batch(test_data, [test_labels])
    make_tar(source / 'cifar.tar.gz', members)
    serve(monkeypatch, cifar10, source / 'cifar.tar.gz')
    previous = K.image_data_format()
    K.set_image_data_format(data_format)
    try:
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    finally:
        K.set_image_data_format(previous)
    train_data = np.concatenate(train_data)
    assert y_train.shape == (10, 1) and y_train[:, 0].tolist() == train_labels
    assert y_test[:, 0].tolist() == test_labels
    for i, row, col, channel in [(0, 0, 0, 0), (3, 5, 31, 2), (9, 31, 7, 1)]:
        if data_format == 'channels_last':
            assert x_train.shape == (10, 32, 32, 3)
            assert x_train[i, row, col, channel] == _pixel(train_data, i, row, col, channel)
        else:
            assert x_train.shape == (10, 3, 32, 32)
            assert x_train[i, channel, row, col] == _pixel(train_data, i, row, col, channel)
    assert (keras_home / 'datasets' / 'cifar-10-batches-py' / 'test_batch').exists()


def test_cifar100_label_modes(keras_home, source, monkeypatch):
    rng = np.random.RandomState(3)
    keys = (b'fine_labels', b'coarse_labels')
    members = {'cifar-100-python/train': _cifar_batch(rng.randint(0, 256, (4, 3072)).astype(
        'uint8'), [[10, 20, 30, 99], [1, 2, 3, 19]], keys),
        'cifar-100-python/test': _cifar_batch(rng.randint(0, 256, (2, 3072)).astype('uint8'),
                                              [[5, 6], [0, 7]], keys)}
    make_tar(source / 'cifar100.tar.gz', members)
    serve(monkeypatch, cifar100, source / 'cifar100.tar.gz')
    (x_train, y_train), (_, y_test) = cifar100.load_data()
    assert y_train[:, 0].tolist() == [10, 20, 30, 99] and y_test[:, 0].tolist() == [5, 6]
    (_, y_train), _ = cifar100.load_data(label_mode='coarse')
    assert y_train[:, 0].tolist() == [1, 2, 3, 19]
    assert x_train.shape[1:] in ((32, 32, 3), (3, 32, 32))
    with pytest.raises(ValueError, match='label_mode'):
        cifar100.load_data(label_mode='medium')


class _Exploit(object):
    def __reduce__(self):
        return (os.system, ('echo should-not-run',))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / 'data_batch_1'
    path.write_bytes(pickle.dumps({b'data': _Exploit(), b'labels': [1]}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match='Refusing to load .*system'):
        load_batch(str(path))


def _keras_shuffle(seed, *lengths):
    """Keras 2.2.4's way: seed NumPy's global generator, shuffle index arrays in turn."""
    state = np.random.get_state()
    np.random.seed(seed)
    orders = []
    for n in lengths:
        order = np.arange(n)
        np.random.shuffle(order)
        orders.append(order)
    np.random.set_state(state)
    return orders


def _ragged(lists):
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = list(item)
    return out


IMDB_TRAIN = [[1, 5, 9], [2, 2], [7, 30, 4, 4, 8], [11], [3, 6, 9, 12], [25, 1]]
IMDB_TEST = [[4, 4, 4], [9, 8, 7, 6, 5, 4], [1], [13, 2]]


@pytest.fixture
def imdb_file(source, monkeypatch, keras_home):
    np.savez(str(source / 'imdb.npz'), x_train=_ragged(IMDB_TRAIN), y_train=np.array([0, 1] * 3),
             x_test=_ragged(IMDB_TEST), y_test=np.array([1, 1, 0, 0]))
    serve(monkeypatch, imdb, source / 'imdb.npz')


def _words(sequence, num_words, skip_top=0, start_char=1, oov_char=2, index_from=3):
    shifted = [start_char] + [w + index_from for w in sequence]
    return [w if skip_top <= w < num_words else oov_char for w in shifted]


def test_imdb_follows_keras_shuffling_and_indexing(imdb_file):
    np.random.seed(5)
    before = np.random.rand()
    np.random.seed(5)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=10)
    assert np.random.rand() == before  # NumPy's global generator is left alone
    train_order, test_order = _keras_shuffle(113, 6, 4)
    assert x_train.dtype == object and len(x_train) == 6 and len(x_test) == 4
    for got, i in zip(x_train, train_order):
        assert got == _words(IMDB_TRAIN[i], 10)
    for got, i in zip(x_test, test_order):
        assert got == _words(IMDB_TEST[i], 10)
    np.testing.assert_array_equal(y_train, np.array([0, 1] * 3)[train_order])
    np.testing.assert_array_equal(y_test, np.array([1, 1, 0, 0])[test_order])


def test_imdb_options(imdb_file):
    (x_train, _), (x_test, _) = imdb.load_data(maxlen=4, oov_char=None, skip_top=5,
                                               start_char=None, index_from=0)
    # Kept: sequences shorter than 4; words outside [5, max) dropped.
    kept_train = [s for s in IMDB_TRAIN if len(s) < 4]
    kept_test = [s for s in IMDB_TEST if len(s) < 4]
    top = max(max(s) for s in kept_train + kept_test)
    assert sorted(tuple(s) for s in x_train) == sorted(tuple(w for w in s if 5 <= w < top)
                                                       for s in kept_train)
    assert len(x_test) == len(kept_test)
    with pytest.raises(ValueError, match='no sequence was kept'):
        imdb.load_data(maxlen=1)
    with pytest.raises(TypeError, match='unrecognized keyword'):
        imdb.load_data(num_word=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        (x_train, _), _ = imdb.load_data(nb_words=6)
    assert any('renamed `num_words`' in str(w.message) for w in caught)
    assert max(max(s) for s in x_train) < 6


def test_imdb_word_index(keras_home, source, monkeypatch):
    (source / 'index.json').write_text(json.dumps({'the': 1, 'movie': 17}))
    serve(monkeypatch, imdb, source / 'index.json', 'WORD_INDEX_ORIGIN', 'WORD_INDEX_HASH')
    assert imdb.get_word_index() == {'the': 1, 'movie': 17}
    assert (keras_home / 'datasets' / 'imdb_word_index.json').exists()


def test_reuters_split_and_indexing(keras_home, source, monkeypatch):
    sequences = [[i + 1, (i * 7) % 13 + 1] for i in range(10)]
    labels = np.arange(10) % 4
    np.savez(str(source / 'reuters.npz'), x=_ragged(sequences), y=labels)
    serve(monkeypatch, reuters, source / 'reuters.npz')
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.3, num_words=12)
    order, = _keras_shuffle(113, 10)
    assert len(x_train) == 7 and len(x_test) == 3  # int(10 * (1 - 0.3))
    for got, i in zip(list(x_train) + list(x_test), order):
        assert got == _words(sequences[i], 12)
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), labels[order])


def test_boston_housing_split(keras_home, source, monkeypatch):
    rng = np.random.RandomState(4)
    x, y = rng.rand(20, 13), rng.rand(20) * 50
    np.savez(str(source / 'boston.npz'), x=x, y=y)
    serve(monkeypatch, boston_housing, source / 'boston.npz')
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.25, seed=7)
    order, = _keras_shuffle(7, 20)
    np.testing.assert_array_equal(x_train, x[order[:15]])
    np.testing.assert_array_equal(y_test, y[order[15:]])
    assert (keras_home / 'datasets' / 'boston_housing.npz').exists()
    with pytest.raises(ValueError, match='test_split'):
        boston_housing.load_data(test_split=1.0)


# --- digits, shipped with the package -----------------------------------------------------


def _digits_from_csv():
    with gzip.open(digits.DATA_FILE, 'rt') as f:
        rows = [[int(v) for v in row] for row in csv.reader(f)]
    return rows


def test_digits_shapes_dtypes_and_values(keras_home):
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)  # int(1797 * 0.8)
    assert x_train.dtype == np.float32 and y_train.dtype.kind == 'i'
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert np.all(np.mod(x_train * 16, 1) == 0)  # pixel / 16 exactly
    assert set(y_train.tolist()) == set(range(10)) and set(y_test.tolist()) <= set(range(10))
    assert not (keras_home / 'datasets').exists()  # shipped: nothing downloaded


def test_digits_split_holds_every_sample_once():
    rows = _digits_from_csv()
    assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.5, seed=1)
    assert len(x_train) == 898 and len(x_test) == 899
    got = sorted(tuple((np.concatenate([x, [[label]]], axis=None) * 1).tolist())
                 for x, label in zip(np.concatenate([x_train * 16, x_test * 16]),
                                     np.concatenate([y_train, y_test])))
    expected = sorted(tuple(float(v) for v in row) for row in rows)
    assert got == expected


def test_digits_split_is_deterministic():
    first = digits.load_data()
    second = digits.load_data()
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        np.testing.assert_array_equal(a, b)
    other = digits.load_data(seed=114)
    assert not np.array_equal(other[0][1], first[0][1])
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.0)
    assert len(x_train) == 1797 and len(x_test) == 0
    with pytest.raises(ValueError, match='test_split'):
        digits.load_data(test_split=-0.1)


@pytest.mark.parametrize('module_name,cached_name', [
    ('mnist', 'mnist.npz'), ('cifar10', 'cifar-10-batches-py.tar.gz'),
    ('boston_housing', 'boston_housing.npz')])
def test_offline_load_data_says_where_to_place_the_file(keras_home, tmp_path, monkeypatch,
                                                        module_name, cached_name):
    import importlib
    module = importlib.import_module('refkeras.datasets.' + module_name)
    missing = (tmp_path / 'nowhere' / 'file').as_uri()  # a file:// URL that does not exist
    monkeypatch.setattr(module, 'ORIGIN', missing)
    with pytest.raises(OSError) as error:
        module.load_data()
    message = str(error.value)
    assert message.startswith('URL fetch failure on %s' % missing)
    assert os.path.join(str(keras_home), 'datasets', cached_name) in message
    assert module.FILE_HASH in message
    assert files_under(keras_home / 'datasets') == []
