/*
 * test_fit.cpp -- error-bounded piecewise-linear fitting on adversarial key
 * distributions, checked against std::lower_bound for present and absent
 * keys; streaming API (keystream / fitter) contracts.
 *
 * LI_TEST_SCALE=small (the ASan run) shrinks the big cases to ~100k keys.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
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

size_t
big_n()
{
	return small_scale() ? 100000 : 1000000;
}

const uint32_t kEpsilons[] = {1, 2, 8, 32, 64, 256, 4096};

/* exactly li_fitter_size() bytes from malloc (>= 8-byte aligned) */
class FitterMem
{
  public:
	FitterMem() : p_(std::malloc(li_fitter_size())) {}
	~FitterMem() { std::free(p_); }
	FitterMem(const FitterMem &) = delete;
	FitterMem &operator=(const FitterMem &) = delete;
	li_fitter  *get() { return static_cast<li_fitter *>(p_); }
	void	   *raw() { return p_; }

  private:
	void	   *p_;
};

std::vector<li_segment>
fit_sorted(const std::vector<uint64_t> &keys, uint32_t eps)
{
	FitterMem	m;

	/*
	 * First try with room for the expected number of segments (see the
	 * count check in check_model); on LI_ERR_ARG (out of room) retry with
	 * the hard maximum: two points per distinct key plus the final gap
	 * point.
	 */
	size_t		cap = keys.size() / std::min<uint64_t>(2 * (uint64_t) eps, 500) + 4;
	std::vector<li_segment> out(cap);
	size_t		nseg = SIZE_MAX;
	li_status	st = li_fit_sorted(keys.data(), keys.size(), eps, m.raw(),
								   out.data(), out.size(), &nseg);

	if (st == LI_ERR_ARG)
	{
		out.assign(2 * keys.size() + 2, li_segment{0, 0, 0.0, 0.0});
		st = li_fit_sorted(keys.data(), keys.size(), eps, m.raw(),
						   out.data(), out.size(), &nseg);
	}
	EXPECT_EQ(st, LI_OK) << "eps=" << eps << " n=" << keys.size();
	if (st != LI_OK)
		nseg = 0;
	EXPECT_LE(nseg, out.size());
	out.resize(std::min(nseg, out.size()));
	return out;
}

/* the documented model, re-implemented: last segment with first_key <= key */
long double
ref_predict(const std::vector<li_segment> &segs, uint64_t n, uint64_t key)
{
	auto		it = std::upper_bound(segs.begin(), segs.end(), key,
									  [](uint64_t k, const li_segment &s) {
										  return k < s.first_key;
									  });

	if (it == segs.begin())
		return 0.0L;
	size_t		s = (size_t) (it - segs.begin()) - 1;
	const li_segment &g = segs[s];
	long double p = (long double) g.intercept +
		(long double) g.slope * (long double) (key - g.first_key);
	long double lo = (long double) g.first_pos;
	long double hi = (long double) (s + 1 < segs.size() ? segs[s + 1].first_pos : n);

	if (!(p >= lo))
		p = lo;
	if (p > hi)
		p = hi;
	return p;
}

std::string
seg_str(const std::vector<li_segment> &segs, uint64_t key)
{
	std::ostringstream os;

	if (segs.empty())
		return "no segments";
	size_t		s = li_find_segment(segs.data(), segs.size(), key);

	os << "segment " << s << "/" << segs.size() << " {first_key=" << segs[s].first_key
		<< ", first_pos=" << segs[s].first_pos << ", slope=" << segs[s].slope
		<< ", intercept=" << segs[s].intercept << "}";
	if (s + 1 < segs.size())
		os << " next {first_key=" << segs[s + 1].first_key
			<< ", first_pos=" << segs[s + 1].first_pos << "}";
	return os.str();
}

/*
 * Check one probe key: |pred - lower_bound| <= eps, li_predict agrees with
 * the documented model, and the model window suffices.
 */
struct Checker
{
	const std::vector<uint64_t> &keys;
	const std::vector<li_segment> &segs;
	uint32_t	eps;
	std::string label;
	int			failures = 0;
	double		max_err = 0.0;
	uint64_t	ncalls = 0;

	/*
	 * lb: std::lower_bound(key), computed by the caller; the same bound eps
	 * for present and absent keys (li_core.h).  Returns |li_predict(key) -
	 * lb|.
	 */
	double check(uint64_t key, size_t lb, bool present_only)
	{
		const uint64_t n = keys.size();
		double		pred = li_predict(segs.data(), segs.size(), n, key);
		double		err = std::fabs(pred - (double) lb);

		if (err > max_err)
			max_err = err;
		if (!(err <= (double) eps))
		{
			if (failures++ < 5)
				ADD_FAILURE() << label << " eps=" << eps << " n=" << n
					<< (present_only ? " present" : " probe") << " key=" << key
					<< " lower_bound=" << lb << " predict=" << pred
					<< " err=" << err << " " << seg_str(segs, key);
		}
		/* li_predict follows the documented model (checked on a sample) */
		long double ref = (ncalls++ % 8 == 0) ? ref_predict(segs, n, key) : (long double) pred;

		if (!(std::fabs((long double) pred - ref) <= 1e-9L * (1.0L + std::fabs(ref))))
		{
			if (failures++ < 5)
				ADD_FAILURE() << label << " li_predict=" << pred << " model=" << (double) ref
					<< " key=" << key;
		}

		/*
		 * The lookup lands in [pred - eps, pred + eps]: the window
		 * [ceil(pred - eps), floor(pred + eps)] (li_lower_bound_window's hi
		 * is the last position it may return) is used, no fallback.  The
		 * shim's wider window [floor(pred - eps), ceil(pred + eps) + 1]
		 * contains it.
		 */
		int64_t		lo = (int64_t) std::ceil(pred - (double) eps);
		int64_t		hi = (int64_t) std::floor(pred + (double) eps);
		int			used = -1;
		uint32_t	r = li_lower_bound_window(keys.data(), (uint32_t) n, key, lo, hi, &used);

		if (r != lb || used != 1)
		{
			if (failures++ < 5)
				ADD_FAILURE() << label << " eps=" << eps << " window [" << lo << ","
					<< hi << "] key=" << key << (present_only ? " present" : " probe")
					<< " got " << r << " used=" << used << " expected " << lb
					<< " predict=" << pred;
		}
		return err;
	}

	double check(uint64_t key)
	{
		size_t		lb = (size_t) (std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());

		return check(key, lb, false);
	}
};

void
check_model(const std::vector<uint64_t> &keys, uint32_t eps, const std::string &label,
			const std::vector<li_segment> &segs)
{
	SCOPED_TRACE(label + " eps=" + std::to_string(eps));
	const size_t n = keys.size();

	ASSERT_TRUE(std::is_sorted(keys.begin(), keys.end()));
	if (n == 0)
	{
		EXPECT_EQ(segs.size(), 0u);
		EXPECT_EQ(li_max_error(segs.data(), segs.size(), keys.data(), 0), 0.0);
		EXPECT_EQ(li_predict(segs.data(), segs.size(), 0, 12345), 0.0);
		return;
	}
	ASSERT_GE(segs.size(), 1u);

	/* structure */
	EXPECT_EQ(segs[0].first_key, keys[0]);
	EXPECT_EQ(segs[0].first_pos, 0u);
	const uint64_t min_pos_step = std::min<uint64_t>(2 * (uint64_t) eps, 500);
	int			sfail = 0;

	for (size_t s = 0; s < segs.size(); s++)
	{
		const li_segment &g = segs[s];
		/* every segment starts at a fitted point: a key or a gap point k+1 */
		size_t		lb = (size_t) (std::lower_bound(keys.begin(), keys.end(), g.first_key) - keys.begin());
		bool		is_key = lb < n && keys[lb] == g.first_key;
		bool		is_gap = lb > 0 && keys[lb - 1] == g.first_key - 1;

		if (!(is_key || is_gap) || g.first_pos != lb || g.first_pos > n ||
			!std::isfinite(g.slope) || !std::isfinite(g.intercept) ||
			!(g.slope >= 0.0))
		{
			if (sfail++ < 5)
				ADD_FAILURE() << "bad segment " << s << " first_key=" << g.first_key
					<< " first_pos=" << g.first_pos << " lower_bound=" << lb
					<< " slope=" << g.slope << " intercept=" << g.intercept;
		}
		if (s > 0)
		{
			const li_segment &p = segs[s - 1];

			if (!(p.first_key < g.first_key) || !(p.first_pos <= g.first_pos))
			{
				if (sfail++ < 5)
					ADD_FAILURE() << "segments " << s - 1 << "," << s << " out of order: ("
						<< p.first_key << "," << p.first_pos << ") then ("
						<< g.first_key << "," << g.first_pos << ")";
			}

			/*
			 * Sanity of the count: a horizontal line fits any run of points
			 * whose positions span <= 2*eps - 1, so a segment only closes
			 * after 2*eps positions (or after ~1024 hull points).
			 */
			else if (g.first_pos - p.first_pos < min_pos_step)
			{
				if (sfail++ < 5)
					ADD_FAILURE() << "segment " << s << " closed after only "
						<< g.first_pos - p.first_pos << " positions (eps=" << eps << ")";
			}
		}
	}
	EXPECT_EQ(sfail, 0);
	EXPECT_LE(segs.size(), n / min_pos_step + 2);

	/* every distinct key, own loop with std::lower_bound */
	Checker		c{keys, segs, eps, label};
	double		own_max = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		if (i > 0 && keys[i] == keys[i - 1])
			continue;
		size_t		lb = (size_t) (std::lower_bound(keys.begin(), keys.end(), keys[i]) - keys.begin());

		ASSERT_EQ(lb, i);
		own_max = std::max(own_max, c.check(keys[i], lb, true));
		if (c.failures > 20)
			break;
	}
	double		me = li_max_error(segs.data(), segs.size(), keys.data(), n);

	EXPECT_LE(me, (double) eps);
	EXPECT_LE(own_max, (double) eps);
	if (c.failures == 0)
	{
		EXPECT_EQ(me, own_max);
	}

	/* absent (and present) probes */
	std::vector<uint64_t> probes = {0, 1, UINT64_MAX, UINT64_MAX - 1, keys.front(),
		keys.back()};
	auto		add_around = [&probes](uint64_t k) {
		probes.push_back(k);
		if (k > 0)
			probes.push_back(k - 1);
		if (k < UINT64_MAX)
			probes.push_back(k + 1);
		if (k > 1)
			probes.push_back(k - 2);
		if (k < UINT64_MAX - 1)
			probes.push_back(k + 2);
	};

	add_around(keys.front());
	add_around(keys.back());
	/* segment starts: all of them, or ~50k evenly spread when there are more */
	size_t		seg_stride = std::max<size_t>(1, segs.size() / 50000);

	for (size_t s = 0; s < segs.size(); s += seg_stride)
	{
		uint64_t	fk = segs[s].first_key;

		add_around(fk);
		/* the gap before the segment start, where the previous one extrapolates */
		size_t		lb = (size_t) (std::lower_bound(keys.begin(), keys.end(), fk) - keys.begin());

		if (lb > 0)
		{
			uint64_t	prev = keys[lb - 1];

			probes.push_back(prev + (fk - prev) / 2);
			probes.push_back(prev + (fk - prev) / 4 * 3);
		}
	}
	/* neighbours of (a sample of) distinct keys, midpoints of gaps */
	size_t		stride = std::max<size_t>(1, n / 50000);

	for (size_t i = 0; i < n; i += stride)
	{
		add_around(keys[i]);
		size_t		j = (size_t) (std::upper_bound(keys.begin(), keys.end(), keys[i]) - keys.begin());

		if (j < n)
		{
			probes.push_back(keys[i] + (keys[j] - keys[i]) / 2);
			probes.push_back(keys[j] - 1 - (keys[j] - keys[i] - 1) / 3);
		}
	}
	std::mt19937_64 rng(n * 31 + eps);

	for (size_t i = 0; i < std::min<size_t>(20000, 64 + n / 8); i++)
	{
		probes.push_back(rng());
		uint64_t	span = keys.back() - keys.front();

		probes.push_back(keys.front() + (span == UINT64_MAX ? rng() : rng() % (span + 1)));
	}
	for (uint64_t p : probes)
	{
		c.check(p);
		if (c.failures > 20)
			break;
	}
	EXPECT_EQ(c.failures, 0);
	EXPECT_LE(c.max_err, (double) eps);

	/* the exact bound over every key, present or absent */
	double		all = li_max_error_all(segs.data(), segs.size(), keys.data(), n);

	EXPECT_LE(all, (double) eps);
	EXPECT_GE(all, c.max_err);
	EXPECT_GE(all, me);
}

/*
 * Fit and check with every epsilon; the epsilons are spread over two
 * threads (GoogleTest assertions are thread-safe with pthreads).
 */
void
fit_and_check(std::vector<uint64_t> keys, const std::string &label,
			  size_t expect_nseg = 0)
{
	std::sort(keys.begin(), keys.end());
	const size_t neps = sizeof kEpsilons / sizeof kEpsilons[0];
	std::atomic<size_t> next(0);
	auto		worker = [&]() {
		for (size_t i; (i = next.fetch_add(1)) < neps;)
		{
			uint32_t	eps = kEpsilons[i];
			auto		t0 = std::chrono::steady_clock::now();
			std::vector<li_segment> segs = fit_sorted(keys, eps);
			auto		t1 = std::chrono::steady_clock::now();

			check_model(keys, eps, label, segs);
			if (std::getenv("LI_TEST_TIMING") != nullptr)
			{
				auto		t2 = std::chrono::steady_clock::now();

				std::printf("  %-24s n=%-8zu eps=%-5u nseg=%-8zu fit %6.1f ms, check %6.1f ms\n",
							label.c_str(), keys.size(), eps, segs.size(),
							std::chrono::duration<double, std::milli>(t1 - t0).count(),
							std::chrono::duration<double, std::milli>(t2 - t1).count());
			}
			if (expect_nseg != 0)
			{
				EXPECT_EQ(segs.size(), expect_nseg) << label << " eps=" << eps;
			}
		}
	};

	if (keys.size() < 10000)
		worker();
	else
	{
		std::thread t(worker);

		worker();
		t.join();
	}
}

/* ---------------------------------------------------------------------
 * Distributions
 * ------------------------------------------------------------------- */

TEST(FitDistributions, Sequential)
{
	std::vector<uint64_t> keys(big_n());

	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = i;
	fit_and_check(keys, "sequential", 1);
	keys.resize(big_n() / 4);
	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = UINT64_C(1000000000000) + i;
	fit_and_check(keys, "sequential_offset", 1);
	/* sequential running up to UINT64_MAX (no final gap point) */
	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = UINT64_MAX - (keys.size() - 1) + i;
	fit_and_check(keys, "sequential_top", 1);
}

TEST(FitDistributions, ConstantStride)
{
	/* every key has a gap point: (k,p), (k+1,p+1), (k+7,p+1), ... */
	std::vector<uint64_t> keys(big_n() / 4);

	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = 5 + 7 * i;
	fit_and_check(keys, "stride7");
}

TEST(FitDistributions, UniformRandom64)
{
	std::mt19937_64 rng(1);
	std::vector<uint64_t> keys(big_n());

	for (auto &k : keys)
		k = rng();
	fit_and_check(keys, "uniform64");
}

TEST(FitDistributions, UniformSmallGaps)
{
	std::mt19937_64 rng(11);
	std::vector<uint64_t> keys(big_n() / 2);
	uint64_t	k = 0;

	for (auto &x : keys)
	{
		k += rng() % 4;			/* 0 = duplicate */
		x = k;
	}
	fit_and_check(keys, "small_gaps_with_dups");
}

TEST(FitDistributions, Lognormal)
{
	std::mt19937_64 rng(2);
	std::lognormal_distribution<double> d(0.0, 2.0);
	std::vector<uint64_t> keys(big_n());

	for (auto &k : keys)
	{
		double		v = d(rng) * 1e9;

		k = v >= 1.8e19 ? UINT64_MAX : (uint64_t) v;
	}
	fit_and_check(keys, "lognormal");
}

TEST(FitDistributions, Clustered)
{
	std::mt19937_64 rng(3);
	std::vector<uint64_t> keys;
	const size_t n = big_n();
	uint64_t	base = rng() % 1000;

	keys.reserve(n);
	while (keys.size() < n)
	{
		size_t		sz = 1 + rng() % 2000;
		uint64_t	step = 1 + rng() % 3;

		for (size_t j = 0; j < sz && keys.size() < n; j++)
			keys.push_back(base + j * step + (rng() % step));
		/* huge empty gap */
		base += sz * step + (UINT64_C(1) << 40) + (rng() % (UINT64_C(1) << 42));
	}
	fit_and_check(keys, "clustered");
}

TEST(FitDistributions, AllDuplicates)
{
	/* 100% duplicates: every value occurs 2..8 times */
	std::mt19937_64 rng(4);
	std::vector<uint64_t> keys;
	const size_t n = big_n();
	uint64_t	k = 17;

	while (keys.size() < n)
	{
		size_t		r = 2 + rng() % 7;

		for (size_t j = 0; j < r; j++)
			keys.push_back(k);
		k += 1 + rng() % 1000;
	}
	fit_and_check(keys, "all_duplicates");
}

TEST(FitDistributions, OneDistinctValue)
{
	const size_t n = big_n();

	fit_and_check(std::vector<uint64_t>(n, 42), "one_distinct_42", 1);
	fit_and_check(std::vector<uint64_t>(n, 0), "one_distinct_0", 1);
	fit_and_check(std::vector<uint64_t>(n, UINT64_MAX), "one_distinct_max", 1);
}

TEST(FitDistributions, FewDistinctLongRuns)
{
	std::mt19937_64 rng(5);
	const size_t n = big_n();

	for (size_t ndistinct : {2, 3, 10, 100})
	{
		std::vector<uint64_t> vals(ndistinct);

		for (auto &v : vals)
			v = rng() >> (rng() % 64);
		std::vector<uint64_t> keys;

		keys.reserve(n);
		for (size_t i = 0; i < n; i++)
			keys.push_back(vals[rng() % ndistinct]);
		fit_and_check(keys, "few_distinct_" + std::to_string(ndistinct));
	}
	/* adjacent values with long runs: no gap points between them */
	std::vector<uint64_t> keys;

	for (size_t i = 0; i < n; i++)
		keys.push_back(1000 + i * 5 / n);
	fit_and_check(keys, "few_adjacent_runs");
}

/*
 * Heavy duplicates (issue 16): runs longer than 2*eps, where the absent key
 * right after a run must be predicted more than 2*eps above the run's
 * first position.  Every lookup, present or absent, lands within eps (the
 * strict checks of check_model), at the price of one segment per long run
 * at most.
 */
TEST(FitDistributions, HeavyDuplicates)
{
	std::mt19937_64 rng(13);
	const size_t n = big_n();
	std::vector<uint64_t> keys;

	/* ~100 copies of each of n/100 random 40-bit values (as bench "dups") */
	{
		std::vector<uint64_t> vals(n / 100);

		for (auto &v : vals)
			v = rng() >> 24;
		for (size_t i = 0; i < n; i++)
			keys.push_back(vals[rng() % vals.size()]);
		fit_and_check(keys, "copies_100");
	}
	/* runs of exactly 2*eps-1, 2*eps, 2*eps+1 for eps 8, around one value */
	for (size_t run : {15u, 16u, 17u, 64u, 65u})
	{
		keys.clear();
		for (uint64_t v = 0; keys.size() < n / 4; v++)
			for (size_t j = 0; j < run; j++)
				keys.push_back(1000 + v * 977);
		fit_and_check(keys, "runs_of_" + std::to_string(run));
	}
	/* adjacent values (no absent key between), long and short runs mixed */
	keys.clear();
	for (uint64_t v = 0; keys.size() < n / 4; v++)
	{
		size_t		run = (rng() % 4 == 0) ? 1 + rng() % 3 : 1 + rng() % 300;

		for (size_t j = 0; j < run; j++)
			keys.push_back(v + (v / 1000) * 100000);
	}
	fit_and_check(keys, "mixed_runs_adjacent");
	/* a long run at the very end and at the very start */
	keys.assign(5000, 7);
	for (uint64_t v = 8; v < 20000; v += 3)
		keys.push_back(v);
	keys.insert(keys.end(), 5000, 30000);
	fit_and_check(keys, "long_runs_at_both_ends");
	/* a long run of UINT64_MAX: no absent key after it */
	keys.assign(1000, 1);
	keys.insert(keys.end(), 3000, UINT64_MAX);
	fit_and_check(keys, "long_run_of_max");
}

/*
 * li_max_error_all is exact: it equals the largest |li_predict - lower
 * bound| over every key, computed by brute force over a small domain (the
 * last segment's prediction is monotone beyond it, so its end and
 * UINT64_MAX cover the rest), for fitted models and for arbitrary segment
 * arrays (negative, NaN and infinite slopes included); over slices it
 * equals the whole.
 */
TEST(FitProperty, MaxErrorAllExact)
{
	std::mt19937_64 rng(21);
	const int	iters = small_scale() ? 300 : 1500;
	FitterMem	m;
	const double specials[] = {0.0, -1.5, 0.25, 3.0, 1e-9, 1e30,
		std::numeric_limits<double>::quiet_NaN(),
	std::numeric_limits<double>::infinity()};

	for (int it = 0; it < iters; it++)
	{
		const uint64_t dom = 1 + rng() % 400;
		size_t		n = rng() % 120;
		std::vector<uint64_t> keys(n);

		for (auto &k : keys)
			k = (rng() % 3 == 0) ? rng() % 8 : rng() % dom;
		std::sort(keys.begin(), keys.end());
		std::vector<li_segment> segs;

		if (it % 2 == 0)
			segs = fit_sorted(keys, (uint32_t) (1 + rng() % 5));
		else
		{
			/* arbitrary segments over the domain */
			size_t		ns = rng() % 6;
			std::vector<uint64_t> fks;

			for (size_t s = 0; s < ns; s++)
				fks.push_back(rng() % (dom + 5));
			std::sort(fks.begin(), fks.end());
			fks.erase(std::unique(fks.begin(), fks.end()), fks.end());
			uint64_t	pos = 0;

			for (uint64_t fk : fks)
			{
				pos += rng() % 40;
				double		sl = (rng() % 3 == 0) ? specials[rng() % 8] : (double) (rng() % 1000) / 100.0;
				double		ic = (rng() % 5 == 0) ? specials[rng() % 8] : (double) pos + (double) (rng() % 200) / 10.0 - 10.0;

				segs.push_back(li_segment{fk, pos, sl, ic});
			}
		}
		double		brute = 0.0;
		auto		consider = [&](uint64_t x) {
			size_t		lb = (size_t) (std::lower_bound(keys.begin(), keys.end(), x) - keys.begin());

			brute = std::max(brute, std::fabs(li_predict(segs.data(), segs.size(), n, x) - (double) lb));
		};

		for (uint64_t x = 0; x <= dom + 6; x++)
			consider(x);
		consider(UINT64_MAX);
		consider(UINT64_MAX - 1);
		double		all = li_max_error_all(segs.data(), segs.size(), keys.data(), n);

		ASSERT_EQ(all, brute) << "it=" << it << " n=" << n << " nseg=" << segs.size();

		/* slices */
		li_run		run = {0, 0};
		double		sliced = 0.0;
		size_t		chunk = 1 + rng() % 30;

		for (size_t at = 0; at < n; at += chunk)
			sliced = std::max(sliced, li_max_error_all_at(segs.data(), segs.size(), n,
														  keys.data() + at,
														  std::min(chunk, n - at), at, &run));
		if (n > 0)
		{
			ASSERT_EQ(sliced, all) << "it=" << it << " chunk=" << chunk;
		}
	}
}

TEST(FitDistributions, AlternatingGaps)
{
	std::mt19937_64 rng(6);
	std::vector<uint64_t> keys(big_n());
	uint64_t	k = 0;

	for (size_t i = 0; i < keys.size(); i++)
	{
		k += (i % 2) ? 1 + rng() % 2 : (UINT64_C(1) << 43) + rng() % 1000;
		keys[i] = k;
	}
	fit_and_check(keys, "alternating_gaps");
	/* huge gaps every third key, tiny otherwise */
	keys.resize(big_n() / 4);
	k = 0;
	for (size_t i = 0; i < keys.size(); i++)
	{
		k += (i % 3 == 0) ? (UINT64_C(1) << 42) : 1;
		keys[i] = k;
	}
	fit_and_check(keys, "alternating_gaps_3");
}

TEST(FitDistributions, Extremes)
{
	std::mt19937_64 rng(7);
	std::vector<uint64_t> keys = {
		0, 0, 1, 2, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2,
		li_encode_int64(INT64_MIN), li_encode_int64(INT64_MAX),
		li_encode_int64(INT64_MIN + 1), li_encode_int64(INT64_MAX - 1),
		li_encode_int64(0), li_encode_int64(-1), li_encode_int64(1),
	};
	const size_t n = big_n();

	while (keys.size() < n)
	{
		int64_t		v;

		switch (rng() % 4)
		{
			case 0:
				v = (int64_t) rng();
				break;
			case 1:
				v = (int64_t) (rng() % 2001) - 1000;
				break;
			case 2:
				v = INT64_MIN + (int64_t) (rng() % 1000);
				break;
			default:
				v = INT64_MAX - (int64_t) (rng() % 1000);
				break;
		}
		keys.push_back(li_encode_int64(v));
	}
	fit_and_check(keys, "extremes");

	fit_and_check({0, UINT64_MAX}, "zero_and_max");
	fit_and_check({0, 0, 0, UINT64_MAX, UINT64_MAX}, "zero_and_max_dups");
	fit_and_check({0, 1, UINT64_MAX - 1, UINT64_MAX}, "edges4");
}

TEST(FitDistributions, Float8WideSpread)
{
	std::mt19937_64 rng(8);
	std::vector<uint64_t> keys;
	const size_t n = big_n();
	const double inf = std::numeric_limits<double>::infinity();
	const double specials[] = {0.0, -0.0, inf, -inf, DBL_MAX, -DBL_MAX, DBL_MIN,
		-DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN,
	std::numeric_limits<double>::quiet_NaN()};

	for (double d : specials)
		for (int r = 0; r < 3; r++)
			keys.push_back(li_encode_float8(d));
	while (keys.size() < n)
	{
		uint64_t	b;

		if (rng() % 2)
		{
			/* random exponent over the whole range, random sign */
			b = (rng() & UINT64_C(0x800FFFFFFFFFFFFF)) | ((rng() % 2047) << 52);
		}
		else
		{
			/* values like a typical column: N(0, 1e6), rounded to cents */
			std::normal_distribution<double> nd(0.0, 1e6);
			double		v = std::round(nd(rng) * 100.0) / 100.0;

			std::memcpy(&b, &v, sizeof b);
		}
		double		v;

		std::memcpy(&v, &b, sizeof v);
		keys.push_back(li_encode_float8(v));
	}
	fit_and_check(keys, "float8_wide");
}

TEST(FitDistributions, ConvexCurves)
{
	/* i^2 and i^3 keys: long convex chains stress the hull capacity */
	const size_t n = big_n();
	std::vector<uint64_t> keys(n);

	for (size_t i = 0; i < n; i++)
		keys[i] = (uint64_t) i * i;
	fit_and_check(keys, "quadratic");
	keys.resize(n / 4);
	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = (uint64_t) i * i * i;
	fit_and_check(keys, "cubic");
	/* concave: sqrt-like spacing */
	for (size_t i = 0; i < keys.size(); i++)
		keys[i] = (uint64_t) (std::sqrt((double) i) * 1e6) + i;
	fit_and_check(keys, "concave");
	/* exponential growth */
	keys.clear();
	for (double x = 1.0; keys.size() < n / 4 && x < 1.8e19; x *= 1.0004)
		keys.push_back((uint64_t) x + keys.size());
	fit_and_check(keys, "exponential");
}

TEST(FitDistributions, Tiny)
{
	fit_and_check({}, "empty");
	fit_and_check({0}, "one_key_0", 1);
	fit_and_check({123456789}, "one_key", 1);
	fit_and_check({UINT64_MAX}, "one_key_max", 1);
	fit_and_check({5, 6}, "two_adjacent", 1);
	fit_and_check({5, 5}, "two_equal", 1);
	fit_and_check({5, 1000000007}, "two_far");
	fit_and_check({UINT64_MAX - 1, UINT64_MAX}, "two_top", 1);
	fit_and_check({0, UINT64_MAX}, "two_extreme");
	fit_and_check({1, 3, 5}, "three");
}

/* many small random arrays, checking every possible probe when the key range is small */
TEST(FitProperty, SmallRandomArraysExhaustiveProbes)
{
	std::mt19937_64 rng(9);
	const int iters = small_scale() ? 400 : 2000;

	for (int it = 0; it < iters; it++)
	{
		size_t		n = rng() % 200;
		uint64_t	range = 1 + rng() % 600;
		uint64_t	base = (rng() % 3 == 0) ? UINT64_MAX - range : rng() % 1000;
		std::vector<uint64_t> keys(n);

		for (auto &k : keys)
			k = base + rng() % range;
		std::sort(keys.begin(), keys.end());
		uint32_t	eps = (uint32_t) (1 + rng() % 6);

		if (rng() % 4 == 0)
			eps = kEpsilons[rng() % 7];
		std::vector<li_segment> segs = fit_sorted(keys, eps);
		std::string label = "small_random it=" + std::to_string(it);

		check_model(keys, eps, label, segs);
		Checker		c{keys, segs, eps, label};

		for (uint64_t k = base > 0 ? base - 1 : 0; k <= base + range - 1; k++)
		{
			c.check(k);
			if (c.failures > 0 || k == UINT64_MAX)
				break;
		}
		ASSERT_EQ(c.failures, 0);
		if (HasFailure())
			return;
	}
}

/* ---------------------------------------------------------------------
 * Streaming API
 * ------------------------------------------------------------------- */

TEST(FitStreaming, FitterInitArgs)
{
	FitterMem	m;

	EXPECT_EQ(li_fitter_size() % 8, 0u);
	EXPECT_EQ(li_fitter_init(m.get(), 0), LI_ERR_ARG);
	EXPECT_EQ(li_fitter_init(nullptr, 8), LI_ERR_ARG);
	EXPECT_EQ(li_fitter_init(m.get(), 1), LI_OK);
	EXPECT_EQ(li_fitter_init(m.get(), 4096), LI_OK);
	EXPECT_EQ(li_fitter_init(m.get(), UINT32_C(1) << 30), LI_OK);

	/* li_fit_sorted forwards the epsilon check */
	uint64_t	keys[] = {1, 2, 3};
	li_segment	out[8];
	size_t		nseg = 99;

	EXPECT_EQ(li_fit_sorted(keys, 3, 0, m.raw(), out, 8, &nseg), LI_ERR_ARG);
	EXPECT_EQ(li_fit_sorted(keys, 3, 8, nullptr, out, 8, &nseg), LI_ERR_ARG);
	EXPECT_EQ(li_fit_sorted(nullptr, 3, 8, m.raw(), out, 8, &nseg), LI_ERR_ARG);
	EXPECT_EQ(li_fit_sorted(keys, 3, 8, m.raw(), out, 8, nullptr), LI_ERR_ARG);
	EXPECT_EQ(li_fit_sorted(nullptr, 0, 8, m.raw(), out, 8, &nseg), LI_OK);
	EXPECT_EQ(nseg, 0u);
	/* output too small */
	EXPECT_EQ(li_fit_sorted(keys, 3, 8, m.raw(), out, 0, &nseg), LI_ERR_ARG);
	/* unsorted input */
	uint64_t	bad[] = {1, 3, 2};

	EXPECT_EQ(li_fit_sorted(bad, 3, 8, m.raw(), out, 8, &nseg), LI_ERR_ORDER);
}

TEST(FitStreaming, FitterAddOrder)
{
	FitterMem	m;
	li_segment	seg;
	int			nc = -1;

	ASSERT_EQ(li_fitter_init(m.get(), 4), LI_OK);
	EXPECT_EQ(li_fitter_add(m.get(), 10, 0, &seg, &nc), LI_OK);
	EXPECT_EQ(nc, 0);
	EXPECT_EQ(li_fitter_add(m.get(), 20, 1, &seg, &nc), LI_OK);
	EXPECT_EQ(nc, 0);
	nc = -1;
	EXPECT_EQ(li_fitter_add(m.get(), 20, 2, &seg, &nc), LI_ERR_ORDER);
	EXPECT_EQ(nc, 0);
	nc = -1;
	EXPECT_EQ(li_fitter_add(m.get(), 15, 2, &seg, &nc), LI_ERR_ORDER);
	EXPECT_EQ(nc, 0);
	EXPECT_EQ(li_fitter_add(m.get(), 0, 2, &seg, &nc), LI_ERR_ORDER);
	EXPECT_EQ(li_fitter_add(nullptr, 30, 2, &seg, &nc), LI_ERR_ARG);
	EXPECT_EQ(li_fitter_add(m.get(), 30, 2, nullptr, &nc), LI_ERR_ARG);
	EXPECT_EQ(li_fitter_add(m.get(), 30, 2, &seg, nullptr), LI_ERR_ARG);
	/* the fitter is still usable after rejected points */
	EXPECT_EQ(li_fitter_add(m.get(), 30, 2, &seg, &nc), LI_OK);
	EXPECT_EQ(li_fitter_finish(m.get(), &seg, &nc), LI_OK);
	EXPECT_EQ(nc, 1);
	EXPECT_EQ(seg.first_key, 10u);
	EXPECT_EQ(seg.first_pos, 0u);
	/* finishing again closes nothing */
	EXPECT_EQ(li_fitter_finish(m.get(), &seg, &nc), LI_OK);
	EXPECT_EQ(nc, 0);

	/* x = 0 first, UINT64_MAX last */
	ASSERT_EQ(li_fitter_init(m.get(), 1), LI_OK);
	EXPECT_EQ(li_fitter_add(m.get(), 0, 0, &seg, &nc), LI_OK);
	EXPECT_EQ(li_fitter_add(m.get(), UINT64_MAX, 1, &seg, &nc), LI_OK);
	EXPECT_EQ(li_fitter_add(m.get(), UINT64_MAX, 2, &seg, &nc), LI_ERR_ORDER);
	EXPECT_EQ(li_fitter_finish(m.get(), &seg, &nc), LI_OK);
	EXPECT_EQ(nc, 1);
}

TEST(FitStreaming, KeystreamOrder)
{
	FitterMem	m;
	li_keystream ks;
	li_segment	closed[2];
	int			nc = -1;

	ASSERT_EQ(li_fitter_init(m.get(), 8), LI_OK);
	li_keystream_init(&ks);
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 100, closed, &nc), LI_OK);
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 100, closed, &nc), LI_OK);
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 200, closed, &nc), LI_OK);
	nc = -1;
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 199, closed, &nc), LI_ERR_ORDER);
	EXPECT_EQ(nc, 0);
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 0, closed, &nc), LI_ERR_ORDER);
	EXPECT_EQ(ks.pos, 3u);
	EXPECT_EQ(li_keystream_push(&ks, m.get(), 200, closed, &nc), LI_OK);
	EXPECT_EQ(ks.pos, 4u);
	EXPECT_EQ(li_keystream_finish(&ks, m.get(), closed, &nc), LI_OK);
	ASSERT_EQ(nc, 1);
	EXPECT_EQ(closed[0].first_key, 100u);

	/* empty stream: no segment */
	ASSERT_EQ(li_fitter_init(m.get(), 8), LI_OK);
	li_keystream_init(&ks);
	EXPECT_EQ(li_keystream_finish(&ks, m.get(), closed, &nc), LI_OK);
	EXPECT_EQ(nc, 0);
}

/* the streaming API, driven by hand, yields exactly li_fit_sorted's model */
TEST(FitStreaming, KeystreamMatchesFitSorted)
{
	std::mt19937_64 rng(10);
	const size_t n = big_n() / 8;
	std::vector<uint64_t> keys(n);
	uint64_t	k = 0;

	for (auto &x : keys)
	{
		uint64_t	r = rng() % 10;

		k += r < 3 ? 0 : r < 7 ? 1 + rng() % 5 : rng() % 100000;
		x = k;
	}
	for (uint32_t eps : kEpsilons)
	{
		std::vector<li_segment> ref = fit_sorted(keys, eps);
		FitterMem	m;
		li_keystream ks;
		std::vector<li_segment> segs;
		li_segment	closed[2];
		int			nc;

		ASSERT_EQ(li_fitter_init(m.get(), eps), LI_OK);
		li_keystream_init(&ks);
		for (uint64_t key : keys)
		{
			closed[0] = closed[1] = li_segment{0, 0, 0.0, 0.0};
			ASSERT_EQ(li_keystream_push(&ks, m.get(), key, closed, &nc), LI_OK);
			ASSERT_GE(nc, 0);
			ASSERT_LE(nc, 2);
			for (int j = 0; j < nc; j++)
				segs.push_back(closed[j]);
		}
		ASSERT_EQ(li_keystream_finish(&ks, m.get(), closed, &nc), LI_OK);
		for (int j = 0; j < nc; j++)
			segs.push_back(closed[j]);
		ASSERT_EQ(segs.size(), ref.size()) << eps;
		for (size_t s = 0; s < segs.size(); s++)
		{
			ASSERT_EQ(segs[s].first_key, ref[s].first_key);
			ASSERT_EQ(segs[s].first_pos, ref[s].first_pos);
			ASSERT_EQ(segs[s].slope, ref[s].slope);
			ASSERT_EQ(segs[s].intercept, ref[s].intercept);
		}
		check_model(keys, eps, "keystream", segs);
	}
}

/*
 * Exact feasibility of the fitter's constraints for points [b, e]: in units
 * of 1/64 (Y = 64y, T = 64*eps - 1, i.e. eps - 1/64), point i needs the line
 * in [Y_i - T, Y_i + T] at x_i, except that a point after the first with
 * Y_i - T <= Y_b has no lower side (the clamp at first_pos satisfies it).
 * For a slope S the intercepts left by points i and j meet iff
 * lo_j - hi_i <= S dx and S dx <= hi_j - lo_i (i < j, dx = x_j - x_i), so
 * the points fit iff the largest of these lower bounds on S is <= the
 * smallest upper bound.  O(m^2), exact 128-bit arithmetic.
 */
bool
points_fit(const std::vector<std::pair<uint64_t, uint64_t>> &pts, size_t b, size_t e,
		   uint32_t eps)
{
	typedef __int128 i128;
	const i128	T = 64 * (i128) eps - 1;
	const i128	Yb = 64 * (i128) pts[b].second;
	i128		lo_num = 0,
				lo_den = 0,		/* largest lower bound; den 0 = -inf */
				hi_num = 0,
				hi_den = 0;		/* smallest upper bound; den 0 = +inf */
	auto		has_lo = [&](size_t i) {
		return i == b || 64 * (i128) pts[i].second - T > Yb;
	};

	for (size_t i = b; i <= e; i++)
		for (size_t j = i + 1; j <= e; j++)
		{
			i128		dx = (i128) pts[j].first - (i128) pts[i].first;
			i128		Yi = 64 * (i128) pts[i].second;
			i128		Yj = 64 * (i128) pts[j].second;

			if (has_lo(j))
			{
				i128		ln = (Yj - T) - (Yi + T);

				if (lo_den == 0 || ln * lo_den > lo_num * dx)
				{
					lo_num = ln;
					lo_den = dx;
				}
			}
			if (has_lo(i))
			{
				i128		un = (Yj + T) - (Yi - T);

				if (hi_den == 0 || un * hi_den < hi_num * dx)
				{
					hi_num = un;
					hi_den = dx;
				}
			}
		}
	if (lo_den == 0 || hi_den == 0)
		return true;
	return lo_num * hi_den <= hi_num * lo_den;
}

/*
 * The raw fitter on arbitrary point sets (strictly increasing x,
 * non-decreasing y): each point lies within eps of its own segment's
 * prediction (li_predict: clamped at first_pos and the next first_pos),
 * lines are non-decreasing, and segments start at the point that did not
 * fit.
 */
TEST(FitStreaming, RawFitterPointsWithinEps)
{
	std::mt19937_64 rng(12);
	const int iters = small_scale() ? 60 : 300;

	for (int it = 0; it < iters; it++)
	{
		uint32_t	eps = kEpsilons[rng() % 7];
		size_t		npts = 1 + rng() % 20000;
		std::vector<std::pair<uint64_t, uint64_t>> pts;
		uint64_t	x = (rng() % 2) ? 0 : rng() >> 2;
		uint64_t	y = 0;
		int			mode = (int) (rng() % 4);

		for (size_t i = 0; i < npts; i++)
		{
			pts.emplace_back(x, y);
			uint64_t	dx;

			switch (mode)
			{
				case 0:
					dx = 1 + rng() % 3;
					break;
				case 1:
					dx = 1 + (rng() >> (rng() % 64)) % (UINT64_C(1) << 40);
					break;
				case 2:
					dx = (i % 2) ? 1 : UINT64_C(1) << 36;
					break;
				default:
					dx = 1 + rng() % 1000;
					break;
			}
			if (UINT64_MAX - x < dx)
				break;
			x += dx;
			uint64_t	r = rng() % 8;

			y += r < 2 ? 0 : r < 6 ? 1 : rng() % (3 * (uint64_t) eps + 1);
		}
		FitterMem	m;

		ASSERT_EQ(li_fitter_init(m.get(), eps), LI_OK);
		std::vector<li_segment> segs;
		std::vector<size_t> starts;	/* index of the first point of each segment */
		li_segment	closed;
		int			nc;

		for (size_t i = 0; i < pts.size(); i++)
		{
			ASSERT_EQ(li_fitter_add(m.get(), pts[i].first, pts[i].second, &closed, &nc), LI_OK);
			if (i == 0)
				starts.push_back(0);
			if (nc == 1)
			{
				ASSERT_GT(i, 0u);
				segs.push_back(closed);
				starts.push_back(i);
			}
			else
				ASSERT_EQ(nc, 0);
		}
		ASSERT_EQ(li_fitter_finish(m.get(), &closed, &nc), LI_OK);
		ASSERT_EQ(nc, 1);
		segs.push_back(closed);
		ASSERT_EQ(segs.size(), starts.size());
		int64_t		pair_budget = 3000000;

		for (size_t s = 0; s < segs.size(); s++)
		{
			size_t		b = starts[s];
			size_t		e = s + 1 < segs.size() ? starts[s + 1] : pts.size();

			ASSERT_EQ(segs[s].first_key, pts[b].first);
			ASSERT_EQ(segs[s].first_pos, pts[b].second);
			if (s + 1 < segs.size())
			{
				ASSERT_GE(pts[e].second - pts[b].second, std::min<uint64_t>(2 * (uint64_t) eps, 500))
					<< "segment closed early, it=" << it;
			}

			/*
			 * Optimality of the greedy cut: the segment's points fit, and
			 * adding the point that closed it does not (segments of fewer
			 * than 1000 points cannot have hit the hull capacity).
			 */
			if (e - b <= 300 && pair_budget > 0)
			{
				pair_budget -= (int64_t) ((e - b + 1) * (e - b + 1) / 2);
				ASSERT_TRUE(points_fit(pts, b, e - 1, eps))
					<< "it=" << it << " seg=" << s << " points [" << b << "," << e << ")";
				if (s + 1 < segs.size())
				{
					ASSERT_FALSE(points_fit(pts, b, e, eps))
						<< "segment closed although the next point fits: it=" << it
						<< " mode=" << mode << " eps=" << eps << " seg=" << s
						<< " points [" << b << "," << e << "]";
				}
			}
			ASSERT_GE(segs[s].slope, 0.0) << "it=" << it << " seg=" << s;
			for (size_t i = b; i < e; i++)
			{
				double		p = li_predict(segs.data(), segs.size(), UINT64_MAX, pts[i].first);
				double		err = std::fabs(p - (double) pts[i].second);

				ASSERT_LE(err, (double) eps)
					<< "it=" << it << " mode=" << mode << " eps=" << eps << " seg=" << s
					<< " point " << i << " (" << pts[i].first << "," << pts[i].second
					<< ") pred=" << (double) p;
			}
		}
	}
}

}								/* namespace */

/*
 * li_keystream_finish_at: a run of keys fitted at positions base.. and
 * closed where the next run starts (what a segment-local retrain does).
 */
TEST(FitStreaming, KeystreamFinishAt)
{
	FitterMem	m;
	li_keystream ks;
	li_segment	closed[2];
	std::vector<li_segment> segs;
	int			nc = -1;
	const uint32_t eps = 8;
	const uint64_t base = 5000;

	for (uint64_t extra : {0u, 3u, 8u, 100u})
	{
		segs.clear();
		ASSERT_EQ(li_fitter_init(m.get(), eps), LI_OK);
		li_keystream_init(&ks);
		ks.pos = base;
		for (uint64_t i = 0; i < 1000; i++)
		{
			ASSERT_EQ(li_keystream_push(&ks, m.get(), 1000 + i * 37, closed, &nc), LI_OK);
			segs.insert(segs.end(), closed, closed + nc);
		}
		/* before the positions consumed: refused, nothing changes */
		nc = -1;
		EXPECT_EQ(li_keystream_finish_at(&ks, m.get(), ks.pos - 1, closed, &nc), LI_ERR_ARG);
		EXPECT_EQ(nc, 0);
		ASSERT_EQ(li_keystream_finish_at(&ks, m.get(), ks.pos + extra, closed, &nc), LI_OK);
		segs.insert(segs.end(), closed, closed + nc);
		ASSERT_GE(segs.size(), 1u);
		uint64_t	end = base + 1000 + extra;

		for (uint64_t i = 0; i < 1000; i++)
			EXPECT_LE(std::fabs(li_predict(segs.data(), segs.size(), end, 1000 + i * 37) -
								(double) (base + i)), (double) eps) << "key " << i;
		/* absent keys inside the run and after its last key, however far */
		for (uint64_t i = 0; i < 999; i++)
			for (uint64_t d : {UINT64_C(1), UINT64_C(18), UINT64_C(36)})
				EXPECT_LE(std::fabs(li_predict(segs.data(), segs.size(), end, 1000 + i * 37 + d) -
									(double) (base + i + 1)), (double) eps) << "key " << i << "+" << d;
		uint64_t	last = 1000 + 999 * 37;

		for (uint64_t k : {last + 1, last + 2, last + 1000000, UINT64_MAX})
			EXPECT_LE(std::fabs(li_predict(segs.data(), segs.size(), end, k) -
								(double) end), (double) eps) << "extra " << extra << " key " << k;
	}

	/* the last key is UINT64_MAX: no gap point past it, no overflow */
	segs.clear();
	ASSERT_EQ(li_fitter_init(m.get(), eps), LI_OK);
	li_keystream_init(&ks);
	ASSERT_EQ(li_keystream_push(&ks, m.get(), UINT64_MAX - 1, closed, &nc), LI_OK);
	segs.insert(segs.end(), closed, closed + nc);
	ASSERT_EQ(li_keystream_push(&ks, m.get(), UINT64_MAX, closed, &nc), LI_OK);
	segs.insert(segs.end(), closed, closed + nc);
	ASSERT_EQ(li_keystream_finish_at(&ks, m.get(), ks.pos + 1, closed, &nc), LI_OK);
	segs.insert(segs.end(), closed, closed + nc);
	EXPECT_LE(std::fabs(li_predict(segs.data(), segs.size(), 3, UINT64_MAX) - 1.0), (double) eps);

	/* an empty run: no segment */
	ASSERT_EQ(li_fitter_init(m.get(), eps), LI_OK);
	li_keystream_init(&ks);
	ks.pos = base;
	ASSERT_EQ(li_keystream_finish_at(&ks, m.get(), base + 5, closed, &nc), LI_OK);
	EXPECT_EQ(nc, 0);
}

/* li_max_error_at over slices equals li_max_error over the whole array */
TEST(FitStreaming, MaxErrorAtSlices)
{
	std::mt19937_64 rng(77);
	std::vector<uint64_t> keys(20000);
	uint64_t	k = 0;

	for (auto &x : keys)
	{
		k += (rng() % 4 == 0) ? 0 : 1 + rng() % 1000;	/* runs of duplicates */
		x = k;
	}
	FitterMem	m;
	std::vector<li_segment> segs(keys.size() + 2);
	size_t		nseg = 0;

	ASSERT_EQ(li_fit_sorted(keys.data(), keys.size(), 16, m.raw(), segs.data(),
							segs.size(), &nseg), LI_OK);
	double		whole = li_max_error(segs.data(), nseg, keys.data(), keys.size());

	for (size_t chunk : {1u, 7u, 582u, 20000u})
	{
		li_run		run = {0, 0};
		double		sliced = 0.0;

		for (size_t at = 0; at < keys.size(); at += chunk)
			sliced = std::max(sliced, li_max_error_at(segs.data(), nseg, keys.size(),
													  keys.data() + at,
													  std::min(chunk, keys.size() - at),
													  at, &run));
		EXPECT_EQ(sliced, whole) << "chunk " << chunk;
	}
}
