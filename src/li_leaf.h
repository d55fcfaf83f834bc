/*
 * li_leaf.h -- the compressed leaf codec (leaf format 2).
 *
 * A compressed leaf holds n sorted (key, TID) entries in a byte block that
 * stays randomly accessible:
 *
 *   keys:  key_i = pred(i) + rmin + u_i  (mod 2^64), where
 *          pred(i) = base + i*slope_int + ((i*slope_frac) >> 32) is the line
 *          through the first and last key, and u_i is stored in kw bits;
 *   TIDs:  t_i = ((blk_i - min_blk) << ow) | off_i, in bw + ow bits
 *          (offset 0 marks a dead entry: a tombstone).
 *
 * Block layout (all integers little-endian as stored by the machine that
 * wrote them, like every other page field):
 *
 *   [0, 48)                 li_cleaf_hdr
 *   [48, 48+K)              key residuals, K = ceil(n*kw/8) bytes
 *   [48+K, 48+K+T)          TID fields, T = ceil(n*(bw+ow)/8) bytes
 *   8 bytes of zero slack (so that every field is read with one unaligned
 *   64-bit load plus at most one byte), the total rounded up to 8.
 *
 * Plain C (static inline) so that the shim's per-row paths (key_at, the
 * in-leaf lower bound, TID decode) inline; encoding and validation are
 * noexcept entry points of the C++ core (li_leaf.cpp).
 */
#ifndef LI_LEAF_H
#define LI_LEAF_H

#include <string.h>

#include "li_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LI_CLEAF_HDR	48		/* header bytes */
#define LI_CLEAF_MAX	8192	/* most entries in one compressed leaf */
#define LI_CLEAF_VERSION 1

typedef struct li_cleaf_hdr
{
	uint16_t	n;				/* entries */
	uint8_t		kw;				/* key residual width, 0..64 */
	uint8_t		bw;				/* block delta width, 0..32 */
	uint8_t		ow;				/* offset width, 0..16 */
	uint8_t		version;		/* LI_CLEAF_VERSION */
	uint16_t	pad0;
	uint32_t	bytes;			/* size of the whole block */
	uint32_t	min_blk;		/* smallest block number */
	uint64_t	base;			/* key 0 (the line's value at i = 0) */
	uint64_t	slope_int;		/* integer part of the line's slope */
	uint32_t	slope_frac;		/* fraction of the slope, in 2^-32 */
	uint32_t	pad1;
	uint64_t	rmin;			/* added to every residual (mod 2^64) */
} li_cleaf_hdr;

/* a decoded header plus pointers into the block: what readers use */
typedef struct li_cleaf_view
{
	const uint8_t *kbits;
	const uint8_t *tbits;
	uint64_t	base;
	uint64_t	slope_int;
	uint64_t	rmin;
	uint32_t	slope_frac;
	uint32_t	n;
	uint32_t	kw;
	uint32_t	tw;				/* bw + ow */
	uint32_t	ow;
	uint32_t	min_blk;
} li_cleaf_view;

/* bytes of a block of n entries with key width kw and TID width tw */
static inline size_t
li_cleaf_bytes(uint32_t n, uint32_t kw, uint32_t tw)
{
	size_t		b = LI_CLEAF_HDR + ((size_t) n * kw + 7) / 8 +
		((size_t) n * tw + 7) / 8 + 8;

	return (b + 7) & ~(size_t) 7;
}

/* read the w-bit field (w <= 64) at bit position pos */
static inline uint64_t
li_bits_get(const uint8_t *p, uint64_t pos, uint32_t w)
{
	uint64_t	v;
	uint32_t	s = (uint32_t) (pos & 7);
	const uint8_t *b = p + (pos >> 3);

	if (w == 0)
		return 0;
	memcpy(&v, b, sizeof(v));
	v >>= s;
	if (s + w > 64)
		v |= (uint64_t) b[8] << (64 - s);
	return (w == 64) ? v : (v & ((UINT64_C(1) << w) - 1));
}

/* a view on a block already validated with li_cleaf_validate */
static inline void
li_cleaf_open(const uint8_t *block, li_cleaf_view *v)
{
	li_cleaf_hdr h;

	memcpy(&h, block, sizeof(h));
	v->n = h.n;
	v->kw = h.kw;
	v->tw = (uint32_t) h.bw + h.ow;
	v->ow = h.ow;
	v->min_blk = h.min_blk;
	v->base = h.base;
	v->slope_int = h.slope_int;
	v->slope_frac = h.slope_frac;
	v->rmin = h.rmin;
	v->kbits = block + LI_CLEAF_HDR;
	v->tbits = v->kbits + ((size_t) h.n * h.kw + 7) / 8;
}

/* the key of entry i (i < n) */
static inline uint64_t
li_cleaf_key_at(const li_cleaf_view *v, uint32_t i)
{
	uint64_t	pred = v->base + (uint64_t) i * v->slope_int +
		(((uint64_t) i * v->slope_frac) >> 32);

	return pred + v->rmin + li_bits_get(v->kbits, (uint64_t) i * v->kw, v->kw);
}

/*
 * The TID of entry i as an ItemPointerData (bi_hi, bi_lo, posid); returns
 * 0 for a tombstone (offset 0), 1 otherwise.
 */
static inline int
li_cleaf_tid_at(const li_cleaf_view *v, uint32_t i, uint16_t tid[3])
{
	uint64_t	t = li_bits_get(v->tbits, (uint64_t) i * v->tw, v->tw);
	uint32_t	off = (uint32_t) (v->ow ? (t & ((UINT64_C(1) << v->ow) - 1)) : 0);
	uint32_t	blk = v->min_blk + (uint32_t) (t >> v->ow);

	tid[0] = (uint16_t) (blk >> 16);
	tid[1] = (uint16_t) (blk & 0xffff);
	tid[2] = (uint16_t) off;
	return off != 0;
}

/* first i in [lo, hi) with key_at(i) >= key, or hi (keys sorted) */
static inline uint32_t
li_cleaf_lower_bound_in(const li_cleaf_view *v, uint64_t key, uint32_t lo,
						uint32_t hi)
{
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (li_cleaf_key_at(v, mid) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Exact lower bound of key among the n entries: the window [lo, hi) given
 * by the model is searched when its borders prove it holds the answer,
 * else the whole leaf (the answer is always exact).
 */
static inline uint32_t
li_cleaf_lower_bound(const li_cleaf_view *v, uint64_t key, int64_t lo,
					 int64_t hi, int *used_window)
{
	int64_t		n = v->n;

	if (lo < 0)
		lo = 0;
	if (hi > n)
		hi = n;
	if (lo <= hi &&
		(lo == 0 || li_cleaf_key_at(v, (uint32_t) (lo - 1)) < key) &&
		(hi == n || li_cleaf_key_at(v, (uint32_t) hi) >= key))
	{
		if (used_window)
			*used_window = 1;
		return li_cleaf_lower_bound_in(v, key, (uint32_t) lo, (uint32_t) hi);
	}
	if (used_window)
		*used_window = 0;
	return li_cleaf_lower_bound_in(v, key, 0, v->n);
}

/* Plan the widths of a block for entries [0, n): fills *h (bytes too). */
li_status	li_cleaf_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
						  li_cleaf_hdr *h) LI_NOEXCEPT;

/*
 * The number m <= min(n, LI_CLEAF_MAX) of leading entries to put in one
 * block of at most budget bytes: the largest m found by a binary search on
 * the block size (at least 1 when n >= 1 and budget fits one entry).
 */
uint32_t	li_cleaf_fit(const uint64_t *keys, const uint16_t *tids, uint32_t n,
						 size_t budget) LI_NOEXCEPT;

/*
 * The same, with room kept for a tail of unsorted entries after the block
 * (LI_TAIL_ENTRY_BYTES each): m entries need block bytes plus
 * ceil(m * tail_num / tail_den) tail entries within avail bytes.  A
 * fillfactor f% keeps room for (100 - f) / f more entries, as a btree leaf
 * filled to f% has room for that many more tuples.
 */
#define LI_TAIL_ENTRY_BYTES 14
uint32_t	li_cleaf_fit_tail(const uint64_t *keys, const uint16_t *tids, uint32_t n,
							  size_t avail, uint32_t tail_num,
							  uint32_t tail_den) LI_NOEXCEPT;

/*
 * Encode entries [0, n) (keys sorted) into out[0, outcap); *bytes gets the
 * block size.  LI_ERR_ARG if n > LI_CLEAF_MAX, keys are not sorted or the
 * block does not fit.
 */
li_status	li_cleaf_encode(const uint64_t *keys, const uint16_t *tids, uint32_t n,
							uint8_t *out, size_t outcap, size_t *bytes) LI_NOEXCEPT;

/*
 * Check a block header read from untrusted storage: widths in range, n <=
 * LI_CLEAF_MAX, bytes == li_cleaf_bytes(...) <= len.  LI_OK or
 * LI_ERR_CORRUPT.  (It does not decode the entries: the checker verifies
 * their order.)
 */
li_status	li_cleaf_validate(const uint8_t *block, size_t len) LI_NOEXCEPT;

/* Mark entry i dead in place (clear its offset bits); i < n. */
void		li_cleaf_kill(uint8_t *block, uint32_t i) LI_NOEXCEPT;

/* Decode every key into out[0, n). */
void		li_cleaf_decode_keys(const li_cleaf_view *v, uint64_t *out) LI_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif							/* LI_LEAF_H */
