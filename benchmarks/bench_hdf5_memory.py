"""Peak memory of training on an HDF5 file larger than the memory budget.

    python benchmarks/bench_hdf5_memory.py [--gigabytes 2.0] [--dir /tmp]

Writes an HDF5 file of `--gigabytes` of float32 inputs (plus targets) in a
temporary folder (in a child process, so that writing it does not count),
then in this process trains a small MLP on it with `fit(HDF5Matrix, ...,
shuffle='batch')` for one epoch, evaluates and predicts on the plain h5py
dataset, and reports the peak resident set size (VmHWM). The folder is
deleted at the end, also on failure.

Target (issue 8): peak RSS under 500 MB while the data is >= 2 GB. Prints
one JSON line.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

FEATURES = 256
WRITE_ROWS = 16384  # rows written at a time (16 MiB)


def peak_rss_mb():
    """The process's peak resident set size, in MB (VmHWM, else getrusage)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def write_file(path, rows):
    """x: (rows, FEATURES) float32 from a fixed linear teacher plus noise; y: (rows, 1)."""
    import h5py
    rng = np.random.RandomState(0)
    teacher = rng.standard_normal((FEATURES, 1)).astype('float32') / np.sqrt(FEATURES)
    with h5py.File(path, 'w') as f:
        x = f.create_dataset('x', shape=(rows, FEATURES), dtype='float32')
        y = f.create_dataset('y', shape=(rows, 1), dtype='float32')
        for start in range(0, rows, WRITE_ROWS):
            stop = min(rows, start + WRITE_ROWS)
            block = rng.standard_normal((stop - start, FEATURES)).astype('float32')
            x[start:stop] = block
            y[start:stop] = block @ teacher + 0.01 * rng.standard_normal((stop - start, 1))


def free_bytes(folder):
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--gigabytes', type=float, default=2.0,
                        help='size of the float32 inputs, in GB (1e9 bytes)')
    parser.add_argument('--dir', default=tempfile.gettempdir(), help='where to make the file')
    parser.add_argument('--batch-size', type=int, default=4096)
    parser.add_argument('--write', help=argparse.SUPPRESS)  # child process: write this file
    parser.add_argument('--rows', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write:
        write_file(args.write, args.rows)
        return None

    rows = int(np.ceil(args.gigabytes * 1e9 / (FEATURES * 4)))
    needed = rows * (FEATURES + 1) * 4
    if free_bytes(args.dir) < needed * 1.2:
        raise SystemExit('Not enough free disk in %s: %.1f GB needed, %.1f GB free.'
                         % (args.dir, needed / 1e9, free_bytes(args.dir) / 1e9))
    folder = tempfile.mkdtemp(prefix='refkeras-hdf5-bench-', dir=args.dir)
    try:
        path = os.path.join(folder, 'data.h5')
        started = time.perf_counter()
        subprocess.run([sys.executable, os.path.abspath(__file__), '--write', path,
                        '--rows', str(rows)], check=True)
        write_seconds = time.perf_counter() - started
        file_bytes = os.path.getsize(path)

        import h5py
        from refkeras.layers import Dense
        from refkeras.models import Sequential
        from refkeras.optimizers import SGD
        from refkeras.utils.io_utils import HDF5Matrix

        np.random.seed(0)
        model = Sequential([Dense(16, activation='relu', input_shape=(FEATURES,)), Dense(1)])
        model.compile(SGD(lr=0.01), 'mse')
        rss_before = current_rss_mb()
        x, y = HDF5Matrix(path, 'x'), HDF5Matrix(path, 'y')
        started = time.perf_counter()
        history = model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle='batch',
                            verbose=0)
        fit_seconds = time.perf_counter() - started
        peak_after_fit = peak_rss_mb()
        with h5py.File(path, 'r') as f:  # the FAQ's snippet: plain h5py datasets
            started = time.perf_counter()
            test_loss = model.evaluate(f['x'], f['y'], batch_size=args.batch_size, verbose=0)
            predictions = model.predict(f['x'], batch_size=args.batch_size)
            test_seconds = time.perf_counter() - started
        x.close()
        y.close()
        result = {
            'benchmark': 'hdf5_memory', 'rows': rows, 'features': FEATURES,
            'input_gigabytes': round(rows * FEATURES * 4 / 1e9, 3),
            'file_gigabytes': round(file_bytes / 1e9, 3), 'batch_size': args.batch_size,
            'train_loss': round(float(history.history['loss'][0]), 5),
            'test_loss': round(float(test_loss), 5),
            'predictions_shape': list(predictions.shape),
            'rss_mb_before_training': round(rss_before, 1),
            'peak_rss_mb_after_fit': round(peak_after_fit, 1),
            'peak_rss_mb': round(peak_rss_mb(), 1),
            'target_peak_rss_mb': 500,
            'seconds': {'write': round(write_seconds, 1), 'fit': round(fit_seconds, 1),
                        'evaluate_and_predict': round(test_seconds, 1)},
        }
        result['under_target'] = result['peak_rss_mb'] < 500
        print(json.dumps(result), flush=True)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == '__main__':
    main()
