"""FAQ: "How can I run Keras on GPU?"

"Your code will automatically run on GPU if any available GPU is detected";
the FAQ's answer on reproducibility adds that `CUDA_VISIBLE_DEVICES=""` runs it
on the CPU. Checked: the same script, unchanged, trains in a fresh process that
sees no GPU, and the step it takes is the SGD step worked out here with NumPy.
(refkeras's choice of backend from `keras.json`, its 'auto' picking the
accelerator exactly when a GPU is ready, is in test_faq_config_file.py; the
accelerator itself in spec_tests/accelerator/.)
"""
import json
import os
import subprocess
import sys

import numpy as np

from keras_under_test import child_environment

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SCRIPT = r"""
import json
import numpy as np
from keras_under_test import SGD, layers, models
model = models.Sequential([layers.Dense(2, input_shape=(3,))])
model.set_weights([np.full((3, 2), 0.5, 'float32'), np.zeros(2, 'float32')])
model.compile(SGD(lr=0.1), 'mse')
x = np.arange(12, dtype='float32').reshape(4, 3) / 10.0
y = np.ones((4, 2), 'float32')
model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
print(json.dumps([w.tolist() for w in model.get_weights()]))
"""


def test_a_script_runs_unchanged_on_a_machine_without_a_gpu():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', **child_environment())
    env['PYTHONPATH'] = os.pathsep.join([HERE, REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    kernel, bias = [np.array(w) for w in json.loads(result.stdout.strip().splitlines()[-1])]
    # One full-batch SGD step on the mean squared error, by hand in float64.
    x = np.arange(12, dtype='float64').reshape(4, 3) / 10.0
    w0, b0 = np.full((3, 2), 0.5), np.zeros(2)
    error = x @ w0 + b0 - 1.0
    grad_w = 2.0 * x.T @ error / error.size
    grad_b = 2.0 * error.sum(axis=0) / error.size
    np.testing.assert_allclose(kernel, w0 - 0.1 * grad_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, b0 - 0.1 * grad_b, rtol=1e-5, atol=1e-6)
