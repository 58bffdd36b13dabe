"""accel's kernels against their floors, on a GPU (issue 7, item 4).

For each kernel family accel launches (tiled GEMM, elementwise maps, row and
column reductions, softmax, convolution through im2col + GEMM, pooling windows,
the LSTM gates, gather / scatter-add, random draws, copies), at the sizes the
`mlp`, `cnn` and `lstm` workloads of WORKLOADS.md run them, it times one call
of the accel primitive (forward, or gradient rule) with CUDA events, the median
of `--runs` calls after warm-up, and compares it with the floor of
`accel.floors`: `max(bytes / bandwidth, operations / rate)`, where the
bandwidth (a device-to-device copy) and the float32 rate (cuBLAS SGEMM through
PyTorch, TF32 off) are measured at the start of the same run. It prints:

    kernel | shape | measured | floor | of floor | bound

"of floor" is floor / measured (100% would be a kernel at its ceiling). Times
include what one call costs on the device timeline: the launch(es), and the
allocation of the result (accel allocates a fresh output per call).

    python benchmarks/kernel_floors.py                      # all cases
    python benchmarks/kernel_floors.py --only gemm softmax  # families by name
    python benchmarks/kernel_floors.py --large              # also chip-filling sizes
    python benchmarks/kernel_floors.py --json $OUT/floors.json
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/kernel_floors.py --simulator-smoke

Without a GPU it refuses (exit status 2), except with `--simulator-smoke`,
which runs every case on tiny shapes under the CUDA simulator to check the
script; its figures mean nothing. To time a new primitive (a fused one, say),
add a `Case` to `cases()`; `accel.floors.primitive_floor` gives any primitive a
floor (elementwise-like unless a rule is registered).
"""
import argparse
import inspect
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _p in (ROOT, HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

SCRIPT = 'kernel_floors.py'


class Case(object):
    """One timed call: primitive `name` (forward or gradient) on inputs of given shapes.

    # Arguments
        family: the kernel family (first table column).
        workload: which workload runs it at this size ('mlp', 'cnn', 'lstm', 'large').
        name: the primitive's registry name.
        inputs: list of `(shape, dtype)` (random normal data), `('pos', shape)` (positive
            float32: accumulators, probabilities), `('int', shape, high)` (random
            integers below `high`), or Python scalars.
        attrs: the primitive's keyword attributes.
        gradient: time the gradient rule instead of the forward.
        label: shape text for the table (default: the input shapes).
    """

    def __init__(self, family, workload, name, inputs, attrs=None, gradient=False, label=None):
        self.family = family
        self.workload = workload
        self.name = name
        self.inputs = inputs
        self.attrs = attrs or {}
        self.gradient = gradient
        self.label = label

    def describe(self):
        if self.label:
            return self.label
        parts = []
        for spec in self.inputs:
            if isinstance(spec, tuple) and spec and spec[0] == 'int':
                parts.append('int%s' % (tuple(spec[1]),))
            elif isinstance(spec, tuple) and spec and spec[0] == 'pos':
                parts.append('x'.join(map(str, spec[1])))
            elif isinstance(spec, tuple):
                parts.append('x'.join(map(str, spec[0])) or 'scalar')
            else:
                parts.append(repr(spec))
        return ', '.join(parts)


def _lstm_fused_form():
    """Whether the reference's `lstm_gates` takes `(z, c_prev)` (else the split form)."""
    from refkeras.backend.registry import REGISTRY
    prim = REGISTRY.get('lstm_gates')
    return prim is None or list(inspect.signature(prim.forward).parameters)[0] == 'z'


def _lstm_sequence_operands(steps, batch, input_dim, units):
    """`lstm_sequence`'s operands: time-major inputs, the two states, per-gate kernels, bias."""
    f = 'float32'
    return [((steps, batch, input_dim), f), ((batch, units), f), ((batch, units), f),
            ((4, input_dim, units), f), ((4, units, units), f), ((4, 1, units), f)]


def cases(tiny=False, large=False):
    """The timed cases: the workloads' sizes, or tiny ones for the simulator smoke."""
    f = 'float32'

    def s(full, small):
        return small if tiny else full

    b, bl = s(128, 4), s(32, 2)                # mlp/cnn batch, lstm batch
    d_in, hid, cls = s(784, 12), s(512, 8), 10
    img, c1, c2, dense = s(28, 8), s(32, 2), s(64, 3), s(128, 4)
    o1, o2 = img - 2, img - 4                  # after each valid 3x3 convolution
    pooled = o2 // 2
    vocab, emb, steps, units = s(20000, 30), s(128, 4), s(80, 5), s(128, 4)
    out = [
        # --- tiled GEMM (dense layers, im2col products, LSTM projections)
        Case('gemm', 'mlp', 'matmul', [((b, d_in), f), ((d_in, hid), f)]),
        Case('gemm', 'mlp', 'matmul', [((b, d_in), f), ((d_in, hid), f)], gradient=True),
        Case('gemm', 'mlp', 'matmul', [((b, hid), f), ((hid, hid), f)]),
        Case('gemm', 'mlp', 'matmul', [((b, hid), f), ((hid, cls), f)]),
        Case('gemm', 'cnn', 'matmul', [((b, pooled * pooled * c2), f), ((pooled * pooled * c2,
                                                                          dense), f)]),
        Case('gemm', 'lstm', 'matmul', [((bl * steps, emb), f), ((emb, 4 * units), f)]),
        Case('gemm', 'lstm', 'matmul', [((bl, units), f), ((units, 4 * units), f)]),
        # --- elementwise maps
        Case('elementwise', 'mlp', 'add', [((b, hid), f), ((hid,), f)]),
        Case('elementwise', 'mlp', 'relu', [((b, hid), f)]),
        Case('elementwise', 'mlp', 'relu', [((b, hid), f)], gradient=True),
        Case('elementwise', 'mlp', 'multiply', [((b, hid), f), ((b, hid), f)]),
        Case('elementwise', 'mlp', 'sqrt', [((d_in, hid), f)]),
        Case('elementwise', 'cnn', 'relu', [((b, o2, o2, c2), f)]),
        Case('elementwise', 'lstm', 'sigmoid', [((bl, 1), f)]),
        # --- reductions (rows: a trailing axis; columns: a leading one)
        Case('reduce rows', 'mlp', 'sum', [((b, cls), f)], {'axis': -1}),
        Case('reduce rows', 'mlp', 'max', [((b, cls), f)], {'axis': -1}),
        Case('reduce columns', 'mlp', 'sum', [((b, hid), f)], {'axis': 0}),
        Case('reduce columns', 'cnn', 'sum', [((b, o2, o2, c2), f)], {'axis': (0, 1, 2)}),
        Case('reduce all', 'mlp', 'mean', [((b,), f)], {'axis': None}),
        # --- softmax
        Case('softmax', 'mlp', 'softmax', [((b, cls), f)], {'axis': -1}),
        Case('softmax', 'mlp', 'softmax', [((b, cls), f)], {'axis': -1}, gradient=True),
        # --- convolution: im2col + GEMM, and its gradients
        Case('conv', 'cnn', 'conv', [((b, img, img, 1), f), ((3, 3, 1, c1), f)]),
        Case('conv', 'cnn', 'conv', [((b, o1, o1, c1), f), ((3, 3, c1, c2), f)]),
        Case('conv', 'cnn', 'conv', [((b, o1, o1, c1), f), ((3, 3, c1, c2), f)],
             gradient=True),
        # --- pooling windows
        Case('pool', 'cnn', 'max_pool', [((b, o2, o2, c2), f)], {'pool_size': (2, 2),
                                                                  'strides': (2, 2)}),
        Case('pool', 'cnn', 'max_pool', [((b, o2, o2, c2), f)], {'pool_size': (2, 2),
                                                                  'strides': (2, 2)},
             gradient=True),
        # --- the LSTM cell
        Case('lstm_gates', 'lstm', 'lstm_gates',
             [((4, bl, units), f), ((bl, units), f)] if _lstm_fused_form() else
             [((4, bl, units), f), ((4, bl, units), f), ((4, 1, units), f), ((bl, units), f)]),
        Case('lstm_gates', 'lstm', 'lstm_gates',
             [((4, bl, units), f), ((bl, units), f)] if _lstm_fused_form() else
             [((4, bl, units), f), ((4, bl, units), f), ((4, 1, units), f), ((bl, units), f)],
             gradient=True),
        # --- the LSTM's whole sequence, as the layer runs it (without its dropout masks)
        Case('lstm_sequence', 'lstm', 'lstm_sequence',
             _lstm_sequence_operands(steps, bl, emb, units)),
        Case('lstm_sequence', 'lstm', 'lstm_sequence',
             _lstm_sequence_operands(steps, bl, emb, units), gradient=True),
        # --- gather / scatter-add (the embedding)
        Case('gather', 'lstm', 'gather', [((vocab, emb), f), ('int', (bl, steps), vocab)],
             {'axis': 0}),
        Case('gather', 'lstm', 'gather', [((vocab, emb), f), ('int', (bl, steps), vocab)],
             {'axis': 0}, gradient=True),
        # --- random draws (dropout masks, initialisers)
        Case('random', 'mlp', 'random_binomial', [], {'shape': (b, hid), 'p': 0.8},
             label='%dx%d' % (b, hid)),
        Case('random', 'lstm', 'random_uniform', [], {'shape': (bl, steps, emb)},
             label='%dx%dx%d' % (bl, steps, emb)),
        Case('random', 'mlp', 'random_normal', [], {'shape': (d_in, hid)},
             label='%dx%d' % (d_in, hid)),
        # --- copies
        Case('copy', 'lstm', 'transpose', [((bl, steps, emb), f)], {'axes': (1, 0, 2)}),
        Case('copy', 'mlp', 'transpose', [((d_in, hid), f)], {'axes': (1, 0)}),
        Case('copy', 'mlp', 'cast', [((b, hid), f)], {'dtype': 'float64'}),
        # --- fused chains (timed once accel registers them; skipped before)
        Case('fused', 'mlp', 'bias_activation', [((b, hid), f), ((hid,), f)],
             {'activation': 'relu'}),
        Case('fused', 'mlp', 'bias_activation', [((b, hid), f), ((hid,), f)],
             {'activation': 'relu'}, gradient=True),
        Case('fused', 'mlp', 'softmax_crossentropy', [('pos', (b, cls)), ((b, cls), f)]),
        Case('fused', 'mlp', 'softmax_crossentropy', [('pos', (b, cls)), ((b, cls), f)],
             gradient=True),
        # --- optimizer updates, one weight of each workload's largest layer
        Case('update', 'mlp', 'rmsprop_update',
             [((d_in, hid), f), ((d_in, hid), f), ('pos', (d_in, hid)), 0.001, 0.9]),
        Case('update', 'cnn', 'adadelta_update',
             [((pooled * pooled * c2, dense), f), ((pooled * pooled * c2, dense), f),
              ('pos', (pooled * pooled * c2, dense)), ('pos', (pooled * pooled * c2, dense)),
              1.0, 0.95]),
        Case('update', 'lstm', 'adam_update',
             [((vocab, emb), f), ((vocab, emb), f), ((vocab, emb), f), ('pos', (vocab, emb)),
              0.001, 0.9, 0.999]),
    ]
    if large:
        n = s(8192, 16)
        out += [
            Case('gemm', 'large', 'matmul', [((n // 2, n // 2), f), ((n // 2, n // 2), f)]),
            Case('elementwise', 'large', 'add', [((n, n), f), ((n, n), f)]),
            Case('reduce rows', 'large', 'sum', [((n, n), f)], {'axis': -1}),
            Case('reduce columns', 'large', 'sum', [((n, n), f)], {'axis': 0}),
            Case('softmax', 'large', 'softmax', [((n, 1000 if not tiny else 7), f)]),
            Case('copy', 'large', 'transpose', [((n, n), f)], {'axes': (1, 0)}),
            Case('random', 'large', 'random_uniform', [], {'shape': (n, n)},
                 label='%dx%d' % (n, n)),
        ]
    return out


def _materialise(case, rng):
    """Device inputs for a case: random normal floats, random integers, positive floats."""
    import numpy as np

    from accel import arrays
    values = []
    for spec in case.inputs:
        if isinstance(spec, tuple) and spec and spec[0] == 'int':
            values.append(arrays.to_device(rng.integers(0, spec[2], spec[1]).astype('int64')))
        elif isinstance(spec, tuple) and spec and spec[0] == 'pos':
            # positive values (accumulators, probabilities): |normal| + 0.01
            values.append(arrays.to_device(
                (np.abs(rng.standard_normal(spec[1])) + 0.01).astype('float32')))
        elif isinstance(spec, tuple):
            shape, dtype = spec
            values.append(arrays.to_device(rng.standard_normal(shape).astype(dtype)))
        else:
            values.append(spec)
    return values


def run_case(case, prims, cuda, rng, runs, warmup):
    """Times one case; returns `(seconds, Floor)`."""
    from accel import arrays, floors
    prim = prims[case.name]
    values = _materialise(case, rng)
    out = prim.forward(*values, **case.attrs)
    spec = [(tuple(o.shape), o.dtype) for o in out] if isinstance(out, (tuple, list)) else \
        (tuple(out.shape), out.dtype)
    if case.gradient:
        g = arrays.to_device(rng.standard_normal(out.shape).astype(out.dtype))

        def call():   # rules taking `needs` default to every input's gradient
            return prim.grad(g, out, *values, **case.attrs)
        floor = floors.gradient_floor(case.name, values, spec, **case.attrs)
    else:
        def call():
            return prim.forward(*values, **case.attrs)
        floor = floors.primitive_floor(case.name, values, spec, **case.attrs)
    seconds, _ = harness.device_seconds(cuda, call, runs, warmup)
    return seconds, floor


def _us(seconds):
    return '%.1f us' % (seconds * 1e6) if seconds < 1e-2 else '%.2f ms' % (seconds * 1e3)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    smoke = harness.request_simulator_if_smoke(argv)
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--simulator-smoke', action='store_true',
                        help='run every case on tiny shapes under the CUDA simulator '
                             '(checks the script; the figures mean nothing)')
    parser.add_argument('--only', nargs='+', metavar='FAMILY',
                        help='families to run (gemm, elementwise, reduce, softmax, conv, pool, '
                             'lstm_gates, gather, random, copy); prefixes match')
    parser.add_argument('--workloads', nargs='+', metavar='NAME',
                        help='only the cases of these workloads (mlp, cnn, lstm, large)')
    parser.add_argument('--large', action='store_true', help='add chip-filling sizes')
    parser.add_argument('--runs', type=int, default=20, help='timed calls per case (median)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed calls first')
    parser.add_argument('--json', metavar='PATH', help='also write every row as JSON here')
    args = parser.parse_args(argv)
    cuda, torch, info = harness.gpu_environment(SCRIPT, smoke)

    import numpy as np

    from accel.table import registered
    prims = registered()
    if smoke:
        args.runs, args.warmup = min(args.runs, 2), min(args.warmup, 1)
        print('SIMULATOR SMOKE RUN: tiny shapes under the CUDA simulator; the figures below '
              'check the script and mean nothing.')
    ceilings = harness.measure_ceilings(cuda, torch, smoke)
    for line in harness.describe_ceilings(ceilings):
        print(line)
    bw, rate = ceilings['bandwidth'], ceilings['rate']
    print('floor = max(bytes / bandwidth, operations / rate) with the two figures above '
          '(accel.floors); median of %d calls after %d warm-up calls, %s'
          % (args.runs, args.warmup, 'host clock (simulator)' if smoke else 'CUDA events'))
    print()
    chosen = [c for c in cases(tiny=smoke, large=args.large)
              if (not args.only or any(c.family.startswith(o) for o in args.only)) and
              (not args.workloads or c.workload in args.workloads)]
    header = '%-26s %-6s %-34s %11s %11s %9s  %-7s' % ('kernel', 'load', 'shape', 'measured',
                                                      'floor', 'of floor', 'bound')
    print(header)
    print('-' * len(header))
    rng = np.random.default_rng(0)
    rows, failures = [], []
    for case in chosen:
        kernel = case.name + (' grad' if case.gradient else '')
        if case.name not in prims or (case.gradient and prims[case.name].grad is None):
            print('%-26s %-6s %-34s %s' % (kernel, case.workload, case.describe()[:34],
                                           'skipped: accel has no such primitive yet'))
            continue
        try:
            seconds, floor = run_case(case, prims, cuda, rng, args.runs, args.warmup)
        except Exception as err:   # report it, go on with the other kernels
            failures.append(kernel)
            print('%-26s %-6s %-34s FAILED: %s: %s' % (kernel, case.workload,
                                                     case.describe()[:34], type(err).__name__,
                                                     str(err)[:200]), flush=True)
            continue
        floor_s = floor.seconds(bw, rate)
        row = {'family': case.family, 'kernel': kernel, 'workload': case.workload,
               'shape': case.describe(), 'seconds': seconds, 'floor_seconds': floor_s,
               'fraction_of_floor': floor_s / seconds if seconds > 0 else None,
               'bound': floor.bound(bw, rate), 'bytes': floor.bytes, 'flops': floor.flops}
        rows.append(row)
        print('%-26s %-6s %-34s %11s %11s %8.1f%%  %-7s'
              % (kernel, case.workload, case.describe()[:34], _us(seconds), _us(floor_s),
                 100 * row['fraction_of_floor'], row['bound']), flush=True)
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump({'ceilings': ceilings, 'smoke': smoke, 'rows': rows,
                       'failures': failures}, fh, indent=1)
    if failures:
        print('%d case(s) failed: %s' % (len(failures), ', '.join(failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except harness.Refused as stop:
        sys.exit(stop.code)
