#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# mutate.py DIR SEED: one random damage to the checkpoint DIR, for
# t_mutate.sh.  Prints "KIND FILE sealed|unsealed": what was done to which
# file (relative to DIR), and whether the manifest was made to agree
# (reseal.py) so the damage gets past the checksums to the parsers and
# checks behind them.  The same SEED does the same damage to the same image.
import os
import random
import re
import subprocess
import sys

d, seed = sys.argv[1], int(sys.argv[2])
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
data = open(p, 'rb').read()
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
if kind == 'delete':
    os.unlink(p)
else:
    open(p, 'wb').write(data)
sealed = kind != 'delete' and f != 'image' and rnd.random() < 0.5
if sealed:
    subprocess.check_call([os.path.join(os.path.dirname(__file__),
                                        'reseal.py'), d, f])
print(kind, f, 'sealed' if sealed else 'unsealed')
