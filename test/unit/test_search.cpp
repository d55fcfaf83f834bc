/*
 * test_search.cpp -- windowed search, segment lookup, prediction clamping,
 * item sorting and page layout arithmetic.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "li_core.h"

namespace
{

bool
small_scale()
{
	const char *s = std::getenv("LI_TEST_SCALE");

	return s != nullptr && std::strcmp(s, "small") == 0;
}

uint32_t
std_lb(const std::vector<uint64_t> &keys, uint64_t key)
{
	return (uint32_t) (std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
}

/* a sorted array with duplicates, of a random shape */
std::vector<uint64_t>
random_sorted(std::mt19937_64 &rng, size_t n)
{
	std::vector<uint64_t> keys(n);

	switch (rng() % 4)
	{
		case 0:
			for (auto &k : keys)
				k = rng() % (n + 1);	/* dense, many duplicates */
			break;
		case 1:
			for (auto &k : keys)
				k = rng();
			break;
		case 2:
			for (auto &k : keys)
				k = rng() % 4;	/* long runs */
			break;
		default:
			for (auto &k : keys)
				k = (rng() % 2) ? rng() % 10 : UINT64_MAX - rng() % 10;
			break;
	}
	std::sort(keys.begin(), keys.end());
	return keys;
}

uint64_t
random_probe(std::mt19937_64 &rng, const std::vector<uint64_t> &keys)
{
	switch (rng() % 5)
	{
		case 0:
			return rng();
		case 1:
			return rng() % 2 ? 0 : UINT64_MAX;
		default:
			if (keys.empty())
				return rng();
			{
				uint64_t	k = keys[rng() % keys.size()];

				return k + (uint64_t) ((int64_t) (rng() % 3) - 1);	/* k-1, k, k+1 */
			}
	}
}

int64_t
random_bound(std::mt19937_64 &rng, int64_t n)
{
	switch (rng() % 6)
	{
		case 0:
			return (int64_t) (rng() % (uint64_t) (n + 11)) - 5;	/* [-5, n+5] */
		case 1:
			{
				static const int64_t ext[] = {INT64_MIN, INT64_MIN + 1, -1, 0,
				INT64_MAX - 1, INT64_MAX};

				return ext[rng() % 6];
			}
		case 2:
			return (int64_t) rng();
		default:
			return (int64_t) (rng() % (uint64_t) (n + 1));
	}
}

/*
 * li_lower_bound_window equals std::lower_bound for any window, however
 * wrong; and it uses the window exactly when the clamped window contains
 * the answer.
 */
TEST(SearchProperty, WindowAlwaysEqualsLowerBound)
{
	std::mt19937_64 rng(1001);
	const int iters = small_scale() ? 20000 : 100000;

	for (int it = 0; it < iters; it++)
	{
		size_t		n = (it % 10 == 0) ? 0 : 1 + rng() % ((it % 3 == 0) ? 2000 : 40);
		std::vector<uint64_t> keys = random_sorted(rng, n);

		for (int q = 0; q < 20; q++)
		{
			uint64_t	key = random_probe(rng, keys);
			int64_t		lo = random_bound(rng, (int64_t) n);
			int64_t		hi = random_bound(rng, (int64_t) n);

			if (rng() % 3 == 0)	/* small window (saturating) */
				hi = lo > INT64_MAX - 5 ? INT64_MAX : lo + (int64_t) (rng() % 5);

			if (rng() % 8 == 0)
				hi = random_bound(rng, (int64_t) n);
			if (lo > 0 && hi < lo && rng() % 2)
				std::swap(lo, hi);
			uint32_t	expect = std_lb(keys, key);
			int			used = -1;
			uint32_t	got = li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, &used);

			ASSERT_EQ(got, expect) << "n=" << n << " key=" << key << " lo=" << lo << " hi=" << hi;
			ASSERT_TRUE(used == 0 || used == 1);
			int64_t		clo = std::max<int64_t>(lo, 0);
			int64_t		chi = std::min<int64_t>(hi, (int64_t) n);
			int			expect_used = (clo <= (int64_t) expect && (int64_t) expect <= chi) ? 1 : 0;

			ASSERT_EQ(used, expect_used) << "n=" << n << " key=" << key << " lo=" << lo
				<< " hi=" << hi << " lb=" << expect;
			/* NULL used_window is allowed */
			ASSERT_EQ(li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, nullptr), expect);
		}
	}
}

TEST(SearchProperty, WindowEdgeCases)
{
	int			used = -1;

	/* empty array, NULL pointer */
	EXPECT_EQ(li_lower_bound_window(nullptr, 0, 5, 0, 0, &used), 0u);
	EXPECT_EQ(used, 1);
	EXPECT_EQ(li_lower_bound_window(nullptr, 0, 5, -3, 7, &used), 0u);
	EXPECT_EQ(li_lower_bound_window(nullptr, 0, 5, 7, -3, &used), 0u);
	EXPECT_EQ(used, 0);
	EXPECT_EQ(li_lower_bound(nullptr, 0, 5), 0u);
	EXPECT_EQ(li_upper_bound(nullptr, 0, 5), 0u);

	std::vector<uint64_t> k = {1, 3, 3, 3, 7};

	/* empty windows at the right place are fine */
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 3, 1, 1, &used), 1u);
	EXPECT_EQ(used, 1);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 4, 4, 4, &used), 4u);
	EXPECT_EQ(used, 1);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 100, 5, 5, &used), 5u);
	EXPECT_EQ(used, 1);
	/* window past the answer */
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 3, 2, 5, &used), 1u);
	EXPECT_EQ(used, 0);
	/* window before the answer */
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 7, 0, 3, &used), 4u);
	EXPECT_EQ(used, 0);
	/* inverted, huge, negative */
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 7, 5, 0, &used), 4u);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 7, INT64_MAX, INT64_MIN, &used), 4u);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 7, INT64_MIN, INT64_MAX, &used), 4u);
	EXPECT_EQ(used, 1);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 0, INT64_MAX, INT64_MAX, &used), 0u);
	EXPECT_EQ(used, 0);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, 0, -100, -50, &used), 0u);
	EXPECT_EQ(used, 0);
	EXPECT_EQ(li_lower_bound_window(k.data(), 5, UINT64_MAX, 6, 100, &used), 5u);
	EXPECT_EQ(used, 0);

	for (uint64_t key = 0; key < 10; key++)
	{
		EXPECT_EQ(li_lower_bound(k.data(), 5, key), std_lb(k, key));
		EXPECT_EQ(li_upper_bound(k.data(), 5, key),
				  (uint32_t) (std::upper_bound(k.begin(), k.end(), key) - k.begin()));
	}
}

/* windows derived from a fitted model always suffice */
TEST(SearchProperty, ModelWindowsAlwaysUsed)
{
	std::mt19937_64 rng(2002);
	const int iters = small_scale() ? 100 : 500;
	void	   *mem = std::malloc(li_fitter_size());

	ASSERT_NE(mem, nullptr);
	for (int it = 0; it < iters; it++)
	{
		size_t		n = 1 + rng() % 5000;
		std::vector<uint64_t> keys = random_sorted(rng, n);
		const uint32_t epss[] = {1, 2, 8, 32, 64, 256, 4096};
		uint32_t	eps = epss[rng() % 7];
		std::vector<li_segment> segs(2 * n + 2);
		size_t		nseg = 0;

		ASSERT_EQ(li_fit_sorted(keys.data(), n, eps, mem, segs.data(), segs.size(), &nseg), LI_OK);
		segs.resize(nseg);
		for (int q = 0; q < 200; q++)
		{
			bool		present = q % 2 == 0;
			uint64_t	key = present ? keys[rng() % n] : random_probe(rng, keys);
			double		pred = li_predict(segs.data(), nseg, n, key);
			int64_t		lo = (int64_t) std::floor(pred - eps);
			int64_t		hi = (int64_t) std::ceil(pred + eps) + 1;
			int			used = -1;
			uint32_t	got = li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, &used);

			ASSERT_EQ(got, std_lb(keys, key));
			/* the window suffices for every key, present or absent */
			ASSERT_EQ(used, 1) << "it=" << it << " n=" << n << " eps=" << eps << " key=" << key
				<< " pred=" << pred << " lb=" << got << (present ? " present" : " probe");
		}
	}
	std::free(mem);
}

TEST(FindSegment, EdgeCases)
{
	EXPECT_EQ(li_find_segment(nullptr, 0, 0), 0u);
	EXPECT_EQ(li_find_segment(nullptr, 0, UINT64_MAX), 0u);

	li_segment	one[] = {{100, 0, 1.0, 0.0}};

	EXPECT_EQ(li_find_segment(one, 1, 0), 0u);
	EXPECT_EQ(li_find_segment(one, 1, 99), 0u);
	EXPECT_EQ(li_find_segment(one, 1, 100), 0u);
	EXPECT_EQ(li_find_segment(one, 1, UINT64_MAX), 0u);

	li_segment	s[] = {
		{0, 0, 0, 0}, {10, 5, 0, 0}, {11, 6, 0, 0}, {1000, 7, 0, 0},
		{UINT64_MAX, 9, 0, 0},
	};

	EXPECT_EQ(li_find_segment(s, 5, 0), 0u);
	EXPECT_EQ(li_find_segment(s, 5, 9), 0u);
	EXPECT_EQ(li_find_segment(s, 5, 10), 1u);
	EXPECT_EQ(li_find_segment(s, 5, 11), 2u);
	EXPECT_EQ(li_find_segment(s, 5, 12), 2u);
	EXPECT_EQ(li_find_segment(s, 5, 999), 2u);
	EXPECT_EQ(li_find_segment(s, 5, 1000), 3u);
	EXPECT_EQ(li_find_segment(s, 5, UINT64_MAX - 1), 3u);
	EXPECT_EQ(li_find_segment(s, 5, UINT64_MAX), 4u);
	/* prefixes of the array */
	EXPECT_EQ(li_find_segment(s, 1, UINT64_MAX), 0u);
	EXPECT_EQ(li_find_segment(s, 2, UINT64_MAX), 1u);
	/* keys below the first segment */
	EXPECT_EQ(li_find_segment(s + 1, 4, 3), 0u);
}

TEST(FindSegment, RandomMatchesReference)
{
	std::mt19937_64 rng(3003);

	for (int it = 0; it < 20000; it++)
	{
		size_t		nseg = 1 + rng() % 50;
		std::vector<uint64_t> fk(nseg);

		for (auto &k : fk)
			k = (it % 2) ? rng() % 100 : rng();
		std::sort(fk.begin(), fk.end());
		fk.erase(std::unique(fk.begin(), fk.end()), fk.end());
		std::vector<li_segment> segs;

		for (uint64_t k : fk)
			segs.push_back(li_segment{k, 0, 0.0, 0.0});
		for (int q = 0; q < 20; q++)
		{
			uint64_t	key = (q % 2) ? fk[rng() % fk.size()] + (rng() % 3) - 1 : rng() % 128;
			size_t		idx = (size_t) (std::upper_bound(fk.begin(), fk.end(), key) - fk.begin());
			size_t		expect = idx == 0 ? 0 : idx - 1;

			ASSERT_EQ(li_find_segment(segs.data(), segs.size(), key), expect) << key;
		}
	}
}

/* build a segment index of first keys fk (sorted, distinct) */
std::vector<uint64_t>
build_segidx(const std::vector<li_segment> &segs, li_segidx *ix)
{
	std::vector<uint64_t> buf(li_segidx_bytes((uint32_t) segs.size()) / 8 + 1);

	EXPECT_EQ(li_segidx_build(segs.data(), (uint32_t) segs.size(), buf.data(),
							  buf.size() * 8, ix), LI_OK);
	return buf;
}

TEST(SegIdx, EdgeCasesAndBadInput)
{
	li_segment	s[] = {
		{0, 0, 0, 0}, {10, 5, 0, 0}, {11, 6, 0, 0}, {1000, 7, 0, 0},
		{UINT64_MAX, 9, 0, 0},
	};
	uint64_t	keys[] = {0, 1, 9, 10, 11, 12, 999, 1000, 1001, UINT64_MAX - 1, UINT64_MAX};

	for (uint32_t n = 1; n <= 5; n++)
		for (uint32_t off = 0; off + n <= 5; off++)
		{
			std::vector<li_segment> v(s + off, s + off + n);
			li_segidx	ix;
			auto		buf = build_segidx(v, &ix);

			for (uint64_t k : keys)
				ASSERT_EQ(li_segidx_find(&ix, k), li_find_segment(v.data(), n, k))
					<< "n=" << n << " off=" << off << " key=" << k;
		}

	li_segidx	ix;
	uint64_t	buf[64];
	li_segment	bad[] = {{5, 0, 0, 0}, {5, 1, 0, 0}};

	EXPECT_EQ(li_segidx_build(s, 0, buf, sizeof(buf), &ix), LI_ERR_ARG);
	EXPECT_EQ(li_segidx_build(s, 5, buf, 8, &ix), LI_ERR_ARG);
	EXPECT_EQ(li_segidx_build(s, 5, nullptr, sizeof(buf), &ix), LI_ERR_ARG);
	EXPECT_EQ(li_segidx_build(bad, 2, buf, sizeof(buf), &ix), LI_ERR_ARG);
}

/* random, clustered and skewed first keys: the index agrees with li_find_segment */
TEST(SegIdx, RandomMatchesFindSegment)
{
	std::mt19937_64 rng(4242);
	int			iters = small_scale() ? 300 : 3000;

	for (int it = 0; it < iters; it++)
	{
		size_t		nseg = 1 + rng() % ((it % 10 == 0) ? 5000 : 300);
		std::vector<uint64_t> fk(nseg);
		int			shape = it % 5;

		for (size_t i = 0; i < nseg; i++)
		{
			switch (shape)
			{
				case 0:			/* uniform 64-bit */
					fk[i] = rng();
					break;
				case 1:			/* small domain */
					fk[i] = rng() % 1000;
					break;
				case 2:			/* skewed: most keys in a tiny corner */
					fk[i] = (rng() % 8 == 0) ? rng() : (rng() % 64);
					break;
				case 3:			/* clusters near both ends */
					fk[i] = (rng() % 2) ? rng() % 100 : UINT64_MAX - rng() % 100;
					break;
				default:		/* lognormal-like */
					fk[i] = (uint64_t) std::exp(std::fmod((double) (rng() % 1000000) / 20000.0, 43.0));
					break;
			}
		}
		std::sort(fk.begin(), fk.end());
		fk.erase(std::unique(fk.begin(), fk.end()), fk.end());
		std::vector<li_segment> segs;

		for (uint64_t k : fk)
			segs.push_back(li_segment{k, 0, 0.0, 0.0});

		li_segidx	ix;
		auto		buf = build_segidx(segs, &ix);

		for (int q = 0; q < 64; q++)
		{
			uint64_t	base = fk[rng() % fk.size()];
			uint64_t	key;

			switch (q % 4)
			{
				case 0:
					key = base;
					break;
				case 1:
					key = base - 1;
					break;
				case 2:
					key = base + 1;
					break;
				default:
					key = (q % 8 == 3) ? rng() : (q % 16 == 7 ? 0 : UINT64_MAX);
					break;
			}
			ASSERT_EQ(li_segidx_find(&ix, key), li_find_segment(segs.data(), segs.size(), key))
				<< "shape " << shape << " nseg " << segs.size() << " key " << key;
			ASSERT_EQ(li_segidx_predict(&ix, segs.data(), 1000, key),
					  li_predict(segs.data(), segs.size(), 1000, key));
		}
	}
}

TEST(Predict, ClampingAndEdges)
{
	EXPECT_EQ(li_predict(nullptr, 0, 100, 5), 0.0);

	const double nan = std::numeric_limits<double>::quiet_NaN();
	const double inf = std::numeric_limits<double>::infinity();
	li_segment	s[] = {
		{100, 0, 1.0, 0.0},		/* covers [100, 200), positions [0, 50] */
		{200, 50, -5.0, 50.0},	/* negative slope: clamped to first_pos */
		{300, 60, 1e30, 60.0},	/* huge slope: clamped to next first_pos */
		{400, 70, nan, nan},	/* NaN: clamped to first_pos */
		{500, 80, inf, 80.0},	/* +inf: clamped to n */
	};
	const uint64_t n = 90;

	EXPECT_EQ(li_predict(s, 5, n, 0), 0.0);
	EXPECT_EQ(li_predict(s, 5, n, 99), 0.0);
	EXPECT_EQ(li_predict(s, 5, n, 100), 0.0);
	EXPECT_EQ(li_predict(s, 5, n, 110), 10.0);
	EXPECT_EQ(li_predict(s, 5, n, 160), 50.0);	/* clamped to next first_pos */
	EXPECT_EQ(li_predict(s, 5, n, 199), 50.0);
	EXPECT_EQ(li_predict(s, 5, n, 200), 50.0);
	EXPECT_EQ(li_predict(s, 5, n, 250), 50.0);
	EXPECT_EQ(li_predict(s, 5, n, 300), 60.0);
	EXPECT_EQ(li_predict(s, 5, n, 301), 70.0);
	EXPECT_EQ(li_predict(s, 5, n, 450), 70.0);
	EXPECT_EQ(li_predict(s, 5, n, 500), 80.0);
	EXPECT_EQ(li_predict(s, 5, n, 501), 90.0);
	EXPECT_EQ(li_predict(s, 5, n, UINT64_MAX), 90.0);
	for (uint64_t k : {UINT64_C(0), UINT64_C(150), UINT64_C(350), UINT64_C(450), UINT64_MAX})
	{
		double		p = li_predict(s, 5, n, k);

		EXPECT_TRUE(std::isfinite(p));
		EXPECT_GE(p, 0.0);
		EXPECT_LE(p, (double) n);
	}

	/* li_max_error over distinct keys only */
	li_segment	flat[] = {{10, 0, 0.0, 0.0}};
	uint64_t	keys[] = {10, 10, 10, 11};

	/* key 10 at 0: err 0; key 11 at 3: pred 0, err 3 */
	EXPECT_EQ(li_max_error(flat, 1, keys, 4), 3.0);
	EXPECT_EQ(li_max_error(flat, 1, keys, 3), 0.0);
	EXPECT_EQ(li_max_error(flat, 1, keys, 0), 0.0);
}

bool
item_less(const li_item &a, const li_item &b)
{
	return std::make_tuple(a.key, a.tid[0], a.tid[1], a.tid[2]) <
		std::make_tuple(b.key, b.tid[0], b.tid[1], b.tid[2]);
}

TEST(SortItems, SortsByKeyThenTid)
{
	std::mt19937_64 rng(4004);
	li_sort_items(nullptr, 0);

	for (int it = 0; it < 2000; it++)
	{
		size_t		n = rng() % 300;
		std::vector<li_item> items(n);

		for (auto &x : items)
		{
			x.key = (it % 2) ? rng() % 5 : rng();
			x.tid[0] = (uint16_t) (rng() % 3);
			x.tid[1] = (uint16_t) ((rng() % 2) ? rng() % 3 : rng());
			x.tid[2] = (uint16_t) (rng() % 4);
			x.isnull = 0;
		}
		std::vector<li_item> ref = items;

		std::sort(ref.begin(), ref.end(), item_less);
		li_sort_items(items.data(), items.size());
		for (size_t i = 0; i < n; i++)
		{
			ASSERT_EQ(items[i].key, ref[i].key) << i;
			ASSERT_EQ(items[i].tid[0], ref[i].tid[0]) << i;
			ASSERT_EQ(items[i].tid[1], ref[i].tid[1]) << i;
			ASSERT_EQ(items[i].tid[2], ref[i].tid[2]) << i;
		}
	}

	/* the TID order is (block hi, block lo, offset): block 0x00010000 > 0x0000FFFF */
	li_item		a[3];

	std::memset(a, 0, sizeof a);
	a[0].key = 1;
	a[0].tid[0] = 1;
	a[0].tid[1] = 0;
	a[0].tid[2] = 1;
	a[1].key = 1;
	a[1].tid[0] = 0;
	a[1].tid[1] = 0xFFFF;
	a[1].tid[2] = 7;
	a[2].key = 0;
	a[2].tid[0] = 9;
	li_sort_items(a, 3);
	EXPECT_EQ(a[0].key, 0u);
	EXPECT_EQ(a[1].tid[1], 0xFFFF);
	EXPECT_EQ(a[2].tid[0], 1);
}

TEST(PageLayout, Capacities)
{
	EXPECT_EQ(sizeof(li_item), 16u);
	EXPECT_EQ(li_leaf_capacity(8192 - 24 - 16), 582u);
	EXPECT_EQ(li_leaf_capacity(0), 0u);
	EXPECT_EQ(li_leaf_capacity(13), 0u);
	EXPECT_EQ(li_leaf_capacity(14), 1u);
	for (uint32_t avail = 0; avail < 70000; avail++)
	{
		uint32_t	cap = li_leaf_capacity(avail);

		ASSERT_LE((uint64_t) cap * (8 + LI_TID_BYTES), avail);
		ASSERT_GT((uint64_t) (cap + 1) * (8 + LI_TID_BYTES), avail);
		uint32_t	ncap = li_null_capacity(avail);

		ASSERT_LE((uint64_t) ncap * LI_TID_BYTES, avail);
		ASSERT_GT((uint64_t) (ncap + 1) * LI_TID_BYTES, avail);
	}
}

}								/* namespace */
