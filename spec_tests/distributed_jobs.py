"""The programs the distributed tests start under `mpirun` (and once without it).

    mpirun -np 2 python spec_tests/distributed_jobs.py JOB OUT_DIR [options]

Each job writes what the test checks into OUT_DIR (rank 0's final weights as
an .npz file, per-rank JSON reports) and prints markers on stdout. The tests
in test_distributed_*.py compare them with an independent computation: one
plain process training on the global batches, or values worked out by hand.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GLOBAL_BATCH = 12          # divisible by 1, 2, 3 and 4 ranks
SAMPLES = 100              # the last global batch has 4 samples: unequal slices at 3 ranks
EPOCHS = 2


def data():
    rng = np.random.RandomState(1234)
    x = rng.standard_normal((SAMPLES, 6)).astype('float32')
    y = np.eye(3, dtype='float32')[rng.randint(0, 3, SAMPLES)]
    return x, y


def build(hidden_units=5, seed=0):
    """A small MLP with named layers, initialised from `seed`."""
    np.random.seed(seed)
    from refkeras.layers import Dense
    from refkeras.models import Sequential
    return Sequential([Dense(hidden_units, activation='tanh', input_shape=(6,), name='hidden'),
                       Dense(3, activation='softmax', name='out')])


def optimizer(name):
    from refkeras import optimizers
    if name == 'sgd':
        return optimizers.SGD(lr=0.1, momentum=0.9, clipnorm=0.5)
    return optimizers.Adam(lr=0.01)


def save_weights(model, path):
    np.savez(path, *model.get_weights())


def write_json(path, obj):
    with open(path, 'w') as handle:
        json.dump(obj, handle)


def job_train(args):
    """Trains on this rank's shard; `--single` trains one plain process on the global data."""
    import refkeras.distributed as hvd
    x, y = data()
    if args.single:
        model = build(seed=0)
        model.compile(loss='categorical_crossentropy', optimizer=optimizer(args.optimizer))
        model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=args.epochs, shuffle=False,
                  verbose=args.verbose)
        save_weights(model, os.path.join(args.out, 'weights.npz'))
        return
    hvd.init(timeout=args.timeout)
    # Each rank starts from other weights: the broadcast must make them rank 0's.
    model = build(seed=hvd.rank())
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(optimizer(args.optimizer)))
    x_mine, y_mine = hvd.shard([x, y], GLOBAL_BATCH)
    from refkeras.callbacks import ModelCheckpoint
    callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                 hvd.callbacks.MetricAverageCallback(),
                 ModelCheckpoint(os.path.join(args.out, 'checkpoint-rank%d.h5' % hvd.rank()))]
    if args.shuffle:
        np.random.seed(100 + hvd.rank())   # each rank shuffles its shard its own way
    history = model.fit(x_mine, y_mine, batch_size=GLOBAL_BATCH // hvd.size(), epochs=args.epochs,
                        shuffle=args.shuffle, verbose=args.verbose, callbacks=callbacks)
    weights = model.get_weights()
    gathered = [hvd.allgather(w.reshape(1, -1)) for w in weights]
    write_json(os.path.join(args.out, 'rank%d.json' % hvd.rank()), {
        'loss': history.history['loss'],
        'same_weights_on_all_ranks': all(bool((g == g[0]).all()) for g in gathered),
        'bytes_per_step': model.optimizer.bytes_reduced_per_step,
        'staging': model.optimizer._staging.kind,
        'samples': len(x_mine)})
    if hvd.rank() == 0:
        save_weights(model, os.path.join(args.out, 'weights.npz'))


def job_slots(args):
    """The broadcast covers the optimizer's slots: each rank sets its own, then broadcasts."""
    import refkeras.distributed as hvd
    hvd.init(timeout=args.timeout)
    model = build(seed=hvd.rank())
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(optimizer('adam')))
    model._make_train_function()
    slots = model.optimizer.get_weights()
    model.optimizer.set_weights([np.full_like(s, 10 * hvd.rank() + i)
                                 for i, s in enumerate(slots)])
    hvd.broadcast_global_variables(1, model)
    write_json(os.path.join(args.out, 'rank%d.json' % hvd.rank()), {
        'slots': [np.asarray(s).ravel().tolist() for s in model.optimizer.get_weights()],
        'weights': [w.ravel().tolist() for w in model.get_weights()]})


def job_collectives(args):
    """allreduce, broadcast and allgather on small integer-valued arrays."""
    import refkeras.distributed as hvd
    from refkeras.distributed import collectives, state
    hvd.init(timeout=args.timeout)
    r = hvd.rank()
    mine = np.arange(4, dtype='float32') + 100 * r
    # The chunked reduction against the whole buffers added in rank order by one process.
    world = state.world()
    noisy = np.random.RandomState(r).standard_normal(1001).astype('float32') * 10 ** (r % 4)
    weights = [7.0 + q for q in range(hvd.size())]
    chunked = collectives.reduce_in_rank_order(world, noisy, weights, sum(weights))
    whole = (collectives.sum_in_rank_order(world.allgather_equal(noisy, 'rows'), weights)
             / sum(weights)).astype('float32')
    write_json(os.path.join(args.out, 'rank%d.json' % r), {
        'rank': r, 'size': hvd.size(), 'local_rank': hvd.local_rank(),
        'sum': hvd.allreduce(mine, average=False).tolist(),
        'mean': hvd.allreduce(mine).tolist(),
        'broadcast': hvd.broadcast(mine, root_rank=hvd.size() - 1).tolist(),
        'allgather': hvd.allgather(np.full((r + 1, 2), r, dtype='int64')).tolist(),
        'chunked_equals_whole': chunked.tobytes() == whole.tobytes(),
        'int_mean': hvd.allreduce(np.array([r, 1])).tolist()})


def job_warmup(args):
    """The learning rate after each batch of LearningRateWarmupCallback's warmup."""
    import refkeras.distributed as hvd
    from refkeras import backend as K
    from refkeras.callbacks import LambdaCallback
    hvd.init(timeout=args.timeout)
    x, y = data()
    model = build()
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(optimizer('sgd')))
    rates, momenta = [], []
    record = LambdaCallback(on_batch_begin=lambda batch, logs: (
        rates.append(float(K.get_value(model.optimizer.lr))),
        momenta.append(float(K.get_value(model.optimizer.momentum)))))
    x_mine, y_mine = hvd.shard([x[:96], y[:96]], 24)   # 4 steps per epoch
    model.fit(x_mine, y_mine, batch_size=24 // hvd.size(), epochs=3, shuffle=False, verbose=0,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                         hvd.callbacks.LearningRateWarmupCallback(0.4, warmup_epochs=2),
                         record])
    write_json(os.path.join(args.out, 'rank%d.json' % hvd.rank()),
               {'rates': rates, 'momenta': momenta,
                'final_momentum': float(K.get_value(model.optimizer.momentum))})


def job_mismatch(args):
    """Rank 1 builds its hidden layer with one unit more than the others."""
    import refkeras.distributed as hvd
    hvd.init(timeout=args.timeout)
    x, y = data()
    model = build(hidden_units=5 + (hvd.rank() == 1))
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(optimizer('sgd')))
    x_mine, y_mine = hvd.shard([x, y], GLOBAL_BATCH)
    try:
        model.fit(x_mine, y_mine, batch_size=GLOBAL_BATCH // hvd.size(), epochs=1, verbose=0,
                  callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)])
    except hvd.ModelMismatchError as error:
        with open(os.path.join(args.out, 'rank%d.txt' % hvd.rank()), 'w') as handle:
            handle.write('ModelMismatchError: %s' % error)
        # Every rank raised at the same call, so every rank reaches this barrier;
        # the launcher ends the job at the first rank that exits with an error.
        hvd.barrier()
        sys.exit(3)


def job_dead_rank(args):
    """Rank 1 exits, raises or hangs (`--how`) before training; the others train."""
    import refkeras.distributed as hvd
    hvd.init(timeout=args.timeout)
    x, y = data()
    model = build()
    model.compile(loss='categorical_crossentropy',
                  optimizer=hvd.DistributedOptimizer(optimizer('sgd')))
    if hvd.rank() == 1:
        print('rank 1: going away (%s)' % args.how)
        sys.stdout.flush()
        if args.how == 'exit':
            os._exit(7)
        if args.how == 'raise':
            raise RuntimeError('rank 1 cannot go on')
        time.sleep(3600)
    x_mine, y_mine = hvd.shard([x, y], GLOBAL_BATCH)
    model.fit(x_mine, y_mine, batch_size=GLOBAL_BATCH // hvd.size(), epochs=1, verbose=0,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)])


def job_resume(args):
    """Resumes from a saved model: `--single` with the plain load_model, else hvd.load_model."""
    import refkeras.distributed as hvd
    from refkeras.models import load_model
    x, y = data()
    saved = os.path.join(args.out, '..', 'saved.h5')
    if args.single:
        model = build(seed=0)
        model.compile(loss='categorical_crossentropy', optimizer=optimizer('adam'))
        model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        model.save(saved)
        model = load_model(saved)
        model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        save_weights(model, os.path.join(args.out, 'weights.npz'))
        return
    hvd.init(timeout=args.timeout)
    model = hvd.load_model(saved)
    x_mine, y_mine = hvd.shard([x, y], GLOBAL_BATCH)
    model.fit(x_mine, y_mine, batch_size=GLOBAL_BATCH // hvd.size(), epochs=1, shuffle=False,
              verbose=0, callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)])
    write_json(os.path.join(args.out, 'rank%d.json' % hvd.rank()), {
        'optimizer': type(model.optimizer).__name__,
        'distributed': model.optimizer.bytes_reduced_per_step > 0})
    if hvd.rank() == 0:
        save_weights(model, os.path.join(args.out, 'weights.npz'))


JOBS = {'train': job_train, 'slots': job_slots, 'collectives': job_collectives,
        'warmup': job_warmup, 'resume': job_resume, 'mismatch': job_mismatch, 'dead_rank': job_dead_rank}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('job', choices=sorted(JOBS))
    parser.add_argument('out')
    parser.add_argument('--optimizer', default='sgd', choices=('sgd', 'adam'))
    parser.add_argument('--single', action='store_true')
    parser.add_argument('--epochs', type=int, default=EPOCHS)
    parser.add_argument('--shuffle', action='store_true')
    parser.add_argument('--verbose', type=int, default=0)
    parser.add_argument('--timeout', type=float, default=60.0)
    parser.add_argument('--how', default='exit', choices=('exit', 'hang', 'raise'))
    args = parser.parse_args()
    JOBS[args.job](args)


if __name__ == '__main__':
    main()
