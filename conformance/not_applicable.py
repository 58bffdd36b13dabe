"""Keras 2.2.4 tests that do not apply to refkeras, each with its reason.

A test is listed here only when what it checks is an internal of TensorFlow,
Theano or CNTK (a graph-mode session, a TF op name, a Theano compile mode),
not a behaviour a Keras user sees. Each entry is a pattern matched with
`fnmatch` against the test's pytest node id relative to the Keras tree.
Reviewed by hand: adding an entry needs the reason to hold for every test it
matches.
"""
import fnmatch

_TWO_BACKENDS = (
    'compares Keras\'s Theano (or CNTK) backend with its TensorFlow backend, so it needs both '
    'installed, as Keras\'s CI had them; refkeras is one backend (the test\'s KTH and KC are '
    'None). What it checks of a single backend is in spec_tests/test_backend_keras_parity.py')

NOT_APPLICABLE = [
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
    ('tests/keras/backend/backend_test.py::TestBackend::test_random_%s' % kind,
     'its second half evaluates one random tensor 200 times and expects a new draw at each '
     'K.eval: TensorFlow re-runs the graph node. refkeras executes eagerly (DESIGN.md, '
     'invariant 4): K.random_* draws when called, so a draw in a layer is redrawn at every '
     'run of the model. The distribution checks of its first half pass; '
     'spec_tests/test_backend_keras_parity.py checks the redraw per run')
    for kind in ('normal', 'uniform', 'binomial')
] + [
    ('tests/keras/activations_test.py::test_selu',
     "checks TensorFlow's ELU kernel rounding: it compares selu with its own float32 "
     '(exp(x) - 1) * scale * alpha at rtol 1e-7, below float32 resolution; refkeras computes '
     'expm1 and returns the correctly rounded value, one ulp from what the test expects at '
     'x = -1 (see docs/differences.md); selu against its formula is in '
     'spec_tests/test_activations_initializers.py'),
    ('tests/keras/backend/backend_test.py::TestBackend::test_set_floatx',
     "asserts TensorFlow's reference dtype names ('float16_ref') of variables; the floatx "
     'part (variables made in the new floatx) is in spec_tests/test_backend_keras_parity.py'),
]


def reason_not_applicable(nodeid):
    """The reason `nodeid` does not apply to refkeras, or None."""
    for pattern, reason in NOT_APPLICABLE:
        if fnmatch.fnmatchcase(nodeid, pattern):
            return reason
    return None
