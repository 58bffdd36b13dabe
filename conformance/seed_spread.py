"""How often Keras's temporal classification test clears its bar, over seeds.

Keras 2.2.4's `tests/integration_tests/test_temporal_data_tasks.py::
test_temporal_classification_functional` trains a SimpleRNN(8) classifier for 4
epochs and asserts a final training accuracy of at least 0.8. This script runs
that same recipe (data from `get_test_data`'s rule: class-centred normal noise,
scale 0.7) over many seeds, under refkeras or under tf.keras, and prints the
spread. It is the evidence behind the test's entry in `differs_on_purpose.py`:
the bar sits at the median of both implementations' results.

    PYTHONPATH=. python3 -m conformance.seed_spread refkeras 30
    /path/to/tf-venv/bin/python -m conformance.seed_spread tensorflow.keras 30
"""
import argparse
import importlib
import os

import numpy as np


def class_centred_data(num_train=200, num_test=20, input_shape=(3, 4), num_classes=2):
    """Samples whose values are normal around their class index (scale 0.7)."""
    labels = np.random.randint(0, num_classes, size=(num_train + num_test,))
    samples = np.stack([np.random.normal(loc=label, scale=0.7, size=input_shape)
                        for label in labels]).astype('float32')
    return (samples[:num_train], labels[:num_train]), (samples[num_train:], labels[num_train:])


def final_accuracy(keras, seed):
    """The last epoch's training accuracy of the test's recipe, for one seed."""
    np.random.seed(seed)
    if keras.__name__.startswith('tensorflow'):
        importlib.import_module('tensorflow').random.set_seed(seed)
    (x, y), (x_test, y_test) = class_centred_data()
    one_hot = keras.utils.to_categorical
    inputs = keras.layers.Input(shape=(3, 4))
    hidden = keras.layers.SimpleRNN(8)(inputs)
    outputs = keras.layers.Dense(2, activation='softmax')(hidden)
    model = keras.models.Model(inputs, outputs)
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    history = model.fit(x, one_hot(y), epochs=4, batch_size=10,
                        validation_data=(x_test, one_hot(y_test)), verbose=0).history
    return history['acc' if 'acc' in history else 'accuracy'][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('implementation', help='refkeras or tensorflow.keras')
    parser.add_argument('seeds', type=int, help='how many seeds, from 1337 on')
    args = parser.parse_args()
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    keras = importlib.import_module(args.implementation)
    for name in ('layers', 'models', 'utils'):
        importlib.import_module('%s.%s' % (args.implementation, name))
    accuracies = np.array([final_accuracy(keras, 1337 + i) for i in range(args.seeds)])
    print('%s: %d seeds, mean %.3f, median %.3f, min %.3f, max %.3f, below 0.8: %d'
          % (args.implementation, len(accuracies), accuracies.mean(), np.median(accuracies),
             accuracies.min(), accuracies.max(), (accuracies < 0.8).sum()))


if __name__ == '__main__':
    main()
