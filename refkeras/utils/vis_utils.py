"""Drawing a model's graph of layers: `model_to_dot`, `plot_model`.

Needs pydot (`pip install pydot`, or `pip install refkeras[plot]`) and, to
render a picture, Graphviz's `dot` program (a system package: e.g.
`apt-get install graphviz`, `brew install graphviz`, `conda install graphviz`).

One box per layer, labelled `name: ClassName` (a wrapper shows what it
wraps: `time_distributed_1(dense_2): TimeDistributed(Dense)`; a model used
as a layer is one box), with an arrow for each connection the model uses.
"""
import os

RANKDIRS = ('TB', 'LR', 'BT', 'RL')
GRAPHVIZ_HINT = ('install Graphviz (a system package: e.g. `apt-get install graphviz`, '
                 '`brew install graphviz` or `conda install graphviz`) and make sure its `dot` '
                 'program is on the PATH')


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError('Failed to import `pydot`: drawing a model needs it. Please install '
                          '`pydot`, for example with `pip install pydot` (or '
                          '`pip install refkeras[plot]`); rendering also needs Graphviz.')
    return pydot


def _check_graphviz(pydot):
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, Exception) as error:  # pydot raises plain Exception on some versions
        raise OSError('`pydot` failed to call GraphViz (%s): %s.' % (error, GRAPHVIZ_HINT))


def _shape_text(layer, attribute, plural):
    """`str` of the layer's input or output shape, or 'multiple' when it has several."""
    try:
        return str(getattr(layer, attribute))
    except (AttributeError, RuntimeError, ValueError):
        pass
    try:
        return ', '.join(str(shape) for shape in getattr(layer, plural))
    except (AttributeError, RuntimeError, ValueError, TypeError):
        return 'multiple'


def _label(layer, show_shapes, show_layer_names):
    from refkeras.layers.wrappers import Wrapper
    name, class_name = layer.name, type(layer).__name__
    if isinstance(layer, Wrapper):
        name = '%s(%s)' % (name, layer.layer.name)
        class_name = '%s(%s)' % (class_name, type(layer.layer).__name__)
    label = '%s: %s' % (name, class_name) if show_layer_names else class_name
    if show_shapes:
        # A record: the label, then a two-row table of input and output shapes.
        label = '%s\n|{input:|output:}|{{%s}|{%s}}' % (
            label, _shape_text(layer, 'input_shape', 'input_shapes'),
            _shape_text(layer, 'output_shape', 'output_shapes'))
    return label


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir='TB'):
    """The model's graph as a `pydot.Dot`.

    # Arguments
        model: a `Model` or `Sequential`.
        show_shapes: also show each layer's input and output shapes.
        show_layer_names: show the layer names (otherwise only the classes).
        rankdir: 'TB' (top to bottom), 'LR' (left to right), 'BT' or 'RL'.

    # Returns
        A `pydot.Dot`.

    # Raises
        ImportError: if pydot is not installed.
        ValueError: for an unknown `rankdir`, or a `Sequential` with no layers.
    """
    from refkeras.models import Sequential
    if rankdir not in RANKDIRS:
        raise ValueError('model_to_dot: `rankdir` must be one of %s; received %r.'
                         % (', '.join(RANKDIRS), rankdir))
    pydot = _pydot()
    if isinstance(model, Sequential) and not model.built:
        if not model.layers:
            raise ValueError('model_to_dot: the Sequential model has no layers to draw.')
        model.build()
    dot = pydot.Dot()
    dot.set('rankdir', rankdir)
    dot.set('concentrate', True)
    dot.set_node_defaults(shape='record')
    drawn = set()

    def draw(layer):
        if id(layer) not in drawn:
            drawn.add(id(layer))
            dot.add_node(pydot.Node(str(id(layer)),
                                    label=_label(layer, show_shapes, show_layer_names)))

    network_nodes = model._network_nodes
    for layer in model.layers:
        draw(layer)
    for layer in model.layers:
        for node in layer._inbound_nodes:
            if node not in network_nodes:
                continue  # a call of the layer in another model
            for inbound_layer in node.inbound_layers:
                draw(inbound_layer)  # e.g. the input layer a Sequential hides
                dot.add_edge(pydot.Edge(str(id(inbound_layer)), str(id(layer))))
    return dot


def plot_model(model, to_file='model.png', show_shapes=False, show_layer_names=True,
               rankdir='TB'):
    """Draws the model's graph into an image file.

    # Arguments
        model: a `Model` or `Sequential`.
        to_file: the file; its extension names the format (png, svg, pdf,
            dot, ...; png without one).
        show_shapes: also show each layer's input and output shapes.
        show_layer_names: show the layer names (otherwise only the classes).
        rankdir: 'TB' (top to bottom), 'LR' (left to right), 'BT' or 'RL'.

    # Raises
        ImportError: if pydot is not installed.
        OSError: if Graphviz's `dot` program cannot be run, or the file
            cannot be written.
    """
    dot = model_to_dot(model, show_shapes, show_layer_names, rankdir)
    _check_graphviz(_pydot())
    extension = os.path.splitext(to_file)[1][1:] or 'png'
    folder = os.path.dirname(os.path.abspath(to_file))
    if not os.path.isdir(folder):
        raise OSError('plot_model: cannot write %r: the folder %r does not exist.'
                      % (to_file, folder))
    dot.write(to_file, format=extension)
