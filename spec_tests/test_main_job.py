"""The README's main job: `python -m refkeras.examples.digits_mlp`."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_main_job_trains_to_95_percent_with_the_progress_bar(tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, '-m', 'refkeras.examples.digits_mlp'], cwd=str(tmp_path),
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert 'Total params: 17,226' in text  # 64*128+128 + 128*64+64 + 64*10+10
    assert 'Train on 1293 samples, validate on 144 samples' in text
    assert 'Epoch 1/200' in text
    assert '1293/1293 [==============================]' in text  # Keras's progress bar
    assert ' - val_acc: ' in text
    accuracy = float(text.strip().splitlines()[-1].split(':')[1])
    assert accuracy >= 0.95
