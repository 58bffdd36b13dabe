"""Keras 2.2.4 tests that do not apply to refkeras, each with its reason.

A test is listed here only when what it checks is an internal of TensorFlow,
Theano or CNTK (a graph-mode session, a TF op name, a Theano compile mode),
not a behaviour a Keras user sees (or, once each, of NumPy 1.x and of Keras's
own documentation tooling). Each entry is a pattern matched with `fnmatch`
against the test's pytest node id relative to the Keras tree; a file's own
path matches the file when it cannot even be imported (e.g. it imports
tensorflow at its top). Reviewed by hand: adding an entry needs the reason to
hold for every test it matches.
"""
import fnmatch
import os

NOT_APPLICABLE = [
    # utils
    # (`[[]` is fnmatch's literal `[`)
    ('tests/keras/utils/generic_utils_test.py::test_func_dump_and_load_backwards_compat[[]argmax]',
     'the test reads `np.argmax.__code__` before calling Keras; since NumPy 1.25 `np.argmax` '
     'is a C-level dispatcher with no `__code__`, so the test fails in its own first line '
     'under any Keras (it tests NumPy 1.x internals, not func_load)'),
    ('tests/keras/utils/multi_gpu_test.py',
     'the file imports tensorflow at its top and every test in it is gated on the TensorFlow '
     'backend with 8 GPUs: it checks that tf.device placement builds replicas on /gpu:0..7. '
     'The user-visible behaviours (gpus validation, the parallel model computing and training '
     'like the template, the device-name helpers) are in spec_tests/test_faq_multi_gpu.py'),
    ('tests/test_doc_auto_generation.py',
     "tests Keras's documentation generator, the script docs/autogen.py of Keras's repository "
     '(not part of the keras package), which it imports from that tree; refkeras has no such '
     'generator. The docstring conventions themselves are checked by test_documentation.py'),
]


# Tests that download files from the internet (Keras's datasets, ImageNet's
# class index): they apply only where those files are already in the Keras
# directory the tests run with (`$KERAS_HOME`, else `~/.keras`), paths given
# relative to it. Offline and without them no Keras can pass these tests;
# with them they run like any other test. (`keras_tests` gives each file an
# empty scratch Keras directory unless KERAS_HOME is set.)
_FASHION = ['datasets/fashion-mnist/' + name for name in (
    'train-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz',
    't10k-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz')]
NEEDS_DOWNLOAD = [
    ('tests/integration_tests/test_datasets.py::test_cifar',
     ['datasets/cifar-10-batches-py.tar.gz', 'datasets/cifar-100-python.tar.gz']),
    ('tests/integration_tests/test_datasets.py::test_reuters',
     ['datasets/reuters.npz', 'datasets/reuters_word_index.json']),
    ('tests/integration_tests/test_datasets.py::test_mnist', ['datasets/mnist.npz']),
    ('tests/integration_tests/test_datasets.py::test_imdb',
     ['datasets/imdb.npz', 'datasets/imdb_word_index.json']),
    ('tests/integration_tests/test_datasets.py::test_boston_housing',
     ['datasets/boston_housing.npz']),
    ('tests/integration_tests/test_datasets.py::test_fashion_mnist', _FASHION),
    ('tests/integration_tests/imagenet_utils_test.py::test_decode_predictions',
     ['models/imagenet_class_index.json']),
]


def _keras_dir():
    return os.environ.get('KERAS_HOME') or os.path.join(os.path.expanduser('~'), '.keras')


def reason_not_applicable(nodeid):
    """The reason `nodeid` does not apply to refkeras, or None."""
    for pattern, reason in NOT_APPLICABLE:
        if fnmatch.fnmatchcase(nodeid, pattern):
            return reason
    for pattern, files in NEEDS_DOWNLOAD:
        if fnmatch.fnmatchcase(nodeid, pattern):
            missing = [f for f in files if not os.path.exists(os.path.join(_keras_dir(), f))]
            if missing:
                return ('it downloads %s from the internet, which the runner does not assume; '
                        'they are not in the Keras directory %s (run with KERAS_HOME set to a '
                        'Keras directory holding them to run the test)'
                        % (', '.join(missing), _keras_dir()))
    return None
