"""Reading what later Keras versions wrote: tf.keras 2.x training configs.

`translate_training_config` gives the `compile` arguments saved by tf.keras
2.x in Keras 2.2.4's terms: `Custom>Adam` and the other new optimizers
become their Keras 2.2.4 classes (`learning_rate` is `lr`; options without a
Keras 2.2.4 counterpart must have their neutral value); losses and metrics
stored as objects (`MeanSquaredError`, `MeanMetricWrapper(fn=...)`) become
names; per-output metric lists become a dict by output name. A Keras 2.2.4
training config comes back unchanged.
"""
import re
import warnings

from refkeras import metrics
from refkeras import losses
from refkeras.engine.saving.compat_tf_keras import _ANY, _plain_object
from refkeras.utils.generic_utils import get_custom_objects


_OPTIMIZER_DROPPED = ('name', 'is_legacy_optimizer', 'jit_compile', 'ema_momentum',
                      'ema_overwrite_frequency')
# Options of the new optimizers and the value that means Keras 2.2.4's behaviour.
_OPTIMIZER_NEUTRAL = {'weight_decay': (None, 0, 0.0), 'clipnorm': (None,), 'clipvalue': (None,),
                      'global_clipnorm': (None,), 'use_ema': (False,), 'centered': (False,)}


def _snake_case(name):
    name = re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2', name)
    return re.sub('([a-z])([A-Z])', r'\1_\2', name).lower()


def translate_optimizer_config(optimizer_config):
    """A tf.keras optimizer config in Keras 2.2.4's terms (unchanged for Keras 2.2.4's).

    # Raises
        ValueError: for a learning-rate schedule or an option Keras 2.2.4 lacks.
    """
    if not isinstance(optimizer_config, dict) or 'class_name' not in optimizer_config:
        return optimizer_config
    class_name = optimizer_config['class_name']
    if isinstance(class_name, str) and class_name.startswith('Custom>'):
        class_name = class_name[len('Custom>'):]
    config = dict(optimizer_config.get('config') or {})
    for key in _OPTIMIZER_DROPPED:
        config.pop(key, None)
    if 'learning_rate' in config:
        config['lr'] = config.pop('learning_rate')
    if isinstance(config.get('lr'), dict):
        raise ValueError('the optimizer uses a learning-rate schedule (%s), which Keras 2.2.4 '
                         'does not have.' % config['lr'].get('class_name'))
    for key, neutral in _OPTIMIZER_NEUTRAL.items():
        if key in config:
            if config[key] not in neutral:
                if key in ('clipnorm', 'clipvalue'):
                    continue  # Keras 2.2.4 has these
                raise ValueError('the optimizer option %s=%r has no Keras 2.2.4 equivalent.'
                                 % (key, config[key]))
            del config[key]
    if class_name.lower() == 'rmsprop' and config.get('momentum', 0) in (0, 0.0):
        config.pop('momentum', None)
    if class_name.lower() == 'adagrad' and 'initial_accumulator_value' in config:
        value = config.pop('initial_accumulator_value')
        if value:
            warnings.warn('Adagrad(initial_accumulator_value=%r) (tf.keras): Keras 2.2.4 starts '
                          'the accumulators at 0; the saved state, if any, is restored as is.'
                          % (value,))
    return {'class_name': class_name, 'config': config}


_NEUTRAL_LOSS_OPTIONS = {'reduction': ('auto', 'sum_over_batch_size'), 'from_logits': (False,),
                         'label_smoothing': (0, 0.0), 'axis': (-1,), 'name': _ANY, 'fn': _ANY,
                         'dtype': _ANY, 'ignore_class': (None,)}


def _object_as_name(value, what, known):
    """The Keras 2.2.4 name of a loss or metric object saved by tf.keras."""
    value = _plain_object(value)
    if not isinstance(value, dict):
        return value
    class_name, config = value['class_name'], value.get('config') or {}
    if class_name in get_custom_objects():
        return value  # a custom class saved by Keras 2.2.4, built when compiling
    for key, option in config.items():
        neutral = _NEUTRAL_LOSS_OPTIONS.get(key, ())
        if neutral is not _ANY and option not in neutral:
            raise ValueError('the %s %s has the option %s=%r, which Keras 2.2.4 does not have.'
                             % (what, class_name, key, option))
    candidates = []
    if class_name in ('MeanMetricWrapper', 'LossFunctionWrapper', 'SumOverBatchSizeMetricWrapper'):
        candidates = [config.get('name'), config.get('fn')]
    else:
        candidates = [_snake_case(class_name), config.get('name')]
    for candidate in candidates:
        if isinstance(candidate, str) and known(candidate):
            return candidate
    raise ValueError('the %s %r (tf.keras) has no Keras 2.2.4 equivalent.'
                     % (what, config.get('name') or class_name))


def _known_loss(name):
    try:
        losses.get(name)
        return True
    except ValueError:
        return False


def _known_metric(name):
    if name in ('acc', 'accuracy', 'ce', 'crossentropy'):
        return True
    try:
        metrics.get(name)
        return True
    except ValueError:
        return False


def _translate_losses(value):
    if isinstance(value, list):
        return [_translate_losses(v) for v in value]
    if isinstance(value, dict) and 'class_name' not in value:
        return {k: _translate_losses(v) for k, v in value.items()}
    return _object_as_name(value, 'loss', _known_loss)


def _translate_metric_list(value, output_name=None):
    """Metric names; tf.keras prefixes the names of per-output metrics with the
    output's name (`out_acc`) and writes None for an output without metrics."""
    values = value if isinstance(value, (list, tuple)) else [value]
    names = []
    for item in values:
        if item is None:
            continue
        item = _plain_object(item)
        if output_name and isinstance(item, dict):
            config = dict(item.get('config') or {})
            prefix = output_name + '_'
            if isinstance(config.get('name'), str) and config['name'].startswith(prefix):
                config['name'] = config['name'][len(prefix):]
            item = {'class_name': item['class_name'], 'config': config}
        names.append(_object_as_name(item, 'metric', _known_metric))
    return names


def _translate_metrics(value, output_names):
    """Metrics as Keras 2.2.4 takes them: a list (all outputs) or a dict by output name.

    tf.keras saves one list per output (`[[m1, m2]]` for one output).
    """
    if value is None:
        return None
    if isinstance(value, dict) and 'class_name' not in value:
        return {k: _translate_metric_list(v, k) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) == 1:
            return _translate_metric_list(value[0])
        if len(value) == len(output_names):
            return {name: _translate_metric_list(v, name)
                    for name, v in zip(output_names, value)}
        per_output = value
        raise ValueError('the metrics are given for %d outputs; the model has %d.'
                         % (len(per_output), len(output_names)))
    return _translate_metric_list(value)


def translate_training_config(config, output_names):
    """A training config (`compile` arguments) in Keras 2.2.4's terms.

    # Arguments
        config: the decoded `training_config` attribute.
        output_names: the model's output names (for per-output metrics).

    # Returns
        A dict with `optimizer_config`, `loss`, `metrics`, `weighted_metrics`,
        `loss_weights`, `sample_weight_mode`.

    # Raises
        ValueError: for settings Keras 2.2.4 does not have.
    """
    if not isinstance(config, dict) or 'optimizer_config' not in config:
        raise ValueError('the training configuration has no optimizer_config.')
    return {'optimizer_config': translate_optimizer_config(config['optimizer_config']),
            'loss': _translate_losses(config.get('loss')),
            'metrics': _translate_metrics(config.get('metrics'), output_names),
            'weighted_metrics': _translate_metrics(config.get('weighted_metrics'), output_names),
            'loss_weights': config.get('loss_weights'),
            'sample_weight_mode': config.get('sample_weight_mode')}
