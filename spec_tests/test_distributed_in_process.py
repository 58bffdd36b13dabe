"""refkeras.distributed in one process: sharding, the fixed-order sum, the engine's hooks, errors.

The multi-rank behaviour is tested under mpirun in test_distributed_mpirun.py;
these tests need no launcher (a job of one rank is MPI's singleton).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from refkeras.distributed import data, state
from refkeras.distributed.collectives import sum_in_rank_order

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@given(ranks=st.integers(1, 5), per_rank=st.integers(1, 6), length=st.integers(0, 120))
def test_shards_cover_the_data_once_and_slice_each_global_batch_in_rank_order(ranks, per_rank,
                                                                               length):
    batch = ranks * per_rank
    last = length % batch
    if 0 < last < ranks:
        with pytest.raises(ValueError, match='some rank would have no sample'):
            data.shard_indices(length, batch, 0, ranks)
        return
    shards = [data.shard_indices(length, batch, r, ranks) for r in range(ranks)]
    assert sorted(np.concatenate(shards).tolist()) == list(range(length))
    # Replay fit's batching on every shard (batch_size = per_rank, no shuffle):
    # at step k the ranks' batches, in rank order, make up global batch k.
    steps = -(-length // batch)
    for k in range(steps):
        local = [s[k * per_rank:(k + 1) * per_rank] for s in shards]
        assert np.concatenate(local).tolist() == list(range(k * batch, min((k + 1) * batch,
                                                                           length)))
        sizes = [len(part) for part in local]
        assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    # Every rank takes the same number of steps.
    assert {-(-len(s) // per_rank) for s in shards} == {steps}


def test_shard_keeps_the_structure_of_its_data():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    xs, ys = data.shard([x, y], 4, rank=1, size=2)
    # Global batches [0..3], [4..7], [8, 9]: rank 1 takes rows 2, 3, 6, 7 and 9.
    assert ys.tolist() == [2, 3, 6, 7, 9]
    assert xs.tolist() == x[[2, 3, 6, 7, 9]].tolist()
    assert data.shard({'a': y}, 4, rank=0, size=2)['a'].tolist() == [0, 1, 4, 5, 8]
    with pytest.raises(ValueError, match='multiple of the number of ranks'):
        data.shard(y, 5, rank=0, size=2)
    with pytest.raises(ValueError, match='different lengths'):
        data.shard([x, y[:5]], 4, rank=0, size=2)


def test_split_validation_cuts_the_last_fraction_like_fit():
    x = np.arange(10)
    train, val = data.split_validation(x, 0.3)
    assert train.tolist() == list(range(7)) and val.tolist() == [7, 8, 9]


def test_the_rank_order_sum_adds_row_by_row_in_float64():
    rows = np.array([[1e8, 1.0], [1.0, 2.0], [-1e8, 3.0]], dtype=np.float32)
    # Added in order: (1e8 + 1) - 1e8 = 1 exactly in float64; float32 would lose the 1.
    assert sum_in_rank_order(rows).tolist() == [1.0, 6.0]
    assert sum_in_rank_order(rows, [2, 1, 2]).tolist() == [1.0, 2 + 2 + 6]


class _FakeWorld(object):
    def __init__(self, rank):
        self.rank = rank


@pytest.fixture
def rank_one():
    previous = state.world()
    state.set_world(_FakeWorld(1))
    yield
    state.set_world(previous)


def test_fit_prints_nothing_and_model_checkpoint_writes_nothing_off_rank_zero(rank_one, tmp_path,
                                                                              capsys):
    from refkeras.callbacks import ModelCheckpoint
    from refkeras.layers import Dense
    from refkeras.models import Sequential
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(loss='mse', optimizer='sgd')
    path = str(tmp_path / 'checkpoint.h5')
    model.fit(np.zeros((8, 3)), np.zeros((8, 2)), epochs=2, verbose=1,
              callbacks=[ModelCheckpoint(path)])
    assert capsys.readouterr().out == ''
    assert not os.path.exists(path)
    assert state.verbose_here(2) == 0


def test_a_process_without_init_is_rank_zero_for_the_engine():
    assert state.world() is None
    assert state.is_root() and state.verbose_here(1) == 1


def test_the_api_asks_for_init_first():
    import refkeras.distributed as hvd
    from refkeras.optimizers import SGD
    with pytest.raises(ValueError, match=r'init\(\) first'):
        hvd.rank()
    with pytest.raises(RuntimeError, match=r'init\(\) first'):
        hvd.DistributedOptimizer(SGD())


def _run(code, env=None):
    environment = dict(os.environ, PYTHONPATH=ROOT)
    environment.update(env or {})
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120, env=environment, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_init_without_mpi4py_names_what_to_install():
    done = _run('import sys; sys.modules["mpi4py"] = None\n'
                'import refkeras.distributed as hvd\n'
                'try:\n    hvd.init()\nexcept ImportError as e:\n    print("ERROR", e)\n')
    assert "pip install 'refkeras[distributed]'" in done.stdout, done.stdout + done.stderr


def test_a_job_of_one_rank_trains_like_the_plain_optimizer():
    pytest.importorskip('mpi4py')
    code = '''
import numpy as np
import refkeras.distributed as hvd
from refkeras.layers import Dense
from refkeras.models import Sequential
from refkeras.optimizers import SGD
hvd.init(timeout=60)
x = np.linspace(-1, 1, 24, dtype='float32').reshape(8, 3)
y = np.stack([x.sum(1), x[:, 0]], 1)
results = []
for wrap in (False, True):
    np.random.seed(0)
    model = Sequential([Dense(2, input_shape=(3,))])
    opt = SGD(lr=0.1, momentum=0.5)
    model.compile(loss='mse', optimizer=hvd.DistributedOptimizer(opt) if wrap else opt)
    model.fit(x, y, batch_size=3, epochs=2, verbose=0, shuffle=False,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0)] if wrap else [])
    results.append(model.get_weights())
print('SIZE', hvd.size(), hvd.rank(), hvd.local_rank())
print('SAME', all(a.tobytes() == b.tobytes() for a, b in zip(*results)))
print('CLASS', type(model.optimizer).__name__)
'''
    done = _run(code)
    assert 'SIZE 1 0 0' in done.stdout, done.stdout + done.stderr
    # One rank: the weighted average of one gradient is that gradient, bit for bit.
    assert 'SAME True' in done.stdout
    # The wrapper keeps the class name, so a saved model loads with the plain optimizer.
    assert 'CLASS SGD' in done.stdout
