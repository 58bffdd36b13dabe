"""Compiles, with the real CUDA compiler, every kernel specialisation a run launched.

The CUDA simulator runs kernels as Python and never type-checks them, so a
kernel that passes every simulator test can still fail to compile for a GPU
(or compile to something slow: float64 arithmetic, local-memory arrays). This
tool closes that gap on machines without a GPU:

1. run tests under the simulator with `ACCEL_RECORD_LAUNCHES=launches.jsonl`:
   every distinct (kernel, argument types) launched is recorded;
2. `python -m accel.compile_check launches.jsonl [--cc 9.0] [--ptx DIR]`
   compiles each one to PTX with Numba's CUDA target (needs NVVM, e.g. from
   `pip install "numba-cuda[cu13]"`, but no driver and no GPU), and prints,
   per kernel, the PTX size, float64 instructions and local-memory use.

It exits non-zero if any specialisation fails to compile.
"""
import argparse
import collections
import importlib
import json
import os
import re
import sys

import numpy as np


def _fake_device(cc):
    """Lets Numba compile for compute capability `cc` without a driver."""
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    import numba.cuda.compiler as compiler
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    import numba.cuda.dispatcher as dispatcher

    class _Device(object):
        compute_capability = cc
    dispatcher.get_current_device = lambda: _Device()
    compiler.get_current_device = lambda: _Device()


def _decode_key(item):

    kind = item[0]
    if kind == 'function':
        return getattr(importlib.import_module(item[1]), item[2])
    if kind == 'dtype':
        return np.dtype(item[1])
    if kind == 'value':
        return item[1]
    if kind == 'tuple':
        return tuple(_decode_key(i) for i in item[1:])
    if kind == 'factory':
        factory = getattr(importlib.import_module(item[1]), item[2])
        return factory(*[_decode_key(k) for k in item[3]])
    raise ValueError('unknown recipe %r' % (item,))


def _numba_type(spec):
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba import from_dtype, types
    if spec[0] == 'array':
        return types.Array(from_dtype(np.dtype(spec[1])), spec[2], 'C')
    if spec[0] == 'scalar':
        return from_dtype(np.dtype(spec[1]))
    if spec[0] == 'tuple':
        items = [_numba_type(s) for s in spec[1:]]
        if items and all(i == items[0] for i in items):
            return types.UniTuple(items[0], len(items))
        return types.Tuple(items)
    raise ValueError(spec)


def _kernel_name(recipe):
    if recipe[0] == 'factory':
        return '%s(%s)' % (recipe[2], ', '.join(
            k[2] if k[0] == 'function' else str(k[-1]) for k in recipe[3]))
    return recipe[2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('record', help='file written under ACCEL_RECORD_LAUNCHES')
    parser.add_argument('--cc', default='9.0', help='compute capability (default 9.0)')
    parser.add_argument('--ptx', default=None, help='directory to write the PTX files into')
    args = parser.parse_args(argv)
    if os.environ.get('NUMBA_ENABLE_CUDASIM', '0') not in ('', '0'):
        parser.error('unset NUMBA_ENABLE_CUDASIM: this tool needs the real CUDA target')
    os.environ['ACCEL_COMPILE_ONLY'] = '1'
    os.environ.pop('ACCEL_RECORD_LAUNCHES', None)
    cc = tuple(int(p) for p in args.cc.split('.'))
    _fake_device(cc)
    # Imported here: numba.cuda waits until the GPU or the simulator is chosen.
    from numba import cuda

    entries = []
    with open(args.record) as f:
        for line in f:
            if line.strip():
                entries.append(json.loads(line))
    failures = 0
    summary = collections.OrderedDict()
    for number, (recipe, arg_specs) in enumerate(entries):
        name = _kernel_name(recipe)
        try:
            kernel = _decode_key(recipe)
            sig = tuple(_numba_type(s) for s in arg_specs)
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
        except Exception as err:  # report every failure, then exit non-zero
            failures += 1
            print('FAILED %s %s\n  %s: %s' % (name, arg_specs, type(err).__name__,
                                              str(err).strip().splitlines()[0][:300]))
            continue
        # float64 instructions matter where no operand is float64 (a float32
        # kernel promoted by a stray constant); kernels on float64 data need them.
        f64 = 0 if '<f8' in json.dumps(arg_specs) else len(re.findall(r'\.f64\b', ptx))
        local = len(re.findall(r'(?:ld|st)\.local', ptx))
        stats = summary.setdefault(name, [0, 0, 0])
        stats[0] += 1
        stats[1] = max(stats[1], f64)
        stats[2] = max(stats[2], local)
        if args.ptx:
            os.makedirs(args.ptx, exist_ok=True)
            with open(os.path.join(args.ptx, '%04d_%s.ptx' % (
                    number, re.sub(r'[^A-Za-z0-9_]+', '_', name)[:80])), 'w') as out:
                out.write(ptx)
    print('%-60s %6s %8s %8s' % ('kernel', 'specs', 'f64 ops*', 'local'))
    for name, (count, f64, local) in summary.items():
        print('%-60s %6d %8d %8d' % (name[:60], count, f64, local))
    print('* in specialisations without float64 operands; local: ld/st.local instructions')
    print('%d specialisation(s) compiled, %d failed' % (len(entries) - failures, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
