"""FAQ: Is the data shuffled during training?

With `shuffle=True` (the default) the training samples are reshuffled at each
epoch; `shuffle=False` keeps their order; `'batch'` shuffles batch-sized chunks.
Validation data is never shuffled.
"""

from keras_under_test import layers, models, seed, SGD

from recording import Recorder, indexed_data, seen_indices

Dense, Input = layers.Dense, layers.Input
Model = models.Model


def _fit(shuffle, n=24, batch_size=4, epochs=3, **kwargs):
    log = []
    x_in = Input((3,))
    model = Model(x_in, Dense(1)(Recorder(log)(x_in)))
    model.compile(SGD(lr=0.001), 'mse')
    x, y = indexed_data(n)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=shuffle, **kwargs)
    batches = seen_indices(log, 1)
    per_epoch = len(batches) // epochs
    return [sum(batches[e * per_epoch:(e + 1) * per_epoch], []) for e in range(epochs)], log


def test_shuffle_false_keeps_the_order():
    epochs, _ = _fit(False)
    assert epochs == [list(range(24))] * 3


def test_shuffle_true_is_the_default_and_reshuffles_every_epoch():
    seed(0)
    epochs, _ = _fit(True)
    for order in epochs:
        assert sorted(order) == list(range(24))  # each sample once per epoch
        assert order != list(range(24))
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2]
    seed(0)
    default, _ = _fit(shuffle=True)
    assert default == epochs  # reproducible under the seeds of the FAQ's reproducibility answer


def test_shuffle_batch_moves_whole_chunks():
    seed(1)
    epochs, _ = _fit('batch', n=26, batch_size=4)
    for order in epochs:
        assert sorted(order) == list(range(26))
        assert order[-2:] == [24, 25]  # the incomplete chunk stays last
        chunks = [order[i:i + 4] for i in range(0, 24, 4)]
        for chunk in chunks:  # consecutive samples stay together, in order
            assert chunk == list(range(chunk[0], chunk[0] + 4)) and chunk[0] % 4 == 0
    assert any(order[:24] != list(range(24)) for order in epochs)


def test_validation_data_is_never_shuffled():
    seed(2)
    _, log = _fit(True, n=30, validation_split=0.2)
    validation = sum(seen_indices(log, 0), [])
    assert validation == list(range(24, 30)) * 3
