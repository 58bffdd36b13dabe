"""Keras 1 call signatures, accepted with a warning (as Keras 2.2.4 accepts them).

Keras-1-era code calls `Dense(output_dim=64, init='normal')`,
`Convolution2D(32, 3, 3, border_mode='same')` or
`model.fit_generator(gen, samples_per_epoch=1000, nb_epoch=5)`. Each Keras 2
signature that had a Keras 1 form carries a one-line decorator from this
module (`@interfaces.legacy_dense_support` on `Dense.__init__`, ...). The
decorator rewrites the Keras 1 arguments into the Keras 2 ones, warns once
per call with both forms, and then calls the Keras 2 function:

    Dense: Keras 1 arguments converted (output_dim -> units).
    Update the call `Dense(output_dim=2, name='d')` to the Keras 2 API:
    `Dense(units=2, name='d')`.

Each decorator is built from a readable table (`generate_legacy_interface`):

- `conversions`: `(keras_1_name, keras_2_name)` renames;
- `value_conversions`: `{keras_1_name: {keras_1_value: keras_2_value}}`,
  applied before the rename (`dim_ordering='th'` -> `'channels_first'`);
- `allowed_positional_args`: the Keras 2 arguments that may be passed by
  position (more positional arguments are an error, because Keras 1 had
  other arguments in those places);
- `preprocessor`: the conversions a rename cannot express (the positional
  kernel sizes `Convolution2D(32, 3, 3)`, `input_dim` + `input_length` ->
  `input_shape`, `samples_per_epoch`, ...).

Errors, raised before the Keras 2 function runs (so before any attribute,
weight or optimizer slot exists):

- a Keras 1 argument together with its Keras 2 replacement
  (`Dense(2, output_dim=3)`, `Dense(units=2, output_dim=2)`): `TypeError`
  naming the layer and both arguments;
- a Keras 1 argument this layer never had (`Dense(2, border_mode='same')`,
  `Conv2D(8, 3, nb_row=3)` without `nb_col`): `TypeError` naming the layer,
  the argument and the Keras 1 arguments the layer does convert;
- too many positional arguments: `TypeError` naming the layer.
"""
import functools
import inspect
import warnings

import numpy as np

# Every Keras 1 argument name a table below converts; filled by
# `generate_legacy_interface`. A keyword in this set that the decorated
# function does not take itself is a Keras 1 argument of *another* layer.
KERAS_1_NAMES = set()
# Keras 2 names that some table produces; never "unknown Keras 1" arguments.
_KERAS_2_NAMES = set()
# Keywords every layer takes (Keras 2), never reported as Keras 1 leftovers.
_LAYER_KEYWORDS = {'input_dim', 'input_length', 'input_shape', 'batch_input_shape',
                   'batch_size', 'dtype', 'input_dtype', 'name', 'trainable', 'weights'}

DIM_ORDERING_VALUES = {'dim_ordering': {'tf': 'channels_last',
                                        'th': 'channels_first',
                                        'default': None}}


def _short(value):
    """A value as the warning shows it: strings quoted, long values cut."""
    if isinstance(value, np.ndarray):
        return 'array(shape=%s)' % (value.shape,)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def describe_call(owner, args, kwargs):
    """`owner(arg, ..., key=value, ...)` as a Keras user would write it."""
    parts = [_short(value) for value in args]
    parts += ['%s=%s' % (key, _short(value)) for key, value in kwargs.items()]
    return '%s(%s)' % (owner, ', '.join(parts))


def raise_duplicate_arg_error(owner, old_name, new_name):
    """A Keras 1 argument came together with its Keras 2 replacement.

    # Raises
        TypeError: always, naming `owner` and both arguments.
    """
    raise TypeError('%s received both the Keras 1 argument `%s` and its Keras 2 replacement '
                    '`%s`; pass only `%s`.' % (owner, old_name, new_name, new_name))


def _positional_names(func):
    """The names of `func`'s positional parameters after `self`."""
    parameters = list(inspect.signature(func).parameters.values())[1:]
    return [p.name for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _keyword_names(func):
    return set(inspect.signature(func).parameters)


def _renamed(kwargs, old_name, new_name):
    """`kwargs` with `old_name` renamed, in the same place (for the warning)."""
    return {(new_name if key == old_name else key): value for key, value in kwargs.items()}


def _convert_values(kwargs, value_conversions):
    for name, table in value_conversions.items():
        if name in kwargs:
            value = kwargs[name]
            try:
                known = value in table
            except TypeError:  # an unhashable value is no Keras 1 constant
                known = False
            if known:
                kwargs[name] = table[value]


def generate_legacy_interface(allowed_positional_args=None, conversions=None, preprocessor=None,
                              value_conversions=None, object_type='class'):
    """A decorator that accepts the Keras 1 form of a Keras 2 signature.

    # Arguments
        allowed_positional_args: names of the Keras 2 arguments that may be
            passed by position (None: any number).
        conversions: list of `(keras_1_name, keras_2_name)` renames.
        preprocessor: optional function `(args, kwargs, owner) -> (args,
            kwargs, converted)` for conversions a rename cannot express;
            `args` includes `self`, `converted` lists `(old, new)` notes for
            the warning. It may raise (naming `owner`) for input it rejects.
        value_conversions: `{keras_1_name: {keras_1_value: keras_2_value}}`.
        object_type: 'class' (decorates `__init__`; the warning names the
            class) or 'method' (names `Class.method`).

    # Returns
        The decorator. The decorated function keeps its name, docstring and
        signature; the undecorated one is its `_original_function`.
    """
    conversions = tuple(conversions or ())
    value_conversions = dict(value_conversions or {})
    KERAS_1_NAMES.update(old for old, _ in conversions)
    _KERAS_2_NAMES.update(new for _, new in conversions)

    def legacy_support(func):
        positional_names = _positional_names(func)
        keyword_names = _keyword_names(func)
        converted_here = {old for old, _ in conversions}

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            if object_type == 'class':
                owner = type(self).__name__
            else:
                owner = '%s.%s' % (type(self).__name__, func.__name__)
            # The call as given, described only if a warning needs it (this
            # wrapper runs on every `get_updates`, i.e. every training step).
            given_args, given_kwargs = args[1:], dict(kwargs)
            kwargs = dict(kwargs)
            converted = []
            if preprocessor is not None:
                args, kwargs, converted = preprocessor(tuple(args), kwargs, owner)
                converted = list(converted)
            if allowed_positional_args is not None and \
                    len(args) - 1 > len(allowed_positional_args):
                raise TypeError('%s accepts at most %d positional argument(s) %s; received %d: '
                                '%s. Pass the others by keyword.'
                                % (owner, len(allowed_positional_args),
                                   tuple(allowed_positional_args), len(args) - 1,
                                   [_short(value) for value in args[1:]]))
            given_by_position = set(positional_names[:len(args) - 1])
            _convert_values(kwargs, value_conversions)
            for old_name, new_name in conversions:
                if old_name in kwargs:
                    if new_name in kwargs or new_name in given_by_position:
                        raise_duplicate_arg_error(owner, old_name, new_name)
                    kwargs = _renamed(kwargs, old_name, new_name)
                    converted.append((old_name, new_name))
            _reject_foreign_keras_1_names(owner, kwargs, keyword_names, converted_here)
            if converted:
                notes = ', '.join('%s -> %s' % (old, new) for old, new in converted)
                warnings.warn('%s: Keras 1 arguments converted (%s). Update the call `%s` to '
                              'the Keras 2 API: `%s`.'
                              % (owner, notes, describe_call(owner, given_args, given_kwargs),
                                 describe_call(owner, args[1:], kwargs)),
                              stacklevel=2)
            return func(*args, **kwargs)

        wrapper._original_function = func
        return wrapper

    return legacy_support


generate_legacy_method_interface = functools.partial(generate_legacy_interface,
                                                     object_type='method')


def _reject_foreign_keras_1_names(owner, kwargs, keyword_names, converted_here):
    """A Keras 1 argument left over after the conversions is one this layer
    never had: say so, instead of the generic "keyword not understood"."""
    for name in kwargs:
        if (name in KERAS_1_NAMES and name not in _KERAS_2_NAMES and
                name not in _LAYER_KEYWORDS and name not in keyword_names):
            here = ', '.join(sorted(converted_here)) or 'none'
            raise TypeError('%s: `%s` is a Keras 1 argument of other layers, not of %s. '
                            'The Keras 1 arguments %s converts: %s.'
                            % (owner, name, owner, owner, here))


def _register_names(*names):
    """Keras 1 names that only a preprocessor converts."""
    KERAS_1_NAMES.update(names)


# --- the argument tables, one per layer family -------------------------------------------

# Dense, the convolutions: Keras 1's weight arguments.
WEIGHT_CONVERSIONS = [('init', 'kernel_initializer'),
                      ('W_regularizer', 'kernel_regularizer'),
                      ('b_regularizer', 'bias_regularizer'),
                      ('W_constraint', 'kernel_constraint'),
                      ('b_constraint', 'bias_constraint'),
                      ('bias', 'use_bias')]

legacy_dense_support = generate_legacy_interface(
    allowed_positional_args=['units'],
    conversions=[('output_dim', 'units')] + WEIGHT_CONVERSIONS)

legacy_dropout_support = generate_legacy_interface(
    allowed_positional_args=['rate', 'noise_shape', 'seed'],
    conversions=[('p', 'rate')])

legacy_spatialdropout1d_support = generate_legacy_interface(
    allowed_positional_args=['rate'],
    conversions=[('p', 'rate')])

legacy_spatialdropoutNd_support = generate_legacy_interface(
    allowed_positional_args=['rate'],
    conversions=[('p', 'rate'), ('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_gaussiandropout_support = generate_legacy_interface(
    allowed_positional_args=['rate'],
    conversions=[('p', 'rate')])

legacy_gaussiannoise_support = generate_legacy_interface(
    allowed_positional_args=['stddev'],
    conversions=[('sigma', 'stddev')])

legacy_prelu_support = generate_legacy_interface(
    allowed_positional_args=['alpha_initializer'],
    conversions=[('init', 'alpha_initializer')])

legacy_lambda_support = generate_legacy_interface(
    allowed_positional_args=['function', 'output_shape'])


def embedding_kwargs_preprocessor(args, kwargs, owner):
    """Keras 1's `Embedding(dropout=...)` has no Keras 2 counterpart: dropped
    with a warning, as Keras 2.2.4 drops it."""
    if 'dropout' in kwargs:
        rate = kwargs.pop('dropout')
        warnings.warn('%s: the Keras 1 argument `dropout` (%r) is ignored; Keras 2 has no '
                      'embedding dropout. A `SpatialDropout1D` layer right after the '
                      'embedding drops whole embedding channels instead.' % (owner, rate),
                      stacklevel=3)
    return args, kwargs, []


legacy_embedding_support = generate_legacy_interface(
    allowed_positional_args=['input_dim', 'output_dim'],
    conversions=[('init', 'embeddings_initializer'),
                 ('W_regularizer', 'embeddings_regularizer'),
                 ('W_constraint', 'embeddings_constraint')],
    preprocessor=embedding_kwargs_preprocessor)


# --- pooling, up-sampling, padding, cropping ----------------------------------------------

legacy_pooling1d_support = generate_legacy_interface(
    allowed_positional_args=['pool_size', 'strides', 'padding'],
    conversions=[('pool_length', 'pool_size'),
                 ('stride', 'strides'),
                 ('border_mode', 'padding')])

legacy_pooling2d_support = generate_legacy_interface(
    allowed_positional_args=['pool_size', 'strides', 'padding'],
    conversions=[('border_mode', 'padding'), ('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_pooling3d_support = legacy_pooling2d_support

legacy_global_pooling_support = generate_legacy_interface(
    conversions=[('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_upsampling1d_support = generate_legacy_interface(
    allowed_positional_args=['size'],
    conversions=[('length', 'size')])

legacy_upsampling2d_support = generate_legacy_interface(
    allowed_positional_args=['size'],
    conversions=[('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_upsampling3d_support = legacy_upsampling2d_support

PAD_KEYS = ('top_pad', 'bottom_pad', 'left_pad', 'right_pad')


def zeropadding2d_args_preprocessor(args, kwargs, owner):
    """Keras 1's `padding={'top_pad': 1, 'left_pad': 3, ...}` (missing keys 0)
    -> `((top, bottom), (left, right))`."""
    converted = []

    def from_dict(padding):
        unknown = set(padding) - set(PAD_KEYS)
        if unknown:
            raise ValueError('%s: a `padding` dict may only have the keys %s; received %s.'
                             % (owner, ', '.join(PAD_KEYS), sorted(unknown)))
        converted.append(('padding dict', 'padding tuples'))
        return ((padding.get('top_pad', 0), padding.get('bottom_pad', 0)),
                (padding.get('left_pad', 0), padding.get('right_pad', 0)))

    if isinstance(kwargs.get('padding'), dict):
        kwargs['padding'] = from_dict(kwargs['padding'])
    elif len(args) >= 2 and isinstance(args[1], dict):
        args = (args[0], from_dict(args[1])) + tuple(args[2:])
    return args, kwargs, converted


legacy_zeropadding2d_support = generate_legacy_interface(
    allowed_positional_args=['padding'],
    conversions=[('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=zeropadding2d_args_preprocessor)

legacy_zeropadding3d_support = generate_legacy_interface(
    allowed_positional_args=['padding'],
    conversions=[('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_cropping2d_support = generate_legacy_interface(
    allowed_positional_args=['cropping'],
    conversions=[('dim_ordering', 'data_format')],
    value_conversions=DIM_ORDERING_VALUES)

legacy_cropping3d_support = legacy_cropping2d_support


# --- convolutions -------------------------------------------------------------------------

def _input_dim_to_shape(kwargs, converted):
    """`input_dim` (+ `input_length`) -> `input_shape=(input_length, input_dim)`."""
    if 'input_dim' in kwargs:
        length = kwargs.pop('input_length', None)
        kwargs['input_shape'] = (length, kwargs.pop('input_dim'))
        converted.append(('input_dim/input_length', 'input_shape'))


def conv1d_args_preprocessor(args, kwargs, owner):
    converted = []
    _input_dim_to_shape(kwargs, converted)
    return args, kwargs, converted


def _kernel_size_from_keras_1(args, kwargs, owner, dimension_names):
    """Keras 1 gave the kernel size as separate integers, by position after
    the number of filters (`Convolution2D(32, 3, 3)`) or by keyword (`nb_row`,
    `nb_col`; `kernel_dim1..3`), in any mix that starts positionally.

    Returns `(args, kwargs, converted)` with one `kernel_size` tuple.

    # Raises
        TypeError: for more positional integers than the kernel has, or for
            some of the dimension keywords without the others.
        ValueError: for integer kernel sizes by position together with
            `padding`, `strides` or `data_format` keywords: Keras 2 reads a
            third positional integer as `strides`, so such a call is
            ambiguous.
    """
    rank = len(dimension_names)
    filters_and_sizes = list(args[1:])
    if len(filters_and_sizes) > 1 + rank:
        raise TypeError('%s accepts at most %d positional arguments (the number of filters and '
                        'the %d kernel sizes); received %d.'
                        % (owner, 1 + rank, rank, len(filters_and_sizes)))
    positional_sizes = filters_and_sizes[1:]
    keyword_sizes = [name for name in dimension_names if name in kwargs]
    if len(positional_sizes) < 2 and not keyword_sizes:
        return args, kwargs, []  # the Keras 2 form: (filters, kernel_size)
    if not all(isinstance(size, int) for size in positional_sizes):
        if keyword_sizes:
            raise TypeError('%s: the kernel size was given as %s and also by the Keras 1 '
                            'keywords %s; pass one `kernel_size`.'
                            % (owner, positional_sizes, ', '.join(keyword_sizes)))
        return args, kwargs, []
    needed = dimension_names[len(positional_sizes):]
    if len(positional_sizes) > 1 and any(
            key in kwargs for key in ('padding', 'strides', 'data_format')):
        raise ValueError('%s: the kernel size given as %d positional integers together with '
                         '`padding`, `strides` or `data_format` is ambiguous (Keras 2 reads the '
                         'third positional integer as `strides`). Pass '
                         '`kernel_size=(...)` as one tuple.' % (owner, len(positional_sizes)))
    missing = [name for name in needed if name not in kwargs]
    if missing:
        raise TypeError('%s: the Keras 1 kernel size needs all of %s (by position or keyword); '
                        'missing %s.' % (owner, ', '.join(dimension_names), ', '.join(missing)))
    extra = [name for name in keyword_sizes if name not in needed]
    if extra:
        raise TypeError('%s: the kernel size %s was given both by position and by keyword.'
                        % (owner, ', '.join(extra)))
    kernel_size = tuple(positional_sizes) + tuple(kwargs.pop(name) for name in needed)
    if filters_and_sizes:
        args = (args[0], filters_and_sizes[0], kernel_size)
    else:
        args = (args[0],)
        kwargs['kernel_size'] = kernel_size
    return args, kwargs, [('/'.join(dimension_names), 'kernel_size')]


CONV2D_KERNEL_NAMES = ('nb_row', 'nb_col')
CONV3D_KERNEL_NAMES = ('kernel_dim1', 'kernel_dim2', 'kernel_dim3')
_register_names(*CONV2D_KERNEL_NAMES + CONV3D_KERNEL_NAMES)


def conv2d_args_preprocessor(args, kwargs, owner):
    return _kernel_size_from_keras_1(args, kwargs, owner, CONV2D_KERNEL_NAMES)


def conv3d_args_preprocessor(args, kwargs, owner):
    return _kernel_size_from_keras_1(args, kwargs, owner, CONV3D_KERNEL_NAMES)


def separable_conv2d_args_preprocessor(args, kwargs, owner):
    """Keras 1's one `init` initialised both of a separable convolution's kernels."""
    converted = []
    if 'init' in kwargs:
        for new_name in ('depthwise_initializer', 'pointwise_initializer'):
            if new_name in kwargs:
                raise_duplicate_arg_error(owner, 'init', new_name)
        init = kwargs.pop('init')
        kwargs['depthwise_initializer'] = init
        kwargs['pointwise_initializer'] = init
        converted.append(('init', 'depthwise_initializer/pointwise_initializer'))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs, owner)
    return args, kwargs, converted + more


def deconv2d_args_preprocessor(args, kwargs, owner):
    """Keras 1's `Deconvolution2D(nb_filter, nb_row, nb_col, output_shape)`:
    Keras 2 computes the output shape, so `output_shape` (by position or
    keyword) is dropped, as Keras 2.2.4 drops it."""
    converted = []
    if len(args) == 5 and isinstance(args[4], tuple):
        args = tuple(args[:4])
        converted.append(('output_shape', '(computed)'))
    if 'output_shape' in kwargs:
        kwargs.pop('output_shape')
        converted.append(('output_shape', '(computed)'))
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs, owner)
    return args, kwargs, converted + more


_register_names('output_shape')

CONV_CONVERSIONS = [('nb_filter', 'filters'),
                    ('subsample', 'strides'),
                    ('border_mode', 'padding'),
                    ('dim_ordering', 'data_format')] + WEIGHT_CONVERSIONS

legacy_conv1d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=[('nb_filter', 'filters'),
                 ('filter_length', 'kernel_size'),
                 ('subsample_length', 'strides'),
                 ('border_mode', 'padding')] + WEIGHT_CONVERSIONS,
    preprocessor=conv1d_args_preprocessor)

legacy_conv2d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=CONV_CONVERSIONS,
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=conv2d_args_preprocessor)

legacy_separable_conv2d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=[('nb_filter', 'filters'),
                 ('subsample', 'strides'),
                 ('border_mode', 'padding'),
                 ('dim_ordering', 'data_format'),
                 ('b_regularizer', 'bias_regularizer'),
                 ('b_constraint', 'bias_constraint'),
                 ('bias', 'use_bias')],
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=separable_conv2d_args_preprocessor)

legacy_deconv2d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=CONV_CONVERSIONS,
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=deconv2d_args_preprocessor)

legacy_conv3d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=CONV_CONVERSIONS,
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=conv3d_args_preprocessor)


# --- recurrent layers ---------------------------------------------------------------------

def _forget_bias_init(kwargs, owner, converted):
    """Keras 1's `forget_bias_init='one'` is Keras 2's `unit_forget_bias=True`;
    any other value is ignored with a warning (Keras 2 has no such argument)."""
    if 'forget_bias_init' in kwargs:
        value = kwargs.pop('forget_bias_init')
        if value == 'one':
            if 'unit_forget_bias' in kwargs:
                raise_duplicate_arg_error(owner, 'forget_bias_init', 'unit_forget_bias')
            kwargs['unit_forget_bias'] = True
            converted.append(('forget_bias_init', 'unit_forget_bias'))
        else:
            warnings.warn('%s: the Keras 1 argument `forget_bias_init=%r` is ignored; use '
                          '`unit_forget_bias=True` to start the forget gate biases at one.'
                          % (owner, value), stacklevel=4)


_register_names('forget_bias_init')


def recurrent_args_preprocessor(args, kwargs, owner):
    converted = []
    _forget_bias_init(kwargs, owner, converted)
    _input_dim_to_shape(kwargs, converted)
    return args, kwargs, converted


RECURRENT_CONVERSIONS = [('output_dim', 'units'),
                         ('init', 'kernel_initializer'),
                         ('inner_init', 'recurrent_initializer'),
                         ('inner_activation', 'recurrent_activation'),
                         ('W_regularizer', 'kernel_regularizer'),
                         ('b_regularizer', 'bias_regularizer'),
                         ('U_regularizer', 'recurrent_regularizer'),
                         ('dropout_W', 'dropout'),
                         ('dropout_U', 'recurrent_dropout'),
                         ('consume_less', 'implementation')]

legacy_recurrent_support = generate_legacy_interface(
    allowed_positional_args=['units'],
    conversions=RECURRENT_CONVERSIONS,
    value_conversions={'consume_less': {'cpu': 0, 'mem': 1, 'gpu': 2}},
    preprocessor=recurrent_args_preprocessor)


def convlstm2d_args_preprocessor(args, kwargs, owner):
    converted = []
    _forget_bias_init(kwargs, owner, converted)
    args, kwargs, more = conv2d_args_preprocessor(args, kwargs, owner)
    return args, kwargs, converted + more


legacy_convlstm2d_support = generate_legacy_interface(
    allowed_positional_args=['filters', 'kernel_size'],
    conversions=[('nb_filter', 'filters'),
                 ('subsample', 'strides'),
                 ('border_mode', 'padding'),
                 ('dim_ordering', 'data_format'),
                 ('init', 'kernel_initializer'),
                 ('inner_init', 'recurrent_initializer'),
                 ('W_regularizer', 'kernel_regularizer'),
                 ('U_regularizer', 'recurrent_regularizer'),
                 ('b_regularizer', 'bias_regularizer'),
                 ('inner_activation', 'recurrent_activation'),
                 ('dropout_W', 'dropout'),
                 ('dropout_U', 'recurrent_dropout'),
                 ('bias', 'use_bias')],
    value_conversions=DIM_ORDERING_VALUES,
    preprocessor=convlstm2d_args_preprocessor)


# --- normalization ------------------------------------------------------------------------

def batchnorm_args_preprocessor(args, kwargs, owner):
    """Keras 1's `mode=0` is Keras 2's only behaviour; modes 1 and 2 are gone."""
    converted = []
    if 'mode' in kwargs:
        mode = kwargs.pop('mode')
        if mode != 0:
            raise TypeError('%s: the Keras 1 argument `mode=%r` no longer exists; only mode 0 '
                            '(per-feature normalization with moving statistics) does, and it is '
                            'the Keras 2 behaviour.' % (owner, mode))
        converted.append(('mode=0', '(default)'))
    return args, kwargs, converted


_register_names('mode')

legacy_batchnorm_support = generate_legacy_interface(
    allowed_positional_args=[],
    conversions=[('beta_init', 'beta_initializer'),
                 ('gamma_init', 'gamma_initializer')],
    preprocessor=batchnorm_args_preprocessor)


# --- models, inputs, weights, optimizers --------------------------------------------------

def generator_methods_args_preprocessor(args, kwargs, owner):
    """Keras 1 counted samples, Keras 2 counts batches (steps).

    `samples_per_epoch` becomes `steps_per_epoch = samples_per_epoch //
    generator.batch_size` when the generator has a `batch_size`, else the
    same number (Keras 2.2.4's rule). `nb_val_samples` and `val_samples` are
    renamed only (the table), with a warning that they now count batches.
    """
    converted = []
    if 'samples_per_epoch' in kwargs:
        if 'steps_per_epoch' in kwargs or len(args) >= 3:
            raise_duplicate_arg_error(owner, 'samples_per_epoch', 'steps_per_epoch')
        samples = kwargs.pop('samples_per_epoch')
        generator = args[1] if len(args) > 1 else kwargs.get('generator')
        batch_size = getattr(generator, 'batch_size', None)
        kwargs['steps_per_epoch'] = samples // batch_size if batch_size else samples
        converted.append(('samples_per_epoch', 'steps_per_epoch'))
    if {'samples_per_epoch', 'val_samples', 'nb_val_samples'} & set(kwargs) or converted:
        warnings.warn('%s: Keras 2 counts batches where Keras 1 counted samples: '
                      '`steps_per_epoch`, `validation_steps` and `steps` are numbers of '
                      'batches drawn from the generator (samples / batch size).' % owner,
                      stacklevel=3)
    return args, kwargs, converted


_register_names('samples_per_epoch')

legacy_generator_methods_support = generate_legacy_method_interface(
    allowed_positional_args=['generator', 'steps_per_epoch', 'epochs'],
    conversions=[('val_samples', 'steps'),
                 ('nb_epoch', 'epochs'),
                 ('nb_val_samples', 'validation_steps'),
                 ('nb_worker', 'workers'),
                 ('pickle_safe', 'use_multiprocessing'),
                 ('max_q_size', 'max_queue_size')],
    preprocessor=generator_methods_args_preprocessor)

legacy_model_constructor_support = generate_legacy_interface(
    conversions=[('input', 'inputs'), ('output', 'outputs')])

legacy_input_support = generate_legacy_interface(
    conversions=[('input_dtype', 'dtype')])

# Keras 1 and 2.0: add_weight(shape, initializer, name, trainable, regularizer, constraint).
KERAS_1_ADD_WEIGHT_ORDER = ('shape', 'initializer', 'name', 'trainable', 'regularizer',
                            'constraint')


def add_weight_args_preprocessing(args, kwargs, owner):
    """`add_weight((3, 4), 'zeros', 'W')`: a shape first is the Keras 1 order
    of the positional arguments (`KERAS_1_ADD_WEIGHT_ORDER`), turned into
    keywords. (Keras 2.2.4 read a string after the shape as the name.)"""
    if len(args) > 1 and isinstance(args[1], (tuple, list)):
        values = args[1:]
        if len(values) > len(KERAS_1_ADD_WEIGHT_ORDER):
            raise TypeError('%s: the Keras 1 form takes at most %d positional '
                            'arguments %s; received %d.'
                            % (owner, len(KERAS_1_ADD_WEIGHT_ORDER), KERAS_1_ADD_WEIGHT_ORDER,
                               len(values)))
        for name, value in zip(KERAS_1_ADD_WEIGHT_ORDER, values):
            if name in kwargs:
                raise TypeError('%s received `%s` both by position (Keras 1 order '
                                '%s) and by keyword.' % (owner, name, KERAS_1_ADD_WEIGHT_ORDER))
            kwargs[name] = value
        args = (args[0],)
        return args, kwargs, [('positional (shape, initializer, ...)', 'keywords')]
    return args, kwargs, []


legacy_add_weight_support = generate_legacy_method_interface(
    allowed_positional_args=['name', 'shape'],
    preprocessor=add_weight_args_preprocessing)


def get_updates_arg_preprocessing(args, kwargs, owner):
    """Keras 1's `get_updates(params, constraints, loss)` -> Keras 2's
    `get_updates(loss, params)`.

    The Keras 1 `constraints` dict (`{variable: constraint}`) is not applied,
    as in Keras 2.2.4: Keras 2 applies the constraint each variable carries
    (`add_weight(constraint=...)`). Where the dict names a variable without a
    constraint of its own, a warning says so (Keras 2.2.4 said nothing).
    """
    values = list(args[1:])
    if len(values) > 3:
        raise TypeError('%s takes (loss, params), or the Keras 1 (params, '
                        'constraints, loss); received %d positional arguments.'
                        % (owner, len(values)))
    keras_1 = (len(values) == 3 or
               (len(values) == 2 and isinstance(values[0], (list, tuple)) and
                isinstance(values[1], dict)))
    if not keras_1:
        return args, kwargs, []
    params, constraints = values[0], values[1]
    loss = values[2] if len(values) == 3 else kwargs.pop('loss', None)
    if loss is None:
        raise TypeError('%s: the Keras 1 form (params, constraints, loss) needs '
                        'the loss.' % owner)
    if 'loss' in kwargs or 'params' in kwargs:
        raise TypeError('%s received the Keras 1 positional form (params, '
                        'constraints, loss) together with `loss`/`params` keywords.' % owner)
    if not isinstance(constraints, dict):
        raise TypeError('%s: in the Keras 1 form (params, constraints, loss) the '
                        'second argument is a dict {variable: constraint}; received %s.'
                        % (owner, type(constraints).__name__))
    if any(getattr(param, 'constraint', None) is None for param in constraints):
        warnings.warn('%s: the Keras 1 `constraints` dict is ignored; in Keras 2 '
                      'a constraint belongs to its weight (`add_weight(constraint=...)`).'
                      % owner, stacklevel=3)
    kwargs['loss'] = loss
    kwargs['params'] = params
    return (args[0],), kwargs, [('(params, constraints, loss)', '(loss, params)')]


legacy_get_updates_support = generate_legacy_method_interface(
    allowed_positional_args=None,
    preprocessor=get_updates_arg_preprocessing)
