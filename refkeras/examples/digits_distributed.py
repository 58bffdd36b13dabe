"""Data-parallel training of the digits MLP over MPI, equal to one process.

    python -m refkeras.examples.digits_distributed --save-weights one.npz
    mpirun -np 2 python -m refkeras.examples.digits_distributed --distributed \\
        --save-weights two.npz

Without `--distributed` one plain process trains on global batches of
`--batch-size` samples. With it, every rank takes its `shard` of the same
data (its slice of each global batch), the `DistributedOptimizer` averages
the ranks' gradients before every update, and
`BroadcastGlobalVariablesCallback(0)` starts every rank from rank 0's weights:
the final weights are those of the single process, up to float32 rounding of
the reduction (compare the two files with `--compare`). Only rank 0 prints
the progress bar and saves the weights.

The validation set is the last 10% of the training data, cut off before
sharding (as `validation_split=0.1` cuts it in one process), and sharded too;
`MetricAverageCallback` averages the ranks' validation metrics. The model has
no Dropout: each rank would draw its own masks, and the runs would differ.
"""
import argparse
import sys

import numpy as np


def build_model():
    """64 pixels -> 64 -> 32 -> 10 classes (the digits MLP without Dropout)."""
    from refkeras.layers import Dense
    from refkeras.models import Sequential
    return Sequential([Dense(64, activation='relu', input_shape=(64,)),
                       Dense(32, activation='relu'),
                       Dense(10, activation='softmax')])


def load():
    from refkeras.datasets import digits
    from refkeras.utils import to_categorical
    (x_train, y_train), _ = digits.load_data()
    return x_train.reshape(len(x_train), 64).astype('float32'), to_categorical(y_train, 10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--distributed', action='store_true',
                        help='train as one rank of an MPI job (start it with mpirun)')
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=60, help='the global batch size')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--verbose', type=int, default=1, choices=(0, 1, 2))
    parser.add_argument('--save-weights', help='.npz file for the final weights (rank 0)')
    parser.add_argument('--compare', nargs=2, metavar='NPZ',
                        help='print the largest difference between two saved weight files')
    args = parser.parse_args(argv)
    if args.compare:
        first, second = (np.load(path) for path in args.compare)
        print('max |difference| of the weights: %.3g'
              % max(float(np.abs(first[k] - second[k]).max()) for k in first.files))
        return 0

    from refkeras import optimizers
    import refkeras.distributed as hvd
    from refkeras.distributed import split_validation
    x, y = load()
    (x_train, y_train), (x_val, y_val) = zip(split_validation(x, 0.1), split_validation(y, 0.1))
    np.random.seed(args.seed)
    model = build_model()
    optimizer = optimizers.SGD(lr=0.05, momentum=0.9)
    callbacks = []
    batch_size = args.batch_size
    if args.distributed:
        hvd.init()
        # Every rank gets rank 0's weights; other seeds show that the broadcast works.
        np.random.seed(args.seed + hvd.rank())
        model = build_model()
        optimizer = hvd.DistributedOptimizer(optimizer)
        x_train, y_train = hvd.shard([x_train, y_train], args.batch_size)
        x_val, y_val = hvd.shard([x_val, y_val], args.batch_size)
        batch_size = args.batch_size // hvd.size()
        callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                     hvd.callbacks.MetricAverageCallback()]
    model.compile(loss='categorical_crossentropy', optimizer=optimizer, metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=args.epochs,
                        shuffle=False, verbose=args.verbose, validation_data=(x_val, y_val),
                        callbacks=callbacks)
    if not args.distributed or hvd.rank() == 0:
        print('final val_loss %.5f, val_acc %.4f'
              % (history.history['val_loss'][-1], history.history['val_acc'][-1]))
        if args.save_weights:
            np.savez(args.save_weights, *model.get_weights())
    return 0


if __name__ == '__main__':
    sys.exit(main())
