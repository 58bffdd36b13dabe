"""The main job: train an MLP on the handwritten digits shipped with refkeras.

    python -m refkeras.examples.digits_mlp [--epochs 200] [--seed 0] [--verbose 1]

The data set is UCI's 8x8 optical handwritten digits (1797 images, shipped in
`refkeras/datasets/data/`; see its README for the licence). The script shows the
FAQ's training behaviours working together: the Keras progress bar, a
validation split taken from the last 10% of the training arrays, EarlyStopping
on the validation loss (restoring the best weights), and a final evaluation in
test mode. Expect a test accuracy of about 0.97.
"""
import argparse
import random
import sys

import numpy as np

from refkeras.callbacks import EarlyStopping
from refkeras.datasets import digits
from refkeras.layers import Dense, Dropout
from refkeras.models import Sequential
from refkeras.optimizers import RMSprop
from refkeras.utils import to_categorical


def build_model():
    """A small MLP: 64 pixels -> 128 -> 64 -> 10 classes, with Dropout."""
    model = Sequential()
    model.add(Dense(128, activation='relu', input_shape=(64,)))
    model.add(Dropout(0.2))
    model.add(Dense(64, activation='relu'))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation='softmax'))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=200, help='upper bound; EarlyStopping ends '
                        'training before that')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0, help='seed for NumPy and random (FAQ: '
                        'reproducible results)')
    parser.add_argument('--verbose', type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    random.seed(args.seed)


    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(len(x_train), 64)
    x_test = x_test.reshape(len(x_test), 64)
    y_train = to_categorical(y_train, 10)
    y_test = to_categorical(y_test, 10)
    print('%d train samples, %d test samples' % (len(x_train), len(x_test)))

    model = build_model()
    model.summary()
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(lr=0.001),
                  metrics=['accuracy'])
    early_stopping = EarlyStopping(monitor='val_loss', patience=10, restore_best_weights=True)
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              verbose=args.verbose, validation_split=0.1, callbacks=[early_stopping])
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print('Test loss: %.4f' % loss)
    print('Test accuracy: %.4f' % accuracy)
    return accuracy


if __name__ == '__main__':
    sys.exit(0 if main() >= 0.95 else 1)
