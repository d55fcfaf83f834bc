/*
 * li_search.cpp -- windowed search, error measurement, item sorting and
 * page layout arithmetic (the model's evaluation, li_predict and
 * li_find_segment, is inline in li_core.h).
 */
#include <algorithm>
#include <cmath>

#include "li_core.h"

/* first index with keys[i] >= key */
extern "C" uint32_t
li_lower_bound(const uint64_t *keys, uint32_t n, uint64_t key) noexcept
{
	return (uint32_t) (std::lower_bound(keys, keys + n, key) - keys);
}

/* first index with keys[i] > key */
extern "C" uint32_t
li_upper_bound(const uint64_t *keys, uint32_t n, uint64_t key) noexcept
{
	return (uint32_t) (std::upper_bound(keys, keys + n, key) - keys);
}

/* lower bound searched in a verified window, else in the whole array */
extern "C" uint32_t
li_lower_bound_window(const uint64_t *keys, uint32_t n, uint64_t key,
					  int64_t lo, int64_t hi, int *used_window) noexcept
{
	if (lo < 0)
		lo = 0;
	if (hi > (int64_t) n)
		hi = n;
	if (lo <= hi &&
		(lo == 0 || keys[lo - 1] < key) &&
		(hi == (int64_t) n || keys[hi] >= key))
	{
		if (used_window)
			*used_window = 1;
		return (uint32_t) (std::lower_bound(keys + lo, keys + hi, key) - keys);
	}
	if (used_window)
		*used_window = 0;
	return li_lower_bound(keys, n, key);
}

/* largest error over the distinct keys of a whole array */
extern "C" double
li_max_error(const li_segment *segs, size_t nseg, const uint64_t *keys,
			 size_t n) noexcept
{
	li_run		run = {0, 0};

	return li_max_error_at(segs, nseg, n, keys, n, 0, &run);
}

/* largest error over the distinct keys of a slice */
extern "C" double
li_max_error_at(const li_segment *segs, size_t nseg, uint64_t nkeys,
				const uint64_t *keys, size_t n, uint64_t base,
				li_run *run) noexcept
{
	double		maxerr = 0.0;
	size_t		s = SIZE_MAX;	/* the segment of key `last` (none yet) */
	uint64_t	last = 0;

	for (size_t i = 0; i < n; i++)
	{
		uint64_t	x = keys[i];
		double		p = 0.0;	/* li_predict(segs, nseg, nkeys, x) */

		if (run->have_prev && x == run->prev)
			continue;
		run->have_prev = 1;
		run->prev = x;
		if (nseg > 0 && x >= segs[0].first_key)
		{
			/* keys in order: the segment only moves on (else search again) */
			if (s == SIZE_MAX || x < last)
				s = li_find_segment(segs, nseg, x);
			else
				while (s + 1 < nseg && segs[s + 1].first_key <= x)
					s++;
			last = x;
			p = li_segment_predict(segs, nseg, s, nkeys, x);
		}

		double		e = std::fabs(p - (double) (base + i));

		if (e > maxerr)
			maxerr = e;
	}
	return maxerr;
}

namespace
{

/* |pred(x) - lb| */
inline double
err_at(const li_segment *segs, size_t nseg, uint64_t nkeys, uint64_t x,
	   uint64_t lb)
{
	return std::fabs(li_predict(segs, nseg, nkeys, x) - (double) lb);
}

/*
 * Largest |pred(x) - lb| over x in [from, to], all of whose lower bound is
 * lb: the prediction is monotone on each stretch served by one segment (or
 * by none: 0 below the first), so the ends of the stretches suffice.
 */
double
stretch_error(const li_segment *segs, size_t nseg, uint64_t nkeys,
			  uint64_t from, uint64_t to, uint64_t lb)
{
	double		e = std::max(err_at(segs, nseg, nkeys, from, lb),
							 err_at(segs, nseg, nkeys, to, lb));
	/* first segment starting after `from` */
	size_t		s = (nseg == 0 || from < segs[0].first_key) ? 0 :
		li_find_segment(segs, nseg, from) + 1;

	for (; s < nseg && segs[s].first_key <= to; s++)
	{
		uint64_t	fk = segs[s].first_key;

		e = std::max(e, err_at(segs, nseg, nkeys, fk, lb));
		if (fk > from)
			e = std::max(e, err_at(segs, nseg, nkeys, fk - 1, lb));
	}
	return e;
}

}								/* namespace */

/* largest error over every key, present or absent, of a whole array */
extern "C" double
li_max_error_all(const li_segment *segs, size_t nseg, const uint64_t *keys,
				 size_t n) noexcept
{
	li_run		run = {0, 0};

	if (n == 0)
		return stretch_error(segs, nseg, 0, 0, UINT64_MAX, 0);
	return li_max_error_all_at(segs, nseg, n, keys, n, 0, &run);
}

/* largest error over every key, present or absent, of a slice */
extern "C" double
li_max_error_all_at(const li_segment *segs, size_t nseg, uint64_t nkeys,
					const uint64_t *keys, size_t n, uint64_t base,
					li_run *run) noexcept
{
	double		maxerr = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		uint64_t	k = keys[i];
		uint64_t	lb = base + i;

		if (run->have_prev && k == run->prev)
			continue;
		/* the absent keys just below k share its lower bound */
		if (run->have_prev && run->prev + 1 < k)
			maxerr = std::max(maxerr, stretch_error(segs, nseg, nkeys,
													run->prev + 1, k - 1, lb));
		else if (!run->have_prev && base == 0 && k > 0)
			maxerr = std::max(maxerr, stretch_error(segs, nseg, nkeys, 0,
													k - 1, 0));
		run->have_prev = 1;
		run->prev = k;
		maxerr = std::max(maxerr, err_at(segs, nseg, nkeys, k, lb));
	}
	/* past the last key: lower bound nkeys */
	if (base + n == nkeys && run->have_prev && run->prev < UINT64_MAX)
		maxerr = std::max(maxerr, stretch_error(segs, nseg, nkeys,
												run->prev + 1, UINT64_MAX,
												nkeys));
	return maxerr;
}

/* sort by key, then TID */
extern "C" void
li_sort_items(li_item *items, size_t n) noexcept
{
	std::sort(items, items + n, [](const li_item &a, const li_item &b) {
		if (a.key != b.key)
			return a.key < b.key;
		if (a.tid[0] != b.tid[0])
			return a.tid[0] < b.tid[0];
		if (a.tid[1] != b.tid[1])
			return a.tid[1] < b.tid[1];
		return a.tid[2] < b.tid[2];
	});
}

/* entries of a leaf page of `avail` bytes */
extern "C" uint32_t
li_leaf_capacity(uint32_t avail) noexcept
{
	return avail / (8 + LI_TID_BYTES);
}

/* TIDs of a NULL page of `avail` bytes */
extern "C" uint32_t
li_null_capacity(uint32_t avail) noexcept
{
	return avail / LI_TID_BYTES;
}

extern "C" uint32_t
li_segidx_bits(uint32_t nseg) noexcept
{
	uint32_t	bits = 1;

	while (bits < 24 && ((uint64_t) 1 << bits) < nseg)
		bits++;
	return bits;
}

extern "C" size_t
li_segidx_bytes(uint32_t nseg) noexcept
{
	size_t		table = (((size_t) 1 << li_segidx_bits(nseg)) + 1) * sizeof(uint32_t);

	return (size_t) nseg * sizeof(uint64_t) + ((table + 7) & ~(size_t) 7);
}

extern "C" li_status
li_segidx_build(const li_segment *segs, uint32_t nseg, void *buf, size_t len,
				li_segidx *ix) noexcept
{
	uint64_t   *keys = static_cast<uint64_t *>(buf);
	uint32_t   *table;
	uint32_t	bits = li_segidx_bits(nseg);
	uint64_t	nslots = (uint64_t) 1 << bits;
	uint64_t	range;
	uint32_t	shift = 0;
	uint64_t	p = 0;

	if (nseg == 0 || buf == nullptr || len < li_segidx_bytes(nseg))
		return LI_ERR_ARG;
	for (uint32_t s = 0; s < nseg; s++)
	{
		if (s > 0 && segs[s].first_key <= segs[s - 1].first_key)
			return LI_ERR_ARG;
		keys[s] = segs[s].first_key;
	}
	table = reinterpret_cast<uint32_t *>(keys + nseg);
	range = keys[nseg - 1] - keys[0];
	while (shift < 64 && (range >> shift) >= nslots)
		shift++;
	/* table[q] = #segments with prefix < q, for q = 0 .. nslots */
	for (uint32_t s = 0; s < nseg; s++)
	{
		uint64_t	prefix = (keys[s] - keys[0]) >> shift;

		while (p <= prefix)
			table[p++] = s;
	}
	while (p <= nslots)
		table[p++] = nseg;
	ix->keys = keys;
	ix->table = table;
	ix->min = keys[0];
	ix->shift = shift;
	ix->bits = bits;
	ix->nseg = nseg;
	return LI_OK;
}
