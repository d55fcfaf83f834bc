/*
 * li_core.h -- the C-callable interface of the learned_index C++17 core.
 *
 * This header is included by both the C shim (PostgreSQL side) and the C++
 * core.  It must not include any PostgreSQL header, and the core must not
 * include postgres.h.  Every entry point is noexcept: no exception and no
 * longjmp crosses this boundary.  The core never allocates memory that
 * outlives a call: all state lives in caller-provided buffers.
 */
#ifndef LI_CORE_H
#define LI_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define LI_NOEXCEPT noexcept
extern "C" {
#else
#define LI_NOEXCEPT
#endif

/* ---------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------- */
typedef enum li_status
{
	LI_OK = 0,
	LI_ERR_ARG = 1,				/* bad argument (NULL pointer, epsilon < 1) */
	LI_ERR_ORDER = 2,			/* points not strictly increasing in x */
	LI_ERR_INTERNAL = 3,		/* caught an unexpected exception */
	LI_ERR_CORRUPT = 4			/* a stored block fails its checks */
} li_status;

/* ---------------------------------------------------------------------
 * Order-preserving key encoding.  Every supported SQL type is mapped to an
 * unsigned 64-bit integer such that a < b in SQL iff enc(a) < enc(b)
 * (for floats: see li_encode_float8).
 * ------------------------------------------------------------------- */
uint64_t	li_encode_int64(int64_t v) LI_NOEXCEPT;

/* the inverse of li_encode_int64 (inline: index-only scans decode every row) */
static inline int64_t
li_decode_int64(uint64_t k)
{
	return (int64_t) (k ^ UINT64_C(0x8000000000000000));
}

/*
 * Floats: NaN (any payload, any sign) maps to one code above +Infinity;
 * -0.0 maps to the code just below +0.0 so an index-only scan returns the
 * stored value bit for bit, while scans treat the two as equal through
 * li_float8_bound_lo/hi.
 */
uint64_t	li_encode_float8(double v) LI_NOEXCEPT;
double		li_decode_float8(uint64_t k) LI_NOEXCEPT;

/* smallest / largest code of every value that compares equal to v */
uint64_t	li_float8_bound_lo(double v) LI_NOEXCEPT;
uint64_t	li_float8_bound_hi(double v) LI_NOEXCEPT;

/* ---------------------------------------------------------------------
 * Model: piecewise-linear, error-bounded.
 *
 * A segment covers the keys from first_key up to (excluding) the next
 * segment's first_key.  Its prediction for key k is
 *     intercept + slope * (k - first_key)
 * evaluated in double and clamped to [first_pos, next segment's first_pos]
 * (n for the last one); keys below the first segment predict 0.
 *
 * The position a lookup of any key x must find is its lower bound
 * lb(x) = #keys < x: for a present key its first position, for an absent
 * key the position of the next larger key (n past the last key).  A model
 * fitted by li_fit_sorted or the key stream below predicts every x, present
 * or absent, within epsilon of lb(x).
 * ------------------------------------------------------------------- */
typedef struct li_segment
{
	uint64_t	first_key;
	uint64_t	first_pos;
	double		slope;
	double		intercept;
} li_segment;

/*
 * Streaming optimal PLA fitter (convex hull method, O(n) amortised).
 * The caller allocates li_fitter_size() bytes (8-byte aligned) and calls
 * li_fitter_init.  Each segment's line is non-decreasing and satisfies, for
 * every point (x, y) of the segment, |clamped prediction(x) - y| <=
 * eps - 1/64 before rounding (the clamp at first_pos counts: a later point
 * less than eps above first_pos only bounds the line from above; the first
 * point bounds it from both sides), so the bound epsilon holds after
 * rounding to double while positions stay below 2^44 or so (about ten
 * roundings of a double of that size fit in the 1/64 left).  Positions must
 * be below 2^54 (LI_ERR_ARG).
 */
typedef struct li_fitter li_fitter;

size_t		li_fitter_size(void) LI_NOEXCEPT;
li_status	li_fitter_init(li_fitter *f, uint32_t epsilon) LI_NOEXCEPT;

/*
 * Add a point (bounded from both sides); x strictly increasing, y
 * non-decreasing.  If the point does not fit the current segment, the
 * current segment is closed, written to *closed, *nclosed is set to 1, and
 * a new segment starts at this point; otherwise *nclosed is set to 0.
 */
li_status	li_fitter_add(li_fitter *f, uint64_t x, uint64_t y,
						  li_segment *closed, int *nclosed) LI_NOEXCEPT;

/* Close the last segment (if any); *nclosed is 0 or 1. */
li_status	li_fitter_finish(li_fitter *f, li_segment *closed,
							 int *nclosed) LI_NOEXCEPT;

/*
 * Helper that turns a sorted key stream (duplicates allowed) into the
 * constraints fitted: for each distinct key k at first position p, whose
 * previous distinct key is a, the line must pass at or below p + eps at k
 * and, when a+1 < k, at or above p - eps at a+1 (the first absent key whose
 * lower bound is p); with a non-decreasing line this bounds every key of
 * [a+1, k] by eps.  Finishing adds the lower constraint at last+1 for the
 * keys past the stream.  A run of duplicates longer than 2*eps therefore
 * ends a segment (its last key and the next key up must be predicted more
 * than 2*eps apart): one segment per such run at least, as in the
 * PGM-index.  Segments start at a key or at a+1.
 */
typedef struct li_keystream
{
	int			have_prev;
	uint64_t	prev_key;
	uint64_t	prev_pos;		/* first position of prev_key */
	uint64_t	pos;			/* number of keys consumed so far */
} li_keystream;

void		li_keystream_init(li_keystream *ks) LI_NOEXCEPT;

/*
 * Feed the next key (in sorted order) to the fitter.  Up to two segments
 * may close (at most one in fact); they are written to
 * closed[0..*nclosed-1].
 */
li_status	li_keystream_push(li_keystream *ks, li_fitter *f, uint64_t key,
							  li_segment closed[2], int *nclosed) LI_NOEXCEPT;
li_status	li_keystream_finish(li_keystream *ks, li_fitter *f,
								li_segment closed[2], int *nclosed) LI_NOEXCEPT;

/*
 * Like li_keystream_finish, but the keys after the last one start at
 * end_pos (>= the number of positions consumed) instead of right after it:
 * used when a run of leaves is refitted inside a larger index.
 */
li_status	li_keystream_finish_at(li_keystream *ks, li_fitter *f, uint64_t end_pos,
								   li_segment closed[2], int *nclosed) LI_NOEXCEPT;

/* Fit a whole sorted array (convenience for tests and tools). */
li_status	li_fit_sorted(const uint64_t *keys, size_t n, uint32_t epsilon,
						  void *fitter_mem, li_segment *out, size_t out_cap,
						  size_t *nseg) LI_NOEXCEPT;

/*
 * Index of the segment responsible for key (0 if key < all first keys):
 * a branch-free binary search, inline for the scan loop; each step
 * prefetches both segments the next step may read, so a lookup waits for
 * about one cache miss per two levels instead of one per level.
 */
static inline size_t
li_find_segment(const li_segment *segs, size_t nseg, uint64_t key) LI_NOEXCEPT
{
	const li_segment *base = segs;
	size_t		len = nseg;

	if (nseg == 0)
		return 0;
	while (len > 1)
	{
		size_t		half = len / 2;

#if defined(__GNUC__)
		/* both segments the next step may read: their loads overlap */
		__builtin_prefetch(&base[half / 2]);
		__builtin_prefetch(&base[half + half / 2]);
#endif
		base += (base[half].first_key <= key) ? half : 0;
		len -= half;
	}
	return (size_t) (base - segs);
}

/*
 * The prediction of segment s (of nseg, n keys in all) for key, key >=
 * segs[s].first_key: intercept + slope * (key - first_key) in double,
 * clamped to [first_pos, next first_pos or n].
 */
static inline double
li_segment_predict(const li_segment *segs, size_t nseg, size_t s, uint64_t n,
				   uint64_t key) LI_NOEXCEPT
{
	const li_segment *g = &segs[s];
	double		p = g->intercept + g->slope * (double) (key - g->first_key);
	double		lo = (double) g->first_pos;
	double		hi = (double) (s + 1 < nseg ? segs[s + 1].first_pos : n);

	if (!(p >= lo))				/* also catches NaN */
		p = lo;
	if (p > hi)
		p = hi;
	return p;
}

/*
 * Predicted (real-valued) lower-bound position of key among n keys, in
 * double arithmetic (what li_max_error measures is what scans use).
 */
static inline double
li_predict(const li_segment *segs, size_t nseg, uint64_t n,
		   uint64_t key) LI_NOEXCEPT
{
	if (nseg == 0 || key < segs[0].first_key)
		return 0.0;
	return li_segment_predict(segs, nseg, li_find_segment(segs, nseg, key),
							  n, key);
}

/* ---------------------------------------------------------------------
 * Segment index: a radix table over the segments' first keys, so that
 * finding a key's segment reads one table entry and binary-searches the
 * few first keys sharing its top bits (contiguous, 8 bytes each) instead
 * of every level of a search over the 32-byte segments.
 *
 *   keys[s]  = segs[s].first_key                       (nseg)
 *   table[p] = #segments whose (first_key - min) >> shift < p   (2^bits + 1)
 *
 * shift is the smallest making (max first key - min) >> shift < 2^bits.
 * li_segidx_find(ix, key) == li_find_segment(segs, nseg, key) for every
 * key: the last segment whose first key is <= key, 0 if none.
 * ------------------------------------------------------------------- */
typedef struct li_segidx
{
	const uint64_t *keys;
	const uint32_t *table;
	uint64_t	min;			/* first key of segment 0 */
	uint32_t	shift;
	uint32_t	bits;
	uint32_t	nseg;
} li_segidx;

/* radix bits for nseg segments (about one table entry per segment) */
uint32_t	li_segidx_bits(uint32_t nseg) LI_NOEXCEPT;

/* bytes li_segidx_build needs for nseg segments (8-byte aligned buffer) */
size_t		li_segidx_bytes(uint32_t nseg) LI_NOEXCEPT;

/*
 * Build the index of segs[0, nseg) (first keys strictly increasing) into
 * buf (len >= li_segidx_bytes(nseg), 8-byte aligned); *ix points into buf.
 * LI_ERR_ARG if nseg is 0, the buffer is short or the keys are not
 * increasing.  O(nseg + 2^bits).
 */
li_status	li_segidx_build(const li_segment *segs, uint32_t nseg, void *buf,
							size_t len, li_segidx *ix) LI_NOEXCEPT;

/*
 * The segment responsible for key: same answer as li_find_segment.  With
 * segs (else NULL), the likely answer's segment is prefetched as soon as
 * the table entry is known, so its miss overlaps the key search.
 */
static inline size_t
li_segidx_find_pf(const li_segidx *ix, uint64_t key, const li_segment *segs) LI_NOEXCEPT
{
	uint64_t	p;
	size_t		lo,
				len;
	const uint64_t *base;

	if (key <= ix->min)
		return 0;
	p = (key - ix->min) >> ix->shift;
	if (p >= ((uint64_t) 1 << ix->bits))
		p = ((uint64_t) 1 << ix->bits) - 1;
	/* the answer is in [table[p] - 1, table[p + 1] - 1] */
	lo = ix->table[p] ? ix->table[p] - 1 : 0;
	len = (size_t) ix->table[p + 1] - lo;
	base = ix->keys + lo;
#if defined(__GNUC__)
	if (segs)
	{
		__builtin_prefetch(&segs[lo + len / 2]);
		__builtin_prefetch(&segs[lo + len / 2 + 1]);
	}
#endif
	while (len > 1)
	{
		size_t		half = len / 2;

		base += (base[half] <= key) ? half : 0;
		len -= half;
	}
	return (size_t) (base - ix->keys);
}

/* the segment responsible for key: same answer as li_find_segment */
static inline size_t
li_segidx_find(const li_segidx *ix, uint64_t key) LI_NOEXCEPT
{
	return li_segidx_find_pf(ix, key, NULL);
}

/* li_predict through a segment index */
static inline double
li_segidx_predict(const li_segidx *ix, const li_segment *segs, uint64_t n,
				  uint64_t key) LI_NOEXCEPT
{
	if (ix->nseg == 0 || key < ix->min)
		return 0.0;
	return li_segment_predict(segs, ix->nseg, li_segidx_find_pf(ix, key, segs), n, key);
}

/*
 * Exact lower bound (first index with keys[i] >= key) in the sorted array
 * keys[0..n), searching first in the window [lo, hi) given by the model
 * and verifying the window's borders; falls back to a full binary search
 * when the window does not contain the answer.  *used_window (if not NULL)
 * tells whether the window sufficed.
 */
uint32_t	li_lower_bound_window(const uint64_t *keys, uint32_t n, uint64_t key,
								  int64_t lo, int64_t hi,
								  int *used_window) LI_NOEXCEPT;

/* Plain lower/upper bound on a sorted array. */
uint32_t	li_lower_bound(const uint64_t *keys, uint32_t n, uint64_t key) LI_NOEXCEPT;
uint32_t	li_upper_bound(const uint64_t *keys, uint32_t n, uint64_t key) LI_NOEXCEPT;

/*
 * Maximum of |pred(k) - lower_bound_pos(k)| over every distinct key of the
 * sorted array (every key checked).
 */
double		li_max_error(const li_segment *segs, size_t nseg,
						 const uint64_t *keys, size_t n) LI_NOEXCEPT;

/*
 * The same over a slice: keys[0..n) (sorted) sit at positions base + i of
 * an index of nkeys positions.  `run` carries the last key seen from one
 * slice to the next (zero-initialised before the first), so a run of equal
 * keys that crosses slices is measured once, at its first position.
 */
typedef struct li_run
{
	int			have_prev;
	uint64_t	prev;
} li_run;

double		li_max_error_at(const li_segment *segs, size_t nseg, uint64_t nkeys,
							const uint64_t *keys, size_t n, uint64_t base,
							li_run *run) LI_NOEXCEPT;

/*
 * Maximum of |pred(x) - lb(x)| over EVERY uint64 x, present or absent,
 * computed exactly: between two consecutive distinct keys lb is constant
 * and each segment's double prediction is monotone, so the ends of every
 * stretch of absent keys served by one segment are enough.
 */
double		li_max_error_all(const li_segment *segs, size_t nseg,
							 const uint64_t *keys, size_t n) LI_NOEXCEPT;

/*
 * The same over slices, as li_max_error_at: the absent keys between the
 * previous slice's last key (run) and this slice's keys count, those below
 * the first key when base is 0 and no key came before, those above the
 * last key when the slice ends at nkeys.
 */
double		li_max_error_all_at(const li_segment *segs, size_t nseg,
								uint64_t nkeys, const uint64_t *keys, size_t n,
								uint64_t base, li_run *run) LI_NOEXCEPT;

/* ---------------------------------------------------------------------
 * Entries (key, heap TID) and page layout helpers.
 * ------------------------------------------------------------------- */
typedef struct li_item
{
	uint64_t	key;
	uint16_t	tid[3];			/* ItemPointerData: bi_hi, bi_lo, posid */
	uint16_t	isnull;			/* 1: the key is SQL NULL (the shim's use; the
								 * core ignores it) */
} li_item;

#define LI_TID_BYTES 6

/*
 * An index tuple of one 8-byte integer datum, as index-only scans return
 * it (PostgreSQL's IndexTupleData: the heap TID, t_info = its size 16;
 * then the datum, the key decoded: key ^ 2^63).
 */
typedef struct li_itup
{
	uint16_t	tid[3];			/* ItemPointerData: bi_hi, bi_lo, posid */
	uint16_t	info;			/* LI_ITUP_INFO */
	uint64_t	datum;
} li_itup;

#define LI_ITUP_INFO 16

/* Sort items by (key, tid). */
void		li_sort_items(li_item *items, size_t n) LI_NOEXCEPT;

/*
 * Entry area layout of a leaf page: `avail` bytes starting at an 8-byte
 * aligned offset hold cap keys (8 bytes each) followed by cap TIDs (6 bytes
 * each).  Returns cap.
 */
uint32_t	li_leaf_capacity(uint32_t avail) LI_NOEXCEPT;

/* Fixed-width TID-only pages (NULL entries). */
uint32_t	li_null_capacity(uint32_t avail) LI_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif							/* LI_CORE_H */
