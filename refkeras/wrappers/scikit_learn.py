"""scikit-learn estimators around a function that builds a compiled model.

`KerasClassifier(build_fn, **sk_params)` and `KerasRegressor(...)` follow
scikit-learn's estimator protocol (`fit`, `predict`, `score`, `get_params`,
`set_params`), so they work in `GridSearchCV`, `cross_val_score` and
pipelines. `sk_params` mixes the arguments of `build_fn` with those of
`fit`, `predict`, `predict_classes` and `evaluate` (`epochs`,
`batch_size`, `verbose`...): each call gets the ones it accepts. A new model
is built at each `fit`.

The wrappers work without scikit-learn (they are plain objects then);
with scikit-learn installed (`pip install refkeras[sklearn]`) they are also
its `BaseEstimator` subclasses, which is how scikit-learn's model selection
tells a classifier from a regressor.
"""
import types

import numpy as np

from refkeras.models import Sequential
from refkeras.utils.generic_utils import has_arg, to_list
from refkeras.utils.np_utils import to_categorical

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
except ImportError:  # the wrappers still work, as plain objects
    class BaseEstimator(object):
        pass

    class ClassifierMixin(object):
        pass

    class RegressorMixin(object):
        pass


def _loss_name(model):
    loss = model.loss
    return getattr(loss, '__name__', loss)


class BaseWrapper(BaseEstimator):
    """What the two wrappers share: parameters and building the model.

    # Arguments
        build_fn: a function, or an object with `__call__`, returning a
            compiled model; None means the wrapper's own `__call__` (for
            subclasses that define it).
        **sk_params: arguments of `build_fn` and of the model's `fit`,
            `predict`, `predict_classes` and `evaluate`.

    # Raises
        ValueError: for an `sk_params` entry none of those accept.
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_function(self):
        """The callable that builds the model, as given (for its signature)."""
        if self.build_fn is None:
            return self.__call__
        if isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn
        return self.build_fn.__call__

    def check_params(self, params):
        """Raises ValueError for a parameter no wrapped function accepts."""
        accepting = [Sequential.fit, Sequential.predict, Sequential.predict_classes,
                     Sequential.evaluate, self._build_function()]
        for name in params:
            if name == 'nb_epoch':  # Keras 1's name of `epochs`, accepted silently
                continue
            if not any(has_arg(function, name) for function in accepting):
                raise ValueError('{} is not a legal parameter'.format(name))

    def get_params(self, deep=True, **params):
        """`build_fn` and the `sk_params` (the very objects given, as
        scikit-learn's `clone` expects)."""
        result = dict(self.sk_params)
        result['build_fn'] = self.build_fn
        return result

    def set_params(self, **params):
        """Updates the `sk_params` (checked first); returns the wrapper."""
        self.check_params(params)
        if 'build_fn' in params:
            self.build_fn = params.pop('build_fn')
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The `sk_params` that `fn` accepts, updated with `override`."""
        result = dict((name, value) for name, value in self.sk_params.items()
                      if has_arg(fn, name))
        result.update(override or {})
        return result

    def fit(self, x, y, **kwargs):
        """Builds a new model and trains it.

        # Arguments
            x, y: the training data (`y` as integers is one-hot encoded when
                the loss is `categorical_crossentropy`).
            **kwargs: arguments of the model's `fit`, over the `sk_params`.

        # Returns
            The `History` of the training.
        """
        builder = self._build_function()
        self.model = (self.build_fn or self.__call__)(**self.filter_sk_params(builder))
        if _loss_name(self.model) == 'categorical_crossentropy' and len(np.shape(y)) != 2:
            y = to_categorical(y)
        fit_args = self.filter_sk_params(Sequential.fit)
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier.

    The labels may be of any kind scikit-learn allows (integers, strings):
    `fit` numbers them by sorted order (`classes_`), `predict` maps back.
    """

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Trains a new model (see `BaseWrapper.fit`).

        # Arguments
            y: labels, shape `(n,)` or `(n, 1)`, or one-hot `(n, classes)`.
            sample_weight: optional weights, one per sample.

        # Raises
            ValueError: for labels of another shape.
        """
        y = np.array(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError('KerasClassifier: invalid shape for y: %s (expected labels of '
                             'shape (samples,) or one-hot (samples, classes)).' % (y.shape,))
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs['sample_weight'] = sample_weight
        return super(KerasClassifier, self).fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted labels (from `classes_`)."""
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        probabilities = self.model.predict(x, **kwargs)
        if probabilities.shape[-1] > 1:
            indices = probabilities.argmax(axis=-1)
        else:
            indices = (probabilities > 0.5).astype('int32').ravel()
        return self.classes_[indices]

    def predict_proba(self, x, **kwargs):
        """The class probabilities, `(samples, classes)` (a single sigmoid
        output gives the two columns `1 - p, p`)."""
        kwargs = self.filter_sk_params(Sequential.predict_proba, kwargs)
        probabilities = self.model.predict(x, **kwargs)
        if probabilities.shape[1] == 1:
            probabilities = np.hstack([1 - probabilities, probabilities])
        return probabilities

    def score(self, x, y, **kwargs):
        """The model's accuracy on `(x, y)`.

        # Raises
            ValueError: if the model was not compiled with the accuracy metric.
        """
        y = np.searchsorted(self.classes_, y)
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        if _loss_name(self.model) == 'categorical_crossentropy' and len(y.shape) != 2:
            y = to_categorical(y, len(self.classes_))
        outputs = to_list(self.model.evaluate(x, y, **kwargs))
        for name, value in zip(self.model.metrics_names, outputs):
            if name == 'acc':
                return value
        raise ValueError('The model is not configured to compute accuracy. You should pass '
                         '`metrics=["accuracy"]` to the `model.compile()` method.')


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A scikit-learn regressor; `score` is the negated loss (higher is better)."""

    def predict(self, x, **kwargs):
        """The predictions, with axes of length 1 removed."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        return np.squeeze(self.model.predict(x, **kwargs))

    def score(self, x, y, **kwargs):
        """Minus the model's loss on `(x, y)`."""
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(x, y, **kwargs)
        return -loss[0] if isinstance(loss, list) else -loss
