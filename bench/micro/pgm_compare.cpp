/*
 * pgm_compare.cpp -- the C++ core against the PGM-index library on the same
 * sorted keys and the same epsilon, in one process, runs interleaved.
 *
 * Built only when the PGM-index headers are given (never by CI, never
 * linked into the extension):
 *     make microbench-pgm LI_PGM_INCLUDE=/path/to/PGM-index/include
 *
 * Per data set and epsilon, each repetition times (per-thread CPU time, in
 * an order that alternates between repetitions):
 *   fit     li_fit_sorted over the whole array / PGMIndex<uint64_t, eps, 4>
 *           constructed over it (ns per key)
 *   hit     lookups of random existing keys (ns per lookup)
 *   miss    lookups of random absent keys (ns per lookup)
 * and prints the medians.  Core lookups are what the extension does:
 * li_predict, then li_lower_bound_window over [floor(pred - eps),
 * ceil(pred + eps) + 1] (learned_model_window with radius eps); PGM lookups
 * are search() and std::lower_bound in [lo, hi).  Before timing, every
 * probe's answer is checked against std::lower_bound (a wrong answer aborts)
 * and the window fallbacks (answer outside the window: the core then
 * searches the whole array; PGM would be wrong) are counted, as well as the
 * largest |prediction - lower bound| over the hit and the miss probes.
 *
 * Options: --n=N (default 10000000), --reps=R (5), --lookups=L (2000000),
 * --datasets=a,b,... (uniform,lognormal,debian,dups,dense,clustered),
 * --eps=e,... (16,32; each of 8, 16, 32, 64, 128), --segidx=0|1 (1: the
 * core finds segments through li_segidx, as the extension does; 0: through
 * li_find_segment's binary search over the segments).
 */
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "datasets.h"
#include "li_core.h"
#include "pgm/pgm_index.hpp"

namespace
{

/* per-thread CPU time in ns */
double
cpu_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* median of a copy */
double
median(std::vector<double> v)
{
	if (v.empty())
		return 0.0;
	std::sort(v.begin(), v.end());
	return v.size() % 2 ? v[v.size() / 2]
						: (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2.0;
}

/* split "a,b,c" */
std::vector<std::string>
split(const std::string &s)
{
	std::vector<std::string> out;
	std::stringstream ss(s);
	std::string item;

	while (std::getline(ss, item, ','))
		if (!item.empty())
			out.push_back(item);
	return out;
}

struct Probes
{
	std::vector<uint64_t> keys;
	std::vector<uint32_t> lb;	/* std::lower_bound, for the checks */
};

Probes
make_probes(const std::vector<uint64_t> &keys, std::vector<uint64_t> p)
{
	Probes		r;

	r.keys = std::move(p);
	r.lb.resize(r.keys.size());
	for (size_t i = 0; i < r.keys.size(); i++)
		r.lb[i] = (uint32_t) (std::lower_bound(keys.begin(), keys.end(), r.keys[i]) - keys.begin());
	return r;
}

/* one side's results for one (data set, epsilon) */
struct Side
{
	std::vector<double> fit_ns,
				hit_ns,
				miss_ns;
	size_t		segments = 0;
	size_t		hit_fallbacks = 0,
				miss_fallbacks = 0;
	double		hit_maxerr = 0,
				miss_maxerr = 0;
};

/* --segidx: find segments through li_segidx (what the extension does) */
static bool g_segidx = true;

/* the core, as the extension calls it */
struct Core
{
	std::vector<uint64_t> fmem;
	std::vector<li_segment> segs;
	size_t		nseg = 0;

	std::vector<uint64_t> ixbuf;
	li_segidx	ix{};

	Core() : fmem((li_fitter_size() + 7) / 8) {}

	/* the prediction of k: through the segment index unless --segidx=0 */
	inline double predict(uint64_t k, uint32_t n) const
	{
		return g_segidx ? li_segidx_predict(&ix, segs.data(), n, k)
			: li_predict(segs.data(), nseg, n, k);
	}

	/* fit; returns CPU ns */
	double fit(const std::vector<uint64_t> &keys, uint32_t eps)
	{
		if (segs.size() < keys.size() + 2)
			segs.resize(keys.size() + 2);
		double		t0 = cpu_ns();
		li_status	st = li_fit_sorted(keys.data(), keys.size(), eps, fmem.data(),
									   segs.data(), segs.size(), &nseg);
		double		t1 = cpu_ns();

		if (st != LI_OK)
		{
			std::fprintf(stderr, "li_fit_sorted failed: %d\n", (int) st);
			std::exit(1);
		}
		/* the segment index is built when the model is loaded, not fitted */
		ixbuf.assign(li_segidx_bytes((uint32_t) nseg) / 8 + 1, 0);
		if (li_segidx_build(segs.data(), (uint32_t) nseg, ixbuf.data(), ixbuf.size() * 8,
							&ix) != LI_OK)
		{
			std::fprintf(stderr, "li_segidx_build failed\n");
			std::exit(1);
		}
		return t1 - t0;
	}

	/* lookup: prediction, window, verified windowed search */
	inline uint32_t lookup(const std::vector<uint64_t> &keys, uint32_t eps,
						   uint64_t k, int *used, double *pred) const
	{
		const uint32_t n = (uint32_t) keys.size();
		double		p = predict(k, n);

		*pred = p;
		return li_lower_bound_window(keys.data(), n, k,
									 (int64_t) std::floor(p - (double) eps),
									 (int64_t) std::ceil(p + (double) eps) + 1, used);
	}

	/* timed lookups; returns CPU ns per lookup */
	double time_lookups(const std::vector<uint64_t> &keys, uint32_t eps,
						const Probes &pr, uint64_t *sum) const
	{
		const uint32_t n = (uint32_t) keys.size();
		const li_segment *sg = segs.data();
		const size_t ns = nseg;
		const uint64_t *kd = keys.data();
		const double e = (double) eps;
		uint64_t	s = 0;
		double		t0 = cpu_ns();

		for (uint64_t k : pr.keys)
		{
			double		p = g_segidx ? li_segidx_predict(&ix, sg, n, k) :
				li_predict(sg, ns, n, k);

			s += li_lower_bound_window(kd, n, k, (int64_t) std::floor(p - e),
									   (int64_t) std::ceil(p + e) + 1, nullptr);
		}
		double		t1 = cpu_ns();

		*sum += s;
		return (t1 - t0) / (double) pr.keys.size();
	}
};

/* PGM-index with a compile-time epsilon */
template <size_t E>
struct Pgm
{
	pgm::PGMIndex<uint64_t, E, 4> idx;

	double fit(const std::vector<uint64_t> &keys)
	{
		double		t0 = cpu_ns();

		idx = pgm::PGMIndex<uint64_t, E, 4>(keys.begin(), keys.end());
		return cpu_ns() - t0;
	}

	inline uint32_t lookup(const std::vector<uint64_t> &keys, uint64_t k,
						   double *pred) const
	{
		auto		r = idx.search(k);
		auto		it = std::lower_bound(keys.begin() + r.lo, keys.begin() + r.hi, k);

		*pred = (double) r.pos;
		return (uint32_t) (it - keys.begin());
	}

	double time_lookups(const std::vector<uint64_t> &keys, const Probes &pr,
						uint64_t *sum) const
	{
		uint64_t	s = 0;
		double		t0 = cpu_ns();

		for (uint64_t k : pr.keys)
		{
			auto		r = idx.search(k);

			s += (uint64_t) (std::lower_bound(keys.begin() + r.lo, keys.begin() + r.hi, k) - keys.begin());
		}
		double		t1 = cpu_ns();

		*sum += s;
		return (t1 - t0) / (double) pr.keys.size();
	}
};

/* untimed: every answer exact; count fallbacks and the largest error */
void
check_core(const Core &c, const std::vector<uint64_t> &keys, uint32_t eps,
		   const Probes &pr, const char *what, size_t *fallbacks, double *maxerr)
{
	*fallbacks = 0;
	*maxerr = 0;
	for (size_t i = 0; i < pr.keys.size(); i++)
	{
		int			used = -1;
		double		pred;
		uint32_t	r = c.lookup(keys, eps, pr.keys[i], &used, &pred);

		if (r != pr.lb[i])
		{
			std::fprintf(stderr, "core: wrong %s answer for key %" PRIu64 ": %u, expected %u\n",
						 what, pr.keys[i], r, pr.lb[i]);
			std::exit(1);
		}
		*fallbacks += used ? 0 : 1;
		*maxerr = std::max(*maxerr, std::fabs(pred - (double) pr.lb[i]));
	}
}

template <size_t E>
void
check_pgm(const Pgm<E> &p, const std::vector<uint64_t> &keys, const Probes &pr,
		  size_t *fallbacks, double *maxerr)
{
	*fallbacks = 0;
	*maxerr = 0;
	for (size_t i = 0; i < pr.keys.size(); i++)
	{
		double		pred;
		uint32_t	r = p.lookup(keys, pr.keys[i], &pred);

		/* PGM has no fallback: an answer outside its range is wrong */
		*fallbacks += (r != pr.lb[i]) ? 1 : 0;
		*maxerr = std::max(*maxerr, std::fabs(pred - (double) pr.lb[i]));
	}
}

template <size_t E>
void
run_eps(const std::string &ds, const std::vector<uint64_t> &keys,
		const Probes &hits, const Probes &misses, int reps)
{
	const uint32_t eps = (uint32_t) E;
	Core		core;
	Pgm<E>		pgm;
	Side		c,
				g;
	uint64_t	sum = 0;
	const double n = (double) keys.size();

	for (int r = 0; r < reps; r++)
	{
		bool		core_first = (r % 2) == 0;

		for (int side = 0; side < 2; side++)
		{
			if ((side == 0) == core_first)
			{
				c.fit_ns.push_back(core.fit(keys, eps) / n);
				if (r == 0)
				{
					check_core(core, keys, eps, hits, "hit", &c.hit_fallbacks, &c.hit_maxerr);
					check_core(core, keys, eps, misses, "miss", &c.miss_fallbacks, &c.miss_maxerr);
				}
				c.hit_ns.push_back(core.time_lookups(keys, eps, hits, &sum));
				c.miss_ns.push_back(core.time_lookups(keys, eps, misses, &sum));
			}
			else
			{
				g.fit_ns.push_back(pgm.fit(keys) / n);
				if (r == 0)
				{
					check_pgm(pgm, keys, hits, &g.hit_fallbacks, &g.hit_maxerr);
					check_pgm(pgm, keys, misses, &g.miss_fallbacks, &g.miss_maxerr);
				}
				g.hit_ns.push_back(pgm.time_lookups(keys, hits, &sum));
				g.miss_ns.push_back(pgm.time_lookups(keys, misses, &sum));
			}
		}
	}
	c.segments = core.nseg;
	g.segments = pgm.idx.segments_count();

	double		cf = median(c.fit_ns),
				gf = median(g.fit_ns),
				ch = median(c.hit_ns),
				gh = median(g.hit_ns),
				cm = median(c.miss_ns),
				gm = median(g.miss_ns);

	std::printf("| %s | %u | %.1f / %.1f (%.2fx) | %.0f / %.0f (%.2fx) | %.0f / %.0f (%.2fx) | "
				"%zu / %zu (%.2fx) | %zu / %zu | %zu / %zu | %.2f / %.2f |\n",
				ds.c_str(), eps, cf, gf, cf / gf, ch, gh, ch / gh, cm, gm, cm / gm,
				c.segments, g.segments, (double) c.segments / (double) g.segments,
				c.hit_fallbacks, g.hit_fallbacks, c.miss_fallbacks, g.miss_fallbacks,
				c.miss_maxerr, g.miss_maxerr);
	std::fflush(stdout);
	if (sum == 42)
		std::printf("\n");		/* keep the lookups */
}

bool
take(const char *arg, const char *flag, std::string &val)
{
	size_t		l = std::strlen(flag);

	if (std::strncmp(arg, flag, l) == 0 && arg[l] == '=')
	{
		val = arg + l + 1;
		return true;
	}
	return false;
}

}								/* namespace */

int
main(int argc, char **argv)
{
	size_t		n = 10000000,
				nlookups = 2000000;
	int			reps = 5;
	std::vector<std::string> datasets = split("uniform,lognormal,debian,dups,dense,clustered");
	std::vector<std::string> epss = split("16,32");
	std::string v;

	for (int i = 1; i < argc; i++)
	{
		if (take(argv[i], "--n", v))
			n = std::strtoull(v.c_str(), nullptr, 10);
		else if (take(argv[i], "--reps", v))
			reps = std::atoi(v.c_str());
		else if (take(argv[i], "--lookups", v))
			nlookups = std::strtoull(v.c_str(), nullptr, 10);
		else if (take(argv[i], "--datasets", v))
			datasets = split(v);
		else if (take(argv[i], "--eps", v))
			epss = split(v);
		else if (take(argv[i], "--segidx", v))
			g_segidx = std::atoi(v.c_str()) != 0;
		else
		{
			std::fprintf(stderr, "usage: %s [--n=N] [--reps=R] [--lookups=L] [--datasets=a,b] [--eps=16,32] [--segidx=0|1]\n", argv[0]);
			return 2;
		}
	}
	std::printf("n=%zu, %zu hit and %zu miss lookups, medians of %d interleaved runs, per-thread CPU time, "
				"core segments found through %s\n\n",
				n, nlookups, nlookups, reps, g_segidx ? "li_segidx" : "li_find_segment");
	std::printf("| data set | eps | fit ns/key core / PGM | hit ns core / PGM | miss ns core / PGM | "
				"segments core / PGM | hit fallbacks core / PGM | miss fallbacks core / PGM | "
				"max miss error core / PGM |\n");
	std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (const std::string &ds : datasets)
	{
		std::vector<uint64_t> keys;
		std::string err;

		if (!li_bench::generate(ds, n, keys, err))
		{
			std::fprintf(stderr, "%s\n", err.c_str());
			return 1;
		}
		std::mt19937_64 rng(77);
		std::vector<uint64_t> hk(nlookups);

		for (auto &k : hk)
			k = keys[rng() % n];
		Probes		hits = make_probes(keys, std::move(hk));
		Probes		misses = make_probes(keys, li_bench::make_misses(keys, nlookups, 78));

		for (const std::string &e : epss)
		{
			int			eps = std::atoi(e.c_str());

			switch (eps)
			{
				case 8:
					run_eps<8>(ds, keys, hits, misses, reps);
					break;
				case 16:
					run_eps<16>(ds, keys, hits, misses, reps);
					break;
				case 32:
					run_eps<32>(ds, keys, hits, misses, reps);
					break;
				case 64:
					run_eps<64>(ds, keys, hits, misses, reps);
					break;
				case 128:
					run_eps<128>(ds, keys, hits, misses, reps);
					break;
				default:
					std::fprintf(stderr, "unsupported epsilon %d\n", eps);
					return 2;
			}
		}
	}
	return 0;
}
