"""`Model`: a `Network` that can be compiled, trained, evaluated and used to predict.

Where each FAQ answer lives:

- "What does sample, batch, epoch mean?": `_fit_loop` — one batch is one
  update (`_train_step`); the last batch of an epoch may be smaller.
- "Why is the training loss much higher than the testing loss?": `_train_step`
  runs in training mode (learning phase 1, Dropout active, penalties added) and
  the epoch's loss is the batch-size-weighted mean over its batches
  (`BaseLogger`); `_test_step` (evaluate, validation) runs in test mode, once the
  epoch is over.
- "How is the validation split computed?": `fit` takes the *last* fraction of
  the arrays as passed, before any shuffling, for every epoch.
- "Is the data shuffled during training?": `_fit_loop` shuffles the training
  indices at every epoch when `shuffle=True`; validation data never.
- "How can I record the training / validation loss / accuracy at each epoch?":
  `fit` returns the `History` callback.
- "How can I 'freeze' Keras layers?": `compile` snapshots the trainable weights;
  `_train_step` updates exactly that snapshot.

Where values live: each step copies its batch (inputs, targets, sample
weights) to the running backend once (`_on_backend`; nothing to do for the
reference, a copy to device memory for accel), and copies the logged scalars
and predictions back. Weights and optimizer state stay on the backend between
steps. The loops take their batches from the call's feed and read each step's
results back through it (`feeding`: for the reference, each batch is sliced
on the host when its step comes; a backend may stage the next batch while a
step runs, and its batches then arrive already on the backend, which
`_on_backend` passes through).
"""
import warnings

import numpy as np

from refkeras import backend as K
from refkeras import callbacks as cbks
from refkeras.distributed import state as distributed_state
from refkeras import losses as losses_module
from refkeras import metrics as metrics_module
from refkeras import optimizers
from refkeras.backend import graph as graph_module
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine import epoch_loop, feeding
from refkeras.engine import layer_losses
from refkeras.engine import run_context
from refkeras.engine import training_utils as tu
from refkeras.engine import training_generator
from refkeras.engine.network import Network
from refkeras.layers.recurrent import warn_if_shuffling_stateful
from refkeras.layers.recurrent import check_stateful_batch
from refkeras.legacy import interfaces
from refkeras.utils.generic_utils import to_list, unpack_singleton
from refkeras.utils.progbar import Progbar


def _floats(host_values):
    """A step's logged scalars, read back to the host, as Python floats."""
    return [float(value) for value in host_values]


def _on_backend(arrays):
    """A batch's arrays as arrays of the running backend (None entries kept)."""
    if arrays is None:
        return None
    return [None if a is None else K.backend_array(a) for a in arrays]


class Model(Network):
    """A trainable graph of layers: `Model(inputs, outputs)`.

    # Arguments
        inputs: an `Input` tensor or a list of them.
        outputs: the tensor(s) computed from them.
        name: optional model name.

    # Raises
        ValueError: see `Network`.
        TypeError: if `inputs`/`outputs` are missing (refkeras has no
            subclassed models).
    """

    def __init__(self, *args, **kwargs):
        if 'input' in kwargs and 'inputs' not in kwargs:
            kwargs['inputs'] = kwargs.pop('input')
        if 'output' in kwargs and 'outputs' not in kwargs:
            kwargs['outputs'] = kwargs.pop('output')
        inputs = kwargs.pop('inputs', args[0] if len(args) > 0 else None)
        outputs = kwargs.pop('outputs', args[1] if len(args) > 1 else None)
        name = kwargs.pop('name', args[2] if len(args) > 2 else None)
        if kwargs:
            raise TypeError('Model got unexpected keyword arguments: %s' % sorted(kwargs))
        if inputs is None or outputs is None:
            raise TypeError('Model needs `inputs` and `outputs` (the functional API); refkeras '
                            'does not support subclassed models.')
        Network.__init__(self, inputs, outputs, name=name)
        self._model_compiled_state_init()

    def _set_inputs(self, inputs, outputs=None, training=None):
        """Keras 2.2.4's hook for models that learn their inputs late.

        A `Sequential` model is built for the shape of `inputs` (arrays or
        tensors). A functional model whose `inputs` were cleared (set to
        None) takes back the `Input` tensors of its graph; refkeras has no
        subclassed models, so there is nothing else to infer.

        # Raises
            ValueError: if the inputs are already set, or are not `Input`
                tensors the outputs can be computed from.
        """
        if self.__class__.__name__ == 'Sequential':
            first = to_list(inputs, allow_tuple=True)[0]
            self.build((None,) + tuple(first.shape[1:]))
            return
        if self.inputs:
            raise ValueError('Model inputs are already set.')
        inputs = to_list(inputs, allow_tuple=True)
        if not all(isinstance(x, SymbolicTensor) for x in inputs):
            raise ValueError('Model %s: `_set_inputs` takes the `Input` tensors of the model\'s '
                             'graph (refkeras has no subclassed models); received %r.'
                             % (self.name, inputs))
        self._init_graph_network(inputs, self.outputs if outputs is None else outputs)

    def _model_compiled_state_init(self):
        self.optimizer = None
        self.loss = None
        self.loss_functions = []
        self.metrics = []
        self.metrics_names = []
        self._compiled = False
        self._collected_trainable_weights = None
        self._train_updates = None
        self._deferred_compile = None
        self.stop_training = False
        self.history = None

    # --- compile ------------------------------------------------------------

    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, weighted_metrics=None, target_tensors=None, **kwargs):
        """Configures the model for training.

        Also snapshots which weights are trainable (FAQ: "How can I 'freeze'
        Keras layers?"): setting `layer.trainable` later has no effect on
        training until `compile` is called again.

        # Arguments
            optimizer: name or optimizer instance.
            loss: name or function; for several outputs, a list or a dict by
                output name (or one loss used for all outputs).
            metrics: list of names/functions (or a dict by output name).
            loss_weights: list or dict of scalar weights of each output's loss.
            sample_weight_mode: None, or 'temporal' for per-timestep weights
                (a list or dict for several outputs).
            weighted_metrics: metrics weighted by `sample_weight`/`class_weight`.
            target_tensors: unsupported (refkeras feeds targets as arrays).

        # Raises
            ValueError: for an unknown optimizer, loss or metric, or a loss /
                loss_weights structure that does not match the outputs. The
                model is left as it was.
        """
        if kwargs:
            raise TypeError('Invalid keyword argument(s) in `compile`: %s' % sorted(kwargs))
        optimizer = optimizers.get(optimizer)
        if not self.built:
            # A deferred Sequential model (Keras 2.2.4): it does not know its
            # outputs yet, so it is compiled with these arguments once it is
            # built from the first data (`Sequential.build`).
            self.optimizer = optimizer
            self.loss = loss or {}
            self._deferred_compile = dict(
                optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights,
                sample_weight_mode=sample_weight_mode, weighted_metrics=weighted_metrics)
            return
        if loss is None or (isinstance(loss, (list, dict)) and not loss):
            loss = {}  # as Keras 2.2.4: no output is trained (only added losses are)
        plan = self._compile_plan(loss, metrics, loss_weights, sample_weight_mode,
                                  weighted_metrics, target_tensors)
        # Everything is valid: now change the model.
        self.optimizer = optimizer
        self.loss = loss
        self.target_tensors = target_tensors
        self.loss_weights = loss_weights
        self.sample_weight_mode = sample_weight_mode
        self.metrics = metrics or []
        self.weighted_metrics = weighted_metrics
        for attribute, value in plan.items():
            setattr(self, attribute, value)
        self._name_metrics()
        self._collected_trainable_weights = list(self.trainable_weights)
        self._train_updates = None
        self._compiled = True

    def _compile_plan(self, loss, metrics, loss_weights, sample_weight_mode, weighted_metrics,
                      target_tensors):
        """`compile`'s arguments checked and resolved per output, changing nothing.

        # Returns
            A dict of the model attributes `compile` then sets.

        # Raises
            ValueError / TypeError: as `compile`.
        """
        names = self.output_names
        loss_fns = [None if fn is None else losses_module.get(fn)
                    for fn in self._per_output(loss, 'loss', required=True)]
        if all(fn is None for fn in loss_fns) and not self._internal_loss_entries():
            raise ValueError('The model cannot be compiled because it has no loss to optimize: '
                             'pass `loss` for its outputs, or add losses with `add_loss`.')
        targets = self._per_output_targets(target_tensors)
        if loss_weights is not None and not isinstance(loss_weights, (list, dict)):
            raise TypeError('Could not interpret loss_weights argument: %r - expected a list '
                            'or a dict by output name.' % (loss_weights,))
        weights = self._per_output(loss_weights, 'loss_weights', default=1.0)
        if isinstance(sample_weight_mode, dict):
            missing = [n for n in names if n not in sample_weight_mode]
            if missing:
                raise ValueError('Output "%s" missing from sample_weight_mode dictionary (it '
                                 'needs an entry for every output: %s).' % (missing[0], names))
        modes = self._per_output(sample_weight_mode, 'sample_weight_mode', default=None)
        # As in Keras 2.2.4, outputs without a loss get no metrics either.
        metric_lists = [ms if fn else [] for ms, fn in zip(self._collect_metrics(metrics),
                                                           loss_fns)]
        weighted_lists = [ms if fn else [] for ms, fn in
                          zip(self._collect_metrics(weighted_metrics), loss_fns)]
        resolved = [self._resolve_metrics(ms, fn, out.shape, '')
                    for ms, fn, out in zip(metric_lists, loss_fns, self.outputs)]
        resolved_w = [self._resolve_metrics(ms, fn, out.shape, 'weighted_')
                      for ms, fn, out in zip(weighted_lists, loss_fns, self.outputs)]
        return {'loss_functions': loss_fns, '_fixed_targets': targets,
                '_loss_weight_values': [float(w) for w in weights],
                '_sample_weight_modes': modes,
                '_output_metrics': [(a, b) for a, b in zip(resolved, resolved_w)]}

    def _name_metrics(self):
        """`metrics_names` (Keras 2.2.4's order and prefixes), and the stateful
        metrics among them."""
        names, loss_fns = self.output_names, self.loss_functions
        self.metrics_names = ['loss']
        multi = len(names) > 1
        if multi:
            self.metrics_names += ['%s_loss' % n for n, fn in zip(names, loss_fns) if fn]
        for name, (plain, weighted) in zip(names, self._output_metrics):
            for label, _ in plain + weighted:
                self.metrics_names.append('%s_%s' % (name, label) if multi else label)
        # Stateful metrics (a Layer-like metric with `stateful = True` and
        # `reset_states()`, as in Keras 2.2.4): reset before each epoch and each
        # evaluation, and reported as their last batch value, not averaged.
        self.stateful_metric_functions, self.stateful_metric_names = [], []
        for name, (plain, weighted) in zip(names, self._output_metrics):
            for label, fn in plain + weighted:
                if getattr(fn, 'stateful', False) and hasattr(fn, 'reset_states'):
                    self.stateful_metric_functions.append(fn)
                    self.stateful_metric_names.append('%s_%s' % (name, label) if multi else label)

    def _make_train_function(self):
        """Prepares the training step, as Keras 2.2.4 does on the first one after `compile`.

        Keras 2.2.4's training function runs the model's `updates` as they
        are when it is made; refkeras's step is eager, and this records which
        updates it may apply (a layer frozen by then, e.g. a
        `BatchNormalization` with `trainable=False`, keeps its state), and
        creates the optimizer's slots. Called by the first training step after
        `compile`; calling it earlier changes nothing else.

        # Raises
            RuntimeError: if the model is not compiled.
        """
        self._check_compiled()
        if self._compiled and self._train_updates is None:
            self._train_updates = list(self.updates)
            self.optimizer.build(self._collected_trainable_weights)

    def _make_test_function(self):
        """Keras 2.2.4 API; refkeras's test step needs no preparation."""
        self._check_compiled()

    def _make_predict_function(self):
        """Keras 2.2.4 API (often called before serving a model from threads);
        refkeras's prediction needs no preparation."""

    def _reset_metric_states(self):
        for metric in getattr(self, 'stateful_metric_functions', []):
            metric.reset_states()

    def _test_results(self, totals, seen, last):
        """Batch-size-weighted averages of a test loop's outputs, except the
        stateful metrics' last batch values."""
        stateful = set(getattr(self, 'stateful_metric_names', []))
        # NumPy float64 scalars (a float subclass with `.shape == ()`), as Keras 2.2.4 returns
        return [np.float64(last[i]) if name in stateful else np.float64(totals[i] / seen)
                for i, name in enumerate(self.metrics_names)]

    def _per_output(self, value, what, required=False, default=None):
        """Spreads a per-output argument (one value, list, or dict) over the outputs."""
        names = self.output_names
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError('Unknown entry in %s dictionary: %r. Only expected the following '
                                 'keys: %s' % (what, unknown[0], names))
            out = []
            for n in names:
                if n not in value:
                    if required:
                        warnings.warn('Output "%s" missing from %s dictionary. We assume this was '
                                      'done on purpose: it will not be trained, and no data is '
                                      'expected for it.' % (n, what))
                    out.append(default)
                else:
                    out.append(value[n])
            return out
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError('When passing a list as %s, it should have one entry per model '
                                 'output. The model has %d outputs, but you passed %s=%r'
                                 % (what, len(names), what, value))
            return list(value)
        if value is None:
            if required:
                raise ValueError('compile() needs a `loss` (a name like "mse" or a function).')
            return [default] * len(names)
        return [value] * len(names)

    def _per_output_targets(self, target_tensors):
        """`compile`'s `target_tensors` as one entry per output: None (targets
        passed to fit / train_on_batch, as are placeholders) or the fixed
        target tensor (a variable or array, whose value is used).

        # Raises
            ValueError / TypeError: for a structure that does not match the
                outputs, as in Keras 2.2.4.
        """
        names = self.output_names
        if target_tensors is None:
            return [None] * len(names)
        if isinstance(target_tensors, (list, tuple)):
            if len(target_tensors) != len(names):
                raise ValueError('When passing a list as `target_tensors`, it should have one '
                                 'entry per model output. The model has %d outputs, but you '
                                 'passed target_tensors=%s' % (len(names), target_tensors))
            entries = list(target_tensors)
        elif isinstance(target_tensors, dict):
            unknown = [k for k in target_tensors if k not in names]
            if unknown:
                raise ValueError('Unknown entry in `target_tensors` dictionary: %r. Only expected '
                                 'the following keys: %s' % (unknown[0], names))
            entries = [target_tensors.get(n) for n in names]
        elif K.is_tensor(target_tensors) or isinstance(target_tensors, np.ndarray):
            if len(names) != 1:
                raise ValueError('The model has %d outputs, but you passed a single tensor as '
                                 '`target_tensors`. Expected a list or a dict of tensors.'
                                 % len(names))
            entries = [target_tensors]
        else:
            raise TypeError('Expected `target_tensors` to be a tensor, a list of tensors, or a '
                            'dict of tensors, but got: %r' % (target_tensors,))
        return [None if t is None or isinstance(t, SymbolicTensor) else t for t in entries]

    def _fed_output_indices(self):
        """The outputs whose targets come from the data: those with a loss and
        no fixed target tensor."""
        fixed = getattr(self, '_fixed_targets', None) or [None] * len(self.outputs)
        return [i for i, (fn, t) in enumerate(zip(self.loss_functions, fixed))
                if fn is not None and t is None]

    def _collect_metrics(self, metrics):
        return tu.collect_metrics(metrics, self.output_names)

    def _resolve_metrics(self, metric_list, loss_fn, output_shape, prefix):
        """`(log key, function)` for each metric, named as Keras 2.2.4 names them."""
        resolved = []
        for m in metric_list:
            label, fn = metrics_module.resolve_metric(m, loss_fn, output_shape)
            resolved.append((prefix + label, fn))
        return resolved

    def _check_compiled(self):
        if not self._compiled and getattr(self, '_deferred_compile', None) is None:
            raise RuntimeError('You must compile your model before training/testing. Use '
                               '`model.compile(optimizer, loss)`.')

    def _check_trainable_weights_consistency(self):
        """Warns if `trainable` changed since `compile` (it has no effect until recompiling)."""
        if self._collected_trainable_weights is None:
            return
        if len(self.trainable_weights) != len(self._collected_trainable_weights) or any(
                a is not b for a, b in zip(self.trainable_weights,
                                           self._collected_trainable_weights)):
            warnings.warn('Discrepancy between trainable weights and collected trainable weights, '
                          'did you set `model.trainable` without calling `model.compile` after ?')

    def summary(self, line_length=None, positions=None, print_fn=None):
        """As `Network.summary`, warning first (as Keras 2.2.4 does) if
        `trainable` changed since `compile`: the trainable count printed is
        the one training uses."""
        self._check_trainable_weights_consistency()
        Network.summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # --- one step --------------------------------------------------------------

    def _forward(self, xs, phase, loss_entries=None):
        """Runs the graph; returns (outputs, masks, values of the model's own
        symbolic losses among `loss_entries`), the losses computed in the same
        pass (see `Network._own_symbolic_losses`). No losses without entries."""
        extra = self._own_symbolic_losses(loss_entries) if loss_entries else []
        feed = self._feed(xs)
        values, masks = graph_module.evaluate(self.outputs + extra, feed, phase,
                                              order=self._evaluation_order(extra),
                                              return_masks=True)
        n = len(self.outputs)
        return values[:n], masks[:n], values[n:]

    def _evaluation_order(self, extra):
        """The nodes to run for the outputs and the symbolic losses `extra`
        (cached while the losses stay the same)."""
        if not extra:
            return self._order
        key = (tuple(id(x) for x in self.outputs), tuple(id(x) for x in extra))
        cached = getattr(self, '_loss_order_cache', None)
        if cached is None or cached[0] != key:
            order = graph_module.topological_nodes(self.outputs + extra,
                                                   {id(x) for x in self.inputs})
            self._loss_order_cache = cached = (key, order)
        return cached[1]

    def _objective(self, ys, outputs, masks, sample_weights):
        """Total loss, per-output losses and metric values for one batch.

        Each output's loss is Keras 2.2.4's weighted masked objective: the
        per-sample loss times the mask (renormalised by the mask's mean), times
        the sample weight (renormalised by the fraction of non-zero weights),
        averaged over the batch.
        """
        total = 0.0
        per_output, metric_values = [], []
        for i, (y, out, mask, fn) in enumerate(zip(ys, outputs, masks, self.loss_functions)):
            if fn is None:
                continue
            sw = sample_weights[i] if sample_weights else None
            value = _weighted_masked_objective(fn, y, out, sw, mask)
            per_output.append(value)
            total = K.add(total, K.multiply(self._loss_weight_values[i], value))
        for i, (y, out, mask) in enumerate(zip(ys, outputs, masks)):
            plain, weighted = self._output_metrics[i]
            sw = sample_weights[i] if sample_weights else None
            for _, fn in plain:
                metric_values.append(_weighted_masked_objective(fn, y, out, None, mask))
            for _, fn in weighted:
                metric_values.append(_weighted_masked_objective(fn, y, out, sw, mask))
        return total, per_output, metric_values

    def _regularization(self, run, loss_entries, symbolic_losses):
        """The sum of the model's losses besides the outputs' (Keras 2.2.4 adds
        every entry of `model.losses` to the training loss): constants and
        penalties computed now, the symbolic ones evaluated with the outputs,
        and the values the layers added while running (activity regularizers)."""
        penalty = 0.0
        for entry in loss_entries:
            if not layer_losses.is_symbolic(entry):
                penalty = K.add(penalty, K.sum(layer_losses.current_value(entry)))
        for loss in list(symbolic_losses) + list(run.losses):
            penalty = K.add(penalty, K.sum(loss))
        return penalty

    def _train_step(self, xs, ys, sample_weights):
        """One update on one batch (FAQ: "a batch results in only one update").

        # Arguments
            xs, ys, sample_weights: the batch's arrays.

        # Returns
            The loss, per-output losses and metrics, computed in training mode
            in the same forward pass that produced the update, as scalars of
            the running backend (the loop reads them back through its feed).
        """
        self._make_train_function()
        params = self._collected_trainable_weights
        xs, ys, sample_weights = _on_backend(xs), _on_backend(ys), _on_backend(sample_weights)
        run_context.note_step_samples(int(xs[0].shape[0]) if xs else None)
        with K.GradientTape(params), run_context.collecting() as run, \
                run_context.applying_updates(self._train_updates):
            entries = self._internal_loss_entries()
            outputs, masks, extra = self._forward(xs, phase=1, loss_entries=entries)
            total, per_output, metric_values = self._objective(ys, outputs, masks, sample_weights)
            total = K.add(total, self._regularization(run, entries, extra))
        if params:
            self.optimizer.get_updates(total, params)
        return [total] + (per_output if len(self.outputs) > 1 else []) + metric_values

    def _test_step(self, xs, ys, sample_weights):
        """Loss and metrics on one batch in test mode (no update), as backend
        scalars (see `_train_step`)."""
        xs, ys, sample_weights = _on_backend(xs), _on_backend(ys), _on_backend(sample_weights)
        with run_context.collecting() as run:
            entries = self._internal_loss_entries()
            outputs, masks, extra = self._forward(xs, phase=0, loss_entries=entries)
            total, per_output, metric_values = self._objective(ys, outputs, masks, sample_weights)
            total = K.add(total, self._regularization(run, entries, extra))
        return [total] + (per_output if len(self.outputs) > 1 else []) + metric_values

    def _predict_step(self, xs):
        """The outputs for one batch in test mode, on the running backend."""
        outputs, _, _ = self._forward(_on_backend(xs), phase=0)
        return outputs

    # --- data -------------------------------------------------------------------

    def _input_dtypes(self):
        return [np.dtype(x.dtype) for x in self._feed_inputs]

    def _standardize_user_data(self, x, y=None, sample_weight=None, class_weight=None,
                               check_batch_axis=True, batch_size=None, with_targets=True):
        """Checks and normalises x, y and the weights. Raises before anything changes.

        # Returns
            `(xs, ys, weights)`: lists with one entry per input / output; the
            entries of outputs without a loss are None, those of outputs with
            a fixed target tensor hold its value. Without targets (predict):
            `(xs, None, None)`.
        """
        if not self.built and self.__class__.__name__ == 'Sequential':
            first = tu.standardize_single_array(x if not isinstance(x, list) else x[0])
            self.build((None,) + tuple(first.shape[1:]))
        xs = tu.standardize_input_data(x, self._feed_input_names, self._feed_input_shapes,
                                       check_batch_axis=False, exception_prefix='input')
        self._check_stateful_batch(xs, batch_size)
        if not with_targets:
            return xs, None, None
        self._check_compiled()
        fed = self._fed_output_indices()
        fed_names = [self.output_names[i] for i in fed]
        fed_ys = tu.standardize_input_data(y, fed_names, None, exception_prefix='target')
        missing = [name for name, value in zip(fed_names, fed_ys) if value is None]
        if missing:
            raise ValueError('Error when checking model target: no target data was passed for '
                             'the output(s) %s, which have a loss.' % missing)
        ys = [None] * len(self.outputs)
        for i, value in zip(fed, fed_ys):
            ys[i] = value
        for i, fixed in enumerate(self._fixed_targets):
            if fixed is not None and self.loss_functions[i] is not None:
                ys[i] = tu.standardize_single_array(np.asarray(K.get_value(fixed)))
        # The loss-specific advice (e.g. integer labels with categorical_crossentropy)
        # is more useful than the generic shape message, so it is checked first.
        tu.check_loss_and_target_compatibility(ys, self.loss_functions,
                                               [o.shape for o in self.outputs])
        for i in range(len(self.outputs)):
            if ys[i] is not None:
                ys[i], = tu.standardize_input_data([ys[i]], [self.output_names[i]],
                                                   [self._target_shape(i)],
                                                   check_batch_axis=False,
                                                   exception_prefix='target')
        sws = self._per_output_weights(sample_weight, 'sample_weight')
        cws = self._per_output_weights(class_weight, 'class_weight', arrays=False)
        weights = [None if yy is None else tu.standardize_weights(yy, sw, cw, mode)
                   for yy, sw, cw, mode in zip(ys, sws, cws, self._sample_weight_modes)]
        tu.check_array_lengths(xs, ys, weights)
        return xs, ys, weights

    def _target_shape(self, i):
        """The shape targets for output i must have (None where free)."""
        fn = self.loss_functions[i] if self.loss_functions else None
        shape = self.outputs[i].shape
        if fn is losses_module.sparse_categorical_crossentropy:
            return shape[:-1] + (1,)
        if fn is None or getattr(losses_module, getattr(fn, '__name__', ''), None) is not fn:
            return None  # custom losses decide their own target shapes, as in Keras 2.2.4
        return shape

    def _per_output_weights(self, value, what, arrays=True):
        """`sample_weight` / `class_weight` as one entry per output
        (`training_utils.standardize_sample_or_class_weights`). A class-weight
        dict naming no output of a multi-output model applies to the first
        output (a refkeras convenience; Keras 2.2.4 ignored it)."""
        names = self.output_names
        if not arrays and isinstance(value, dict) and value and len(names) > 1 and \
                not any(n in value for n in names):
            return [value] + [None] * (len(names) - 1)
        return tu.standardize_sample_or_class_weights(value, names, what)

    def _check_stateful_batch(self, xs, batch_size):
        """Stateful RNNs need every batch to have their fixed batch size (FAQ:
        "How can I use stateful RNNs?"); refused before any state changes."""
        if self.stateful:
            check_stateful_batch(self, xs, batch_size)

    # --- public training API -------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            **kwargs):
        """Trains the model for a number of epochs.

        # Arguments
            x, y: input and target arrays (or lists / dicts of arrays).
            batch_size: samples per update (default 32).
            epochs: index of the last epoch (training runs from
                `initial_epoch` to `epochs`).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            callbacks: list of `Callback`s.
            validation_split: fraction in [0, 1) of the data, taken from the
                *end* of the arrays before shuffling, used for validation.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, val_weights)`;
                overrides `validation_split`.
            shuffle: True (reshuffle the samples every epoch), False, or
                'batch' (shuffle batch-sized chunks, for HDF5 data).
            class_weight: dict class index -> weight.
            sample_weight: array of per-sample (or per-timestep) weights.
            initial_epoch: epoch to start from (to resume training).
            steps_per_epoch / validation_steps: step counts, for data whose
                size is not given by arrays.

        # Returns
            The `History` callback (`history.history` maps each log key, e.g.
            'loss', 'acc', 'val_loss', 'val_acc', to its per-epoch values).

        # Raises
            RuntimeError: if the model is not compiled.
            ValueError: for inconsistent data or arguments; no weight changes.
        """
        if 'nb_epoch' in kwargs:
            warnings.warn('The `nb_epoch` argument in `fit` has been renamed `epochs`.')
            epochs = kwargs.pop('nb_epoch')
        if kwargs:
            raise TypeError('Unrecognized keyword arguments: %s' % sorted(kwargs))
        if batch_size is None and steps_per_epoch is None:
            batch_size = 32
        if x is None and y is None and steps_per_epoch is None:
            raise ValueError('If fitting from data tensors, you should specify the '
                             '`steps_per_epoch` argument.')
        if not 0.0 <= validation_split < 1.0:
            raise ValueError('`validation_split` must be in the interval [0, 1), received %r.'
                             % (validation_split,))
        self._check_compiled()
        xs, ys, sws = self._standardize_user_data(x, y, sample_weight, class_weight,
                                                  batch_size=batch_size)
        tu.check_finite(xs, 'Input')
        tu.check_finite(ys, 'Target')
        tu.check_shuffle_supported(xs + ys, shuffle)  # before any callback runs
        val_ins = None
        if validation_data is not None:
            if len(validation_data) == 2:
                val_x, val_y = validation_data
                val_sw = None
            elif len(validation_data) == 3:
                val_x, val_y, val_sw = validation_data
            else:
                raise ValueError('When passing validation_data, it must contain 2 (x_val, y_val) '
                                 'or 3 (x_val, y_val, val_sample_weights) items, however it '
                                 'contains %d items' % len(validation_data))
            vx, vy, vw = self._standardize_user_data(val_x, val_y, val_sw, batch_size=batch_size)
            val_ins = (vx, vy, vw)
        elif validation_split and 0.0 < validation_split < 1.0:
            n = int(xs[0].shape[0])
            split_at = int(n * (1.0 - validation_split))
            if split_at == 0:
                raise ValueError('validation_split=%r leaves no training samples out of %d.'
                                 % (validation_split, n))
            if split_at == n:
                raise ValueError('validation_split=%r leaves no validation samples out of %d.'
                                 % (validation_split, n))
            # Rows are taken lazily, so HDF5 data is not read into memory here.
            val_ins = tuple(tu.take_rows(a, split_at, n) for a in (xs, ys, sws))
            xs, ys, sws = (tu.take_rows(a, 0, split_at) for a in (xs, ys, sws))
            self._check_stateful_batch(xs, batch_size)
            self._check_stateful_batch(val_ins[0], batch_size)
        elif validation_steps:
            raise ValueError('`validation_steps` needs `validation_data`.')
        if self.stateful:
            warn_if_shuffling_stateful(self, shuffle)
        self._check_trainable_weights_consistency()
        verbose = distributed_state.verbose_here(verbose)  # one progress bar per job: rank 0's
        return self._fit_loop(xs, ys, sws, batch_size, epochs, verbose, callbacks, val_ins,
                              shuffle, initial_epoch, steps_per_epoch, validation_steps)

    def _make_callbacks(self, callbacks, verbose, count_mode, params):
        self.history = cbks.History()
        stateful = list(getattr(self, 'stateful_metric_names', []))
        base = [cbks.BaseLogger(stateful_metrics=stateful)]
        if verbose:
            base.append(cbks.ProgbarLogger(count_mode, stateful_metrics=stateful))
        callback_list = cbks.CallbackList(base + list(callbacks or []) + [self.history])
        callback_list.set_model(self)
        callback_list.set_params(params)
        return callback_list

    def _out_labels(self, validation):
        labels = list(self.metrics_names)
        return labels + ['val_' + n for n in labels] if validation else labels

    def _fit_loop(self, xs, ys, sws, batch_size, epochs, verbose, callbacks, val_ins, shuffle,
                  initial_epoch, steps_per_epoch, validation_steps):
        do_validation = val_ins is not None
        num_samples = int(xs[0].shape[0])
        if verbose and do_validation and steps_per_epoch is None:
            print('Train on %d samples, validate on %d samples'
                  % (num_samples, int(val_ins[0][0].shape[0])))
        callback_list = self._make_callbacks(
            callbacks, verbose, 'steps' if steps_per_epoch else 'samples',
            {'batch_size': batch_size, 'epochs': epochs, 'steps': steps_per_epoch,
             'samples': num_samples, 'verbose': verbose, 'do_validation': do_validation,
             'metrics': self._out_labels(do_validation)})
        self.stop_training = False
        callback_list.on_train_begin()
        for cb in callback_list.callbacks:
            cb.validation_data = list(val_ins[0]) + list(val_ins[1]) + list(val_ins[2]) \
                if do_validation else None
        index_array = np.arange(num_samples)
        dtypes = self._input_dtypes()

        def epoch_batches(epoch):
            if steps_per_epoch is not None:
                order, bounds = index_array, [(0, num_samples)] * steps_per_epoch
            else:
                order = self._epoch_order(index_array, batch_size, shuffle)
                bounds = tu.make_batches(num_samples, batch_size)
            batches = feed.batches([xs, ys, sws], [dtypes, None, None], order, bounds)
            return feeding.SizedBatches(batches), len(bounds)

        def validate(last_batch_size):
            outs = self._test_loop(*val_ins, batch_size=batch_size or 32, verbose=0,
                                   steps=validation_steps, feed=feed)
            return {'val_' + label: value for label, value in zip(self.metrics_names, outs)}

        with feeding.open_feed() as feed:
            epoch_loop.run_epochs(self, callback_list, initial_epoch, epochs, epoch_batches,
                                  validate if do_validation else None,
                                  'always' if steps_per_epoch is not None else 'unless_stopped')
        callback_list.on_train_end()
        return self.history

    @staticmethod
    def _epoch_order(index_array, batch_size, shuffle):
        """The sample order of one epoch (FAQ: "Is the data shuffled during
        training?"): a new permutation when `shuffle` is True, whole batches
        shuffled for 'batch' (HDF5 data), the given order otherwise."""
        if shuffle == 'batch':
            return tu.batch_shuffle(index_array, batch_size)
        if shuffle:
            return np.random.permutation(len(index_array))
        return index_array

    def _test_loop(self, xs, ys, sws, batch_size=32, verbose=0, steps=None, feed=None):
        """Batch-size-weighted averages of the loss and metrics over all samples.

        `feed`: the feed of the `fit` running validation (a backend's staging
        buffers are reused), or None to open one here.
        """
        if feed is None:
            with feeding.open_feed() as feed:
                return self._test_loop(xs, ys, sws, batch_size, verbose, steps, feed)
        num_samples = int(xs[0].shape[0])
        self._reset_metric_states()
        totals = outs = None
        progbar = None
        if verbose == 1:
            progbar = Progbar(target=num_samples)
        batches = feed.batches([xs, ys, sws], [self._input_dtypes(), None, None],
                               np.arange(num_samples), tu.make_batches(num_samples, batch_size))
        for ids, (xb, yb, wb) in batches:
            outs = _floats(batches.read_back(self._test_step(xb, yb, wb)))
            weighted = np.asarray(outs) * len(ids)
            totals = weighted if totals is None else totals + weighted
            if progbar is not None:
                progbar.update(int(ids[-1]) + 1)
        return self._test_results(totals, num_samples, outs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
                 steps=None):
        """Loss and metrics in test mode (Dropout off), averaged over all samples.

        # Returns
            A scalar if the model has only a loss, else a list in the order of
            `model.metrics_names`.
        """
        self._check_compiled()
        if batch_size is None and steps is None:
            batch_size = 32
        xs, ys, sws = self._standardize_user_data(x, y, sample_weight, batch_size=batch_size)
        outs = self._test_loop(xs, ys, sws, batch_size=batch_size or 32, verbose=verbose)
        return unpack_singleton(outs)

    def predict(self, x, batch_size=None, verbose=0, steps=None):
        """Outputs for the input samples, computed batch by batch in test mode.

        # Returns
            An array (or a list of arrays for several outputs).

        # Raises
            ValueError: for input that does not match the model's inputs.
        """
        if batch_size is None and steps is None:
            batch_size = 32
        xs, _, _ = self._standardize_user_data(x, batch_size=batch_size, with_targets=False)
        num_samples = int(xs[0].shape[0])
        dtypes = self._input_dtypes()
        chunks = []
        progbar = None
        if verbose == 1:
            progbar = Progbar(target=num_samples)
        with feeding.open_feed() as feed:
            batches = feed.batches([xs], [dtypes], np.arange(num_samples),
                                   tu.make_batches(num_samples, batch_size or 32))
            for ids, (xb,) in batches:
                chunks.append(batches.read_back(self._predict_step(xb)))
                if progbar is not None:
                    progbar.update(int(ids[-1]) + 1)
        if not chunks:
            outs = [np.zeros((0,) + tuple(o.shape[1:]), dtype=o.dtype) for o in self.outputs]
        else:
            outs = [np.concatenate([c[i] for c in chunks]) for i in range(len(self.outputs))]
        return unpack_singleton(outs)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None):
        """One update on one batch (FAQ: "How can I use Keras with datasets that don't fit in memory?").

        # Returns
            The training loss (and metrics), computed before the update.
        """
        self._check_compiled()
        xs, ys, sws = self._standardize_user_data(x, y, sample_weight, class_weight,
                                                  batch_size=None)
        tu.check_finite(xs, 'Input')
        self._check_trainable_weights_consistency()
        outs = self._train_step(tu.cast_inputs(xs, self._input_dtypes()), tu.densified(ys), sws)
        return unpack_singleton(_floats(feeding.read_back(outs)))

    def test_on_batch(self, x, y, sample_weight=None):
        """Loss (and metrics) on one batch in test mode."""
        self._check_compiled()
        xs, ys, sws = self._standardize_user_data(x, y, sample_weight, batch_size=None)
        outs = self._test_step(tu.cast_inputs(xs, self._input_dtypes()), tu.densified(ys), sws)
        return unpack_singleton(_floats(feeding.read_back(outs)))

    def predict_on_batch(self, x):
        """Outputs for one batch, in test mode."""
        xs, _, _ = self._standardize_user_data(x, batch_size=None, with_targets=False)
        outs = self._predict_step(tu.cast_inputs(xs, self._input_dtypes()))
        return unpack_singleton(feeding.read_back(outs))

    # --- generators -------------------------------------------------------------

    @interfaces.legacy_generator_methods_support
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True,
                      initial_epoch=0):
        """Trains on batches yielded by a generator or a `Sequence`.

        See `training_generator.fit_generator`.
        """
        return training_generator.fit_generator(
            self, generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
            callbacks=callbacks, validation_data=validation_data,
            validation_steps=validation_steps, class_weight=class_weight,
            max_queue_size=max_queue_size, workers=workers,
            use_multiprocessing=use_multiprocessing, shuffle=shuffle, initial_epoch=initial_epoch)

    @interfaces.legacy_generator_methods_support
    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """Loss and metrics over batches from a generator or `Sequence`."""
        return training_generator.evaluate_generator(
            self, generator, steps=steps, max_queue_size=max_queue_size, workers=workers,
            use_multiprocessing=use_multiprocessing, verbose=verbose)

    @interfaces.legacy_generator_methods_support
    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Predictions for the batches of a generator or `Sequence`."""
        return training_generator.predict_generator(
            self, generator, steps=steps, max_queue_size=max_queue_size, workers=workers,
            use_multiprocessing=use_multiprocessing, verbose=verbose)


def _weighted_masked_objective(fn, y_true, y_pred, weights, mask):
    """`training_utils.weighted_masked_objective(fn)` applied at once."""
    return tu.weighted_masked_objective(fn)(y_true, y_pred, weights, mask)
