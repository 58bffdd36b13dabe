"""refkeras.distributed under `mpirun -np 2` and `-np 3`, against one process.

Each test starts `spec_tests/distributed_jobs.py` under MPICH's `mpirun` (from
the `distributed` / `test` extras; it lies next to the Python executable)
with a timeout, and checks what the ranks wrote. The reference for training
is one plain process (no MPI, a plain optimizer) fitting the global batches.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS = os.path.join(ROOT, 'spec_tests', 'distributed_jobs.py')
# A step of the tiny model differs from one process only by the rounding of
# the reduction: a few float32 ulps of O(1) weights per step, over 18 steps.
FLOAT32_ROUNDING = 2e-6


def find_mpirun():
    """`mpirun` next to this Python (where MPICH's wheel installs it), else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), 'mpirun')
    if os.path.exists(beside):
        return beside
    return shutil.which('mpirun')


MPIRUN = find_mpirun()
try:
    import mpi4py  # noqa: F401
    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

pytestmark = [
    pytest.mark.skipif(MPIRUN is None, reason="no mpirun: install the test extra "
                       "(pip install -e '.[test]' brings MPICH's wheel)"),
    pytest.mark.skipif(not HAVE_MPI4PY, reason='mpi4py is not installed (the test extra has it)'),
]


def run_job(ranks, job, out, *options, timeout=180, env=None):
    """Runs one job under `mpirun -np ranks` (or alone for ranks=None); returns (rc, output, s)."""
    environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    environment.update(env or {})
    command = [sys.executable, JOBS, job, str(out)] + list(options)
    if ranks is not None:
        command = [MPIRUN, '-np', str(ranks)] + command
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=environment, cwd=ROOT, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def ok_job(ranks, job, out, *options, **kwargs):
    rc, output, _ = run_job(ranks, job, out, *options, **kwargs)
    assert rc == 0, output[-4000:]
    return output


def weights(path):
    with np.load(os.path.join(str(path), 'weights.npz')) as stored:
        return [stored['arr_%d' % i] for i in range(len(stored.files))]


def reports(path, ranks):
    return [json.load(open(os.path.join(str(path), 'rank%d.json' % r))) for r in range(ranks)]


def max_abs_diff(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


@pytest.fixture(scope='module')
def single_process(tmp_path_factory):
    """One plain process's final weights, per optimizer."""
    results = {}
    for name in ('sgd', 'adam'):
        out = tmp_path_factory.mktemp('single_' + name)
        ok_job(None, 'train', out, '--single', '--optimizer', name)
        results[name] = weights(out)
    return results


@pytest.mark.parametrize('ranks', [2, 3])
@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
def test_ranks_on_slices_of_the_global_batch_train_to_one_process_weights(
        single_process, tmp_path, ranks, optimizer):
    ok_job(ranks, 'train', tmp_path, '--optimizer', optimizer)
    distributed = weights(tmp_path)
    single = single_process[optimizer]
    # The ranks started from different weights (seeded by rank): without the
    # broadcast and the averaging they could not end near one process.
    assert max_abs_diff(distributed, single) <= FLOAT32_ROUNDING
    every = reports(tmp_path, ranks)
    assert all(r['same_weights_on_all_ranks'] for r in every)
    # 100 samples in global batches of 12: rank shards of near-equal size.
    assert sum(r['samples'] for r in every) == 100
    # One buffer per step holds every weight's gradient (float32).
    parameters = sum(w.size for w in single)
    assert every[0]['bytes_per_step'] == 4 * parameters
    assert every[0]['staging'] == 'host'


def test_a_repeated_three_rank_run_is_bit_identical(tmp_path):
    first, second = tmp_path / 'first', tmp_path / 'second'
    first.mkdir()
    second.mkdir()
    ok_job(3, 'train', first, '--optimizer', 'adam')
    ok_job(3, 'train', second, '--optimizer', 'adam')
    for a, b in zip(weights(first), weights(second)):
        assert a.tobytes() == b.tobytes()


def test_only_rank_zero_prints_the_progress_bar_and_writes_checkpoints(tmp_path):
    output = ok_job(3, 'train', tmp_path, '--verbose', '1')
    assert output.count('Epoch 1/2') == 1
    assert output.count('Epoch 2/2') == 1
    written = sorted(name for name in os.listdir(str(tmp_path)) if name.endswith('.h5'))
    assert written == ['checkpoint-rank0.h5']


def test_ranks_shuffling_their_own_shards_keep_identical_weights(single_process, tmp_path):
    ok_job(2, 'train', tmp_path, '--shuffle')
    every = reports(tmp_path, 2)
    assert all(r['same_weights_on_all_ranks'] for r in every)
    # Other global batches than one process's unshuffled ones: trained, but not equal.
    assert max_abs_diff(weights(tmp_path), single_process['sgd']) > 1e-4


def test_hvd_load_model_resumes_training_with_the_saved_optimizer_state(tmp_path):
    single, distributed = tmp_path / 'single', tmp_path / 'distributed'
    single.mkdir()
    distributed.mkdir()
    # One process trains an epoch, saves (with Adam's state), loads and trains another.
    ok_job(None, 'resume', single, '--single')
    # Three ranks load the same file with hvd.load_model and train the second epoch.
    ok_job(3, 'resume', distributed)
    assert [r['optimizer'] for r in reports(distributed, 3)] == ['Adam'] * 3
    assert all(r['distributed'] for r in reports(distributed, 3))
    assert max_abs_diff(weights(distributed), weights(single)) <= FLOAT32_ROUNDING


def test_metric_average_gives_every_rank_the_same_epoch_logs(tmp_path):
    ok_job(3, 'train', tmp_path)
    losses = [r['loss'] for r in reports(tmp_path, 3)]
    assert losses[0] == losses[1] == losses[2]


def test_the_broadcast_gives_every_rank_the_roots_weights_and_optimizer_slots(tmp_path):
    ok_job(3, 'slots', tmp_path)
    every = reports(tmp_path, 3)
    # Rank r had set slot i of its Adam optimizer to 10 r + i; the root is rank 1.
    for report in every:
        for i, slot in enumerate(report['slots']):
            assert set(slot) == {10.0 + i}
        # Each rank had drawn other initial weights (seeded by its rank).
        assert report['weights'] == every[1]['weights']


@pytest.mark.parametrize('ranks', [2, 3])
def test_allreduce_broadcast_and_allgather_on_arrays(tmp_path, ranks):
    ok_job(ranks, 'collectives', tmp_path)
    every = reports(tmp_path, ranks)
    expected_sum = [sum(i + 100 * r for r in range(ranks)) for i in range(4)]
    expected_gather = [[r, r] for r in range(ranks) for _ in range(r + 1)]
    for r, report in enumerate(every):
        assert (report['rank'], report['size'], report['local_rank']) == (r, ranks, r)
        assert report['sum'] == expected_sum
        assert report['mean'] == [s / ranks for s in expected_sum]
        assert report['broadcast'] == [i + 100 * (ranks - 1) for i in range(4)]
        assert report['allgather'] == expected_gather
        # Chunking the reduction over the ranks changes no bit of the rank-order sum.
        assert report['chunked_equals_whole']
        assert report['int_mean'] == [(ranks - 1) / 2, 1.0]


def test_learning_rate_warmup_ramps_from_lr_over_size_to_lr(tmp_path):
    ok_job(2, 'warmup', tmp_path)
    report = reports(tmp_path, 2)[0]
    # 4 steps per epoch, 2 warmup epochs, 2 ranks, target 0.4: at batch b of
    # epoch e the fractional epoch is e + (b + 1) / 4 and the rate
    # 0.4 / 2 * (1 + epoch * (2 - 1) / 2); after the warmup it stays at 0.4.
    expected = [0.2 * (1 + (e + (b + 1) / 4.) / 2) for e in range(2) for b in range(4)] + [0.4] * 4
    np.testing.assert_allclose(report['rates'], expected, rtol=1e-6)
    # Momentum correction: scaled by new / old rate during the change, restored after.
    old_rates = [0.1] + expected[:-1]
    corrected = [0.9 * new / old if new != old else 0.9 for new, old in zip(expected, old_rates)]
    np.testing.assert_allclose(report['momenta'], corrected, rtol=1e-5)
    assert report['final_momentum'] == pytest.approx(0.9)


def test_a_model_that_differs_on_one_rank_fails_on_every_rank_naming_the_layer(tmp_path):
    rc, output, _ = run_job(3, 'mismatch', tmp_path, timeout=120)
    assert rc != 0
    for r in range(3):
        message = open(os.path.join(str(tmp_path), 'rank%d.txt' % r)).read()
        assert message.startswith('ModelMismatchError')
        assert "layer 'hidden'" in message and '(6, 6)' in message and '(6, 5)' in message


def test_a_rank_that_hangs_makes_the_others_fail_within_the_timeout(tmp_path):
    rc, output, seconds = run_job(2, 'dead_rank', tmp_path, '--how', 'hang', '--timeout', '4',
                                  timeout=120)
    assert rc != 0
    assert 'RankTimeoutError' in output and 'did not complete within 4 s' in output
    assert seconds < 60   # the timeout, the start-up and the abort; not the hour rank 1 sleeps


def test_a_rank_that_exits_ends_the_job_without_a_hang(tmp_path):
    rc, output, seconds = run_job(2, 'dead_rank', tmp_path, '--how', 'exit', '--timeout', '30',
                                  timeout=120)
    assert rc != 0
    assert 'rank 1: going away' in output
    assert seconds < 60


@pytest.mark.accel
@pytest.mark.slow
def test_accel_ranks_reduce_gradients_through_pinned_host_buffers(tmp_path):
    """Under the CUDA simulator: the device -> pinned -> MPI -> device path."""
    pytest.importorskip('numba')
    single_dir = tmp_path / 'single'
    single_dir.mkdir()
    ok_job(None, 'train', single_dir, '--single', '--epochs', '1')
    ok_job(2, 'train', tmp_path, '--epochs', '1', timeout=400,
           env={'KERAS_BACKEND': 'numba', 'NUMBA_ENABLE_CUDASIM': '1'})
    every = reports(tmp_path, 2)
    assert [r['staging'] for r in every] == ['pinned', 'pinned']
    assert all(r['same_weights_on_all_ranks'] for r in every)
    assert max_abs_diff(weights(tmp_path), weights(single_dir)) <= FLOAT32_ROUNDING


def test_the_digits_example_trains_on_two_ranks_to_the_weights_of_one_process(tmp_path):
    """`mpirun -np 2 python -m refkeras.examples.digits_distributed --distributed`."""
    environment = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    example = [sys.executable, '-m', 'refkeras.examples.digits_distributed', '--epochs', '3']

    def run(command):
        done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                              env=environment, cwd=str(tmp_path), stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        return done.stdout
    run(example + ['--save-weights', 'one.npz', '--verbose', '0'])
    output = run([MPIRUN, '-np', '2'] + example + ['--distributed', '--save-weights', 'two.npz'])
    assert output.count('Epoch 1/3') == 1 and output.count('final val_loss') == 1
    with np.load(str(tmp_path / 'one.npz')) as one, np.load(str(tmp_path / 'two.npz')) as two:
        # 3 epochs of 22 steps each on O(0.1) weights.
        assert max(float(np.abs(one[k] - two[k]).max()) for k in one.files) <= FLOAT32_ROUNDING


def test_an_exception_on_one_rank_aborts_the_whole_job_at_once(tmp_path):
    rc, output, seconds = run_job(2, 'dead_rank', tmp_path, '--how', 'raise', '--timeout', '300',
                                  timeout=120)
    assert rc != 0
    assert 'rank 1 of 2 failed with RuntimeError: rank 1 cannot go on' in output
    assert seconds < 60   # MPI_Abort, not rank 0's 300 s timeout
