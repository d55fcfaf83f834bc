/*
 * fuzz_fit.cpp -- libFuzzer target for the error-bounded fit and the
 * windowed search.
 *
 * Input layout:
 *   byte 0     mode: bits 0-2 pick how the rest becomes keys, bit 3 puts the
 *              keys near UINT64_MAX, bit 4 duplicates every key
 *   bytes 1-2  epsilon selector (little endian u16 r): r >> 14 chooses the
 *              range 1..4, 1..32, 1..256 or 1..4096
 *   rest       key material (see make_keys)
 *
 * The keys are sorted, fitted with li_fit_sorted, and the target traps when
 * a key (present or absent) is predicted more than epsilon away from its
 * std::lower_bound position, when a lookup does not land in [pred - eps,
 * pred + eps] (a window fallback, for present and absent keys alike), when
 * li_max_error_all misses an error a probe saw or exceeds epsilon, when
 * li_lower_bound_window disagrees with std::lower_bound for any window, or
 * when the streaming API yields a different model.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=60]
 */
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "li_core.h"

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			std::fprintf(stderr, "fuzz_fit: check failed: %s: ", #cond); \
			std::fprintf(stderr, __VA_ARGS__); \
			std::fprintf(stderr, "\n"); \
			__builtin_trap(); \
		} \
	} while (0)

namespace
{

const size_t kMaxKeys = 1 << 16;

uint64_t
load_le(const uint8_t *p, size_t nbytes)
{
	uint64_t	v = 0;

	for (size_t i = 0; i < nbytes; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint32_t
pick_eps(uint16_t r)
{
	switch (r >> 14)
	{
		case 0:
			return 1 + (r & 3);
		case 1:
			return 1 + (r & 31);
		case 2:
			return 1 + (r & 255);
		default:
			return 1 + (r % 4096);
	}
}

std::vector<uint64_t>
make_keys(uint8_t mode, const uint8_t *p, size_t len)
{
	std::vector<uint64_t> keys;
	const bool	high = (mode & 8) != 0;
	uint64_t	cur = high ? UINT64_MAX - (UINT64_C(1) << 24) : 0;

	switch (mode & 7)
	{
		case 0:				/* raw 64-bit keys */
			for (size_t i = 0; i + 8 <= len; i += 8)
				keys.push_back(load_le(p + i, 8));
			break;
		case 1:				/* 1-byte deltas (0 = duplicate) */
		case 2:				/* 2-byte deltas */
		case 4:				/* 4-byte deltas */
			{
				size_t		w = (mode & 7) == 1 ? 1 : (mode & 7) == 2 ? 2 : 4;

				for (size_t i = 0; i + w <= len; i += w)
				{
					cur = sat_add(cur, load_le(p + i, w));
					keys.push_back(cur);
				}
			}
			break;
		case 3:				/* small deltas with occasional huge gaps */
		case 6:
			for (size_t i = 0; i < len; i++)
			{
				uint8_t		b = p[i];
				uint64_t	d = b < 0xF0 ? (uint64_t) (b & 7)
					: UINT64_C(1) << (4 * (b - 0xF0) + 3);

				cur = sat_add(cur, d);
				keys.push_back(cur);
			}
			break;
		case 5:				/* 16-bit keys: small range, many duplicates */
			for (size_t i = 0; i + 2 <= len; i += 2)
				keys.push_back(cur + load_le(p + i, 2));
			break;
		default:			/* 7: keys hugging both ends of the domain */
			for (size_t i = 0; i + 2 <= len; i += 2)
			{
				uint64_t	v = load_le(p + i, 2);

				keys.push_back((v & 1) ? UINT64_MAX - (v >> 1) : (v >> 1));
			}
			break;
	}
	if (keys.size() > kMaxKeys)
		keys.resize(kMaxKeys);
	if (mode & 16)
	{
		size_t		n = keys.size();

		for (size_t i = 0; i < n; i++)
			keys.push_back(keys[i]);
	}
	std::sort(keys.begin(), keys.end());
	return keys;
}

size_t
std_lb(const std::vector<uint64_t> &keys, uint64_t key)
{
	return (size_t) (std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
}

/*
 * |pred - lower_bound| <= eps for every key, present or absent, and the
 * lookup lands in [pred - eps, pred + eps]: the window [ceil(pred - eps),
 * floor(pred + eps)] finds it without a fallback.  Returns the error.
 */
/* the segment index of the current input's model (NULL if none) */
const li_segidx *g_ix = nullptr;

double
check_probe(const std::vector<uint64_t> &keys, const std::vector<li_segment> &segs,
			uint32_t eps, uint64_t key)
{
	const size_t n = keys.size();
	size_t		lb = std_lb(keys, key);
	double		pred = li_predict(segs.data(), segs.size(), n, key);
	double		err = std::fabs(pred - (double) lb);

	/* the segment index finds the same segment, so predicts the same */
	if (g_ix)
		FUZZ_CHECK(li_segidx_find(g_ix, key) == li_find_segment(segs.data(), segs.size(), key) &&
				   li_segidx_predict(g_ix, segs.data(), n, key) == pred,
				   "segidx: key=%llu segment %zu, li_find_segment %zu",
				   (unsigned long long) key, li_segidx_find(g_ix, key),
				   li_find_segment(segs.data(), segs.size(), key));

	FUZZ_CHECK(err <= (double) eps,
			   "n=%zu eps=%u key=%llu lower_bound=%zu predict=%.6f", n, eps,
			   (unsigned long long) key, lb, pred);
	int64_t		lo = (int64_t) std::ceil(pred - (double) eps);
	int64_t		hi = (int64_t) std::floor(pred + (double) eps);
	int			used = -1;
	uint32_t	r = li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, &used);

	FUZZ_CHECK(r == lb && used == 1,
			   "window fallback: window [%lld,%lld] key=%llu got %u used=%d expected %zu",
			   (long long) lo, (long long) hi, (unsigned long long) key, r, used, lb);
	return err;
}

}								/* namespace */

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const uint8_t mode = data[0];
	const uint32_t eps = pick_eps((uint16_t) load_le(data + 1, 2));
	std::vector<uint64_t> keys = make_keys(mode, data + 3, size - 3);
	const size_t n = keys.size();

	/* fit */
	static void *mem = std::malloc(li_fitter_size());
	std::vector<li_segment> segs(2 * n + 2);
	size_t		nseg = 0;
	li_status	st = li_fit_sorted(keys.data(), n, eps, mem, segs.data(), segs.size(), &nseg);

	FUZZ_CHECK(st == LI_OK, "li_fit_sorted returned %d", (int) st);
	FUZZ_CHECK(nseg <= segs.size(), "nseg=%zu", nseg);
	segs.resize(nseg);
	FUZZ_CHECK((n == 0) == (nseg == 0), "n=%zu nseg=%zu", n, nseg);

	/* structure */
	if (n > 0)
		FUZZ_CHECK(segs[0].first_key == keys[0] && segs[0].first_pos == 0,
				   "first segment (%llu,%llu)", (unsigned long long) segs[0].first_key,
				   (unsigned long long) segs[0].first_pos);
	std::vector<uint64_t> ixbuf(nseg ? li_segidx_bytes((uint32_t) nseg) / 8 + 1 : 1);
	li_segidx	ix;

	g_ix = nullptr;
	if (nseg > 0)
	{
		FUZZ_CHECK(li_segidx_build(segs.data(), (uint32_t) nseg, ixbuf.data(), ixbuf.size() * 8,
								   &ix) == LI_OK, "segidx build failed, nseg=%zu", nseg);
		g_ix = &ix;
	}
	for (size_t s = 0; s < nseg; s++)
	{
		FUZZ_CHECK(segs[s].first_pos == std_lb(keys, segs[s].first_key),
				   "segment %zu first_pos %llu", s, (unsigned long long) segs[s].first_pos);
		if (s > 0)
			FUZZ_CHECK(segs[s - 1].first_key < segs[s].first_key &&
					   segs[s - 1].first_pos <= segs[s].first_pos,
					   "segments %zu,%zu out of order", s - 1, s);
	}

	/* the streaming API gives the same model */
	{
		li_keystream ks;
		li_segment	closed[2];
		int			nc;
		size_t		k = 0;

		FUZZ_CHECK(li_fitter_init(static_cast<li_fitter *>(mem), eps) == LI_OK, "init");
		li_keystream_init(&ks);
		for (size_t i = 0; i <= n; i++)
		{
			st = (i < n) ? li_keystream_push(&ks, static_cast<li_fitter *>(mem), keys[i], closed, &nc)
				: li_keystream_finish(&ks, static_cast<li_fitter *>(mem), closed, &nc);
			FUZZ_CHECK(st == LI_OK && nc >= 0 && nc <= 2, "stream st=%d nc=%d", (int) st, nc);
			for (int j = 0; j < nc; j++, k++)
				FUZZ_CHECK(k < nseg && std::memcmp(&closed[j], &segs[k], sizeof(li_segment)) == 0,
						   "stream segment %zu differs", k);
		}
		FUZZ_CHECK(k == nseg, "stream gave %zu segments, li_fit_sorted %zu", k, nseg);
	}

	/* every distinct key, and its neighbourhood */
	double		maxerr = 0.0;
	double		probe_max = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		if (i > 0 && keys[i] == keys[i - 1])
			continue;
		uint64_t	k = keys[i];
		double		e = std::fabs(li_predict(segs.data(), nseg, n, k) - (double) i);

		maxerr = std::max(maxerr, e);
		probe_max = std::max(probe_max, check_probe(keys, segs, eps, k));
		if (k > 0)
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, k - 1));
		if (k < UINT64_MAX)
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, k + 1));
		size_t		j = (size_t) (std::upper_bound(keys.begin(), keys.end(), k) - keys.begin());

		if (j < n)
		{
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, k + (keys[j] - k) / 2));
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, keys[j] - 1 - (keys[j] - k - 1) / 4));
		}
	}
	FUZZ_CHECK(maxerr <= (double) eps, "maxerr %.6f", maxerr);
	double		me = li_max_error(segs.data(), nseg, keys.data(), n);

	FUZZ_CHECK(me == maxerr, "li_max_error %.6f, own loop %.6f", me, maxerr);
	probe_max = std::max(probe_max, check_probe(keys, segs, eps, 0));
	probe_max = std::max(probe_max, check_probe(keys, segs, eps, UINT64_MAX));
	for (size_t s = 0; s < nseg; s++)
	{
		uint64_t	fk = segs[s].first_key;

		FUZZ_CHECK(segs[s].slope >= 0.0, "segment %zu slope %g", s, segs[s].slope);
		if (fk > 0)
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, fk - 1));
		if (fk > 1)
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, fk - 2));
		if (fk < UINT64_MAX)
			probe_max = std::max(probe_max, check_probe(keys, segs, eps, fk + 1));
	}

	/* the exact bound over every key covers what the probes saw */
	double		all = li_max_error_all(segs.data(), nseg, keys.data(), n);

	FUZZ_CHECK(all <= (double) eps && all >= probe_max && all >= me,
			   "li_max_error_all %.6f, probes %.6f, li_max_error %.6f", all, probe_max, me);

	/* li_max_error_at over slices (a run of equal keys may cross one) */
	{
		li_run		run = {0, 0};
		double		sliced = 0.0;
		size_t		cut = n > 0 ? (size_t) (data[size - 1] % (n + 1)) : 0;

		sliced = std::max(sliced, li_max_error_at(segs.data(), nseg, n, keys.data(),
												  cut, 0, &run));
		sliced = std::max(sliced, li_max_error_at(segs.data(), nseg, n,
												  keys.data() + cut, n - cut, cut, &run));
		FUZZ_CHECK(sliced == me, "sliced max error %.6f, whole %.6f", sliced, me);

		li_run		run2 = {0, 0};
		double		sliced_all = li_max_error_all_at(segs.data(), nseg, n, keys.data(), cut, 0, &run2);

		sliced_all = std::max(sliced_all, li_max_error_all_at(segs.data(), nseg, n, keys.data() + cut,
															  n - cut, cut, &run2));
		FUZZ_CHECK(n == 0 || sliced_all == all, "sliced max error (all keys) %.6f, whole %.6f",
				   sliced_all, all);
	}

	/*
	 * The run of a retrain: the keys after `cut` fitted as a run starting at
	 * position base, closed with li_keystream_finish_at(end_pos) where the
	 * next run starts; every key of the run is within epsilon of base + its
	 * position in the run, and the keys after the run's last one are
	 * predicted within epsilon of end_pos.
	 */
	if (n > 0)
	{
		size_t		cut = (size_t) (data[size - 1] % n);
		uint64_t	base = (uint64_t) data[0] * 1000;
		uint64_t	extra = (uint64_t) (data[size / 2] % 4);
		li_keystream ks;
		li_segment	closed[2];
		std::vector<li_segment> rsegs;
		int			nc;
		li_status	st;

		FUZZ_CHECK(li_fitter_init(static_cast<li_fitter *>(mem), eps) == LI_OK, "init");
		li_keystream_init(&ks);
		ks.pos = base;
		for (size_t i = cut; i < n; i++)
		{
			st = li_keystream_push(&ks, static_cast<li_fitter *>(mem), keys[i], closed, &nc);
			FUZZ_CHECK(st == LI_OK, "push %d", (int) st);
			rsegs.insert(rsegs.end(), closed, closed + nc);
		}
		FUZZ_CHECK(li_keystream_finish_at(&ks, static_cast<li_fitter *>(mem), ks.pos - 1,
										  closed, &nc) == LI_ERR_ARG,
				   "finish_at before the end must be refused");
		st = li_keystream_finish_at(&ks, static_cast<li_fitter *>(mem), ks.pos + extra,
									closed, &nc);
		FUZZ_CHECK(st == LI_OK, "finish_at %d", (int) st);
		rsegs.insert(rsegs.end(), closed, closed + nc);
		uint64_t	endpos = base + (n - cut) + extra;

		for (size_t i = cut; i < n; i++)
		{
			if (i > cut && keys[i] == keys[i - 1])
				continue;
			double		e = std::fabs(li_predict(rsegs.data(), rsegs.size(), endpos,
											 keys[i]) - (double) (base + i - cut));

			FUZZ_CHECK(e <= (double) eps, "run key %zu error %.3f", i, e);
		}
		uint64_t	last = keys[n - 1];

		for (uint64_t k : {last + 1, last + 2, last + (UINT64_MAX - last) / 2, UINT64_MAX})
		{
			if (last == UINT64_MAX || k <= last)
				continue;
			double		e = std::fabs(li_predict(rsegs.data(), rsegs.size(), endpos,
											 k) - (double) endpos);

			FUZZ_CHECK(e <= (double) eps, "key %llu after the run: error %.3f",
					   (unsigned long long) k, e);
		}
	}

	/* arbitrary windows, however wrong, give the exact lower bound */
	uint64_t	h = UINT64_C(0x9E3779B97F4A7C15) ^ size;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(0x100000001B3);
	for (size_t q = 0; q < 64 + n / 4; q++)
	{
		h = h * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		uint64_t	r = h >> 11;
		uint64_t	key = (n > 0 && (r & 1)) ? keys[(r >> 1) % n] + ((r >> 20) % 3) - 1 : h;
		int64_t		span = (int64_t) n + 8;
		int64_t		lo = (int64_t) ((r >> 24) % (uint64_t) span) - 4;
		int64_t		hi = (int64_t) ((r >> 40) % (uint64_t) span) - 4;

		if ((r & 0x30) == 0x30)
			lo = (r & 0x40) ? INT64_MIN : INT64_MAX;
		if ((r & 0x180) == 0x180)
			hi = (r & 0x200) ? INT64_MIN : INT64_MAX;
		int			used = -1;
		size_t		lb = std_lb(keys, key);
		uint32_t	got = li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, &used);

		FUZZ_CHECK(got == lb && (used == 0 || used == 1),
				   "window [%lld,%lld) key=%llu got %u expected %zu",
				   (long long) lo, (long long) hi, (unsigned long long) key, got, lb);
		int64_t		clo = std::max<int64_t>(lo, 0);
		int64_t		chi = std::min<int64_t>(hi, (int64_t) n);

		FUZZ_CHECK(used == (clo <= (int64_t) lb && (int64_t) lb <= chi),
				   "window [%lld,%lld) key=%llu used=%d lb=%zu",
				   (long long) lo, (long long) hi, (unsigned long long) key, used, lb);
	}
	return 0;
}
