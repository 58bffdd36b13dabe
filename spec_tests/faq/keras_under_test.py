"""The Keras implementation the FAQ spec tests judge, chosen by one switch.

Set the environment variable `SPEC_KERAS` before pytest starts:

- `refkeras` (the default): this repository's reference implementation;
- `tensorflow.keras`: the Keras bundled with TensorFlow (checked with 2.15);
- `keras`: whatever `import keras` gives (Keras 2.2.4 itself, or Keras 3).

The tests in `spec_tests/faq/` reach the implementation only through this
module: its `keras`, `layers`, `models`, `backend`, `callbacks`, `optimizers`,
`utils`, `regularizers`, `initializers` and `constraints`, and the small adapter
below for API differences the implementations document:

- the learning rate argument (`lr` in Keras 2.2.4, `learning_rate` since
  tf.keras 2.3; `SGD`, `optimizer`);
- the history key of the `'accuracy'` metric (`'acc'` in Keras 2.2.4,
  `'accuracy'` in tf.keras 2; `metric_key`);
- the learning phase a layer runs in (`K.learning_phase()` in Keras 2.2.4, the
  `training` argument in tf.keras 2; `phase_of`), and reading a tensor's value
  inside `call` (`to_numpy`);
- features an implementation removed (`require`): the test is skipped with a
  reason starting "absent:", which the conformance report counts as *absent in
  this implementation*, never as passed.

Tests that check refkeras's own internals carry `@refkeras_only`; under another
implementation they are skipped with a reason starting "refkeras-only:".
"""
import importlib
import os

import numpy as np
import pytest

IMPLEMENTATIONS = ('refkeras', 'tensorflow.keras', 'keras')

NAME = os.environ.get('SPEC_KERAS', 'refkeras')
if NAME not in IMPLEMENTATIONS:
    raise ValueError('SPEC_KERAS must be one of %s, not %r' % (', '.join(IMPLEMENTATIONS), NAME))

IS_REFKERAS = NAME == 'refkeras'
IS_TF_KERAS = NAME == 'tensorflow.keras'

keras = importlib.import_module(NAME)


def _submodule(name):
    return importlib.import_module(NAME + '.' + name)


layers = _submodule('layers')
models = _submodule('models')
backend = _submodule('backend')
callbacks = _submodule('callbacks')
optimizers = _submodule('optimizers')
utils = _submodule('utils')
regularizers = _submodule('regularizers')
initializers = _submodule('initializers')
constraints = _submodule('constraints')


def _version():
    if IS_TF_KERAS:
        import tensorflow
        return tensorflow.__version__
    return getattr(keras, '__version__', 'unknown')


VERSION = _version()
KERAS_3 = NAME == 'keras' and VERSION.split('.')[0] == '3'

if IS_TF_KERAS:
    # Layers that look at the values they are fed (the tests' Recorder) need
    # eager calls; tf.keras compiles `fit`'s step into a graph otherwise.
    import tensorflow
    tensorflow.config.run_functions_eagerly(True)

if KERAS_3:
    # Keras 3 has chosen its backend (JAX, torch, ...) from KERAS_BACKEND by
    # now; refkeras, which the refkeras-only tests import, reads the same
    # variable and knows none of those names.
    KERAS_3_BACKEND = os.environ.pop('KERAS_BACKEND', None)
    # Keras 3 has no global switch for that: every model compiles with
    # run_eagerly=True unless a test says otherwise.
    _compile = models.Model.compile

    def _compile_eagerly(self, *args, **kwargs):
        kwargs.setdefault('run_eagerly', True)
        return _compile(self, *args, **kwargs)

    models.Model.compile = _compile_eagerly


# --- features an implementation removed ------------------------------------------------

# Each entry: feature -> where and why the implementation dropped it (its own
# release notes or the error it raises).
REMOVED = {
    'tensorflow.keras': {
        'multi_gpu_model': 'tf.keras removed utils.multi_gpu_model in TensorFlow 2.4 '
                           '(its release notes point to tf.distribute.MirroredStrategy)',
        'yaml': 'tf.keras 2.6+ removed to_yaml/model_from_yaml (they raise RuntimeError, '
                '"removed due to security risk of arbitrary code execution")',
        'HDF5Matrix': 'tf.keras removed utils.HDF5Matrix (TensorFlow 2.4 release notes)',
        'predict_classes': 'tf.keras removed Sequential.predict_classes in TensorFlow 2.6',
        'learning_phase_input': 'tf.keras 2 runs eagerly: K.learning_phase() is a plain int, '
                                'not a placeholder a K.function can take as an input; '
                                'layers take a `training` argument instead',
        'theano_kernels': 'tf.keras reads no Theano-backend files (Theano support removed in 2.0)',
        'batch_log_size': "tf.keras 2.2+ no longer puts 'batch' and 'size' in the batch logs "
                          'callbacks receive (TensorFlow 2.2 release notes)',
    },
    'keras3': {
        'multi_gpu_model': 'Keras 3 has no utils.multi_gpu_model',
        'yaml': 'Keras 3 has no to_yaml/model_from_yaml',
        'HDF5Matrix': 'Keras 3 has no utils.HDF5Matrix',
        'predict_classes': 'Keras 3 has no predict_classes',
        'learning_phase_input': 'Keras 3 has no K.learning_phase or K.function',
        'k_function': 'Keras 3 has no backend.function',
        'fit_generator': 'Keras 3 removed fit_generator/evaluate_generator/predict_generator '
                         '(fit takes generators and PyDatasets)',
        'enqueuers': 'Keras 3 has no GeneratorEnqueuer/OrderedEnqueuer',
        'h5_whole_model': 'Keras 3 saves whole models as .keras files; .h5 is legacy',
        'by_name_h5': 'Keras 3 load_weights(by_name=True) is for legacy .h5 only',
        'theano_kernels': 'Keras 3 reads no Theano-backend files',
        'batch_log_size': "Keras 3 puts no 'batch' and 'size' in the batch logs",
        'batch_input_shape': 'Keras 3 removed the batch_input_shape argument (Input(batch_shape=...))',
    },
}


def _removed_here():
    if KERAS_3:
        return REMOVED['keras3']
    return REMOVED.get(NAME, {})


def is_absent(feature):
    """Whether the implementation under test documents `feature` as removed."""
    return feature in _removed_here()


def require(*features):
    """Skip the calling test as *absent* if the implementation removed a feature."""
    for feature in features:
        if is_absent(feature):
            pytest.skip('absent: %s' % _removed_here()[feature])


def refkeras_only(reason_or_test):
    """Mark a test (or, called with a reason, make a marker) as checking refkeras
    itself: its internals or a choice refkeras makes where Keras 2.2.4 is silent."""
    if callable(reason_or_test):
        return pytest.mark.refkeras_only(reason_or_test)
    return pytest.mark.refkeras_only(reason=reason_or_test)


def message(pattern):
    """An error or warning message pattern for `pytest.raises(match=...)`: the
    wording is refkeras's, so other implementations are held only to the
    exception (or warning) class."""
    return pattern if IS_REFKERAS else None


def seed(value):
    """Seed every generator a Keras run draws from: NumPy's (all Keras 2.2.4 and
    refkeras use for shuffling and dropout) and, for tf.keras and Keras 3,
    Python's and the backend's too (`utils.set_random_seed`)."""
    np.random.seed(value)
    if IS_TF_KERAS or KERAS_3:
        utils.set_random_seed(value)  # Python's, NumPy's and the backend's generators


# --- documented API differences ---------------------------------------------------------

def optimizer(name, lr=None, **kwargs):
    """An optimizer by class name, with the learning rate in the spelling of the
    implementation (`lr` in Keras 2.2.4, `learning_rate` in tf.keras 2 and Keras 3)."""
    cls = getattr(optimizers, name)
    if lr is not None:
        kwargs['lr' if IS_REFKERAS or (NAME == 'keras' and not KERAS_3) else 'learning_rate'] = lr
    return cls(**kwargs)


def SGD(lr=0.01, **kwargs):
    """`SGD(lr=...)` as Keras 2.2.4 spells it."""
    return optimizer('SGD', lr=lr, **kwargs)


def metric_key(name, keras_2_2_4_key=None):
    """The history/log key of a metric given as `name` to `compile`.

    Keras 2.2.4 names the key after the metric function ('mse' gives
    'mean_squared_error', pass that as `keras_2_2_4_key`) and turns 'accuracy'
    into 'acc' and 'crossentropy' into 'ce'; tf.keras 2 and Keras 3 keep the
    name given (TensorFlow 2.0's release notes)."""
    if IS_REFKERAS or (NAME == 'keras' and not KERAS_3):
        special = {'accuracy': 'acc', 'crossentropy': 'ce'}
        return keras_2_2_4_key or special.get(name, name)
    return name


def get_value(variable):
    """A variable's value as a NumPy array (`K.get_value`; Keras 3 has
    `keras.ops.convert_to_numpy` instead)."""
    if KERAS_3:
        return np.array(keras.ops.convert_to_numpy(variable))
    return backend.get_value(variable)


def optimizer_weights(opt):
    """An optimizer's state as arrays: `get_weights()` in Keras 2.2.4; tf.keras
    2.11+ and Keras 3 optimizers list their state in `variables`."""
    if hasattr(opt, 'get_weights'):
        return opt.get_weights()
    return [np.array(get_value(v)) for v in opt.variables]


def numpy_dtype(dtype):
    """The NumPy dtype of the `dtype` Keras passes to an initializer: a name in
    Keras 2.2.4 ('float32'), a `tf.DType` in tf.keras 2."""
    return np.dtype(getattr(dtype, 'as_numpy_dtype', dtype)) if dtype is not None else None


def _saved_version():
    if IS_REFKERAS:
        return '2.2.4'  # refkeras writes files as Keras 2.2.4 does
    if IS_TF_KERAS:
        return importlib.import_module('keras').__version__  # tf.keras records its keras package
    return VERSION


# The `keras_version` a saved model (HDF5 attribute, JSON field) records.
SAVED_KERAS_VERSION = _saved_version()


def iterations(model):
    """How many updates the model's optimizer has applied."""
    return int(get_value(model.optimizer.iterations))


def phase_of(training):
    """The learning phase (1 training, 0 testing) a layer's `call` runs in."""
    if training is None:
        return 0 if KERAS_3 else backend.learning_phase()
    return int(bool(training))


def is_concrete(tensor):
    """Whether a tensor a layer's `call` receives holds values: refkeras runs
    `call` on arrays only; tf.keras also runs it once on symbolic tensors while
    a functional model is built."""
    if KERAS_3:
        return not isinstance(tensor, keras.KerasTensor) and 'Tracer' not in type(tensor).__name__
    return IS_REFKERAS or hasattr(tensor, 'numpy')


def to_numpy(tensor):
    """The value of a concrete tensor a layer's `call` receives, as a NumPy array."""
    if IS_REFKERAS:
        return np.array(backend.value_of(tensor))
    if KERAS_3:
        return np.array(keras.ops.convert_to_numpy(tensor))
    return np.array(tensor.numpy())


def auto_names(prefix, count):
    """The names the first `count` layers of class `prefix` get after
    `clear_session()`: Keras 2.2.4 counts from 1 (`dense_1`, `dense_2`), tf.keras
    2 and Keras 3 from none (`dense`, `dense_1`)."""
    if IS_REFKERAS or (NAME == 'keras' and not KERAS_3):
        return ['%s_%d' % (prefix, index + 1) for index in range(count)]
    return [prefix] + ['%s_%d' % (prefix, index) for index in range(1, count)]


def child_environment():
    """What a fresh Python process needs in its environment to judge the same
    implementation (the switch, and Keras 3's backend)."""
    env = {'SPEC_KERAS': NAME}
    if KERAS_3 and globals().get('KERAS_3_BACKEND'):
        env['KERAS_BACKEND'] = KERAS_3_BACKEND
    return env


def describe():
    """One line naming the implementation under test."""
    return '%s %s' % (NAME, VERSION)
