"""benchmarks/cpu_floor.py: the matrix-product work of a training step, counted by hand."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'benchmarks'))

import cpu_floor  # noqa: E402
from refkeras.layers import Conv2D, Dense, Flatten, MaxPooling2D  # noqa: E402
from refkeras.models import Sequential  # noqa: E402


def test_a_step_costs_each_product_three_times_except_the_first_layers_input_gradient():
    model = Sequential([Conv2D(2, (3, 3), input_shape=(5, 5, 1)), MaxPooling2D((1, 1)),
                        Flatten(), Dense(3)])
    # Conv2D: 3 x 3 output positions, 9 taps, 1 channel in, 2 filters: 2 * 9 * 9 * 2 = 324
    # per forward, twice (forward, kernel gradient; its input is the model's input).
    # Dense: 18 inputs (3 * 3 * 2), 3 units: 2 * 18 * 3 = 108, three times.
    assert cpu_floor.training_flops_per_sample(model) == 2 * 324 + 3 * 108


def test_a_channels_first_convolution_counts_the_same_products():
    model = Sequential([Conv2D(2, (3, 3), input_shape=(2, 5, 5), data_format='channels_first'),
                        Flatten(), Dense(3)])
    # 3 x 3 positions, 9 taps, 2 channels in, 2 filters: 2 * 9 * 9 * 2 * 2 = 648, twice;
    # Dense 18 -> 3: 108, three times.
    assert cpu_floor.training_flops_per_sample(model) == 2 * 648 + 3 * 108


def test_the_workloads_counts():
    # WORKLOADS.md's mlp: 784 -> 512 -> 512 -> 10; the cnn's two convolutions and two Dense.
    mlp = Sequential([Dense(512, input_shape=(784,)), Dense(512), Dense(10)])
    forward = 2 * (784 * 512 + 512 * 512 + 512 * 10)
    assert cpu_floor.training_flops_per_sample(mlp) == 3 * forward - 2 * 784 * 512
    cnn = Sequential([Conv2D(32, (3, 3), input_shape=(28, 28, 1)), Conv2D(64, (3, 3)),
                      MaxPooling2D((2, 2)), Flatten(), Dense(128), Dense(10)])
    conv1 = 2 * 26 * 26 * 9 * 1 * 32
    conv2 = 2 * 24 * 24 * 9 * 32 * 64
    dense = 2 * 12 * 12 * 64 * 128 + 2 * 128 * 10
    assert cpu_floor.training_flops_per_sample(cnn) == 2 * conv1 + 3 * conv2 + 3 * dense


def test_the_gemm_rate_is_operations_per_second():
    # 2 * 256^3 operations take between a nanosecond-scale and a second-scale time on any
    # machine: the rate must land between 10 MFLOP/s and 100 TFLOP/s.
    assert 1e7 < cpu_floor.gemm_rate(n=256, repeats=2) < 1e14


def test_the_harness_reports_both_epochs_against_the_floor(monkeypatch):
    import harness
    import numpy as np
    from refkeras import optimizers

    def build():
        model = Sequential([Dense(3, input_shape=(4,))])
        model.compile(optimizer=optimizers.SGD(), loss='mse')
        return model

    def data():
        return np.ones((32, 4), np.float32), np.zeros((32, 3), np.float32)

    monkeypatch.setattr(harness, 'peer_epoch_seconds', lambda python, workload: 2.0)
    result = harness.compare('tiny', build, data, 8, peer_python='peer', rounds=1, repeats=1)
    # The floor: 32 samples x 2 x 4 x 3 operations, twice (the only layer takes the input),
    # at the rate printed (to 4 significant digits, the floor too).
    floor = 32 * 2 * (2 * 4 * 3) / (result['gemm_gflops'] * 1e9)
    # rounding: the floor to 4 digits (5e-4), the rate to 0.05 GFLOP/s
    relative = 5e-4 + 0.05 / result['gemm_gflops']
    assert abs(result['flop_floor_seconds'] - floor) <= 1.01 * relative * floor
    assert result['ratio'] == result['seconds_per_epoch'] / 2.0
    for key, seconds in (('ratio_to_flop_floor', result['seconds_per_epoch']),
                         ('peer_ratio_to_flop_floor', 2.0)):
        assert abs(result[key] - seconds / floor) <= 0.005 + 1.01 * relative * seconds / floor
