"""refkeras.utils.plot_model / model_to_dot.

Needs pydot (the `plot` extra, installed by the `test` extra); drawing a
picture also needs Graphviz's `dot` program (a system package, which CI
installs).
"""
import builtins
import shutil
import struct

import pytest

pytest.importorskip('pydot', reason='pydot is not installed (pip install refkeras[plot])')

from refkeras.layers import Dense, Input, LSTM, TimeDistributed, concatenate  # noqa: E402
from refkeras.models import Model, Sequential  # noqa: E402
from refkeras.utils import plot_model  # noqa: E402
from refkeras.utils import vis_utils  # noqa: E402

needs_graphviz = pytest.mark.skipif(shutil.which('dot') is None,
                                    reason="Graphviz's dot is not installed "
                                           "(apt-get install graphviz)")


def two_branch_model():
    left, right = Input((4,), name='left'), Input((3,), name='right')
    inner = Sequential([Dense(4, input_shape=(4,), name='inner_dense')], name='inner')
    merged = concatenate([inner(left), Dense(2, name='side')(right)], name='merged')
    return Model([left, right], Dense(1, name='out')(merged))


def edges_by_label(dot):
    # (get_nodes also lists the node defaults, which have no label)
    names = dict((node.get_name(), node.get('label').strip('"').split(':')[0])
                 for node in dot.get_nodes() if node.get('label'))
    assert len(names) == len(set(names.values()))  # one box per layer
    return set((names[edge.get_source()], names[edge.get_destination()])
               for edge in dot.get_edges())


def test_model_to_dot_has_one_box_per_layer_and_an_arrow_per_connection():
    dot = vis_utils.model_to_dot(two_branch_model())
    assert edges_by_label(dot) == {('left', 'inner'), ('right', 'side'), ('inner', 'merged'),
                                   ('side', 'merged'), ('merged', 'out')}


def test_labels_show_wrapped_layers_and_shapes():
    model = Sequential([LSTM(6, return_sequences=True, input_shape=(2, 3), name='lstm'),
                        TimeDistributed(Dense(5, name='inside'), name='td')])
    labels = [node.get('label') for node in
              vis_utils.model_to_dot(model, show_shapes=True).get_nodes() if node.get('label')]
    assert any('td(inside): TimeDistributed(Dense)' in label for label in labels)
    assert any('(None, 2, 6)' in label and 'lstm: LSTM' in label for label in labels)
    names_hidden = vis_utils.model_to_dot(model, show_layer_names=False).get_nodes()
    assert not any('lstm' in (node.get('label') or '') for node in names_hidden)


def test_an_unknown_rankdir_is_refused():
    with pytest.raises(ValueError, match='rankdir'):
        vis_utils.model_to_dot(two_branch_model(), rankdir='UP')


@needs_graphviz
def test_plot_model_writes_a_png_picture(tmp_path):
    path = tmp_path / 'model.png'
    plot_model(two_branch_model(), to_file=str(path), show_shapes=True, rankdir='LR')
    data = path.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = struct.unpack('>II', data[16:24])
    assert width > height > 50  # left to right: wider than tall


def test_without_pydot_the_error_says_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_pydot(name, *args, **kwargs):
        if name == 'pydot':
            raise ImportError('no pydot here')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_pydot)
    with pytest.raises(ImportError, match='pip install pydot'):
        vis_utils.model_to_dot(two_branch_model())


def test_without_graphviz_the_error_says_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))  # no `dot` program there
    with pytest.raises(OSError, match='install Graphviz'):
        plot_model(two_branch_model(), to_file=str(tmp_path / 'model.png'))
    assert not (tmp_path / 'model.png').exists()
