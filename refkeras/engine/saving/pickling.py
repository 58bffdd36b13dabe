"""Pickling models (`pickle.dumps(model)`), as Keras 2.2.4 supports it.

A model is pickled as what `save_model` writes to a file, kept in memory:
its architecture (the config), its weights, its training configuration and
its optimizer's state. Unpickling rebuilds the model from the config, sets
the weights, compiles it again with the same optimizer class and settings and
restores the optimizer's state, so training goes on exactly as it would have
in the original (Keras 2.2.4's `pickle_model` / `unpickle_model`).

Functions in the configuration (losses, metrics, a `Lambda`'s function) are
pickled as pickle pickles them: by reference for module-level functions, as
bytecode for a `Lambda`'s lambda (rebuilt on unpickling, which, like any
unpickling, runs code from the pickle: unpickle only data you trust).
"""
import numpy as np

from refkeras import backend as K
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine.saving.architecture import model_config, model_from_config


def constant_added_losses(model):
    """The numbers and arrays given to the model's own `add_loss` (`model.add_loss(1)`).

    The config rebuilds every layer's regularizers, but not what was added to
    the model itself; constants are plain data and travel with the pickle.
    (Symbolic or callable losses added to the model are graph-dependent and
    are not carried: a pickled model does not keep them.)

    # Arguments
        model: a `Model` or `Sequential` model.
    """
    return [loss for loss in model._losses
            if isinstance(loss, (int, float, np.number, np.ndarray))
            and not isinstance(loss, SymbolicTensor)]


def pickle_state(model):
    """What a pickled model holds (a dict of plain data and arrays).

    # Arguments
        model: a `Model` or `Sequential` model.
    """
    state = {'model_config': model_config(model), 'weights': model.get_weights(),
             'added_losses': constant_added_losses(model), 'training': None}
    optimizer = getattr(model, 'optimizer', None)
    if optimizer is None:
        return state
    if getattr(model, '_compiled', False):
        arguments = {'loss': model.loss, 'metrics': model.metrics,
                     'loss_weights': model.loss_weights,
                     'sample_weight_mode': model.sample_weight_mode,
                     'weighted_metrics': model.weighted_metrics}
    elif getattr(model, '_deferred_compile', None) is not None:
        arguments = {key: value for key, value in model._deferred_compile.items()
                     if key != 'optimizer'}
    else:
        return state
    iterations = getattr(optimizer, 'iterations', None)
    state['training'] = {
        'arguments': arguments,
        'optimizer_class': optimizer.__class__,
        'optimizer_config': optimizer.get_config(),
        'optimizer_weights': optimizer.get_weights(),
        'iterations': None if iterations is None else K.get_value(iterations)}
    return state


def unpickle_model(state):
    """Rebuilds a model from `pickle_state`'s output.

    # Returns
        The model, with its weights, compiled and with its optimizer's state
        when the pickled model was compiled.
    """
    # Unpickling runs the pickle's code anyway; a Lambda's bytecode is no more.
    model = model_from_config(state['model_config'], safe_mode=False)
    model.set_weights(state['weights'])
    if state.get('added_losses'):
        model.add_loss(state['added_losses'])
    training = state['training']
    if training is None:
        return model
    optimizer = training['optimizer_class'].from_config(training['optimizer_config'])
    model.compile(optimizer=optimizer, **training['arguments'])
    if getattr(model, '_compiled', False) and training['optimizer_weights']:
        model._make_train_function()
        optimizer.set_weights(training['optimizer_weights'])
    if training['iterations'] is not None and getattr(optimizer, 'iterations', None) is not None:
        K.set_value(optimizer.iterations, training['iterations'])
    return model
