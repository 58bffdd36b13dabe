"""The `TensorBoard` callback: training logs as TensorBoard event files.

Keras 2.2.4 wrote these files through TensorFlow. refkeras writes them
through tensorboardX, a maintained writer of the same event-file format that
needs no TensorFlow (`pip install tensorboardX`, or
`pip install refkeras[tensorboard]`); `tensorboard --logdir=...` reads them.

What is written, and under which tags (the tags are Keras 2.2.4's):
- scalars: every entry of the epoch logs (`loss`, `acc`, `val_loss`, ...)
  at each epoch end; with `update_freq` also the batch logs while training;
- with `histogram_freq`: each weight (`dense_1/kernel_0`), its gradient
  (`dense_1/kernel_0_grad`, with `write_grads`), each layer's output
  (`dense_1_out`) on the validation data, and with `write_images` each
  weight as a picture;
- with `write_graph`: the graph of layers, one node per layer, at the start;
- with `embeddings_freq`: the outputs of chosen layers on `embeddings_data`,
  for TensorBoard's projector.
"""
import os
import warnings

import numpy as np

from refkeras import backend as K
from refkeras.callbacks import Callback
from refkeras.engine import run_context


def _summary_writer(log_dir):
    """A `tensorboardX.SummaryWriter` on `log_dir` (created if need be).

    # Raises
        ImportError: if tensorboardX is not installed.
        OSError: if `log_dir` cannot be created or written.
    """
    try:
        # Imported here: optional dependency (the 'tensorboard' extra).
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError('The TensorBoard callback writes its event files with tensorboardX: '
                          'pip install tensorboardX (or pip install refkeras[tensorboard]).')
    try:
        os.makedirs(log_dir, exist_ok=True)
        probe = os.path.join(log_dir, '.refkeras-write-check')
        with open(probe, 'w'):
            pass
        os.remove(probe)
    except OSError as error:
        raise OSError('TensorBoard: cannot write the log folder `log_dir`=%r: %s'
                      % (log_dir, error.strerror or error))
    return SummaryWriter(logdir=log_dir)


def _batches(arrays, batch_size):
    """Slices of the arrays, `batch_size` samples at a time."""
    count = len(arrays[0])
    for start in range(0, count, batch_size):
        yield [array[start:start + batch_size] for array in arrays], min(batch_size,
                                                                         count - start)


def _weight_image(value):
    """A weight as a batch of one-channel pictures (NHWC, values in [0, 1]),
    following Keras 2.2.4's layout; None for shapes it had none for."""
    value = np.squeeze(value)
    if value.ndim == 2:  # a Dense kernel, wider than tall
        if value.shape[0] > value.shape[1]:
            value = value.T
        images = value[np.newaxis, :, :, np.newaxis]
    elif value.ndim == 3:  # a convolution kernel: one picture per kernel
        if K.image_data_format() == 'channels_last':
            value = np.transpose(value, (2, 0, 1))
        images = value[:, :, :, np.newaxis]
    elif value.ndim == 1:  # a bias
        images = value[np.newaxis, :, np.newaxis, np.newaxis]
    else:
        return None
    low, high = np.min(images), np.max(images)
    return (images - low) / (high - low) if high > low else np.zeros_like(images)


def _graph_def(model):
    """The model's layers as a TensorFlow `GraphDef` (one node per layer).

    Each node is named after its layer, its `op` is the layer's class, its
    inputs are the layers it reads from (`name:k` for a layer's `k`-th
    output) and its `_output_shapes` are the layer's output shapes.
    """
    # Imported here: optional dependency (the 'tensorboard' extra).
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    # Imported here: optional dependency (the 'tensorboard' extra).
    from tensorboardX.proto.graph_pb2 import GraphDef
    # Imported here: optional dependency (the 'tensorboard' extra).
    from tensorboardX.proto.node_def_pb2 import NodeDef
    # Imported here: optional dependency (the 'tensorboard' extra).
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    # Imported here: optional dependency (the 'tensorboard' extra).
    from tensorboardX.proto.versions_pb2 import VersionDef

    def shape_proto(shape):
        return TensorShapeProto(dim=[TensorShapeProto.Dim(size=-1 if size is None else size)
                                     for size in shape])

    nodes, named = [], set()

    def add(layer, inputs):
        if layer.name in named:
            return
        named.add(layer.name)
        try:
            shapes = layer.output_shape
        except (AttributeError, RuntimeError, ValueError):
            shapes = []
        shapes = shapes if isinstance(shapes, list) else [shapes]
        nodes.append(NodeDef(
            name=layer.name, op=type(layer).__name__, input=inputs,
            attr={'_output_shapes': AttrValue(list=AttrValue.ListValue(
                shape=[shape_proto(shape) for shape in shapes]))}))

    for layer in model.layers:
        inputs = []
        for node in layer._inbound_nodes:
            if node in model._network_nodes:
                for inbound, index in zip(node.inbound_layers, node.tensor_indices):
                    add(inbound, [])  # an input layer that a Sequential hides
                    inputs.append(inbound.name if index == 0 else '%s:%d' % (inbound.name, index))
        add(layer, inputs)
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


class TensorBoard(Callback):
    """Writes TensorBoard event files: scalars, histograms, the graph, embeddings.

    Run `tensorboard --logdir=/full_path_to_your_logs` to look at them.

    # Arguments
        log_dir: the folder the event files go to (created if need be).
        histogram_freq: every how many epochs to write histograms of the
            weights and layer outputs (0: never). Needs `validation_data`
            given as arrays (the outputs are computed on it).
        batch_size: the batch size used for those outputs and for embeddings.
        write_graph: write the graph of layers.
        write_grads: with `histogram_freq`, also the gradients of the loss on
            the validation data with respect to the trainable weights.
        write_images: with `histogram_freq`, also the weights as pictures.
        embeddings_freq: every how many epochs to write embeddings (0: never).
        embeddings_layer_names: the layers whose outputs are embedded (default:
            every `Embedding` layer).
        embeddings_metadata: a file of labels (TSV, one line per sample, a
            header line when it has several columns) for all layers, or a
            dict from layer name to such a file; a relative path is looked
            for in `log_dir` first, as TensorBoard's projector does.
        embeddings_data: the inputs whose embeddings are written (an array,
            or a list of arrays for several inputs).
        update_freq: 'epoch' (scalars at each epoch end, step = epoch),
            'batch' (also after every batch) or an int `n` (also every `n`
            samples); the step of batch-level values, and then of the epoch
            values too, is the number of samples seen.

    # Raises
        ImportError: if tensorboardX is not installed.
        ValueError: for a bad `update_freq`, `histogram_freq` or
            `embeddings_freq`; when training starts, for `histogram_freq`
            without validation arrays or `embeddings_freq` without
            `embeddings_data` (before any weight changes).
        OSError: when training starts, if `log_dir` cannot be written.
    """

    def __init__(self, log_dir='./logs', histogram_freq=0, batch_size=32, write_graph=True,
                 write_grads=False, write_images=False, embeddings_freq=0,
                 embeddings_layer_names=None, embeddings_metadata=None, embeddings_data=None,
                 update_freq='epoch'):
        super(TensorBoard, self).__init__()
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise ImportError('The TensorBoard callback writes its event files with '
                              'tensorboardX: pip install tensorboardX (or '
                              'pip install refkeras[tensorboard]).')
        for name, value in (('histogram_freq', histogram_freq),
                            ('embeddings_freq', embeddings_freq)):
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError('TensorBoard: `%s` must be an integer >= 0; received %r.'
                                 % (name, value))
        if update_freq == 'batch':
            update_freq = 1
        elif update_freq != 'epoch' and (not isinstance(update_freq, (int, np.integer))
                                         or isinstance(update_freq, bool) or update_freq < 1):
            raise ValueError("TensorBoard: `update_freq` must be 'batch', 'epoch' or a number "
                             "of samples >= 1; received %r." % (update_freq,))
        self.log_dir = log_dir
        self.histogram_freq = histogram_freq
        self.batch_size = batch_size
        self.write_graph = write_graph
        self.write_grads = write_grads
        self.write_images = write_images
        self.embeddings_freq = embeddings_freq
        self.embeddings_layer_names = embeddings_layer_names
        self.embeddings_metadata = embeddings_metadata or {}
        self.embeddings_data = embeddings_data
        self.update_freq = update_freq
        self.samples_seen = 0
        self.samples_seen_at_last_write = 0
        self.writer = None

    # --- hooks ----------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if self.embeddings_freq and self.embeddings_data is None:
            raise ValueError('To visualize embeddings, embeddings_data must be provided.')
        if self.embeddings_freq:
            for layer in self._embedded_layers():
                self._metadata_path(layer.name)
        self.writer = _summary_writer(self.log_dir)
        if self.write_graph:
            # Imported here: optional dependency (the 'tensorboard' extra).
            from tensorboardX.proto import event_pb2
            event = event_pb2.Event(graph_def=_graph_def(self.model).SerializeToString())
            self.writer._get_file_writer().add_event(event)
            self.writer.flush()

    def on_epoch_begin(self, epoch, logs=None):
        # Keras 2.2.4 raised this at the first epoch's end; here it comes
        # before the first batch, so no weight has changed yet.
        if self.histogram_freq and not self.validation_data:
            raise ValueError('If printing histograms, validation_data must be provided, '
                             'and cannot be a generator.')

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        if self.update_freq == 'epoch':
            return
        self.samples_seen += logs.get('size', 0)
        if self.samples_seen - self.samples_seen_at_last_write >= self.update_freq:
            self._write_logs(logs, self.samples_seen)
            self.samples_seen_at_last_write = self.samples_seen

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.histogram_freq and self.validation_data and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._write_embeddings(epoch)
        self._write_logs(logs, epoch if self.update_freq == 'epoch' else self.samples_seen)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # --- what is written -------------------------------------------------------

    def _write_logs(self, logs, step):
        for name, value in logs.items():
            if name in ('batch', 'size'):
                continue
            try:
                value = float(np.asarray(value))
            except (TypeError, ValueError):
                warnings.warn('TensorBoard: the log entry %r is not a number (%r); it is not '
                              'written.' % (name, value))
                continue
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def _split_validation_data(self):
        """The validation inputs, targets and sample weights (as arrays)."""
        inputs = len(self.model.inputs)
        outputs = len(self.model.outputs)
        data = list(self.validation_data)
        return (data[:inputs], data[inputs:inputs + outputs],
                data[inputs + outputs:inputs + 2 * outputs])

    def _layer_outputs(self, layers, inputs):
        """Each layer's output tensors in this model, evaluated on `inputs`
        batch by batch: a list of `(tag_suffix, array)` per layer.

        A layer called once with one output gives the suffix `out`; otherwise
        each output of each of its calls in this model is `out_0`, `out_1`, ...
        """
        tensors, owners = [], []
        for position, layer in enumerate(layers):
            for node in layer._inbound_nodes:
                if node in self.model._network_nodes:
                    tensors.extend(node.output_tensors)
                    owners.extend([position] * len(node.output_tensors))
        function = K.function(list(self.model.inputs), tensors)
        pieces = [[] for _ in tensors]
        for batch, _ in _batches(inputs, self.batch_size):
            for index, value in enumerate(function(batch)):
                pieces[index].append(np.asarray(value))
        values = [np.concatenate(piece) for piece in pieces]
        result = []
        for position in range(len(layers)):
            mine = [value for value, owner in zip(values, owners) if owner == position]
            result.append([('out' if len(mine) == 1 else 'out_%d' % k, value)
                           for k, value in enumerate(mine)])
        return result

    def _validation_gradients(self, inputs, targets, weights):
        """The gradient of the validation loss (test mode, as Keras's) with
        respect to each trainable weight: the mean of the batch gradients,
        weighted by batch size."""
        model = self.model
        params = list(model._collected_trainable_weights or model.trainable_weights)
        totals, count = [np.zeros(K.int_shape(p)) for p in params], 0
        for (xs, ys, sws), size in _batches_of_three(inputs, targets, weights, self.batch_size):
            with K.GradientTape(params), run_context.collecting() as run:
                entries = model._internal_loss_entries()
                outputs, masks, extra = model._forward(xs, phase=0, loss_entries=entries)
                total, _, _ = model._objective(ys, outputs, masks, sws)
                total = K.add(total, model._regularization(run, entries, extra))
            for index, gradient in enumerate(model.optimizer.get_gradients(total, params)):
                totals[index] += size * np.asarray(K.get_value(gradient))
            count += size
        return dict((id(p), total / max(count, 1)) for p, total in zip(params, totals))

    def _write_histograms(self, epoch):
        inputs, targets, weights = self._split_validation_data()
        gradients = self._validation_gradients(inputs, targets, weights) \
            if self.write_grads else {}
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = weight.name.replace(':', '_')
                value = np.asarray(K.get_value(weight))
                self.writer.add_histogram(tag, value, epoch)
                if id(weight) in gradients:
                    self.writer.add_histogram(tag + '_grad', gradients[id(weight)], epoch)
                if self.write_images:
                    images = _weight_image(value)
                    if images is not None:
                        self.writer.add_images(tag, images, epoch, dataformats='NHWC')
        layers = self.model.layers
        for layer, outputs in zip(layers, self._layer_outputs(layers, inputs)):
            for suffix, value in outputs:
                self.writer.add_histogram('%s_%s' % (layer.name, suffix), value, epoch)
        self.writer.flush()

    def _embedded_layers(self):
        names = self.embeddings_layer_names
        if not names:
            return [layer for layer in self.model.layers if type(layer).__name__ == 'Embedding']
        layers = [layer for layer in self.model.layers if layer.name in names]
        missing = sorted(set(names) - set(layer.name for layer in layers))
        if missing:
            warnings.warn('TensorBoard: the model has no layers named %s; their embeddings are '
                          'not written.' % missing)
        return layers

    def _metadata_path(self, layer_name):
        """The layer's metadata file: as TensorBoard's projector reads it,
        relative to `log_dir` (or as given, if it is found there instead);
        None if the layer has none.

        # Raises
            FileNotFoundError: if the file is in neither place.
        """
        path = self.embeddings_metadata if isinstance(self.embeddings_metadata, str) \
            else self.embeddings_metadata.get(layer_name)
        if not path:
            return None
        for candidate in (os.path.join(self.log_dir, path), path):
            if os.path.isfile(candidate):
                return candidate
        raise FileNotFoundError('TensorBoard: the embeddings_metadata file %r of layer %r is '
                                'neither in log_dir (%r) nor at that path.'
                                % (path, layer_name, self.log_dir))

    def _metadata(self, layer_name):
        """`(labels, header)` from the layer's metadata file, or `(None, None)`."""
        path = self._metadata_path(layer_name)
        if path is None:
            return None, None
        with open(path) as handle:
            lines = handle.read().splitlines()
        if lines and '\t' in lines[0]:
            return [line.split('\t') for line in lines[1:]], lines[0].split('\t')
        return lines, None

    def _write_embeddings(self, epoch):
        layers = self._embedded_layers()
        if not layers:
            return
        data = self.embeddings_data
        inputs = list(data) if isinstance(data, (list, tuple)) else [data]
        for layer, outputs in zip(layers, self._layer_outputs(layers, inputs)):
            labels, header = self._metadata(layer.name)
            for suffix, output in outputs:
                tag = layer.name if len(outputs) == 1 else '%s_%s' % (layer.name, suffix)
                self.writer.add_embedding(np.reshape(output, (len(output), -1)),
                                          metadata=labels, metadata_header=header,
                                          global_step=epoch, tag=tag)
        self.writer.flush()


def _batches_of_three(inputs, targets, weights, batch_size):
    """`((xs, ys, sws), size)` for each validation batch."""
    arrays = list(inputs) + list(targets) + list(weights)
    for batch, size in _batches(arrays, batch_size):
        xs = batch[:len(inputs)]
        ys = batch[len(inputs):len(inputs) + len(targets)]
        sws = batch[len(inputs) + len(targets):]
        yield (xs, ys, sws or None), size
