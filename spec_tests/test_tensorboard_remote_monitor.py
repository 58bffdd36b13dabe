"""The TensorBoard and RemoteMonitor callbacks, read back and received.

TensorBoard's event files are read back with tensorboardX's own record
format and protocol buffers (the `tensorboard` extra, installed by the
`test` extra). RemoteMonitor posts to a server this test starts on 127.0.0.1.
"""
import glob
import json
import os
import socket
import struct
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from refkeras import backend as K
from refkeras.callbacks import LambdaCallback, RemoteMonitor
from refkeras.layers import Dense, Dropout, Input
from refkeras.models import Model, Sequential

# --- TensorBoard --------------------------------------------------------------------


def read_events(log_dir):
    """Every event of the event files in `log_dir`, checking each record's CRCs."""
    event_pb2 = pytest.importorskip('tensorboardX.proto.event_pb2')
    from tensorboardX.record_writer import masked_crc32c
    events = []
    for path in sorted(glob.glob(os.path.join(log_dir, 'events.out.tfevents.*'))):
        with open(path, 'rb') as handle:
            data = handle.read()
        offset = 0
        while offset < len(data):
            header = data[offset:offset + 8]
            (length,) = struct.unpack('Q', header)
            (header_crc,) = struct.unpack('I', data[offset + 8:offset + 12])
            assert header_crc == masked_crc32c(header)
            body = data[offset + 12:offset + 12 + length]
            (body_crc,) = struct.unpack('I', data[offset + 12 + length:offset + 16 + length])
            assert body_crc == masked_crc32c(body)
            events.append(event_pb2.Event.FromString(body))
            offset += 16 + length
    return events


def scalars(events):
    """{tag: [(step, value), ...]} in the order written."""
    found = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField('simple_value'):
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def histograms(events):
    found = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField('histo'):
                found.setdefault(value.tag, []).append((event.step, value.histo))
    return found


def classifier():
    inputs = Input((3,), name='features')
    hidden = Dropout(0.1)(Dense(4, activation='relu', name='hidden')(inputs))
    model = Model(inputs, Dense(2, activation='softmax', name='probabilities')(hidden))
    model.compile('sgd', 'categorical_crossentropy', metrics=['accuracy'])
    return model


def classification_data(count=20, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(count, 3)
    return x, np.eye(2)[(x[:, 0] > 0.5).astype(int)]


@pytest.fixture
def TensorBoard():
    pytest.importorskip('tensorboardX',
                        reason='tensorboardX is not installed (pip install refkeras[tensorboard])')
    from refkeras.callbacks import TensorBoard
    return TensorBoard


def test_epoch_scalars_are_the_history_values_at_each_epoch(tmp_path, TensorBoard):
    x, y = classification_data()
    model = classifier()
    history = model.fit(x, y, batch_size=5, epochs=3, validation_data=(x[:8], y[:8]),
                        verbose=0, callbacks=[TensorBoard(str(tmp_path))])
    written = scalars(read_events(str(tmp_path)))
    assert set(written) == {'loss', 'acc', 'val_loss', 'val_acc'}
    for tag, values in written.items():
        assert [step for step, _ in values] == [0, 1, 2]
        np.testing.assert_allclose([value for _, value in values], history.history[tag],
                                   rtol=1e-6)


@pytest.mark.parametrize('update_freq, batches_written', [('batch', [0, 1, 2, 3]),
                                                          (10, [1, 3])])
def test_update_freq_writes_batch_logs_at_the_number_of_samples_seen(tmp_path, TensorBoard,
                                                                     update_freq,
                                                                     batches_written):
    x, y = classification_data()
    batch_losses = []
    recorder = LambdaCallback(on_batch_end=lambda batch, logs: batch_losses.append(logs['loss']))
    history = classifier().fit(x, y, batch_size=5, epochs=2, verbose=0, shuffle=False,
                               callbacks=[recorder, TensorBoard(str(tmp_path),
                                                                update_freq=update_freq)])
    losses = scalars(read_events(str(tmp_path)))['loss']
    expected = []
    for epoch in range(2):
        for batch in batches_written:
            expected.append((20 * epoch + 5 * (batch + 1), batch_losses[4 * epoch + batch]))
        expected.append((20 * (epoch + 1), history.history['loss'][epoch]))
    assert [step for step, _ in losses] == [step for step, _ in expected]
    np.testing.assert_allclose([v for _, v in losses], [v for _, v in expected], rtol=1e-6)


def test_histograms_summarise_the_weights_outputs_and_validation_gradients(tmp_path,
                                                                           TensorBoard):
    rng = np.random.RandomState(1)
    x, y = rng.rand(12, 3), rng.rand(12, 1)
    model = Sequential([Dense(1, input_shape=(3,), name='linear')])
    model.compile('sgd', 'mse')
    snapshots = []
    recorder = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
        [np.array(w) for w in model.get_weights()]))
    model.fit(x, y, batch_size=4, epochs=3, validation_data=(x[:7], y[:7]), verbose=0,
              callbacks=[recorder, TensorBoard(str(tmp_path), histogram_freq=2,
                                               write_grads=True, batch_size=3)])
    found = histograms(read_events(str(tmp_path)))
    kernel_tag = model.layers[0].kernel.name.replace(':', '_')
    for epoch in (0, 2):
        kernel, bias = snapshots[epoch]
        steps = dict(found[kernel_tag])
        assert sorted(steps) == [0, 2]
        assert steps[epoch].num == kernel.size
        assert steps[epoch].sum == pytest.approx(kernel.sum(), rel=1e-5)
        # The gradient of the mean squared error on all 7 validation samples,
        # worked by hand: d/dW mean((xW + b - y)^2) = 2/N x^T (xW + b - y).
        residual = x[:7].dot(kernel) + bias - y[:7]
        gradient = 2. / 7 * x[:7].T.dot(residual)
        grads = dict(found[kernel_tag + '_grad'])[epoch]
        assert grads.sum == pytest.approx(gradient.sum(), rel=1e-4)
        assert grads.sum_squares == pytest.approx((gradient ** 2).sum(), rel=1e-4)
        outputs = dict(found['linear_out'])[epoch]
        assert outputs.num == 7
        assert outputs.sum == pytest.approx((x[:7].dot(kernel) + bias).sum(), rel=1e-5)


def test_the_graph_has_one_node_per_layer_wired_as_the_model(tmp_path, TensorBoard):
    pytest.importorskip('tensorboardX.proto.graph_pb2')
    from tensorboardX.proto.graph_pb2 import GraphDef
    x, y = classification_data()
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(str(tmp_path))])
    graphs = [event.graph_def for event in read_events(str(tmp_path)) if event.graph_def]
    assert len(graphs) == 1
    nodes = dict((node.name, node) for node in GraphDef.FromString(graphs[0]).node)
    assert set(nodes) == set(layer.name for layer in model.layers)
    assert nodes['hidden'].op == 'Dense' and list(nodes['hidden'].input) == ['features']
    dropout = model.layers[2].name
    assert list(nodes['probabilities'].input) == [dropout]
    shape = nodes['probabilities'].attr['_output_shapes'].list.shape[0]
    assert [dim.size for dim in shape.dim] == [-1, 2]


def test_histograms_without_validation_arrays_are_refused_before_any_weight_changes(
        tmp_path, TensorBoard):
    x, y = classification_data()
    model = classifier()
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match='validation_data must be provided'):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[TensorBoard(str(tmp_path), histogram_freq=1)])

    def batches():
        while True:
            yield x[:5], y[:5]
    with pytest.raises(ValueError, match='validation_data must be provided'):
        model.fit_generator(batches(), steps_per_epoch=2, epochs=1, verbose=0,
                            validation_data=batches(), validation_steps=1,
                            callbacks=[TensorBoard(str(tmp_path), histogram_freq=1)])
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_a_log_dir_that_cannot_be_written_is_named_before_any_weight_changes(tmp_path,
                                                                             TensorBoard):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    x, y = classification_data()
    model = classifier()
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(OSError) as error:
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[TensorBoard(str(blocker / 'logs'))])
    assert str(blocker / 'logs') in str(error.value)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_bad_tensorboard_arguments_are_refused_by_name(TensorBoard):
    with pytest.raises(ValueError, match='update_freq'):
        TensorBoard(update_freq='sometimes')
    with pytest.raises(ValueError, match='histogram_freq'):
        TensorBoard(histogram_freq=-1)


def test_embeddings_are_the_layer_outputs_on_embeddings_data(tmp_path, TensorBoard):
    x, y = classification_data()
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[TensorBoard(str(tmp_path), embeddings_freq=1,
                                     embeddings_layer_names=['hidden'], embeddings_data=x)])
    written = np.loadtxt(str(tmp_path / '00000' / 'hidden' / 'tensors.tsv'), delimiter='\t')
    hidden = K.function([model.input], [model.get_layer('hidden').output])([x])[0]
    np.testing.assert_allclose(written, hidden, rtol=1e-5, atol=1e-7)
    assert 'hidden' in (tmp_path / 'projector_config.pbtxt').read_text()


# --- RemoteMonitor ------------------------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        Recorder.received.append((self.path, self.headers.get('Content-Type'),
                                  self.headers.get('X-Run'), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.received = []
    httpd = HTTPServer(('127.0.0.1', 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize('send_as_json', [False, True])
def test_remote_monitor_posts_each_epochs_logs_as_json(server, send_as_json):
    x, y = classification_data()
    history = classifier().fit(
        x, y, epochs=2, verbose=0, validation_data=(x[:5], y[:5]),
        callbacks=[RemoteMonitor(root=server, path='/epochs', headers={'X-Run': 'seven'},
                                 send_as_json=send_as_json)])
    assert len(Recorder.received) == 2
    for epoch, (path, content_type, run, body) in enumerate(Recorder.received):
        assert path == '/epochs' and run == 'seven'
        if send_as_json:
            assert content_type == 'application/json'
            payload = json.loads(body.decode('utf-8'))
        else:
            assert content_type == 'application/x-www-form-urlencoded'
            payload = json.loads(urllib.parse.parse_qs(body.decode('utf-8'))['data'][0])
        assert payload['epoch'] == epoch
        for name in ('loss', 'acc', 'val_loss', 'val_acc'):
            assert payload[name] == pytest.approx(history.history[name][epoch])


def test_remote_monitor_warns_when_the_server_is_down_and_training_goes_on():
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    x, y = classification_data()
    with pytest.warns(UserWarning, match='could not reach RemoteMonitor root server'):
        history = classifier().fit(
            x, y, epochs=3, verbose=0,
            callbacks=[RemoteMonitor(root='http://127.0.0.1:%d' % port, timeout=2)])
    assert len(history.history['loss']) == 3


def test_remote_monitor_refuses_a_root_that_is_not_a_web_address():
    with pytest.raises(ValueError, match='root'):
        RemoteMonitor(root='localhost:9000')


def test_embedding_metadata_is_read_from_log_dir_and_a_missing_file_is_named(tmp_path,
                                                                             TensorBoard):
    x, y = classification_data()
    (tmp_path / 'labels.tsv').write_text('\n'.join('sample%d' % i for i in range(len(x))))
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[TensorBoard(str(tmp_path), embeddings_freq=1,
                                     embeddings_layer_names=['hidden'], embeddings_data=x,
                                     embeddings_metadata='labels.tsv')])
    written = (tmp_path / '00000' / 'hidden' / 'metadata.tsv').read_text().split()
    assert written == ['sample%d' % i for i in range(len(x))]
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(FileNotFoundError, match='missing.tsv'):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[TensorBoard(str(tmp_path), embeddings_freq=1,
                                         embeddings_layer_names=['hidden'], embeddings_data=x,
                                         embeddings_metadata={'hidden': 'missing.tsv'})])
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
