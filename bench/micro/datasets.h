/*
 * datasets.h -- the deterministic key sets of the micro-benchmarks (shared by
 * micro_bench.cpp and pgm_compare.cpp); see bench/micro/README.md.
 */
#ifndef LI_BENCH_DATASETS_H
#define LI_BENCH_DATASETS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "li_core.h"

namespace li_bench
{

inline std::string
debian_file()
{
	const char *p = getenv("LI_DEBIAN_FILE");

	return p ? p : "data/debian-installed-size.txt";
}

/* d distinct random 40-bit values, sorted */
inline std::vector<uint64_t>
distinct_values(std::mt19937_64 &rng, size_t d)
{
	std::vector<uint64_t> vals;

	while (vals.size() < d)
	{
		for (size_t i = vals.size(); i < d; i++)
			vals.push_back(rng() >> 24);
		std::sort(vals.begin(), vals.end());
		vals.erase(std::unique(vals.begin(), vals.end()), vals.end());
	}
	return vals;
}

/* sorted uint64 codes; duplicates allowed */
inline bool
generate(const std::string &name, size_t n, std::vector<uint64_t> &keys,
		 std::string &err)
{
	keys.clear();
	keys.reserve(n);
	if (name == "dense")
	{
		/* 1..n */
		for (size_t i = 0; i < n; i++)
			keys.push_back(i + 1);
	}
	else if (name == "uniform")
	{
		/* uniform random 64-bit codes */
		std::mt19937_64 rng(1001);

		for (size_t i = 0; i < n; i++)
			keys.push_back(rng());
	}
	else if (name == "lognormal")
	{
		/* floor(1e9 * exp(2 Z)), Z ~ N(0,1) (SOSD-style), not deduplicated */
		std::mt19937_64 rng(1002);
		std::normal_distribution<double> z(0.0, 1.0);

		for (size_t i = 0; i < n; i++)
			keys.push_back((uint64_t) std::floor(1e9 * std::exp(2.0 * z(rng))));
	}
	else if (name == "clustered")
	{
		/*
		 * n/1000 clusters of 1000 consecutive integers each; cluster starts
		 * are uniform random in [0, 2^63) (huge gaps between clusters)
		 */
		std::mt19937_64 rng(1003);
		const size_t csize = 1000;
		size_t		nclusters = (n + csize - 1) / csize;
		std::vector<uint64_t> starts;

		for (;;)
		{
			starts.clear();
			for (size_t c = 0; c < nclusters; c++)
				starts.push_back(rng() >> 1);
			std::sort(starts.begin(), starts.end());
			bool		ok = true;

			for (size_t c = 1; c < nclusters; c++)
				if (starts[c] - starts[c - 1] < csize)
					ok = false;
			if (ok)
				break;
		}
		for (size_t c = 0; c < nclusters && keys.size() < n; c++)
			for (size_t j = 0; j < csize && keys.size() < n; j++)
				keys.push_back(starts[c] + j);
	}
	else if (name == "dups")
	{
		/*
		 * n keys drawn uniformly from n/100 distinct random 40-bit values
		 * (~100 copies each, Poisson)
		 */
		std::mt19937_64 rng(1004);
		size_t		d = std::max<size_t>(1, n / 100);
		std::vector<uint64_t> vals = distinct_values(rng, d);

		for (size_t i = 0; i < n; i++)
			keys.push_back(vals[rng() % d]);
	}
	else if (name == "timeseries")
	{
		/*
		 * nanosecond timestamps from 2023-11-14: strictly ascending, gaps
		 * 1 + Exp(mean 1 ms); with probability 1/1000 an extra pause of
		 * Exp(mean 10 s)
		 */
		std::mt19937_64 rng(1005);
		std::exponential_distribution<double> gap(1.0 / 1e6);
		std::exponential_distribution<double> pause(1.0 / 1e10);
		uint64_t	t = UINT64_C(1700000000000000000);

		for (size_t i = 0; i < n; i++)
		{
			t += 1 + (uint64_t) gap(rng);
			if (rng() % 1000 == 0)
				t += (uint64_t) pause(rng);
			keys.push_back(t);
		}
	}
	else if (name == "float8")
	{
		/*
		 * random sign * m * 10^e, m uniform in [1, 10), e uniform integer in
		 * [-300, 300]; encoded with li_encode_float8
		 */
		std::mt19937_64 rng(1006);
		std::uniform_real_distribution<double> m(1.0, 10.0);
		std::uniform_int_distribution<int> e(-300, 300);

		for (size_t i = 0; i < n; i++)
		{
			double		v = m(rng) * std::pow(10.0, e(rng));

			if (rng() & 1)
				v = -v;
			keys.push_back(li_encode_float8(v));
		}
	}
	else if (name == "debian")
	{
		/*
		 * data/debian-installed-size.txt sampled WITH replacement to n keys;
		 * key = value << 24 | random 24-bit jitter (not deduplicated)
		 */
		std::ifstream in(debian_file());
		std::vector<uint64_t> vals;
		uint64_t	v;

		while (in >> v)
			vals.push_back(v);
		if (vals.empty())
		{
			err = "cannot read " + debian_file() + " (run from the repository root or set LI_DEBIAN_FILE)";
			return false;
		}
		std::mt19937_64 rng(1007);

		for (size_t i = 0; i < n; i++)
		{
			uint64_t	r = rng();

			keys.push_back((vals[r % vals.size()] << 24) | ((r >> 40) & 0xFFFFFF));
		}
	}
	else
	{
		err = "unknown data set " + name;
		return false;
	}
	std::sort(keys.begin(), keys.end());
	return true;
}

/*
 * Absent keys: a random distinct key k, then k + 1 (half of the probes) or
 * a uniform key of the gap after k; a set without inner gaps (dense) gets
 * keys above its largest key.
 */
inline std::vector<uint64_t>
make_misses(const std::vector<uint64_t> &keys, size_t count, uint64_t seed)
{
	std::mt19937_64 rng(seed);
	std::vector<uint64_t> out;
	const size_t n = keys.size();

	out.reserve(count);
	while (out.size() < count)
	{
		uint64_t	probe = 0;
		bool		found = false;

		for (int attempt = 0; attempt < 64 && !found; attempt++)
		{
			size_t		i = rng() % n;
			uint64_t	k = keys[i];
			size_t		j = (size_t) (std::upper_bound(keys.begin(), keys.end(), k) - keys.begin());
			uint64_t	next = j < n ? keys[j] : UINT64_MAX;

			if (k == UINT64_MAX || next - k < 2 || (j == n && next - k < 2))
				continue;
			uint64_t	room = next - k - 1;	/* absent keys k+1 .. next-1 */

			if (j == n)
				room = std::min<uint64_t>(room + 1, UINT64_C(1) << 32);
			probe = (rng() & 1) ? k + 1 : k + 1 + rng() % room;
			found = true;
		}
		if (!found)
			probe = keys.back() == UINT64_MAX ? 0 : keys.back() + 1 + rng() % 1000;
		out.push_back(probe);
	}
	return out;
}

}								/* namespace li_bench */

#endif							/* LI_BENCH_DATASETS_H */
