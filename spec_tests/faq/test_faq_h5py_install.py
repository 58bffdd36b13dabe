"""FAQ: "How can I install HDF5 or h5py to save my models in Keras?"

h5py is what saving uses, it is a dependency (installed with Keras), and
"if it imports without error it is installed". Checked: `import h5py` works
where Keras is installed, and the files `ModelCheckpoint` writes are HDF5 files
that h5py opens and that hold the model's weights.
"""
import importlib

import numpy as np

from keras_under_test import callbacks, layers, models


def test_h5py_imports_where_keras_is_installed():
    h5py = importlib.import_module('h5py')
    assert hasattr(h5py, 'File')


def test_model_checkpoint_writes_an_hdf5_file_h5py_reads(tmp_path):
    import h5py
    model = models.Sequential([layers.Dense(2, input_shape=(3,), name='only')])
    model.compile('sgd', 'mse')
    path = str(tmp_path / 'checkpoint.h5')
    x, y = np.ones((4, 3), 'float32'), np.zeros((4, 2), 'float32')
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
    assert h5py.is_hdf5(path)
    with h5py.File(path, 'r') as handle:
        weights = handle['model_weights']['only']['only']
        stored = sorted(np.array(weights[name]).size for name in weights)
    assert stored == sorted(w.size for w in model.get_weights())
