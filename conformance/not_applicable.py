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


def reason_not_applicable(nodeid):
    """The reason `nodeid` does not apply to refkeras, or None."""
    for pattern, reason in NOT_APPLICABLE:
        if fnmatch.fnmatchcase(nodeid, pattern):
            return reason
    return None
