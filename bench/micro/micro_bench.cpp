/*
 * micro_bench.cpp -- Google Benchmark micro-benchmark of the C++ core
 * (src/li_core.h), in memory, no PostgreSQL.
 *
 * Per data set, size and epsilon:
 *   fit/<ds>/<n>/eps:<e>            li_fit_sorted over the whole sorted array
 *                                   (items/s = keys/s; counters segments,
 *                                   max_error, distinct)
 *   lookup_learned/<ds>/<n>/eps:<e> li_predict + li_lower_bound_window with
 *                                   window [floor(pred-eps), ceil(pred+eps)+1)
 *                                   for a random existing key (time = ns/lookup)
 *   lookup_miss/<ds>/<n>/eps:<e>    the same for a random absent key
 *                                   (counter fallbacks: 0 expected)
 *   find_segment/<ds>/<n>/eps:<e>   li_find_segment alone (ns/lookup)
 *   lookup_std/<ds>/<n>             std::lower_bound over the same array
 *   paired/<ds>/<n>/eps:<e>         both lookups interleaved in blocks of 256
 *                                   (counters learned_ns, std_ns, ratio:
 *                                   medians over the blocks; see BM_paired)
 *
 * Data sets are generated deterministically (fixed seeds, std::mt19937_64);
 * see bench/micro/README.md.  1M keys by default; LI_MICRO_BIG=1 adds 10M.
 *
 * Extra flags (handled before Google Benchmark sees argv):
 *   --dump-model=DIR     fit one data set and write DIR/model-<ds>.dat,
 *                        DIR/model-<ds>-segs.dat, DIR/model-<ds>-zoom.dat (all keys around the segment boundary nearest n/2)
 *                        for bench/micro/plot_model.sh, then exit
 *   --dump-dataset=NAME  (default debian)
 *   --dump-n=N           (default 1000000)
 *   --dump-eps=E         (default 32)
 *   --dump-points=P      downsampled points in model-<ds>.dat (default 5000)
 */
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "datasets.h"
#include "li_core.h"

namespace
{

using li_bench::generate;

const char *const kDatasets[] = {
	"dense", "uniform", "lognormal", "clustered", "dups", "timeseries",
	"float8", "debian",
};
const uint32_t kEpsilons[] = {8, 32, 128};
constexpr size_t kProbes = size_t(1) << 20;	/* power of two */

/* one data set in memory at a time (benchmarks run in registration order) */
struct Dataset
{
	std::string name;
	size_t		n = 0;
	bool		ok = false;
	std::string err;
	std::vector<uint64_t> keys;
	std::vector<uint64_t> probes;	/* random existing keys */
	std::vector<uint64_t> misses;	/* random absent keys */
	size_t		distinct = 0;
	std::map<uint32_t, std::vector<li_segment>> models;
};

std::unique_ptr<Dataset> g_ds;

struct FitterMem
{
	std::vector<uint64_t> buf;

	FitterMem() : buf((li_fitter_size() + 7) / 8) {}
	void	   *get() { return buf.data(); }
};

Dataset &
get_dataset(const std::string &name, size_t n)
{
	if (g_ds && g_ds->name == name && g_ds->n == n)
		return *g_ds;
	g_ds.reset();				/* free the previous one first */
	g_ds.reset(new Dataset);
	Dataset    &d = *g_ds;

	d.name = name;
	d.n = n;
	d.ok = generate(name, n, d.keys, d.err);
	if (!d.ok)
		return d;
	d.distinct = n ? 1 : 0;
	for (size_t i = 1; i < n; i++)
		if (d.keys[i] != d.keys[i - 1])
			d.distinct++;
	std::mt19937_64 rng(77);

	d.probes.resize(kProbes);
	for (size_t i = 0; i < kProbes; i++)
		d.probes[i] = d.keys[rng() % n];
	d.misses = li_bench::make_misses(d.keys, kProbes, 78);
	return d;
}

/* fit into segs; false on error */
bool
fit(const std::vector<uint64_t> &keys, uint32_t eps, void *fmem,
	std::vector<li_segment> &segs, size_t &nseg)
{
	/* at most one segment per distinct key + 1 (two points always fit) */
	if (segs.size() < keys.size() + 2)
		segs.resize(keys.size() + 2);
	return li_fit_sorted(keys.data(), keys.size(), eps, fmem, segs.data(),
						 segs.size(), &nseg) == LI_OK;
}

const std::vector<li_segment> *
get_model(Dataset &d, uint32_t eps, std::string &err)
{
	auto		it = d.models.find(eps);

	if (it != d.models.end())
		return &it->second;
	FitterMem	fm;
	std::vector<li_segment> segs;
	size_t		nseg = 0;

	if (!fit(d.keys, eps, fm.get(), segs, nseg))
	{
		err = "li_fit_sorted failed";
		return nullptr;
	}
	segs.resize(nseg);
	segs.shrink_to_fit();

	/* sanity check (untimed): the learned lookup returns the lower bound */
	const uint32_t n = (uint32_t) d.keys.size();

	for (size_t i = 0; i < 20000 && i < 2 * d.probes.size(); i++)
	{
		uint64_t	k = (i % 2) ? d.misses[i / 2] : d.probes[i / 2];
		double		p = li_predict(segs.data(), nseg, n, k);
		uint32_t	r = li_lower_bound_window(d.keys.data(), n, k,
											  (int64_t) std::floor(p - eps),
											  (int64_t) std::ceil(p + eps) + 1,
											  nullptr);

		if (r != li_lower_bound(d.keys.data(), n, k))
		{
			err = "learned lookup returned a wrong position";
			return nullptr;
		}
	}
	return &(d.models[eps] = std::move(segs));
}

std::string
size_label(size_t n)
{
	if (n % 1000000 == 0)
		return std::to_string(n / 1000000) + "M";
	return std::to_string(n);
}

void
BM_fit(benchmark::State &state, std::string name, size_t n, uint32_t eps)
{
	Dataset    &d = get_dataset(name, n);

	if (!d.ok)
	{
		state.SkipWithError(d.err.c_str());
		return;
	}
	FitterMem	fm;
	std::vector<li_segment> segs(n + 2);
	size_t		nseg = 0;
	bool		ok = true;

	for (auto _ : state)
	{
		ok = ok && fit(d.keys, eps, fm.get(), segs, nseg);
		benchmark::DoNotOptimize(segs.data());
		benchmark::DoNotOptimize(nseg);
		benchmark::ClobberMemory();
	}
	if (!ok)
	{
		state.SkipWithError("li_fit_sorted failed");
		return;
	}
	state.SetItemsProcessed(state.iterations() * (int64_t) n);
	state.counters["segments"] = (double) nseg;
	state.counters["max_error"] = li_max_error(segs.data(), nseg,
											   d.keys.data(), n);
	state.counters["distinct"] = (double) d.distinct;
}

void
BM_lookup_learned(benchmark::State &state, std::string name, size_t n,
				  uint32_t eps, bool miss)
{
	Dataset    &d = get_dataset(name, n);
	std::string err;

	if (!d.ok)
	{
		state.SkipWithError(d.err.c_str());
		return;
	}
	const std::vector<li_segment> *m = get_model(d, eps, err);

	if (!m)
	{
		state.SkipWithError(err.c_str());
		return;
	}
	const li_segment *segs = m->data();
	const size_t nseg = m->size();
	const uint64_t *keys = d.keys.data();
	const uint64_t *probes = miss ? d.misses.data() : d.probes.data();
	const uint32_t nn = (uint32_t) n;
	const double e = (double) eps;
	size_t		i = 0;
	int64_t		fallbacks = 0;

	for (auto _ : state)
	{
		uint64_t	k = probes[i++ & (kProbes - 1)];
		double		p = li_predict(segs, nseg, nn, k);
		int			used = 1;
		uint32_t	r = li_lower_bound_window(keys, nn, k,
											  (int64_t) std::floor(p - e),
											  (int64_t) std::ceil(p + e) + 1,
											  &used);

		fallbacks += !used;
		benchmark::DoNotOptimize(r);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["segments"] = (double) nseg;
	state.counters["fallbacks"] = (double) fallbacks;
}

void
BM_find_segment(benchmark::State &state, std::string name, size_t n,
				uint32_t eps)
{
	Dataset    &d = get_dataset(name, n);
	std::string err;

	if (!d.ok)
	{
		state.SkipWithError(d.err.c_str());
		return;
	}
	const std::vector<li_segment> *m = get_model(d, eps, err);

	if (!m)
	{
		state.SkipWithError(err.c_str());
		return;
	}
	const li_segment *segs = m->data();
	const size_t nseg = m->size();
	const uint64_t *probes = d.probes.data();
	size_t		i = 0;

	for (auto _ : state)
	{
		size_t		s = li_find_segment(segs, nseg, probes[i++ & (kProbes - 1)]);

		benchmark::DoNotOptimize(s);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["segments"] = (double) nseg;
}

void
BM_lookup_std(benchmark::State &state, std::string name, size_t n)
{
	Dataset    &d = get_dataset(name, n);

	if (!d.ok)
	{
		state.SkipWithError(d.err.c_str());
		return;
	}
	const uint64_t *keys = d.keys.data();
	const uint64_t *probes = d.probes.data();
	size_t		i = 0;

	for (auto _ : state)
	{
		const uint64_t *r = std::lower_bound(keys, keys + n,
											 probes[i++ & (kProbes - 1)]);

		benchmark::DoNotOptimize(r);
	}
	state.SetItemsProcessed(state.iterations());
}

/*
 * Paired measurement, robust on a shared machine: every iteration times one
 * block of kBlock learned lookups and one block of kBlock std::lower_bound
 * lookups (different probes, so that one block does not warm the cache for
 * the other) with steady_clock; the counters are the medians over the blocks
 * of the wall ns per lookup, so a descheduling hits only the few blocks it
 * falls in and both methods see the same machine load.
 */
constexpr size_t kBlock = 256;

void
BM_paired(benchmark::State &state, std::string name, size_t n, uint32_t eps)
{
	Dataset    &d = get_dataset(name, n);
	std::string err;

	if (!d.ok)
	{
		state.SkipWithError(d.err.c_str());
		return;
	}
	const std::vector<li_segment> *m = get_model(d, eps, err);

	if (!m)
	{
		state.SkipWithError(err.c_str());
		return;
	}
	const li_segment *segs = m->data();
	const size_t nseg = m->size();
	const uint64_t *keys = d.keys.data();
	const uint64_t *probes = d.probes.data();
	const uint32_t nn = (uint32_t) n;
	const double e = (double) eps;
	size_t		i = 0;
	std::vector<double> tl,
				ts;

	for (auto _ : state)
	{
		auto		t0 = std::chrono::steady_clock::now();

		for (size_t b = 0; b < kBlock; b++)
		{
			uint64_t	k = probes[(i + b) & (kProbes - 1)];
			double		p = li_predict(segs, nseg, nn, k);
			uint32_t	r = li_lower_bound_window(keys, nn, k,
												  (int64_t) std::floor(p - e),
												  (int64_t) std::ceil(p + e) + 1,
												  nullptr);

			benchmark::DoNotOptimize(r);
		}
		auto		t1 = std::chrono::steady_clock::now();

		for (size_t b = 0; b < kBlock; b++)
		{
			const uint64_t *r = std::lower_bound(keys, keys + n,
												 probes[(i + kProbes / 2 + b) & (kProbes - 1)]);

			benchmark::DoNotOptimize(r);
		}
		auto		t2 = std::chrono::steady_clock::now();

		i += kBlock;
		tl.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kBlock);
		ts.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / kBlock);
	}
	auto		median = [](std::vector<double> &v) {
		if (v.empty())
			return 0.0;
		std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
		return v[v.size() / 2];
	};
	double		ml = median(tl),
				ms = median(ts);

	state.SetItemsProcessed(state.iterations() * 2 * (int64_t) kBlock);
	state.counters["learned_ns"] = ml;
	state.counters["std_ns"] = ms;
	state.counters["ratio"] = ml > 0 ? ms / ml : 0.0;
}

int
dump_model(const std::string &dir, const std::string &name, size_t n,
		   uint32_t eps, size_t npoints)
{
	Dataset    &d = get_dataset(name, n);
	std::string err;

	if (!d.ok)
	{
		fprintf(stderr, "micro_bench: %s\n", d.err.c_str());
		return 1;
	}
	const std::vector<li_segment> *m = get_model(d, eps, err);

	if (!m)
	{
		fprintf(stderr, "micro_bench: %s\n", err.c_str());
		return 1;
	}
	const li_segment *segs = m->data();
	const size_t nseg = m->size();
	double		maxerr = li_max_error(segs, nseg, d.keys.data(), n);
	std::string base = dir + "/model-" + name;
	FILE	   *f;

	/* downsampled points: key, position, prediction */
	f = fopen((base + ".dat").c_str(), "w");
	if (!f)
	{
		perror(base.c_str());
		return 1;
	}
	fprintf(f, "# %s n=%zu eps=%u segments=%zu max_error=%.3f distinct=%zu\n",
			name.c_str(), n, eps, nseg, maxerr, d.distinct);
	fprintf(f, "# key position predicted\n");
	size_t		step = std::max<size_t>(1, n / std::max<size_t>(1, npoints));

	for (size_t i = 0; i < n; i += step)
	{
		if (i > 0 && d.keys[i] == d.keys[i - 1])
			continue;
		fprintf(f, "%" PRIu64 " %zu %.3f\n", d.keys[i], i,
				li_predict(segs, nseg, n, d.keys[i]));
	}
	fprintf(f, "%" PRIu64 " %zu %.3f\n", d.keys[n - 1], n - 1,
			li_predict(segs, nseg, n, d.keys[n - 1]));
	fclose(f);

	/* segments: first_key first_pos next_first_pos slope intercept */
	f = fopen((base + "-segs.dat").c_str(), "w");
	if (!f)
	{
		perror(base.c_str());
		return 1;
	}
	fprintf(f, "# first_key first_pos end_pos slope intercept\n");
	for (size_t s = 0; s < nseg; s++)
		fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %.9g %.6f\n",
				segs[s].first_key, segs[s].first_pos,
				s + 1 < nseg ? segs[s + 1].first_pos : (uint64_t) n,
				segs[s].slope, segs[s].intercept);
	fclose(f);

	/*
	 * zoom: every key of a window of 2*half positions centred on the segment
	 * boundary nearest to n/2, with a blank line at every segment change (so
	 * that gnuplot draws each segment's line separately)
	 */
	size_t		mid = li_find_segment(segs, nseg, d.keys[n / 2]);
	size_t		centre = segs[mid].first_pos;
	const size_t half = 500;

	if (mid + 1 < nseg && segs[mid + 1].first_pos - n / 2 < n / 2 - centre)
		centre = segs[mid + 1].first_pos;
	size_t		zlo = centre > half ? centre - half : 0;
	size_t		zhi = std::min(n, centre + half);

	f = fopen((base + "-zoom.dat").c_str(), "w");
	if (!f)
	{
		perror(base.c_str());
		return 1;
	}
	fprintf(f, "# key position predicted segment (all keys, positions %zu..%zu)\n",
			zlo, zhi - 1);
	size_t		prev = SIZE_MAX;

	for (size_t i = zlo; i < zhi; i++)
	{
		size_t		s = li_find_segment(segs, nseg, d.keys[i]);

		if (prev != SIZE_MAX && s != prev)
			fprintf(f, "\n");
		prev = s;
		fprintf(f, "%" PRIu64 " %zu %.3f %zu\n", d.keys[i], i,
				li_predict(segs, nseg, n, d.keys[i]), s);
	}
	fclose(f);
	printf("%s n=%zu eps=%u segments=%zu max_error=%.3f -> %s.dat, %s-segs.dat, %s-zoom.dat\n",
		   name.c_str(), n, eps, nseg, maxerr, base.c_str(), base.c_str(),
		   base.c_str());
	return 0;
}

bool
take_flag(const char *arg, const char *flag, std::string &val)
{
	size_t		l = strlen(flag);

	if (strncmp(arg, flag, l) == 0 && arg[l] == '=')
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
	std::string dump_dir,
				dump_ds = "debian",
				v;
	size_t		dump_n = 1000000,
				dump_points = 5000;
	uint32_t	dump_eps = 32;
	int			nargc = 0;

	for (int i = 0; i < argc; i++)
	{
		if (i > 0 && take_flag(argv[i], "--dump-model", v))
			dump_dir = v;
		else if (i > 0 && take_flag(argv[i], "--dump-dataset", v))
			dump_ds = v;
		else if (i > 0 && take_flag(argv[i], "--dump-n", v))
			dump_n = strtoull(v.c_str(), nullptr, 10);
		else if (i > 0 && take_flag(argv[i], "--dump-eps", v))
			dump_eps = (uint32_t) strtoul(v.c_str(), nullptr, 10);
		else if (i > 0 && take_flag(argv[i], "--dump-points", v))
			dump_points = strtoull(v.c_str(), nullptr, 10);
		else
			argv[nargc++] = argv[i];
	}
	argc = nargc;
	if (!dump_dir.empty())
		return dump_model(dump_dir, dump_ds, dump_n, dump_eps, dump_points);

	std::vector<size_t> sizes = {1000000};
	const char *big = getenv("LI_MICRO_BIG");

	if (big && strcmp(big, "1") == 0)
		sizes.push_back(10000000);

	/* short by default; LI_MICRO_MIN_TIME=<seconds> overrides */
	double		min_time = 0.1;
	const char *mt = getenv("LI_MICRO_MIN_TIME");

	if (mt)
		min_time = atof(mt);

	for (size_t n : sizes)
		for (const char *ds : kDatasets)
		{
			std::string name = ds;
			std::string sfx = name + "/" + size_label(n);

			benchmark::RegisterBenchmark(("lookup_std/" + sfx).c_str(),
										 BM_lookup_std, name, n)
				->MinTime(min_time);
			for (uint32_t eps : kEpsilons)
			{
				std::string es = sfx + "/eps:" + std::to_string(eps);

				benchmark::RegisterBenchmark(("fit/" + es).c_str(), BM_fit,
											 name, n, eps)
					->MinTime(min_time)
					->Unit(benchmark::kMillisecond);
				benchmark::RegisterBenchmark(("lookup_learned/" + es).c_str(),
											 BM_lookup_learned, name, n, eps, false)
					->MinTime(min_time);
				benchmark::RegisterBenchmark(("lookup_miss/" + es).c_str(),
											 BM_lookup_learned, name, n, eps, true)
					->MinTime(min_time);
				benchmark::RegisterBenchmark(("find_segment/" + es).c_str(),
											 BM_find_segment, name, n, eps)
					->MinTime(min_time);
				benchmark::RegisterBenchmark(("paired/" + es).c_str(),
											 BM_paired, name, n, eps)
					->MinTime(min_time);
			}
		}

	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
