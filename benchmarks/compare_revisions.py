"""Two refkeras source trees on the same workloads, alternating: did a change cost speed?

    python benchmarks/compare_revisions.py OLD_TREE NEW_TREE [--workloads mlp cnn lstm]
        [--rounds 3] [--repeats 1]

Each round runs, for each workload, `benchmarks/bench_<workload>.py` once with
OLD_TREE's refkeras and once with NEW_TREE's (in that order, then the other
order in the next round, so a machine slowing down hits both), each in its own
process. The benchmark scripts come from this checkout; only `refkeras` is
taken from the tree on PYTHONPATH. Prints, per workload, the median seconds
per epoch of each and the median of the per-round ratios new / old (above 1 is
slower). A tree is a checkout or `git worktree add /tmp/old REV`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def epoch_seconds(tree, workload, repeats):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tree))
    script = os.path.join(HERE, 'bench_%s.py' % workload)
    # bench_lstm.py times refkeras alone, so it has no rounds against a peer.
    rounds = [] if workload == 'lstm' else ['--rounds', '1']
    out = subprocess.run([sys.executable, script] + rounds + ['--repeats', str(repeats)],
                         env=env, check=True, capture_output=True, text=True, cwd=tree)
    line = [text for text in out.stdout.splitlines() if text.startswith('{')][-1]
    return json.loads(line)['seconds_per_epoch']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('old_tree')
    parser.add_argument('new_tree')
    parser.add_argument('--workloads', nargs='+', default=['mlp', 'cnn', 'lstm'])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=1)
    args = parser.parse_args(argv)
    for workload in args.workloads:
        old, new = [], []
        for round_index in range(args.rounds):
            order = [('old', args.old_tree), ('new', args.new_tree)]
            if round_index % 2:
                order.reverse()
            for label, tree in order:
                (old if label == 'old' else new).append(epoch_seconds(tree, workload, args.repeats))
        ratios = [n / o for n, o in zip(new, old)]
        print(json.dumps({'workload': workload,
                          'old_seconds_per_epoch': round(statistics.median(old), 3),
                          'new_seconds_per_epoch': round(statistics.median(new), 3),
                          'ratio_new_over_old': round(statistics.median(ratios), 3),
                          'ratio_rounds': [round(r, 3) for r in ratios]}), flush=True)


if __name__ == '__main__':
    main()
