/*
 * li_leaf.h -- the compressed leaf codec (leaf format 2).
 *
 * A compressed leaf holds n sorted (key, TID) entries in a byte block that
 * stays randomly accessible.  Keys and TIDs are two integer sequences coded
 * alike ("columns"):
 *
 *   keys:  x_i = key_i (a 64-bit code)
 *   TIDs:  x_i = blk_i * M + off_i, M = the largest offset + 1
 *
 * and each column x_i = line(i) + rmin + off_i + u_i  (mod 2^64), where
 * line(i) = base + i*slope_int + ((i*slope_frac) >> 32) is one line per
 * leaf (slope: the median of the groups' slopes), g = i / 64 is the
 * entry's group and u_i the residual, stored in the group's own width
 * w[g].  off_i is the group's offset goff[g] (gw bits, one width per
 * column, the smaller of its two parts' in a column with breaks); in a
 * column with breaks (a header flag) each group also has a break field:
 * the break b[g] (6 bits), a side s[g] (1 bit) and a step d[g] (hw bits,
 * hw <= 57), and the entries on one side of the break (j = i % 64 < b[g]
 * if s[g] is 0, j >= b[g] if it is 1) add d[g] too.  A step
 * in the data (an outage in a time series, a new heap page) costs one
 * group offset instead of widening every residual; a break splits a group
 * where the data jumps (the TIDs of duplicate keys fall back to the start
 * of the heap where the key changes; the key steps there).  Dead entries
 * (tombstones) are bits of a bitmap.
 *
 * Block layout (integers in machine order, like every page field):
 *
 *   [0, 80)   li_cleaf_hdr
 *   dead bitmap: ceil(n/8) bytes
 *   per column (keys, then TIDs):
 *     group table: uint32 per group, (w << 24) | bit position of the
 *                  group's first residual in the residual array
 *     group offsets: ngroups fields of gw bits
 *     break fields (only with breaks): ngroups fields of 7 + hw bits,
 *                  b | s << 6 | d << 7
 *     residuals: sum over groups of (group size * w[g]) bits
 *   8 bytes of zero slack (every field is read with one unaligned 64-bit
 *   load and at most one more byte); the total rounded up to 8.
 *
 * Blocks without breaks (flags 0, khw = thw = 0) are the format 0.4.0
 * wrote.
 *
 * Bit arrays are packed least-significant bit first: bit p of an array is
 * bit (p mod 8) of its byte p / 8.  Every array starts on a byte.
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

#define LI_CLEAF_HDR	80		/* header bytes */
#define LI_CLEAF_MAX	8192	/* most entries in one compressed leaf */
#define LI_CLEAF_GROUP	64		/* entries per group */
#define LI_CLEAF_VERSION 2
#define LI_CLEAF_KBRK	1		/* flags: the key column has breaks */
#define LI_CLEAF_TBRK	2		/* flags: the TID column has breaks */
#define LI_CLEAF_BRK_BITS 7		/* bits of a break and its side in a break field */
#define LI_CLEAF_HW_MAX	57		/* widest step (a break field <= 64 bits) */
#define LI_CLEAF_KEF	4		/* flags: key groups may be Elias-Fano coded */
#define LI_CLEAF_EF		0x80000000u /* group table: an Elias-Fano group */

/* one coded column's parameters (in the header) */
typedef struct li_ccol
{
	uint64_t	base;			/* the line's value at i = 0 */
	uint64_t	slope_int;		/* integer part of the line's slope */
	uint64_t	rmin;			/* added to every value (mod 2^64) */
	uint32_t	slope_frac;		/* fraction of the slope, in 2^-32 */
	uint32_t	res_bits;		/* bits of the residual array */
} li_ccol;

typedef struct li_cleaf_hdr
{
	uint16_t	n;				/* entries */
	uint8_t		version;		/* LI_CLEAF_VERSION */
	uint8_t		kgw;			/* key group offset width, 0..64 */
	uint8_t		tgw;			/* TID group offset width, 0..64 */
	uint8_t		flags;			/* LI_CLEAF_KBRK | LI_CLEAF_TBRK (0 in 0.4.0) */
	uint8_t		khw;			/* key head offset width (0 without breaks) */
	uint8_t		thw;			/* TID head offset width (0 without breaks) */
	uint32_t	bytes;			/* size of the whole block */
	uint32_t	mult;			/* M: TID = blk * M + off */
	li_ccol		key;			/* 32 bytes */
	li_ccol		tid;			/* 32 bytes */
} li_cleaf_hdr;

/* a decoded column: parameters and pointers into the block */
typedef struct li_cview
{
	const uint8_t *table;		/* uint32 per group */
	const uint8_t *goff;		/* group offsets, gw bits each */
	const uint8_t *head;		/* break fields, hbits each */
	const uint8_t *res;			/* residuals */
	uint64_t	base;
	uint64_t	slope_int;
	uint64_t	rmin;
	uint32_t	slope_frac;
	uint32_t	gw;
	uint32_t	hbits;			/* bits of a break field: 0 without breaks */
	uint32_t	res_bits;		/* reads never go past it (damaged tables) */
	uint32_t	n;				/* entries (an Elias-Fano group's size) */
} li_cview;

/* a decoded header plus pointers into the block: what readers use */
typedef struct li_cleaf_view
{
	const uint8_t *dead;		/* tombstone bitmap */
	li_cview	key;
	li_cview	tid;
	uint32_t	n;
	uint32_t	mult;
	uint32_t	bytes;
	uint32_t	kef;			/* key groups may be Elias-Fano (LI_CLEAF_KEF) */
	double		inv_mult;		/* 1 / mult, for the TID split */
} li_cleaf_view;

/* groups of n entries */
static inline uint32_t
li_cleaf_ngroups(uint32_t n)
{
	return (n + LI_CLEAF_GROUP - 1) / LI_CLEAF_GROUP;
}

/* bits of a break field: 0 without breaks, else 7 + the step width */
static inline uint32_t
li_chead_bits(int brk, uint32_t hw)
{
	return brk ? LI_CLEAF_BRK_BITS + hw : 0;
}

/* bytes of one column's arrays (group offsets of gw bits, break fields of hbits) */
static inline size_t
li_ccol_bytes(uint32_t n, uint32_t gw, uint32_t hbits, uint64_t res_bits)
{
	uint32_t	ng = li_cleaf_ngroups(n);

	return (size_t) ng * 4 + ((size_t) ng * gw + 7) / 8 + ((size_t) ng * hbits + 7) / 8 +
		(size_t) ((res_bits + 7) / 8);
}

/*
 * bytes of a block of n entries with these group offset widths, break
 * field bits (li_chead_bits) and residual bits per column
 */
static inline size_t
li_cleaf_bytes(uint32_t n, uint32_t kgw, uint32_t khbits, uint64_t kbits, uint32_t tgw,
			   uint32_t thbits, uint64_t tbits)
{
	size_t		b = LI_CLEAF_HDR + ((size_t) n + 7) / 8 +
		li_ccol_bytes(n, kgw, khbits, kbits) + li_ccol_bytes(n, tgw, thbits, tbits) + 8;

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
	/* (2 << 63 is 0 in unsigned arithmetic: w = 64 keeps every bit) */
	return v & ((UINT64_C(2) << (w - 1)) - 1);
}

/* set up a column view whose arrays start at p; returns the end */
static inline const uint8_t *
li_ccol_open(const uint8_t *p, const li_ccol *c, uint32_t gw, uint32_t hbits, uint32_t n,
			 li_cview *v)
{
	uint32_t	ng = li_cleaf_ngroups(n);

	v->base = c->base;
	v->slope_int = c->slope_int;
	v->slope_frac = c->slope_frac;
	v->rmin = c->rmin;
	v->gw = gw;
	v->hbits = hbits;
	v->res_bits = c->res_bits;
	v->n = n;
	v->table = p;
	v->goff = p + (size_t) ng * 4;
	v->head = v->goff + ((size_t) ng * gw + 7) / 8;
	v->res = v->head + ((size_t) ng * hbits + 7) / 8;
	return v->res + (size_t) ((c->res_bits + 7) / 8);
}

/* a view on a block already validated with li_cleaf_validate */
static inline void
li_cleaf_open(const uint8_t *block, li_cleaf_view *v)
{
	li_cleaf_hdr h;
	const uint8_t *p;

	memcpy(&h, block, sizeof(h));
	v->n = h.n;
	v->mult = h.mult;
	v->bytes = h.bytes;
	v->kef = h.flags & LI_CLEAF_KEF;
	v->inv_mult = 1.0 / (double) (h.mult ? h.mult : 1);
	v->dead = block + LI_CLEAF_HDR;
	p = v->dead + ((size_t) h.n + 7) / 8;
	p = li_ccol_open(p, &h.key, h.kgw, li_chead_bits(h.flags & LI_CLEAF_KBRK, h.khw), h.n,
					 &v->key);
	(void) li_ccol_open(p, &h.tid, h.tgw, li_chead_bits(h.flags & LI_CLEAF_TBRK, h.thw),
						h.n, &v->tid);
}

/*
 * What the break field of group g adds to its entry j, in a column with
 * breaks (out of line: the registers it needs would cost every column)
 */
uint64_t	li_ccol_step(const li_cview *c, uint32_t g, uint32_t j) LI_NOEXCEPT;

/*
 * Value j of group g of column c, an Elias-Fano group (group table entry
 * meta; out of line: a select in its high parts' bitmap)
 */
uint64_t	li_ccol_ef_at(const li_cview *c, uint32_t g, uint32_t j, uint32_t meta) LI_NOEXCEPT;

/* value i of a column */
static inline uint64_t
li_ccol_at(const li_cview *c, uint32_t i)
{
	uint32_t	g = i / LI_CLEAF_GROUP;
	uint32_t	meta;
	uint32_t	w;
	uint64_t	line = c->base + (uint64_t) i * c->slope_int +
		(((uint64_t) i * c->slope_frac) >> 32);

	uint64_t	pos;
	uint64_t	v;

	memcpy(&meta, c->table + (size_t) g * 4, sizeof(meta));
	if (meta & LI_CLEAF_EF)
		return li_ccol_ef_at(c, g, i % LI_CLEAF_GROUP, meta);
	w = meta >> 24;
	pos = (uint64_t) (meta & 0xFFFFFF) + (uint64_t) (i % LI_CLEAF_GROUP) * w;
	/* a damaged group table reads garbage, never outside the residuals */
	if (w > 64 || pos + w > c->res_bits)
		w = 0;
	v = line + c->rmin + li_bits_get(c->goff, (uint64_t) g * c->gw, c->gw) +
		li_bits_get(c->res, pos, w);
	if (c->hbits)
		v += li_ccol_step(c, g, i % LI_CLEAF_GROUP);
	return v;
}

/* the key of entry i (i < n) */
static inline uint64_t
li_cleaf_key_at(const li_cleaf_view *v, uint32_t i)
{
	return li_ccol_at(&v->key, i);
}

/* is entry i a tombstone? */
static inline int
li_cleaf_dead(const li_cleaf_view *v, uint32_t i)
{
	return (v->dead[i / 8] >> (i % 8)) & 1;
}

/*
 * Split a TID column value x = blk * M + off: the quotient through the
 * double reciprocal (x < 2^48, so it is off by at most one) and corrected,
 * instead of a 64-bit division.
 */
static inline void
li_cleaf_split_tid(const li_cleaf_view *v, uint64_t x, int live, uint16_t tid[3])
{
	uint64_t	q,
				r;

	if (x >> 48)
	{
		/* never in a sound block (blk < 2^32, M <= 2^16): a damaged one */
		q = x / v->mult;
		r = x % v->mult;
	}
	else
	{
		q = (uint64_t) ((double) x * v->inv_mult);
		r = x - q * v->mult;
	}
	if ((int64_t) r < 0)
	{
		q--;
		r += v->mult;
	}
	else if (r >= v->mult)
	{
		q++;
		r -= v->mult;
	}
	/* (a damaged block may still give a wrong TID here, never a crash) */
	tid[0] = (uint16_t) ((uint32_t) q >> 16);
	tid[1] = (uint16_t) ((uint32_t) q & 0xffff);
	tid[2] = live ? (uint16_t) r : 0;
}

/*
 * The TID of entry i as an ItemPointerData (bi_hi, bi_lo, posid); returns
 * 0 for a tombstone (whose offset then reads 0, an invalid TID), else 1.
 */
static inline int
li_cleaf_tid_at(const li_cleaf_view *v, uint32_t i, uint16_t tid[3])
{
	int			live = !li_cleaf_dead(v, i);

	li_cleaf_split_tid(v, li_ccol_at(&v->tid, i), live, tid);
	return live;
}

/* prefetch column c's residuals of entries [lo, hi) (hi > lo, hi <= n) */
static inline void
li_ccol_prefetch(const li_cview *c, uint32_t lo, uint32_t hi)
{
#if defined(__GNUC__)
	uint32_t	glo = lo / LI_CLEAF_GROUP,
				ghi = (hi - 1) / LI_CLEAF_GROUP;

	for (uint32_t g = glo; g <= ghi; g++)
	{
		uint32_t	meta;
		uint32_t	a = (g == glo) ? lo % LI_CLEAF_GROUP : 0;
		uint32_t	b = (g == ghi) ? (hi - 1) % LI_CLEAF_GROUP : LI_CLEAF_GROUP - 1;
		uint64_t	from,
					to;

		memcpy(&meta, c->table + (size_t) g * 4, sizeof(meta));
		from = meta & 0xFFFFFF;
		if (meta & LI_CLEAF_EF)
		{
			/* the whole group: low parts, then about 2 bits of high parts each */
			to = from + (uint64_t) LI_CLEAF_GROUP * (((meta >> 24) & 63) + 2);
			if (to > c->res_bits)
				to = c->res_bits;
		}
		else
		{
			to = from + (uint64_t) (b + 1) * (meta >> 24);
			from += (uint64_t) a * (meta >> 24);
		}
		if ((!(meta & LI_CLEAF_EF) && (meta >> 24) > 64) || to > c->res_bits)
			continue;			/* damaged: the reads clamp, nothing to fetch */
		__builtin_prefetch(c->goff + (size_t) g * c->gw / 8);
		for (uint64_t p = from / 8; p <= (to + 7) / 8; p += 64)
			__builtin_prefetch(c->res + p);
		__builtin_prefetch(c->res + (to + 7) / 8);
	}
#else
	(void) c;
	(void) lo;
	(void) hi;
#endif
}

/*
 * Prefetch what a lookup in the window [lo, hi) of the model will read:
 * the keys' and TIDs' residuals of the window, so that the binary search
 * waits for one round of cache misses instead of one per step.
 */
static inline void
li_cleaf_prefetch_window(const li_cleaf_view *v, int64_t lo, int64_t hi)
{
	if (lo < 1)
		lo = 1;
	if (hi > (int64_t) v->n - 1)
		hi = (int64_t) v->n - 1;
	/* with the borders the window check reads: [lo - 1, hi] */
	if (lo - 1 > hi || hi - lo > 4 * LI_CLEAF_GROUP)
		return;
	li_ccol_prefetch(&v->key, (uint32_t) (lo - 1), (uint32_t) (hi + 1));
	li_ccol_prefetch(&v->tid, (uint32_t) (lo - 1), (uint32_t) (hi + 1));
}

/*
 * The same as li_cleaf_lower_bound_in in a block with Elias-Fano key
 * groups: the group by a binary search on the groups' first keys, then
 * inside it a select on the high parts (out of line).
 */
uint32_t	li_cleaf_lower_bound_ef(const li_cleaf_view *v, uint64_t key, uint32_t lo,
									uint32_t hi) LI_NOEXCEPT;

/* first i in [lo, hi) with key_at(i) >= key, or hi: a binary search (keys sorted) */
static inline uint32_t
li_cleaf_bsearch(const li_cleaf_view *v, uint64_t key, uint32_t lo, uint32_t hi)
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

/* first i in [lo, hi) with key_at(i) >= key, or hi (keys sorted) */
static inline uint32_t
li_cleaf_lower_bound_in(const li_cleaf_view *v, uint64_t key, uint32_t lo,
						uint32_t hi)
{
	if (v->kef)
		return li_cleaf_lower_bound_ef(v, key, lo, hi);
	return li_cleaf_bsearch(v, key, lo, hi);
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
	if (v->kef)
	{
		/*
		 * by the groups' first keys (no select): in the window's groups when
		 * the first keys of the first and of the one after prove they hold
		 * the answer, else in the whole leaf
		 */
		uint32_t	a = 0,
					b = v->n,
					r;

		if (lo < hi)
		{
			uint32_t	ga = (uint32_t) lo / LI_CLEAF_GROUP,
						gb = ((uint32_t) hi - 1) / LI_CLEAF_GROUP + 1;

			if ((ga == 0 || li_cleaf_key_at(v, ga * LI_CLEAF_GROUP) < key) &&
				(gb * LI_CLEAF_GROUP >= v->n ||
				 li_cleaf_key_at(v, gb * LI_CLEAF_GROUP) >= key))
			{
				a = ga * LI_CLEAF_GROUP;
				b = gb * LI_CLEAF_GROUP < v->n ? gb * LI_CLEAF_GROUP : v->n;
			}
		}
		r = li_cleaf_lower_bound_ef(v, key, a, b);

		if (used_window)
			*used_window = lo <= hi && r >= lo && r <= hi;
		return r;
	}
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

/* widths of a block, for statistics */
typedef struct li_cleaf_widths
{
	uint64_t	key_bits;		/* key residual bits + group tables and offsets */
	uint64_t	tid_bits;		/* the same for TIDs */
	uint32_t	key_max;		/* widest key group */
	uint32_t	tid_max;		/* widest TID group */
} li_cleaf_widths;

/*
 * Whether this thread's encoder may code key groups Elias-Fano (on by
 * default; off: every group in a line's residuals, as blocks before 0.5.0):
 * for tests and tools that need one coding.
 */
void		li_cleaf_set_ef(int on) LI_NOEXCEPT;

/* Plan a block for entries [0, n): fills *h (bytes too). */
li_status	li_cleaf_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
						  li_cleaf_hdr *h) LI_NOEXCEPT;

/*
 * The number m <= min(n, LI_CLEAF_MAX) of leading entries to put in one
 * block of at most budget bytes, found by an interpolation search on the
 * planned size: m entries fit the budget and m + 1 do not (unless m is
 * min(n, LI_CLEAF_MAX)); 0 when n is 0 or not even one entry fits (a
 * one-entry block takes 104 bytes).  (The size is not monotone in m: the
 * line changes with the entries; a larger m may fit too.)
 */
uint32_t	li_cleaf_fit(const uint64_t *keys, const uint16_t *tids, uint32_t n,
						 size_t budget) LI_NOEXCEPT;

/*
 * The same, with room kept for a tail of unsorted entries after the block
 * (LI_TAIL_ENTRY_BYTES each): m entries need block bytes plus
 * ceil(m * tail_num / tail_den) tail entries within avail bytes (same
 * contract: 0 when not even one entry fits).  A fillfactor f% keeps room
 * for (100 - f) / f more entries, as a btree leaf filled to f% has room
 * for that many more tuples.
 */
#define LI_TAIL_ENTRY_BYTES 14
uint32_t	li_cleaf_fit_tail(const uint64_t *keys, const uint16_t *tids, uint32_t n,
							  size_t avail, uint32_t tail_num,
							  uint32_t tail_den) LI_NOEXCEPT;

/*
 * Encode entries [0, n) (keys sorted; a TID with offset 0 is written as a
 * tombstone) into out[0, outcap); *bytes gets the block size.  LI_ERR_ARG
 * if n > LI_CLEAF_MAX, keys are not sorted or the block does not fit.
 */
li_status	li_cleaf_encode(const uint64_t *keys, const uint16_t *tids, uint32_t n,
							uint8_t *out, size_t outcap, size_t *bytes) LI_NOEXCEPT;

/*
 * A plan kept for a later encode: li_cleaf_plan_keep plans entries [0, n)
 * as li_cleaf_plan does and also stores the plan into the caller's buffer
 * `plan` (li_cleaf_plan_size() bytes, 8-byte aligned); li_cleaf_encode_plan
 * then encodes the same entries without planning them again (the same
 * block li_cleaf_encode writes).  The entries must not have changed in
 * between; a plan made for other arrays (another address, n, first or
 * last key or TID) or with the other li_cleaf_set_ef setting is not used:
 * they are planned again.
 */
size_t		li_cleaf_plan_size(void) LI_NOEXCEPT;
li_status	li_cleaf_plan_keep(const uint64_t *keys, const uint16_t *tids, uint32_t n,
							   li_cleaf_hdr *h, void *plan) LI_NOEXCEPT;
li_status	li_cleaf_encode_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
								 const void *plan, uint8_t *out, size_t outcap,
								 size_t *bytes) LI_NOEXCEPT;

/*
 * Check a block read from untrusted storage: header fields in range,
 * bytes == what n, the widths and residual sizes need, <= len, and every
 * group's width and residual position inside its array.  LI_OK or
 * LI_ERR_CORRUPT; after LI_OK every read of li_cleaf_open's view stays
 * inside the block.  (It does not check the order of the keys: the
 * checker does.)
 */
li_status	li_cleaf_validate(const uint8_t *block, size_t len) LI_NOEXCEPT;

/*
 * The readers' check, O(1): the header alone (version, n, widths, M,
 * res_bits within what n allows, bytes == what they need, <= len).  After
 * LI_OK every read of li_cleaf_open's view stays inside the block even if
 * the group tables are damaged (readers clamp each group's width and
 * position to its column's residual bits); li_cleaf_validate also checks
 * the group tables (the checker, learned_index_check(), uses it).
 */
li_status	li_cleaf_validate_header(const uint8_t *block, size_t len) LI_NOEXCEPT;

/* Mark entry i dead in place (its bit in the tombstone bitmap); i < n. */
void		li_cleaf_kill(uint8_t *block, uint32_t i) LI_NOEXCEPT;

/*
 * Decode entries [from, to) in order, group by group (what scans returning
 * many entries use: no per-entry group lookups): keys into keys[], TIDs
 * into tids[] (3 uint16 each, offset 0 for a tombstone).  Stops after the
 * first key > stop, which is not counted: returns the number of entries
 * decoded with key <= stop.
 */
uint32_t	li_cleaf_decode_run(const li_cleaf_view *v, uint32_t from, uint32_t to,
								uint64_t stop, uint64_t *keys,
								uint16_t *tids) LI_NOEXCEPT;

/*
 * The same, for scans: entries [from, to) decoded in order, stopping
 * after the first key > stop (not counted), the ones with a valid TID (not
 * tombstones: offset != 0) written to items[] (room for to - from; isnull
 * 0), *nitems of them.  Returns the number of entries decoded, as
 * li_cleaf_decode_run.
 */
uint32_t	li_cleaf_decode_items(const li_cleaf_view *v, uint32_t from, uint32_t to,
								  uint64_t stop, li_item *items,
								  uint32_t *nitems) LI_NOEXCEPT;

/*
 * The same into index tuples of 8-byte integer keys (li_itup: the
 * datum is key ^ 2^63), what index-only scans of int8, timestamp and
 * timestamptz keys return as they are.
 */
uint32_t	li_cleaf_decode_itups(const li_cleaf_view *v, uint32_t from, uint32_t to,
								  uint64_t stop, li_itup *itups,
								  uint32_t *nitems) LI_NOEXCEPT;

/* Decode every key into out[0, n). */
void		li_cleaf_decode_keys(const li_cleaf_view *v, uint64_t *out) LI_NOEXCEPT;

/* Bits per column of a block (validated), for statistics. */
void		li_cleaf_get_widths(const uint8_t *block, li_cleaf_widths *w) LI_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif							/* LI_LEAF_H */
