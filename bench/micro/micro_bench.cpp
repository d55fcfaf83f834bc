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
 * Compressed leaves (src/li_leaf.h), per key set (uniform, dense,
 * timeseries, tsexp, dups100) and TID layout (random, heap, sorted: random
 * heap, in order within equal keys): 64 consecutive leaves
 * of li_cleaf_fit(95% of 8152 bytes, as the writer at fillfactor 95) entries each
 * (counters bytes_per_entry, entries per leaf, key_bits / tid_bits per
 * entry and mean widest group key_max / tid_max, from li_cleaf_get_widths)
 *   leaf_key_at/<k>/<t>             li_cleaf_key_at of a random entry (ns)
 *   leaf_lower_bound/<k>/<t>/<p>    li_cleaf_lower_bound, window of 66
 *                                   entries holding the answer, present or
 *                                   absent keys (ns/lookup)
 *   leaf_lower_bound_plain/...      std::lower_bound in the same window of
 *                                   the uncompressed keys
 *   leaf_tid_at/<k>/<t>             li_cleaf_tid_at, sequential (ns/TID)
 *   leaf_decode_run/<k>/<t>         li_cleaf_decode_run of 128 entries from
 *                                   a random one (ns per run)
 *   leaf_encode/<k>/<t>             li_cleaf_encode of one leaf (counter
 *                                   ns_per_entry)
 *   leaf_fit/<k>/<t>                li_cleaf_fit from a leaf's first
 *                                   entry over up to 16384 entries
 *                                   (counter ns_per_entry)
 *   leaf_fit_writer/<k>/<t>         the writer's call: first over
 *                                   2 * the previous leaf's count + 64
 *
 * Data sets are generated deterministically (fixed seeds, std::mt19937_64);
 * see bench/micro/README.md.  1M keys by default; LI_MICRO_BIG=1 adds 10M.
 *
 * LI_EF=0 in the environment: leaves without Elias-Fano key groups.
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
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "datasets.h"
#include "li_core.h"
#include "li_leaf.h"

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

/* ---------------------------------------------------------------------
 * Compressed leaves (src/li_leaf.h): kLeafCount consecutive leaves of
 * li_cleaf_fit(kLeafBudget: 95% of kLeafAvail, as the writer) entries each,
 * cut from a key set and a TID layout as the writer cuts them at
 * fillfactor 95; see bench/micro/README.md.
 * ------------------------------------------------------------------- */
const char *const kLeafKeys[] = {"uniform", "dense", "timeseries", "tsexp", "dups100"};
const char *const kLeafTids[] = {"random", "heap", "sorted"};
constexpr size_t kLeafAvail = 8152;	/* LEARNED_ENTRY_AVAIL of an 8 kB page */
constexpr size_t kLeafBudget = kLeafAvail * 95 / 100;	/* fillfactor 95 of the bytes */
constexpr size_t kLeafPending = 16384;	/* the writer's pending entries */
constexpr size_t kLeafCount = 64;
constexpr size_t kLeafSource = kLeafCount * LI_CLEAF_MAX;	/* keys cut */
constexpr size_t kLeafProbes = size_t(1) << 16;	/* power of two */

/* kLeafSource sorted keys of a leaf data set; false if unknown */
bool
leaf_keys(const std::string &name, std::vector<uint64_t> &keys)
{
	keys.clear();
	keys.reserve(kLeafSource);
	if (name == "uniform")
	{
		/* the middle of a sorted set of 10M uniform 64-bit keys */
		const size_t big = 10000000;
		std::vector<uint64_t> all(big);
		std::mt19937_64 rng(1001);

		for (auto &k : all)
			k = rng();
		std::sort(all.begin(), all.end());
		keys.assign(all.begin() + (big - kLeafSource) / 2,
					all.begin() + (big + kLeafSource) / 2);
	}
	else if (name == "dense")
	{
		for (size_t i = 0; i < kLeafSource; i++)
			keys.push_back(UINT64_C(1000000000) + i);
	}
	else if (name == "timeseries")
	{
		/* ns timestamps, 1 ms apart, each up to 1 us late */
		std::mt19937_64 rng(1011);
		const uint64_t t0 = UINT64_C(1700000000000000000);

		for (size_t i = 0; i < kLeafSource; i++)
			keys.push_back(t0 + i * 1000000 + rng() % 1000);
	}
	else if (name == "tsexp")
	{
		/* us timestamps, gaps 2 us + exponential with mean 1 s (bench/run's timeseries) */
		std::mt19937_64 rng(1014);
		std::exponential_distribution<double> ex(1e-6);
		uint64_t	t = UINT64_C(0x8000000000000000) + UINT64_C(631152000000000);

		for (size_t i = 0; i < kLeafSource; i++)
		{
			t += 2 + (uint64_t) ex(rng);
			keys.push_back(t);
		}
	}
	else if (name == "dups100")
	{
		/* random 40-bit values, 100 copies each */
		std::mt19937_64 rng(1012);
		std::vector<uint64_t> vals = li_bench::distinct_values(rng, kLeafSource / 100 + 1);

		for (size_t i = 0; i < kLeafSource; i++)
			keys.push_back(vals[i / 100]);
	}
	else
		return false;
	return true;
}

/*
 * TIDs of n entries: random heap order, key-ordered heap, or random heap
 * order sorted within equal keys (sorted: what an index of duplicates
 * holds; see sort_dup_tids)
 */
void
leaf_tids(const std::string &name, size_t n, std::vector<uint16_t> &tids)
{
	std::mt19937_64 rng(1013);

	tids.resize(3 * n);
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	blk;
		uint16_t	off;

		if (name == "random" || name == "sorted")
		{
			/* blocks up to 54,000, offsets up to 185 */
			blk = (uint32_t) (rng() % 54000);
			off = (uint16_t) (1 + rng() % 185);
		}
		else
		{
			/* consecutive: 185 a page */
			blk = 1000 + (uint32_t) (i / 185);
			off = (uint16_t) (1 + i % 185);
		}
		tids[3 * i] = (uint16_t) (blk >> 16);
		tids[3 * i + 1] = (uint16_t) blk;
		tids[3 * i + 2] = off;
	}
}

/* TIDs of each run of equal keys in (block, offset) order */
void
sort_dup_tids(const std::vector<uint64_t> &keys, std::vector<uint16_t> &tids)
{
	for (size_t i = 0; i < keys.size();)
	{
		size_t		j = i;
		std::vector<uint64_t> x;

		while (j < keys.size() && keys[j] == keys[i])
		{
			x.push_back((uint64_t) tids[3 * j] << 32 | (uint64_t) tids[3 * j + 1] << 16 |
						tids[3 * j + 2]);
			j++;
		}
		std::sort(x.begin(), x.end());
		for (size_t k = i; k < j; k++)
		{
			tids[3 * k] = (uint16_t) (x[k - i] >> 32);
			tids[3 * k + 1] = (uint16_t) (x[k - i] >> 16);
			tids[3 * k + 2] = (uint16_t) x[k - i];
		}
		i = j;
	}
}

/* the leaves of one (keys, TIDs) pair, with probes */
struct LeafSet
{
	std::string keys_name,
				tids_name;
	std::string err;
	std::vector<uint64_t> keys;
	std::vector<uint16_t> tids;
	std::vector<std::vector<uint8_t>> blocks;
	std::vector<li_cleaf_view> views;
	std::vector<size_t> first;	/* source index of each leaf's entry 0 */
	size_t		entries = 0,
				bytes = 0;
	uint64_t	key_bits = 0,	/* li_cleaf_get_widths, summed */
				tid_bits = 0;
	double		key_max = 0,	/* mean widest group */
				tid_max = 0;
};

/* li_cleaf_fit over up to n entries from pos, as the writer asks it */
uint32_t
leaf_fit(const LeafSet &s, size_t pos, size_t n)
{
	n = std::min(n, s.keys.size() - pos);
	return li_cleaf_fit(s.keys.data() + pos, s.tids.data() + 3 * pos, (uint32_t) n,
						kLeafBudget);
}

std::unique_ptr<LeafSet> g_leaf;

/* build (or reuse) the leaves of keys_name x tids_name */
LeafSet &
get_leafset(const std::string &kn, const std::string &tn)
{
	if (g_leaf && g_leaf->keys_name == kn && g_leaf->tids_name == tn)
		return *g_leaf;
	g_leaf.reset();
	g_leaf.reset(new LeafSet);
	LeafSet    &s = *g_leaf;

	s.keys_name = kn;
	s.tids_name = tn;
	if (!leaf_keys(kn, s.keys))
	{
		s.err = "unknown leaf key set " + kn;
		return s;
	}
	leaf_tids(tn, s.keys.size(), s.tids);
	if (tn == "sorted")
		sort_dup_tids(s.keys, s.tids);
	for (size_t pos = 0; s.blocks.size() < kLeafCount && pos < s.keys.size();)
	{
		uint32_t	m = leaf_fit(s, pos, kLeafPending);
		size_t		nb = 0;
		std::vector<uint8_t> b(kLeafAvail);

		if (m == 0 ||
			li_cleaf_encode(s.keys.data() + pos, s.tids.data() + 3 * pos, m,
							b.data(), b.size(), &nb) != LI_OK ||
			li_cleaf_validate(b.data(), nb) != LI_OK)
		{
			s.err = "li_cleaf_fit/encode failed";
			return s;
		}
		b.resize(nb);
		s.blocks.push_back(std::move(b));
		s.first.push_back(pos);
		s.entries += m;
		s.bytes += nb;
		pos += m;
	}
	for (auto &b : s.blocks)
	{
		li_cleaf_view v;

		li_cleaf_widths w;

		li_cleaf_open(b.data(), &v);
		li_cleaf_get_widths(b.data(), &w);
		s.views.push_back(v);
		s.key_bits += w.key_bits;
		s.tid_bits += w.tid_bits;
		s.key_max += w.key_max;
		s.tid_max += w.tid_max;
	}
	s.key_max /= (double) s.views.size();
	s.tid_max /= (double) s.views.size();

	/* sanity check (untimed): every key and TID decodes */
	for (size_t l = 0; l < s.views.size(); l++)
		for (uint32_t i = 0; i < s.views[l].n; i++)
		{
			uint16_t	t[3];
			size_t		j = s.first[l] + i;

			li_cleaf_tid_at(&s.views[l], i, t);
			if (li_cleaf_key_at(&s.views[l], i) != s.keys[j] ||
				std::memcmp(t, &s.tids[3 * j], sizeof(t)) != 0)
			{
				s.err = "a leaf does not decode to its entries";
				return s;
			}
		}
	return s;
}

/* the counters every leaf benchmark reports */
void
leaf_counters(benchmark::State &state, const LeafSet &s)
{
	state.counters["bytes_per_entry"] = (double) s.bytes / (double) s.entries;
	state.counters["entries"] = (double) s.entries / (double) s.blocks.size();
	state.counters["key_bits"] = (double) s.key_bits / (double) s.entries;
	state.counters["tid_bits"] = (double) s.tid_bits / (double) s.entries;
	state.counters["key_max"] = s.key_max;
	state.counters["tid_max"] = s.tid_max;
}

/* li_cleaf_key_at of a random entry of a random leaf */
void
BM_leaf_key_at(benchmark::State &state, std::string kn, std::string tn)
{
	LeafSet    &s = get_leafset(kn, tn);

	if (!s.err.empty())
	{
		state.SkipWithError(s.err.c_str());
		return;
	}
	struct Probe
	{
		const li_cleaf_view *v;
		uint32_t	i;
	};
	std::vector<Probe> probes(kLeafProbes);
	std::mt19937_64 rng(21);

	for (auto &p : probes)
	{
		p.v = &s.views[rng() % s.views.size()];
		p.i = (uint32_t) (rng() % p.v->n);
	}
	size_t		q = 0;

	for (auto _ : state)
	{
		const Probe &p = probes[q++ & (kLeafProbes - 1)];
		uint64_t	k = li_cleaf_key_at(p.v, p.i);

		benchmark::DoNotOptimize(k);
	}
	state.SetItemsProcessed(state.iterations());
	leaf_counters(state, s);
}

/* a lookup: leaf, key, model-like window of 66 entries, expected answer */
struct LeafProbe
{
	const li_cleaf_view *v;
	const uint64_t *keys;		/* the leaf's uncompressed keys */
	uint64_t	key;
	int64_t		lo,
				hi;
	uint32_t	expect;
};

/*
 * kLeafProbes lookups of present keys (or of absent ones: strictly between
 * two neighbours), window [lb + d - 33, lb + d + 33), d uniform in
 * [-32, 32]: the answer is always inside, as with an epsilon-32 model
 */
bool
leaf_probes(const LeafSet &s, bool absent, std::vector<LeafProbe> &out)
{
	std::mt19937_64 rng(absent ? 23 : 22);
	std::vector<std::vector<uint32_t>> gaps(s.views.size());
	size_t		ngaps = 0;

	/* absent keys: the entries i followed by a gap of 2 or more */
	for (size_t l = 0; absent && l < s.views.size(); l++)
	{
		const uint64_t *k = s.keys.data() + s.first[l];

		for (uint32_t i = 0; i + 1 < s.views[l].n; i++)
			if (k[i + 1] - k[i] >= 2)
				gaps[l].push_back(i);
		ngaps += gaps[l].size();
	}
	if (absent && ngaps == 0)
		return false;
	out.clear();
	while (out.size() < kLeafProbes)
	{
		size_t		l = rng() % s.views.size();
		const li_cleaf_view *v = &s.views[l];
		const uint64_t *k = s.keys.data() + s.first[l];
		uint32_t	i = (uint32_t) (rng() % v->n);
		uint64_t	key = k[i];

		if (absent)
		{
			if (gaps[l].empty())
				continue;
			i = gaps[l][rng() % gaps[l].size()];
			key = k[i] + 1 + rng() % (k[i + 1] - k[i] - 1);
		}
		uint32_t	lb = (uint32_t) (std::lower_bound(k, k + v->n, key) - k);
		int64_t		d = (int64_t) (rng() % 65) - 32;
		LeafProbe	p = {v, k, key, (int64_t) lb + d - 33, (int64_t) lb + d + 33, lb};

		out.push_back(p);
	}
	return true;
}

/* li_cleaf_lower_bound with a 66-entry window (present or absent keys) */
void
BM_leaf_lower_bound(benchmark::State &state, std::string kn, std::string tn,
					bool absent)
{
	LeafSet    &s = get_leafset(kn, tn);
	std::vector<LeafProbe> probes;

	if (!s.err.empty())
	{
		state.SkipWithError(s.err.c_str());
		return;
	}
	if (!leaf_probes(s, absent, probes))
	{
		state.SkipWithError("no absent key lies inside a leaf of this set");
		return;
	}
	/* sanity check (untimed): exact, and the window is used */
	for (const LeafProbe &p : probes)
	{
		int			used = 0;

		if (li_cleaf_lower_bound(p.v, p.key, p.lo, p.hi, &used) != p.expect || !used)
		{
			state.SkipWithError("li_cleaf_lower_bound returned a wrong position");
			return;
		}
	}
	size_t		q = 0;

	for (auto _ : state)
	{
		const LeafProbe &p = probes[q++ & (kLeafProbes - 1)];
		uint32_t	r = li_cleaf_lower_bound(p.v, p.key, p.lo, p.hi, nullptr);

		benchmark::DoNotOptimize(r);
	}
	state.SetItemsProcessed(state.iterations());
	leaf_counters(state, s);
}

/* the same lookups on the uncompressed keys: std::lower_bound in the window */
void
BM_leaf_lower_bound_plain(benchmark::State &state, std::string kn,
						  std::string tn)
{
	LeafSet    &s = get_leafset(kn, tn);
	std::vector<LeafProbe> probes;

	if (!s.err.empty() || !leaf_probes(s, false, probes))
	{
		state.SkipWithError(s.err.empty() ? "no probes" : s.err.c_str());
		return;
	}
	size_t		q = 0;

	for (auto _ : state)
	{
		const LeafProbe &p = probes[q++ & (kLeafProbes - 1)];
		int64_t		lo = std::max<int64_t>(p.lo, 0);
		int64_t		hi = std::min<int64_t>(p.hi, p.v->n);
		const uint64_t *r = std::lower_bound(p.keys + lo, p.keys + hi, p.key);

		benchmark::DoNotOptimize(r);
	}
	state.SetItemsProcessed(state.iterations());
}

/* li_cleaf_tid_at sequentially through every leaf (one TID an iteration) */
void
BM_leaf_tid_at(benchmark::State &state, std::string kn, std::string tn)
{
	LeafSet    &s = get_leafset(kn, tn);

	if (!s.err.empty())
	{
		state.SkipWithError(s.err.c_str());
		return;
	}
	size_t		l = 0;
	uint32_t	i = 0;
	int			live = 0;

	for (auto _ : state)
	{
		uint16_t	t[3];

		live += li_cleaf_tid_at(&s.views[l], i, t);
		benchmark::DoNotOptimize(t);
		if (++i == s.views[l].n)
		{
			i = 0;
			l = (l + 1) % s.views.size();
		}
	}
	benchmark::DoNotOptimize(live);
	state.SetItemsProcessed(state.iterations());
	leaf_counters(state, s);
}

/*
 * li_cleaf_decode_run of 128 entries from a random entry of a random leaf
 * (what a range scan decodes; ns per run)
 */
void
BM_leaf_decode_run(benchmark::State &state, std::string kn, std::string tn)
{
	LeafSet    &s = get_leafset(kn, tn);

	if (!s.err.empty())
	{
		state.SkipWithError(s.err.c_str());
		return;
	}
	std::vector<std::pair<uint32_t, uint32_t>> at(kLeafProbes);
	std::mt19937_64 rng(1015);
	uint64_t	keys[128];
	uint16_t	tids[3 * 128];
	size_t		p = 0,
				got = 0;

	for (auto &a : at)
	{
		a.first = (uint32_t) (rng() % s.views.size());
		a.second = (uint32_t) (rng() % s.views[a.first].n);
	}
	for (auto _ : state)
	{
		const auto &a = at[p++ & (kLeafProbes - 1)];

		got += li_cleaf_decode_run(&s.views[a.first], a.second, a.second + 128, UINT64_MAX,
								   keys, tids);
		benchmark::DoNotOptimize(keys);
		benchmark::DoNotOptimize(tids);
	}
	state.SetItemsProcessed((int64_t) got);
	leaf_counters(state, s);
}

/* CPU time of this thread, ns */
double
thread_cpu_ns()
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* what BM_leaf_build times */
enum LeafBuild
{
	LEAF_ENCODE,				/* li_cleaf_encode of the leaf's entries */
	LEAF_FIT,					/* li_cleaf_fit_tail over up to 16384 */
	LEAF_FIT_WRITER				/* the writer's: bounded near the last count */
};

/*
 * li_cleaf_encode of one leaf (round robin over the leaves), or
 * li_cleaf_fit_tail from a leaf's first entry (LEAF_FIT: over the 16384
 * entries the writer keeps pending; LEAF_FIT_WRITER: as
 * writer_leaf_count, first over 2 * the previous leaf's count + 64, then
 * over all if that all fitted); ns_per_entry = thread CPU time / entries;
 * for the writer's way, counter differs = share of leaves where it cut
 * another count than LEAF_FIT
 */
void
BM_leaf_build(benchmark::State &state, std::string kn, std::string tn,
			  LeafBuild what)
{
	LeafSet    &s = get_leafset(kn, tn);

	if (!s.err.empty())
	{
		state.SkipWithError(s.err.c_str());
		return;
	}
	std::vector<uint8_t> out(kLeafAvail);
	size_t		l = 0,
				done = 0,
				differs = 0,
				fits = 0;
	bool		ok = true;
	double		t0 = thread_cpu_ns();

	for (auto _ : state)
	{
		size_t		pos = s.first[l];
		size_t		nb = 0;

		if (what == LEAF_FIT)
			ok = ok && leaf_fit(s, pos, kLeafPending) == s.views[l].n;
		else if (what == LEAF_FIT_WRITER)
		{
			size_t		rest = std::min(kLeafPending, s.keys.size() - pos);
			size_t		probe = std::min<size_t>(rest, 2 * s.views[l ? l - 1 : 0].n + 64);
			uint32_t	m = leaf_fit(s, pos, probe);

			if (m == probe && probe < rest)
				m = leaf_fit(s, pos, rest);
			differs += m != s.views[l].n;
			fits++;
		}
		else
			ok = ok && li_cleaf_encode(s.keys.data() + pos, s.tids.data() + 3 * pos,
									   s.views[l].n, out.data(), out.size(), &nb) == LI_OK;
		benchmark::DoNotOptimize(out.data());
		benchmark::ClobberMemory();
		done += s.views[l].n;
		l = (l + 1) % s.views.size();
	}
	double		t1 = thread_cpu_ns();

	if (!ok)
	{
		state.SkipWithError("li_cleaf_fit/encode failed");
		return;
	}
	state.SetItemsProcessed((int64_t) done);
	state.counters["ns_per_entry"] = done ? (t1 - t0) / (double) done : 0.0;
	if (what == LEAF_FIT_WRITER)
		state.counters["differs"] = fits ? (double) differs / (double) fits : 0.0;
	leaf_counters(state, s);
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

	/* compressed leaves: every key set x TID layout */
	for (const char *kn : kLeafKeys)
		for (const char *tn : kLeafTids)
		{
			std::string k = kn,
						t = tn;
			std::string sfx = k + "/" + t;

			benchmark::RegisterBenchmark(("leaf_key_at/" + sfx).c_str(),
										 BM_leaf_key_at, k, t)
				->MinTime(min_time);
			benchmark::RegisterBenchmark(("leaf_lower_bound/" + sfx + "/present").c_str(),
										 BM_leaf_lower_bound, k, t, false)
				->MinTime(min_time);
			if (k != "dense")	/* dense keys leave no absent key inside */
				benchmark::RegisterBenchmark(("leaf_lower_bound/" + sfx + "/absent").c_str(),
											 BM_leaf_lower_bound, k, t, true)
					->MinTime(min_time);
			benchmark::RegisterBenchmark(("leaf_lower_bound_plain/" + sfx + "/present").c_str(),
										 BM_leaf_lower_bound_plain, k, t)
				->MinTime(min_time);
			benchmark::RegisterBenchmark(("leaf_tid_at/" + sfx).c_str(),
										 BM_leaf_tid_at, k, t)
				->MinTime(min_time);
			benchmark::RegisterBenchmark(("leaf_decode_run/" + sfx).c_str(),
										 BM_leaf_decode_run, k, t)
				->MinTime(min_time);
			benchmark::RegisterBenchmark(("leaf_encode/" + sfx).c_str(),
										 BM_leaf_build, k, t, LEAF_ENCODE)
				->MinTime(min_time)
				->Unit(benchmark::kMicrosecond);
			benchmark::RegisterBenchmark(("leaf_fit/" + sfx).c_str(),
										 BM_leaf_build, k, t, LEAF_FIT)
				->MinTime(min_time)
				->Unit(benchmark::kMicrosecond);
			benchmark::RegisterBenchmark(("leaf_fit_writer/" + sfx).c_str(),
										 BM_leaf_build, k, t, LEAF_FIT_WRITER)
				->MinTime(min_time)
				->Unit(benchmark::kMicrosecond);
		}

	/* LI_EF=0: leaves without Elias-Fano key groups (to compare) */
	if (getenv("LI_EF") != nullptr && strcmp(getenv("LI_EF"), "0") == 0)
		li_cleaf_set_ef(0);
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
