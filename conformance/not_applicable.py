"""Keras 2.2.4 tests that do not apply to refkeras, each with its reason.

A test is listed here only when what it checks is an internal of TensorFlow,
Theano or CNTK (a graph-mode session, a TF op name, a Theano compile mode),
not a behaviour a Keras user sees (or a test line that NumPy 2 refuses under
any Keras, or Keras's own documentation tooling), or what it compares is two of those frameworks'
backends with each other. Each entry is a pattern matched with `fnmatch`
against the test's pytest node id relative to the Keras tree; a file's own
path matches the file when it cannot even be imported (e.g. it imports
tensorflow at its top). Reviewed by hand: adding an entry needs the reason to
hold for every test it matches.
"""
import fnmatch
import os

_TWO_BACKENDS = (
    'compares Keras\'s Theano (or CNTK) backend with its TensorFlow backend, so it needs both '
    'installed, as Keras\'s CI had them; refkeras is one backend (the test\'s KTH and KC are '
    'None). What it checks of a single backend is in spec_tests/primitives/test_backend_keras_parity.py')

NOT_APPLICABLE = [
    # utils
    # (`[[]` is fnmatch's literal `[`)
    ('tests/keras/utils/generic_utils_test.py::test_func_dump_and_load_backwards_compat[[]argmax]',
     'the test reads `np.argmax.__code__` before calling Keras; since NumPy 1.25 `np.argmax` '
     'is a C-level dispatcher with no `__code__`, so the test fails in its own first line '
     'under any Keras (it tests NumPy 1.x internals, not func_load)'),
    ('tests/keras/constraints_test.py::test_min_max_norm',
     'the test asserts `not l2[l2 < m]`, the truth value of a possibly empty array, which '
     'NumPy 2 refuses with a ValueError in the test\'s own line under any Keras (NumPy 1.x '
     'behaviour); the norms it checks are within bounds, see spec_tests/test_regularizers_constraints.py'),
    ('tests/integration_tests/preprocessing/text_test.py::test_tokenizer',
     'the test calls np.max on a list of sequences of different lengths, which NumPy 1.24 and '
     'later refuse, in its own line under any Keras (NumPy 1.x behaviour); the Tokenizer\'s '
     'results are checked in spec_tests/test_preprocessing_sequence_text.py'),
    ('tests/keras/engine/test_topology.py::test_load_layers',
     "the test takes every backend other than TensorFlow and CNTK for Theano and builds a "
     "channels_first input (10, 1, 20, 20) under refkeras's channels_last default, so its "
     'Conv2D sees a 1 x 20 image; it is a Theano-setup assumption, and it passes with '
     'image_data_format "channels_first" in keras.json'),
    ('tests/keras/utils/multi_gpu_test.py',
     'the file imports tensorflow at its top and every test in it is gated on the TensorFlow '
     'backend with 8 GPUs: it checks that tf.device placement builds replicas on /gpu:0..7. '
     'The user-visible behaviours (gpus validation, the parallel model computing and training '
     'like the template, the device-name helpers) are in spec_tests/faq/test_faq_multi_gpu.py'),
    ('tests/test_doc_auto_generation.py',
     "tests Keras's documentation generator, the script docs/autogen.py of Keras's repository "
     '(not part of the keras package), which it imports from that tree; refkeras has no such '
     'generator. The docstring conventions themselves are checked by test_documentation.py'),
    # --- backend_test.py and activations_test.py ---
    ('tests/keras/backend/backend_test.py::TestBackend::test_gradient', _TWO_BACKENDS),
    ('tests/keras/backend/backend_test.py::TestBackend::test_function', _TWO_BACKENDS),
    ('tests/keras/backend/backend_test.py::TestBackend::test_in_top_k', _TWO_BACKENDS),
    ('tests/keras/backend/backend_test.py::TestBackend::test_resize_images_bilinear[[]*[]]',
     _TWO_BACKENDS + ' (its NotImplementedError for factor 4 is Theano\'s limitation)'),
    ('tests/keras/backend/backend_test.py::TestBackend::test_spatial_2d_padding', _TWO_BACKENDS),
    ('tests/keras/backend/backend_test.py::TestBackend::test_spatial_3d_padding', _TWO_BACKENDS),
    ('tests/keras/backend/backend_test.py::TestBackend::test_batchnorm', _TWO_BACKENDS),
] + [
    ('tests/keras/backend/backend_test.py::TestBackend::test_sparse_%s' % op,
     _TWO_BACKENDS + " (it reads Theano's th_sparse_module). refkeras has no sparse tensors: "
     'K.variable keeps a scipy.sparse matrix as a dense array (see docs/differences.md), so '
     'the values agree and K.is_sparse is False')
    for op in ('dot', 'concat')
] + [
    ('tests/keras/activations_test.py::test_selu',
     "checks TensorFlow's ELU kernel rounding: it compares selu with its own float32 "
     '(exp(x) - 1) * scale * alpha at rtol 1e-7, below float32 resolution; refkeras computes '
     'expm1 and returns the correctly rounded value, one ulp from what the test expects at '
     'x = -1 (see docs/differences.md); selu against its formula is in '
     'spec_tests/test_activations_initializers.py'),
    ('tests/keras/backend/backend_test.py::TestBackend::test_set_floatx',
     "asserts TensorFlow's reference dtype names ('float16_ref') of variables; the floatx "
     'part (variables made in the new floatx) is in spec_tests/primitives/test_backend_keras_parity.py'),
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
