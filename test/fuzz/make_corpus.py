#!/usr/bin/env python3
"""Regenerate the small seed corpus of fuzz_fit (see fuzz_fit.cpp for the
input layout: mode byte, u16 epsilon selector, key material)."""
import os
import random
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def seed(name, mode, eps_sel, body):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(bytes([mode]) + struct.pack("<H", eps_sel) + body)


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = random.Random(1)
    # raw 64-bit keys incl. 0 / UINT64_MAX, eps 1
    raw = [0, 1, 2, 2**63, 2**64 - 2, 2**64 - 1] + [rng.getrandbits(64) for _ in range(26)]
    seed("raw_extremes", 0, 0x0000, b"".join(struct.pack("<Q", k) for k in raw))
    # sequential (1-byte deltas of 1), eps 8
    seed("sequential", 1, 0x4007, bytes([1] * 200))
    # runs of duplicates (delta 0) with steps, eps 2
    seed("dup_runs", 1, 0x0001, bytes(([0] * 30 + [1]) * 8 + [0] * 50 + [200]))
    # clustered: small deltas with huge gaps, eps 32
    body = bytearray()
    for _ in range(12):
        body += bytes(rng.randrange(0, 8) for _ in range(25))
        body.append(0xF0 + rng.randrange(8, 16))
    seed("clustered", 3, 0x401F, bytes(body))
    # alternating tiny / huge gaps near UINT64_MAX, eps 4
    seed("alternating_high", 6 | 8, 0x0003, bytes([1, 0xFE] * 60))
    # few distinct 16-bit values, duplicated, eps 256
    seed("few_distinct", 5 | 16, 0x80FF, b"".join(struct.pack("<H", rng.choice([3, 9, 1000])) for _ in range(150)))
    # both ends of the domain, eps 4096
    seed("both_ends", 7, 0xCFFF, b"".join(struct.pack("<H", rng.getrandbits(16)) for _ in range(100)))
    # quadratic-ish 4-byte deltas, eps 64
    seed("convex", 4, 0x803F, b"".join(struct.pack("<I", i * i) for i in range(1, 150)))
    # 2-byte random deltas, eps 1
    seed("random_deltas", 2, 0x0000, b"".join(struct.pack("<H", rng.getrandbits(16)) for _ in range(300)))
    # heavy duplicates: runs of ~100 copies (1-byte deltas, 0 = repeat)
    # with gaps, eps 16 (absent keys after each run must stay within eps)
    body = bytearray()
    for _ in range(30):
        body += bytes([0] * rng.randrange(60, 140))
        body.append(rng.randrange(2, 250))
    seed("copies_100", 1, 0x400F, bytes(body))
    # a single key and an empty key list
    seed("one_key", 0, 0x0000, struct.pack("<Q", 42))
    seed("empty", 0, 0x0000, b"")


if __name__ == "__main__":
    main()
