#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_leaf (test/fuzz/corpus_leaf).

Each input is read both as a leaf recipe (byte 0: key mode in bits 0-2,
near-UINT64_MAX start in bit 3, TID mode in bits 4-5; byte 1: TID parameter;
bytes 2-3: fit budget - 40; then key material, TID material read from the
end) and as a stored block; see fuzz_leaf.cpp.  The block_* seeds are blocks
of leaf format 2 (the group codec) that li_cleaf_validate accepts: header,
group tables one group after the other, random bytes elsewhere."""
import os
import random
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_leaf")

# key modes (byte 0, bits 0-2) and TID modes (bits 4-5)
RAW, DELTA1, DUPS, DENSE, EXTREMES, TIMESERIES, DELTA4, BOTH_ENDS = range(8)
HIGH = 8
TID_RANDOM, TID_HEAP, TID_EXTREMES, TID_EQUAL = (0x00, 0x10, 0x20, 0x30)


def seed(name, mode, param, budget, body):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes([mode, param]) + struct.pack("<H", budget - 40) + body)


GROUP = 64


def ngroups(n):
    return (n + GROUP - 1) // GROUP


def col_bytes(n, gw, res_bits):
    ng = ngroups(n)
    return ng * 4 + (ng * gw + 7) // 8 + (res_bits + 7) // 8


def cleaf_bytes(n, kgw, kbits, tgw, tbits):
    b = 80 + (n + 7) // 8 + col_bytes(n, kgw, kbits) + col_bytes(n, tgw, tbits) + 8
    return (b + 7) & ~7


def group_table(n, widths):
    """uint32 per group: (w << 24) | bit position of its first residual"""
    out, pos = b"", 0
    for g, w in enumerate(widths):
        out += struct.pack("<I", (w << 24) | pos)
        pos += min(n - g * GROUP, GROUP) * w
    return out, pos


def column(n, gw, widths, rng):
    """group table, random group offsets, random residuals; res_bits"""
    table, bits = group_table(n, widths)
    ng = ngroups(n)
    rest = bytes(rng.getrandbits(8) for _ in range((ng * gw + 7) // 8 + (bits + 7) // 8))
    return table + rest, bits


def line(rng, bits):
    """base, slope_int, rmin, slope_frac, res_bits of a column header"""
    return struct.pack("<QQQII", rng.getrandbits(64), rng.getrandbits(64),
                       rng.getrandbits(64), rng.getrandbits(32), bits)


def block(name, n, kgw, kwidths, tgw, twidths, mult, rng):
    """a block li_cleaf_validate accepts: header, random tombstones,
    consistent group tables, random offsets and residuals, random slack"""
    assert len(kwidths) == len(twidths) == ngroups(n)
    kcol, kbits = column(n, kgw, kwidths, rng)
    tcol, tbits = column(n, tgw, twidths, rng)
    nbytes = cleaf_bytes(n, kgw, kbits, tgw, tbits)
    hdr = struct.pack("<HBBBBHII", n, 2, kgw, tgw, 0, 0, nbytes, mult)
    hdr += line(rng, kbits) + line(rng, tbits)
    assert len(hdr) == 80
    body = bytes(rng.getrandbits(8) for _ in range((n + 7) // 8)) + kcol + tcol
    body += bytes(rng.getrandbits(8) for _ in range(nbytes - 80 - len(body)))
    assert len(hdr + body) == nbytes
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(hdr + body)


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = random.Random(13)
    # uniform 64-bit keys, random heap TIDs (16-bit blocks, 9-bit offsets)
    keys = [0, 2**64 - 1] + [rng.getrandbits(64) for _ in range(300)]
    seed("raw_uniform", RAW | TID_RANDOM, 16 | (3 << 5), 7744,
         b"".join(struct.pack("<Q", k) for k in keys))
    # extremes of the key domain, extreme TIDs (blocks 0 / 0xFFFFFFFE)
    seed("extremes", EXTREMES | TID_EXTREMES, 0, 7744,
         bytes(rng.choice([0x80 | rng.randrange(16), rng.randrange(128)])
               for _ in range(400)))
    # ~100 copies per value, key-ordered heap, 185 a page
    seed("dups", DUPS | TID_HEAP, 184, 7744,
         bytes(b for _ in range(40) for b in (25, rng.randrange(1, 64))))
    # dense keys, one more than a full leaf (n > LI_CLEAF_MAX), big budget
    seed("dense_over_max", DENSE | TID_HEAP, 184, 65000,
         struct.pack("<QHB", 1000, 8193, 1))
    seed("dense_small_budget", DENSE | TID_RANDOM, 0, 100,
         struct.pack("<QHB", 2**64 - 600, 600, 1))
    # time series: 1 ms step, jitter bytes
    seed("timeseries", TIMESERIES | TID_RANDOM, 8 | (2 << 5), 7744,
         struct.pack("<I", 1000000) + bytes(rng.randrange(4) for _ in range(1200)))
    # 1-byte deltas near UINT64_MAX, every offset equal
    seed("delta_high_equal_offsets", DELTA1 | HIGH | TID_EQUAL, 7, 2000,
         bytes(rng.randrange(3) for _ in range(700)))
    # 4-byte deltas, offsets up to 65535
    seed("delta4", DELTA4 | TID_RANDOM, 0, 7744,
         b"".join(struct.pack("<I", rng.getrandbits(32)) for _ in range(200)))
    # both ends of the domain
    seed("both_ends", BOTH_ENDS | TID_EXTREMES, 0, 500,
         b"".join(struct.pack("<H", rng.getrandbits(16)) for _ in range(150)))
    seed("one_key", RAW, 0, 7744, struct.pack("<Q", 42))
    seed("empty", RAW, 0, 7744, b"")
    # stored blocks that validate (random contents, consistent group tables)
    block("block_small", 10, 5, [3], 9, [9], 292, rng)
    block("block_empty", 0, 0, [], 0, [], 1, rng)
    block("block_max_n", 8192, 0, [0] * 128, 1, [1] * 128, 2, rng)
    block("block_widest", 3, 64, [64], 64, [64], 65536, rng)
    block("block_odd", 137, 41, [17, 0, 64], 9, [9, 33, 1], 186, rng)
    block("block_groups", 500, 13, [rng.randrange(65) for _ in range(8)],
          2, [rng.randrange(33) for _ in range(8)], 1 + rng.randrange(65536), rng)

if __name__ == "__main__":
    main()
