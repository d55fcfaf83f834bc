#!/usr/bin/env python3
"""Regenerate the seed corpus of fuzz_leaf (test/fuzz/corpus_leaf).

Each input is read both as a leaf recipe (byte 0: key mode in bits 0-2,
near-UINT64_MAX start in bit 3, TID mode in bits 4-5, TIDs sorted within
equal keys in bit 6, every key repeated 1 + byte 2 % 128 times in bit 7;
byte 1: TID parameter; bytes 2-3: fit budget - 40; then key material, TID
material read from the end) and as a stored block; see fuzz_leaf.cpp.  The
block_* seeds are blocks of leaf format 2 (the group codec) that
li_cleaf_validate accepts: header, group tables one group after the other,
break fields with every break inside its group, random bytes elsewhere."""
import os
import random
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_leaf")

# key modes (byte 0, bits 0-2) and TID modes (bits 4-5)
RAW, DELTA1, DUPS, DENSE, EXTREMES, TIMESERIES, DELTA4, BOTH_ENDS = range(8)
HIGH = 8
TID_RANDOM, TID_HEAP, TID_EXTREMES, TID_EQUAL = (0x00, 0x10, 0x20, 0x30)
SORT_DUP_TIDS, REPEAT = 0x40, 0x80


def seed(name, mode, param, budget, body):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes([mode, param]) + struct.pack("<H", budget - 40) + body)


GROUP = 64


def ngroups(n):
    return (n + GROUP - 1) // GROUP


def col_bytes(n, gw, hbits, res_bits):
    ng = ngroups(n)
    return ng * 4 + (ng * gw + 7) // 8 + (ng * hbits + 7) // 8 + (res_bits + 7) // 8


def cleaf_bytes(n, kgw, khbits, kbits, tgw, thbits, tbits):
    b = (80 + (n + 7) // 8 + col_bytes(n, kgw, khbits, kbits)
         + col_bytes(n, tgw, thbits, tbits) + 8)
    return (b + 7) & ~7


def group_table(n, widths):
    """uint32 per group: (w << 24) | bit position of its first residual"""
    out, pos = b"", 0
    for g, w in enumerate(widths):
        out += struct.pack("<I", (w << 24) | pos)
        pos += min(n - g * GROUP, GROUP) * w
    return out, pos


def break_fields(n, hbits, rng):
    """a field of hbits bits per group: a break inside the group, a random
    side and step"""
    v = 0
    for g in range(ngroups(n)):
        f = rng.randrange(min(n - g * GROUP, GROUP)) | (rng.getrandbits(hbits - 6) << 6)
        v |= f << (g * hbits)
    return v.to_bytes((ngroups(n) * hbits + 7) // 8, "little")


def column(n, gw, widths, hw, rng):
    """group table, random group offsets, break fields (hw: step width, or
    None without breaks), random residuals; res_bits"""
    table, bits = group_table(n, widths)
    ng = ngroups(n)
    offs = bytes(rng.getrandbits(8) for _ in range((ng * gw + 7) // 8))
    brk = break_fields(n, 7 + hw, rng) if hw is not None else b""
    res = bytes(rng.getrandbits(8) for _ in range((bits + 7) // 8))
    return table + offs + brk + res, bits


def line(rng, bits):
    """base, slope_int, rmin, slope_frac, res_bits of a column header"""
    return struct.pack("<QQQII", rng.getrandbits(64), rng.getrandbits(64),
                       rng.getrandbits(64), rng.getrandbits(32), bits)


def block(name, n, kgw, kwidths, tgw, twidths, mult, rng, khw=None, thw=None):
    """a block li_cleaf_validate accepts: header, random tombstones,
    consistent group tables and break fields (khw / thw: the step widths
    of a column with breaks), random offsets and residuals, random slack"""
    assert len(kwidths) == len(twidths) == ngroups(n)
    if khw is None and thw is None:
        # (the random stream of the seeds before breaks existed)
        kcol, kbits = column(n, kgw, kwidths, None, rng)
        tcol, tbits = column(n, tgw, twidths, None, rng)
    else:
        kcol, kbits = column(n, kgw, kwidths, khw, rng)
        tcol, tbits = column(n, tgw, twidths, thw, rng)
    khb = 7 + khw if khw is not None else 0
    thb = 7 + thw if thw is not None else 0
    flags = (1 if khw is not None else 0) | (2 if thw is not None else 0)
    nbytes = cleaf_bytes(n, kgw, khb, kbits, tgw, thb, tbits)
    hdr = struct.pack("<HBBBBBBII", n, 2, kgw, tgw, flags, khw or 0, thw or 0, nbytes, mult)
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
    # duplicates as an index holds them: runs of r equal keys (r = 1 + byte 2
    # % 128, from the budget), TIDs random and sorted within each run (they
    # jump back where the key changes: breaks in both columns)
    for r in (63, 64, 65, 100):
        seed("dups_sorted_%d" % r, DELTA1 | REPEAT | SORT_DUP_TIDS | TID_RANDOM,
             16 | (3 << 5), 7680 + 40 + (r - 1),
             bytes(rng.randrange(1, 20) for _ in range(8192 // r + 2)))
    # the same near UINT64_MAX, blocks near 2^32 (block width 32), offsets
    # up to 65535: 64-bit TID values; runs of 1 and 2
    seed("dups_sorted_high", DELTA1 | HIGH | REPEAT | SORT_DUP_TIDS | TID_RANDOM, 0,
         7680 + 40 + 69, bytes(rng.randrange(1, 255) for _ in range(130)))
    seed("dups_sorted_pairs", DELTA1 | REPEAT | SORT_DUP_TIDS | TID_RANDOM, 16,
         7680 + 40 + 1, bytes(rng.randrange(1, 4) for _ in range(600)))
    # stored blocks with breaks in one or both columns
    block("block_breaks", 300, 20, [rng.randrange(65) for _ in range(5)],
          24, [rng.randrange(65) for _ in range(5)], 292, rng, khw=0, thw=23)
    block("block_breaks_widest", 130, 64, [64, 64, 64], 64, [64, 0, 64], 65536, rng,
          khw=57, thw=57)

if __name__ == "__main__":
    main()
