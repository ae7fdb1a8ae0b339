#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# reseal.py DIR PATH...: after a test edited PATH (relative to the image
# DIR) to make a bad input on purpose, its manifest line in DIR/image and
# the image's own checksum again, so restore gets past the checksums to
# the check under test.  The hash is docs/FORMAT.md's reference.
import struct
import sys

M = (1 << 64) - 1
P1, P2, P3 = 0x9e3779b185ebca87, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def lane(acc, v):
    return rotl((acc + v * P2) & M, 31) * P1 & M


def crfs_hash(data):
    v = [(P1 + P2) & M, P2, 0, -P1 & M]
    n = len(data) // 32 * 32
    for i in range(0, n, 32):
        w = struct.unpack_from("<4Q", data, i)
        v = [lane(v[k], w[k]) for k in range(4)]
    acc = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
    acc ^= len(data) * P3 & M
    tail, i = data[n:], 0
    while i + 8 <= len(tail):
        acc = lane(acc, struct.unpack_from("<Q", tail, i)[0]) ^ (acc >> 29)
        i += 8
    for b in tail[i:]:
        acc = (acc ^ (b * P3 & M)) * P1 & M
    acc ^= acc >> 33
    acc = acc * P2 & M
    acc ^= acc >> 29
    acc = acc * P3 & M
    return '%016x' % (acc ^ (acc >> 32))


def main():
    d, paths = sys.argv[1], sys.argv[2:]
    out = []
    for line in open(d + '/image', 'rb').read().decode().splitlines():
        f = line.split(' ')
        if f[0] == 'file' and f[1] in paths:
            data = open(d + '/' + f[1], 'rb').read()
            line = 'file %s %d %s' % (f[1], len(data), crfs_hash(data))
        if f[0] != 'end':
            out.append(line + '\n')
    body = ''.join(out).encode()
    open(d + '/image', 'wb').write(body + ('end %s\n' % crfs_hash(body)).encode())


if __name__ == '__main__':
    main()
