#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# reseal.py DIR PATH...: after a test edited PATH (relative to the image
# DIR) to make a bad input on purpose, its manifest line in DIR/image and
# the image's own checksum again, so restore gets past the checksums to
# the check under test.  The hash is docs/FORMAT.md's reference.
import sys
import struct
M = (1 << 64) - 1
P1, P2, P3, P32 = 0x9e3779b185ebca87, 0xc2b2ae3d27d4eb4f, 0x165667b19e3779f9, 0x9e3779b1
def splitmix64(n, x=0):
    out = []
    for _ in range(n):
        x = (x + 0x9e3779b97f4a7c15) & M
        z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9 & M
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb & M
        out.append(z ^ (z >> 31))
    return out
K = splitmix64(24)
def rotl(x, r): return ((x << r) | (x >> (64 - r))) & M
def lane(acc, v): return rotl((acc + v * P2) & M, 31) * P1 & M

def crfs_hash(data: bytes) -> int:
    acc = [K[i] ^ P1 for i in range(8)]              # eight lanes
    n = len(data) // 64 * 64
    for s, off in enumerate(range(0, n, 64)):        # 64-byte stripes,
        w = struct.unpack_from("<8Q", data, off)     # little-endian words
        j = s % 16                                   # place in its 1 KiB block
        for i in range(8):
            k = w[i] ^ K[j + i]
            acc[i ^ 1] = (acc[i ^ 1] + w[i]) & M
            acc[i] = (acc[i] + (k & 0xffffffff) * (k >> 32)) & M
        if j == 15:                                  # a block's end
            for i in range(8):
                acc[i] = (acc[i] ^ (acc[i] >> 47) ^ K[16 + i]) * P32 & M
    h = len(data) * P3 & M
    for a in acc:
        h = lane(h, a)
    tail, i = data[n:], 0
    while i + 8 <= len(tail):                        # remaining 8-byte words
        h = lane(h, struct.unpack_from("<Q", tail, i)[0]) ^ (h >> 29)
        i += 8
    for b in tail[i:]:                               # remaining bytes
        h = (h ^ (b * P3 & M)) * P1 & M
    h ^= h >> 33; h = h * P2 & M
    h ^= h >> 29; h = h * P3 & M
    return h ^ (h >> 32)


def main():
    d, paths = sys.argv[1], sys.argv[2:]
    out = []
    for line in open(d + '/image', 'rb').read().decode().splitlines():
        f = line.split(' ')
        if f[0] == 'file' and f[1] in paths:
            data = open(d + '/' + f[1], 'rb').read()
            line = 'file %s %d %016x' % (f[1], len(data), crfs_hash(data))
        if f[0] != 'end':
            out.append(line + '\n')
    body = ''.join(out).encode()
    open(d + '/image', 'wb').write(body + ('end %016x\n' % crfs_hash(body)).encode())


if __name__ == '__main__':
    main()
