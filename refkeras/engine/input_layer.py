"""`Input()` and `InputLayer`: where a model's graph starts."""
from refkeras import backend as K
from refkeras.backend.tensors import SymbolicTensor
from refkeras.engine.base_layer import Layer, Node
from refkeras.legacy import interfaces


class InputLayer(Layer):
    """The layer that owns a model input (a placeholder).

    # Arguments
        input_shape: shape without the batch axis, e.g. `(784,)`.
        batch_size: fixed batch size, or None (required by stateful RNNs).
        batch_input_shape: shape with the batch axis, instead of the two above.
        dtype: dtype of the input (floatx by default).
        input_tensor: an existing symbolic tensor to use as the input.
        sparse: unsupported (refkeras has no sparse tensors); must be False.
        name: layer name (`input_1`, ... by default).

    # Raises
        ValueError: when neither a shape nor a tensor is given, or both kinds are.
    """

    @interfaces.legacy_input_support
    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None,
                 input_tensor=None, sparse=False, name=None):
        if not name:
            prefix = 'input'
            name = prefix + '_' + str(K.get_uid(prefix))
        super(InputLayer, self).__init__(dtype=dtype, name=name)
        if sparse:
            raise ValueError('InputLayer %s: sparse inputs are not supported by refkeras.' % name)
        self.trainable = False
        self.built = True
        self.sparse = False
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError('InputLayer %s: give only one of `input_shape` and '
                             '`batch_input_shape`.' % name)
        if input_tensor is not None and batch_input_shape is None:
            batch_input_shape = K.int_shape(input_tensor)
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError('InputLayer %s needs an `input_shape`, a `batch_input_shape` or '
                                 'an `input_tensor`.' % name)
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = tuple(None if d is None else int(d) for d in batch_input_shape)
        self.dtype = dtype or K.floatx()
        if input_tensor is None:
            input_tensor = SymbolicTensor(self.batch_input_shape, self.dtype, name=name)
        self.is_placeholder = True
        input_tensor._keras_history = (self, 0, 0)
        Node(self, inbound_layers=[], node_indices=[], tensor_indices=[],
             input_tensors=[input_tensor], output_tensors=[input_tensor],
             input_shapes=[self.batch_input_shape], output_shapes=[self.batch_input_shape])

    def get_config(self):
        return {'batch_input_shape': self.batch_input_shape, 'dtype': self.dtype,
                'sparse': self.sparse, 'name': self.name}


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None,
          batch_size=None):
    """Creates a symbolic model input (`x = Input(shape=(32,))`).

    # Arguments
        shape: shape without the batch axis; `None` entries are free sizes.
        batch_shape: full shape including the batch axis, instead of `shape`.
        name: optional layer name.
        dtype: input dtype (floatx by default; use 'int32' for indices).
        sparse: unsupported; must be False.
        tensor: an existing symbolic tensor to wrap.
        batch_size: fixed batch size (with `shape`).

    # Returns
        The symbolic input tensor.

    # Raises
        ValueError: if neither `shape` nor `batch_shape` nor `tensor` is given.
    """
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError('Please provide to Input either a `shape` or a `batch_shape` argument. '
                         'Note that `shape` does not include the batch dimension.')
    if shape is not None and batch_shape is None:
        batch_shape = (batch_size,) + tuple(shape)
    layer = InputLayer(batch_input_shape=batch_shape, name=name, dtype=dtype, sparse=sparse,
                       input_tensor=tensor)
    return layer._inbound_nodes[0].output_tensors[0]
