"""accel.floors: the bytes and operations each kernel family must spend, worked by hand.

Every expected number below is worked out in the test from the shapes (element
counts times 4 bytes for float32, operations counted per the module's
conventions), not taken from the code under test. No GPU is needed.
"""
import numpy as np
import pytest

from accel import floors

F32 = 4   # bytes of a float32
I64 = 8   # bytes of an int64


def test_floor_seconds_is_the_larger_of_the_two_times():
    # 1 GB at 1 TB/s = 1 ms; 1 GFLOP at 10 TFLOP/s = 0.1 ms: memory bound at 1 ms
    assert floors.floor_seconds(1e9, 1e9, 1e12, 1e13) == pytest.approx(1e-3)
    assert floors.bound(1e9, 1e9, 1e12, 1e13) == 'memory'
    # 1 MB at 1 TB/s = 1 us; 1 TFLOP at 10 TFLOP/s = 0.1 s: compute bound
    assert floors.floor_seconds(1e6, 1e12, 1e12, 1e13) == pytest.approx(0.1)
    assert floors.bound(1e6, 1e12, 1e12, 1e13) == 'compute'
    assert floors.Floor(1e6, 1e12).seconds(1e12, 1e13) == pytest.approx(0.1)


def test_floor_seconds_rejects_bad_rates():
    with pytest.raises(ValueError, match='bandwidth and rate must be positive'):
        floors.floor_seconds(1, 1, 0, 1)
    with pytest.raises(ValueError, match='counts must be >= 0'):
        floors.floor_seconds(-1, 1, 1, 1)


def test_gemm_counts():
    # C (2x3) = A (2x4) @ B (4x3): 6 outputs x 4 multiply-adds x 2 = 48 operations;
    # 8 + 12 + 6 = 26 floats moved
    assert floors.gemm(2, 3, 4) == (26 * F32, 48)
    # batch of 5 products with B broadcast (read once): A 5*8, B 12, C 5*6
    assert floors.gemm(2, 3, 4, batch=5, b_batch=1) == ((40 + 12 + 30) * F32, 5 * 48)
    # float64 doubles the bytes, not the operations
    assert floors.gemm(2, 3, 4, 'float64') == (26 * 8, 48)


def test_gemm_of_the_issue_sizes():
    n = 4096
    floor = floors.gemm(n, n, n)
    assert floor.flops == 2 * 4096 ** 3 == 137438953472
    assert floor.bytes == 3 * 4096 * 4096 * 4 == 201326592
    # on 3 TB/s and 60 TFLOP/s: 67 us of traffic against 2.29 ms of arithmetic
    assert floor.bound(3e12, 60e12) == 'compute'
    assert floor.seconds(3e12, 60e12) == pytest.approx(137438953472 / 60e12)


def test_matmul_primitive_broadcasts_its_batch():
    # (5, 2, 4) @ (4, 3): five products sharing one B
    floor = floors.primitive_floor('matmul', [((5, 2, 4), 'float32'), ((4, 3), 'float32')],
                                   ((5, 2, 3), 'float32'))
    assert floor == ((40 + 12 + 30) * F32, 5 * 2 * 2 * 3 * 4)
    # gradient: dA = g @ B^T (2x4 from 2x3 by 3x4), dB = sum A^T @ g: 2 products of the
    # same 2*3*4 multiply-adds each, per batch element: 4 * 24 * 5 operations
    grad = floors.gradient_floor('matmul', [((5, 2, 4), 'float32'), ((4, 3), 'float32')],
                                 ((5, 2, 3), 'float32'))
    assert grad.flops == 5 * 4 * 2 * 3 * 4


def test_elementwise_counts_each_operand_once_and_scalars_not_at_all():
    out = np.zeros((3, 4), 'float32')
    # x (12) and a broadcast row (4) read, 12 written; one add per output element
    floor = floors.primitive_floor('add', [np.zeros((3, 4), 'float32'), np.zeros(4, 'float32')],
                                   out)
    assert floor == ((12 + 4 + 12) * F32, 12)
    # x * 0.5: the scalar is a constant
    assert floors.primitive_floor('multiply', [out, 0.5], out) == ((12 + 12) * F32, 12)
    assert floors.primitive_floor('multiply', [((3, 4), 'float32'), 0.5], ((3, 4), 'float32')) == (
        (12 + 12) * F32, 12)
    # clip: a max and a min per element
    assert floors.primitive_floor('clip', [out], out, min_value=0, max_value=1).flops == 24
    # a comparison writes booleans (1 byte each)
    assert floors.primitive_floor('greater', [out, out], np.zeros((3, 4), bool)) == (
        (12 + 12) * F32 + 12, 12)


def test_elementwise_gradient():
    # add's gradient: reads g (12) and both operands (12 + 4), writes gradients of
    # 12 and 4; one multiply per output element per operand: 24
    grad = floors.gradient_floor('add', [np.zeros((3, 4), 'f4'), np.zeros(4, 'f4')],
                                 np.zeros((3, 4), 'f4'))
    assert grad == ((12 + 12 + 4 + 12 + 4) * F32, 24)


def test_reductions():
    # sum of a 4x5 array over its rows: 20 read, 4 written, 4 * (5 - 1) = 16 additions
    assert floors.reduction((4, 5), 1, 'float32') == ((20 + 4) * F32, 16)
    # over the columns: 5 results of 4 terms, 15 additions
    assert floors.reduction((4, 5), 0, 'float32') == ((20 + 5) * F32, 15)
    # mean: one division more per result
    assert floors.reduction((4, 5), (1,), 'float32', op='mean') == ((20 + 4) * F32, 20)
    # everything to a scalar: 19 additions
    assert floors.reduction((4, 5), None, 'float32') == ((20 + 1) * F32, 19)
    # argmax writes int64
    assert floors.reduction((4, 5), 1, 'float32', op='argmax') == (20 * F32 + 4 * I64, 16)
    # logsumexp per row of 5: max (4), subtract + exp + add (15), log + add (2) = 21
    assert floors.reduction((4, 5), 1, 'float32', op='logsumexp') == ((20 + 4) * F32, 4 * 21)
    # cumsum along 5: 4 scans of 4 additions, 20 values written
    assert floors.reduction((4, 5), 1, 'float32', op='cumsum') == ((20 + 20) * F32, 16)
    # through the primitive name and its attribute
    assert floors.primitive_floor('max', [((4, 5), 'float32')], ((4,), 'float32'), axis=-1) == (
        (20 + 4) * F32, 16)


def test_softmax_and_its_gradient():
    # rows of 10: max 9, subtract 10, exp 10, sum 9, divide 10 = 48 per row, 3 rows
    assert floors.softmax((3, 10)) == (60 * F32, 3 * 48)
    assert floors.primitive_floor('softmax', [((3, 10), 'float32')], ((3, 10), 'float32')) == (
        60 * F32, 144)
    # gradient per row: g*y 10, sum 9, subtract 10, multiply 10 = 39; reads g, y, writes gx
    assert floors.softmax_grad((3, 10)) == (90 * F32, 3 * 39)
    # softmax along the first axis of (3, 10): 10 columns of 3: 10 * (15 - 2)
    assert floors.softmax((3, 10), axis=0).flops == 10 * 13


def test_softmax_crossentropy():
    # logits and targets (2 x 10 each) read, 2 losses written; per row 48 (softmax)
    # + 9 additions and 10 divisions (renormalising) + 20 (clip) + 10 logs + 10 products
    # + 9 additions + 1 negation = 117
    assert floors.softmax_crossentropy((2, 10)) == ((20 + 20 + 2) * F32, 2 * 117)
    # through the fused primitive's name: (target, logits) -> one loss per row
    assert floors.primitive_floor('softmax_crossentropy',
                                  [((2, 10), 'float32'), ((2, 10), 'float32')],
                                  ((2,), 'float32')) == ((20 + 20 + 2) * F32, 234)


def test_convolution():
    # x (2, 5, 5, 3), 3x3 kernel, 3 -> 4 channels, valid: out (2, 3, 3, 4).
    # 72 outputs, each 3*3*3 = 27 multiply-adds: 2 * 72 * 27 = 3888 operations.
    x, k, y = (2, 5, 5, 3), (3, 3, 3, 4), (2, 3, 3, 4)
    moved = (150 + 108 + 72) * F32
    assert floors.conv(x, k, y) == (moved, 3888)
    assert floors.primitive_floor('conv', [(x, 'float32'), (k, 'float32')], (y, 'float32')) == (
        moved, 3888)
    # the gradient does the same multiply-adds twice (input and kernel gradients)
    assert floors.gradient_floor('conv', [(x, 'float32'), (k, 'float32')], (y, 'float32')) == (
        2 * moved, 2 * 3888)
    # im2col: reads x (150) and writes 2*9 positions x 9 taps x 3 channels = 486 values
    assert floors.im2col(x, k, y) == ((150 + 486) * F32, 0)


def test_grouped_convolution_counts_only_its_groups_channels():
    # 4 input channels in 2 groups: kernel (3, 3, 2, 6); per output 9 * 2 multiply-adds
    x, k, y = (1, 4, 4, 4), (3, 3, 2, 6), (1, 2, 2, 6)
    assert floors.conv(x, k, y).flops == 2 * 24 * 18


def test_pooling():
    # 2x2 max pooling of (2, 4, 4, 3): 24 outputs, 3 comparisons each
    x, y = (2, 4, 4, 3), (2, 2, 2, 3)
    assert floors.pool(x, y, 4) == ((96 + 24) * F32, 72)
    assert floors.primitive_floor('max_pool', [(x, 'float32')], (y, 'float32'),
                                  pool_size=(2, 2)) == ((96 + 24) * F32, 72)
    # average: 3 additions and a division per output
    assert floors.pool(x, y, 4, mode='mean') == ((96 + 24) * F32, 96)
    # max-pooling gradient: reads g (24), x (96) and the pooled output (24), writes gx (96);
    # compares each tap with the maximum: 96
    assert floors.pool_grad(x, y, 4) == ((24 + 96 + 96 + 24) * F32, 96)
    # average-pooling gradient: reads g, writes gx
    assert floors.pool_grad(x, y, 4, mode='mean') == ((24 + 96) * F32, 96)


def test_lstm_gates():
    # fused form, batch 2, units 3: z (24) and c_prev (6) read, output + carry (12)
    # written. Per element: 3 hard_sigmoid gates (4 each) + 2 tanh (1 each) + 4 = 18
    assert floors.lstm_gates(2, 3) == (42 * F32, 6 * 18)
    floor = floors.primitive_floor('lstm_gates', [((4, 2, 3), 'float32'), ((2, 3), 'float32')],
                                   ((2, 2, 3), 'float32'))
    assert floor == (42 * F32, 108)
    # with sigmoid gates: 3 * 3 + 2 + 4 = 15
    assert floors.lstm_gates(2, 3, recurrent_activation='sigmoid').flops == 6 * 15
    # split form: x_part, h_part (24 each), bias (12), c_prev (6) read, 12 written;
    # 8 more additions per element
    split = floors.primitive_floor('lstm_gates', [((4, 2, 3), 'float32'), ((4, 2, 3), 'float32'),
                                                  ((4, 1, 3), 'float32'), ((2, 3), 'float32')],
                                   ((2, 2, 3), 'float32'))
    assert split == ((24 + 24 + 12 + 6 + 12) * F32, 6 * 26)
    # gradient: reads g (12), carry (6), z (24), c_prev (6); writes g_z (24), g_c (6);
    # per element 18 (activations) - 4 + 10 (derivatives) + 12 = 36
    assert floors.lstm_gates_grad(2, 3) == (78 * F32, 6 * 36)


def test_lstm_sequence():
    # 2 timesteps, batch 1, input_dim 2, 1 unit, bias (4, 1, 1). Read: x (4), h0 and c0 (2),
    # kernels 4 * (2 + 1) = 12, bias 4; written: h and c of both timesteps (4): 26 values.
    # Products 2 * 2 timesteps * 4 gates * (2 + 1) = 48, two additions per gate value (16),
    # the gates as lstm_gates (18 per timestep): 100.
    f = 'float32'
    inputs = [((2, 1, 2), f), ((1, 1), f), ((1, 1), f), ((4, 2, 1), f), ((4, 1, 1), f),
              ((4, 1, 1), f)]
    output = ((2, 2, 1, 1), f)
    assert floors.primitive_floor('lstm_sequence', inputs, output) == (26 * F32, 100)
    # the dropout masks: (4, 1, 2) and (4, 1, 1) read (12), one product per masked value and
    # timestep (16 + 8)
    masks = [np.ones((4, 1, 2), f), np.ones((4, 1, 1), f)]
    assert floors.primitive_floor('lstm_sequence', inputs + masks, output) == (38 * F32, 124)
    # backward: the forward's operands and output again and g (4) read, gradients of x, h0,
    # c0, the kernels and the bias (22) written; the pre-activations again (100 - 36), four
    # products (96), the bias's sum (8) and lstm_gates_grad (36 per timestep)
    assert floors.gradient_floor('lstm_sequence', inputs, output) == (
        (26 + 4 + 22) * F32, 64 + 96 + 8 + 72)


def test_gather_and_scatter_add():
    # embedding lookup: table (100, 8), indices (4, 5) int64 -> (4, 5, 8)
    # reads 20 indices and 20 rows of 8, writes 160
    assert floors.gather((100, 8), (4, 5)) == (20 * I64 + 2 * 160 * F32, 0)
    assert floors.primitive_floor('gather', [((100, 8), 'float32'), ((4, 5), 'int64')],
                                  ((4, 5, 8), 'float32')) == (20 * I64 + 320 * F32, 0)
    # gradient: reads the indices and g (160), writes the whole table (800); 160 additions
    assert floors.scatter_add((100, 8), (4, 5)) == (20 * I64 + (160 + 800) * F32, 160)
    # one-hot of 6 int64 labels into 10 classes
    assert floors.one_hot((6,), 10) == (6 * I64 + 60 * F32, 60)


def test_random_copies_and_views():
    # uniform draws: 50 floats written, 3 operations each
    assert floors.random_draws((5, 10), 'float32', 'uniform') == (200, 150)
    assert floors.primitive_floor('random_normal', [], ((5, 10), 'float32'), shape=(5, 10)) == (
        200, 500)
    # binomial (dropout masks): scale and compare
    assert floors.random_draws((5, 10), 'float32', 'random_binomial') == (200, 100)
    # a float32 -> float64 cast of 10 values: 40 read, 80 written
    assert floors.copy((10,), 'float32', 'float64') == (120, 0)
    assert floors.primitive_floor('cast', [((10,), 'float32')], ((10,), 'float64'),
                                  dtype='float64') == (120, 0)
    # transpose moves every element once each way
    assert floors.primitive_floor('transpose', [((3, 4), 'float32')], ((4, 3), 'float32')) == (
        96, 0)
    # a reshape is a view: nothing moves
    assert floors.primitive_floor('reshape', [((3, 4), 'float32')], ((12,), 'float32')) == (0, 0)
    assert floors.fill((7,), 'float64') == (56, 0)


def test_fused_chains():
    # relu(x + b) over (128, 512) with b (512,): reads both, writes once; 2 operations
    n = 128 * 512
    assert floors.bias_activation((128, 512), (512,)) == ((n + 512 + n) * F32, 2 * n)
    # sigmoid: add + exp + add + divide
    assert floors.bias_activation((4,), (4,), activation='sigmoid').flops == 16
    with pytest.raises(ValueError, match="activation 'softmax'"):
        floors.bias_activation((4, 3), (3,), activation='softmax')


def test_optimizer_updates():
    # RMSprop on 1000 weights: reads w, g, a; writes w, a; 9 operations per element
    assert floors.optimizer_update('rmsprop', 1000) == (5 * 1000 * F32, 9000)
    # Adam: two slots: reads w, g, m, v; writes w, m, v
    assert floors.optimizer_update('adam', 1000) == (7 * 1000 * F32, 12000)
    assert floors.optimizer_update('adadelta', 10) == (7 * 10 * F32, 160)
    assert floors.optimizer_update('sgd', 10) == (3 * 10 * F32, 20)
    with pytest.raises(ValueError, match="unknown rule 'lion'"):
        floors.optimizer_update('lion', 10)


def test_bias_activation_primitive():
    # relu(x + b), x (8, 4), b (4,): 32 + 4 read, 32 written; add + relu per element
    floor = floors.primitive_floor('bias_activation', [((8, 4), 'float32'), ((4,), 'float32')],
                                   ((8, 4), 'float32'), activation='relu')
    assert floor == ((32 + 4 + 32) * F32, 64)
    # softmax(x + b) over rows of 4: 32 additions, then 8 rows of 5*4 - 2 = 18
    floor = floors.primitive_floor('bias_activation', [((8, 4), 'float32'), ((4,), 'float32')],
                                   ((8, 4), 'float32'), activation='softmax')
    assert floor == ((32 + 4 + 32) * F32, 32 + 8 * 18)


def test_unknown_primitives_are_counted_elementwise_like():
    # a fused primitive nobody described yet: operands (8x4 and 4) read, 8x4 written,
    # one operation per element of the largest
    floor = floors.primitive_floor('some_new_fused_chain', [((8, 4), 'float32'), ((4,), 'float32')],
                                   ((8, 4), 'float32'))
    assert floor == ((32 + 4 + 32) * F32, 32)
    # adam_update(p, g, m, v, lr_t, beta_1, beta_2) with scalar hyperparameters: p, g,
    # m, v read (40 floats), p, m, v written (30); adam's 12 operations per element
    floor = floors.primitive_floor('adam_update', [((10,), 'float32')] * 4 + [0.001, 0.9, 0.999],
                                   [((10,), 'float32')] * 3)
    assert floor == (70 * F32, 120)
    # an update rule named after a known optimizer takes that rule's operation count:
    # w, g, a read (30 floats), w and a written (20)
    floor = floors.primitive_floor('rmsprop_update', [((10,), 'float32')] * 3,
                                   [((10,), 'float32')] * 2)
    assert floor == (50 * F32, 10 * 9)


def test_operands_that_are_not_arrays_are_named():
    with pytest.raises(TypeError, match='cannot read the shape and dtype of an operand of '
                       'type str'):
        floors.primitive_floor('add', ['x', 1.0], ((2,), 'float32'))


def test_register_floor_overrides_the_generic_rule():
    name = 'test_accel_floors_custom'
    floors.register_floor(name, forward=lambda inputs, output, **attrs: floors.Floor(1, 2),
                          gradient=lambda inputs, output, **attrs: floors.Floor(3, 4))
    try:
        assert floors.primitive_floor(name, [((2,), 'float32')], ((2,), 'float32')) == (1, 2)
        assert floors.gradient_floor(name, [((2,), 'float32')], ((2,), 'float32')) == (3, 4)
    finally:
        floors._RULES.pop(name)


def test_floors_add_up():
    total = floors.gemm(2, 3, 4) + floors.softmax((2, 3))
    # 26 floats + 12 floats; 48 + 2 * (15 - 2)
    assert total == (38 * F32, 48 + 26)


def test_peak_rate_from_device_attributes():
    # an H100 SXM: 132 SMs x 128 lanes x 2 x 1.98 GHz = 66.9 TFLOP/s
    assert floors.peak_fp32_rate(132, (9, 0), 1.98e9) == pytest.approx(132 * 128 * 2 * 1.98e9)
    # an A100: 108 SMs x 64 lanes x 2 x 1.41 GHz = 19.5 TFLOP/s
    assert floors.peak_fp32_rate(108, (8, 0), 1.41e9) == pytest.approx(19.49e12, rel=1e-3)
    assert floors.peak_fp32_rate(10, (99, 0), 1e9) is None


def test_workload_sizes_are_memory_or_compute_bound_as_expected():
    # mlp's first layer per batch: 128 x 784 by 784 x 512 at 3 TB/s and 50 TFLOP/s:
    # 102.8 MFLOP take 2.06 us, 2.45 MB take 0.82 us: compute bound
    floor = floors.gemm(128, 512, 784)
    assert floor.flops == 2 * 128 * 512 * 784
    assert floor.bytes == (128 * 784 + 784 * 512 + 128 * 512) * 4
    assert floor.bound(3e12, 50e12) == 'compute'
    # an elementwise relu over the same activations: memory bound
    assert floors.elementwise((128, 512), [((128, 512), 'float32')], 'float32').bound(
        3e12, 50e12) == 'memory'
