"""refkeras.wrappers.scikit_learn inside scikit-learn's model selection.

Needs scikit-learn (the `sklearn` extra, installed by the `test` extra).
"""
import numpy as np
import pytest

pytest.importorskip('sklearn', reason='scikit-learn is not installed (pip install refkeras[sklearn])')

from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from refkeras.layers import Dense  # noqa: E402
from refkeras.models import Sequential  # noqa: E402
from refkeras.wrappers.scikit_learn import KerasClassifier, KerasRegressor  # noqa: E402

BUILT = []


def build_classifier(hidden=4):
    model = Sequential([Dense(hidden, activation='relu', input_shape=(3,)),
                        Dense(3, activation='softmax')])
    model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
    BUILT.append(hidden)
    return model


def build_regressor():
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile('sgd', 'mse')
    return model


def data():
    rng = np.random.RandomState(0)
    x = rng.rand(60, 3)
    labels = np.array(['low', 'mid', 'high'])[np.digitize(x[:, 0], [0.33, 0.66])]
    return x, labels


def test_the_wrappers_are_a_classifier_and_a_regressor_to_scikit_learn():
    assert is_classifier(KerasClassifier(build_classifier))
    assert is_regressor(KerasRegressor(build_regressor))


def test_clone_keeps_build_fn_and_every_sk_param():
    original = KerasClassifier(build_classifier, hidden=5, epochs=2, verbose=0)
    copy = clone(original)
    assert copy is not original
    assert copy.get_params() == {'build_fn': build_classifier, 'hidden': 5, 'epochs': 2,
                                 'verbose': 0}


def test_grid_search_builds_one_model_per_candidate_and_fold_and_refits_the_best():
    x, labels = data()
    del BUILT[:]
    search = GridSearchCV(KerasClassifier(build_classifier, epochs=1, verbose=0),
                          {'hidden': [2, 6]}, cv=2)
    search.fit(x, labels)
    assert sorted(BUILT) == sorted([2, 2, 6, 6, search.best_params_['hidden']])
    assert set(search.predict(x)) <= {'low', 'mid', 'high'}
    assert search.predict_proba(x).shape == (60, 3)


def test_cross_val_score_uses_accuracy_for_the_classifier_and_minus_loss_for_the_regressor():
    x, labels = data()
    scores = cross_val_score(KerasClassifier(build_classifier, epochs=1, verbose=0), x, labels,
                             cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    regression = cross_val_score(KerasRegressor(build_regressor, epochs=1, verbose=0), x,
                                 x[:, 0], cv=2)
    assert np.all(regression <= 0)


def test_score_is_the_fraction_of_labels_predicted_right():
    x, labels = data()
    classifier = KerasClassifier(build_classifier, epochs=3, verbose=0)
    classifier.fit(x, labels)
    by_hand = np.mean(classifier.predict(x) == labels)
    assert classifier.score(x, labels) == pytest.approx(by_hand, abs=1e-6)


def test_an_argument_nothing_accepts_is_refused_by_name():
    with pytest.raises(ValueError, match='learning_speed is not a legal parameter'):
        KerasClassifier(build_classifier, learning_speed=3)
