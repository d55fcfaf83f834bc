/*
 * li_search.cpp -- model evaluation, windowed search, error measurement,
 * item sorting and page layout arithmetic.
 */
#include <algorithm>
#include <cmath>

#include "li_core.h"

extern "C" size_t
li_find_segment(const li_segment *segs, size_t nseg, uint64_t key) noexcept
{
	size_t		lo = 0,
				hi = nseg;

	/* last segment with first_key <= key */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (segs[mid].first_key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : lo - 1;
}

extern "C" double
li_predict(const li_segment *segs, size_t nseg, uint64_t n, uint64_t key) noexcept
{
	if (nseg == 0 || key < segs[0].first_key)
		return 0.0;

	size_t		s = li_find_segment(segs, nseg, key);
	const li_segment &g = segs[s];
	long double p = (long double) g.intercept +
		(long double) g.slope * (long double) (key - g.first_key);
	long double lo = (long double) g.first_pos;
	long double hi = (long double) (s + 1 < nseg ? segs[s + 1].first_pos : n);

	if (!(p >= lo))				/* also catches NaN */
		p = lo;
	if (p > hi)
		p = hi;
	return (double) p;
}

extern "C" uint32_t
li_lower_bound(const uint64_t *keys, uint32_t n, uint64_t key) noexcept
{
	return (uint32_t) (std::lower_bound(keys, keys + n, key) - keys);
}

extern "C" uint32_t
li_upper_bound(const uint64_t *keys, uint32_t n, uint64_t key) noexcept
{
	return (uint32_t) (std::upper_bound(keys, keys + n, key) - keys);
}

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

extern "C" double
li_max_error(const li_segment *segs, size_t nseg, const uint64_t *keys,
			 size_t n) noexcept
{
	li_run		run = {0, 0};

	return li_max_error_at(segs, nseg, n, keys, n, 0, &run);
}

extern "C" double
li_max_error_at(const li_segment *segs, size_t nseg, uint64_t nkeys,
				const uint64_t *keys, size_t n, uint64_t base,
				li_run *run) noexcept
{
	double		maxerr = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		if (run->have_prev && keys[i] == run->prev)
			continue;
		run->have_prev = 1;
		run->prev = keys[i];
		double		e = std::fabs(li_predict(segs, nseg, nkeys, keys[i]) -
								  (double) (base + i));

		if (e > maxerr)
			maxerr = e;
	}
	return maxerr;
}

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

extern "C" uint32_t
li_leaf_capacity(uint32_t avail) noexcept
{
	return avail / (8 + LI_TID_BYTES);
}

extern "C" uint32_t
li_null_capacity(uint32_t avail) noexcept
{
	return avail / LI_TID_BYTES;
}
