#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# mutate.py BASE OUT SEED N: N damaged copies of the checkpoint BASE, for
# t_mutate.sh: OUT/K for K in SEED..SEED+N-1, each with one random damage.
# Prints one line per copy, "OUT/K KIND FILE sealed|unsealed": what was done
# to which file (relative to the copy), and whether the manifest was made
# to agree (reseal.py) so the damage gets past the checksums to the parsers
# and checks behind them.  The same SEED does the same damage to the same
# image.  Files a copy leaves alone are hard links to BASE's (one Python
# start for all: it takes seconds on a loaded machine).
import os
import random
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reseal  # noqa: E402

def damage(d, seed):
    rnd = random.Random(seed)
    files = sorted(os.path.relpath(os.path.join(r, f), d)
                   for r, _, fs in os.walk(d) for f in fs)
    text = [f for f in files if not f.endswith('pages') and '/' not in f or
            re.search(r'(^|/)(attr|creds|mm|maps|fds|pages\.idx|sigactions|'
                      r'rlimits|timers|regs|sigstate|signals|sched|files|locks)$',
                      f)]
    kinds = ['flip', 'truncate', 'delete', 'empty', 'number', 'swap', 'idx']
    kind = rnd.choice(kinds)
    if kind == 'idx':
        cands = [f for f in files if f.endswith('pages.idx')]
    elif kind in ('truncate', 'delete', 'empty'):
        cands = files
    else:
        cands = text
    f = rnd.choice(cands)
    p = os.path.join(d, f)
    data = orig = open(p, 'rb').read()
    if kind == 'flip' and data:
        i = rnd.randrange(len(data))
        data = data[:i] + bytes([data[i] ^ (1 << rnd.randrange(8))]) + data[i + 1:]
    elif kind == 'truncate' and data:
        data = data[:rnd.randrange(len(data))]
    elif kind == 'empty':
        data = b''
    elif kind in ('number', 'idx'):
        nums = list(re.finditer(rb'(?<![0-9a-fx])-?[0-9]+(?![0-9a-fx])', data))
        if kind == 'idx':	# a run line's number, hex address or offset included
            nums = list(re.finditer(rb'0x[0-9a-f]+|[0-9]+', data))
        if nums:
            m = rnd.choice(nums)
            new = rnd.choice([b'-1', b'0', b'4294967296', b'99999999999999999999',
                              b'-2147483648', b'0x7fffffffffff000', b'4097'])
            data = data[:m.start()] + new + data[m.end():]
    elif kind == 'swap':
        lines = data.split(b'\n')
        if len(lines) > 2:
            i, j = rnd.sample(range(len(lines) - 1), 2)
            lines[i], lines[j] = lines[j], lines[i]
        data = b'\n'.join(lines)
    os.unlink(p)	# a link to BASE's
    if kind != 'delete':
        open(p, 'wb').write(data)
    sealed = kind != 'delete' and f != 'image' and rnd.random() < 0.5
    if sealed:
        img = os.path.join(d, 'image')
        body = open(img, 'rb').read()
        os.unlink(img)	# a link to BASE's
        open(img, 'wb').write(body)
        sys.argv = ['reseal.py', d, f]
        reseal.main()
    if kind != 'delete' and data == orig:
        kind = 'noop-' + kind	# nothing to change: an empty file, ...
    return '%s %s %s' % (kind, f, 'sealed' if sealed else 'unsealed')


def link_copy(base, d):
    for r, dirs, fs in os.walk(base):
        out = os.path.join(d, os.path.relpath(r, base))
        os.makedirs(out, exist_ok=True)
        shutil.copystat(r, out)
        for f in fs:
            os.link(os.path.join(r, f), os.path.join(out, f))


def main():
    base, out, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    for k in range(seed, seed + n):
        d = os.path.join(out, str(k))
        link_copy(base, d)
        print(d, damage(d, k), flush=True)


main()
