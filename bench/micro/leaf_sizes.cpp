/*
 * leaf_sizes.cpp -- bits per entry of the compressed leaf codec on 10M-row
 * data sets shaped like bench/run's (dups, timeseries, uniform), cut into
 * leaves as the writer cuts them at fillfactor 95 (li_cleaf_fit, the block
 * within 95% of 8152 bytes).  Prints leaves, block bytes per entry, key
 * and TID bits per entry (li_cleaf_get_widths) and the entropy estimates
 * of bench/run's report.  Build: make leafsizes.
 */
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "li_leaf.h"

namespace
{

const size_t kRows = 10000000;
const uint32_t kPerPage = 185;

/* a data set: sorted keys and their TIDs (3 uint16 each) */
struct Set
{
	std::vector<uint64_t> keys;
	std::vector<uint16_t> tids;
};

/* the TID of heap position p */
void
put_tid(uint16_t *t, uint64_t p)
{
	uint32_t	blk = (uint32_t) (p / kPerPage);

	t[0] = (uint16_t) (blk >> 16);
	t[1] = (uint16_t) blk;
	t[2] = (uint16_t) (1 + p % kPerPage);
}

/* (key, heap position) pairs sorted, into a set */
void
fill(Set &s, std::vector<std::pair<uint64_t, uint64_t>> &kv)
{
	std::sort(kv.begin(), kv.end());
	s.keys.resize(kv.size());
	s.tids.resize(3 * kv.size());
	for (size_t i = 0; i < kv.size(); i++)
	{
		s.keys[i] = kv[i].first;
		put_tid(&s.tids[3 * i], kv[i].second);
	}
}

/* one of the data sets */
void
make(const std::string &name, Set &s)
{
	std::mt19937_64 rng(4242);
	std::vector<std::pair<uint64_t, uint64_t>> kv(kRows);

	if (name == "dups")
	{
		/* v * 10, v uniform in 1..N/100; heap in random order */
		for (size_t p = 0; p < kRows; p++)
			kv[p] = {10 * (1 + rng() % (kRows / 100)), p};
	}
	else if (name == "timeseries")
	{
		/* us timestamps: 2 + exp(mean 1 s), 0.1% outages up to 1 h; heap in order */
		std::exponential_distribution<double> ex(1e-6);
		uint64_t	t = UINT64_C(0x8000000000000000) + UINT64_C(631152000000000);

		for (size_t p = 0; p < kRows; p++)
		{
			t += 2 + (uint64_t) ex(rng);
			if (rng() % 1000 == 0)
				t += rng() % UINT64_C(3600000000);
			kv[p] = {t, p};
		}
	}
	else
	{
		/* uniform 64-bit; heap in random order */
		for (size_t p = 0; p < kRows; p++)
			kv[p] = {rng(), p};
	}
	fill(s, kv);
}

/* bench/run's entropy estimates per row: keys and TIDs */
void
entropy(const Set &s, double *kbits, double *tbits)
{
	double		k = 0,
				t = 0;
	size_t		n = s.keys.size();

	for (size_t i = 1; i < n; i++)
	{
		uint64_t	a = (uint64_t) ((uint32_t) s.tids[3 * i - 3] << 16 | s.tids[3 * i - 2]) * kPerPage + s.tids[3 * i - 1];
		uint64_t	b = (uint64_t) ((uint32_t) s.tids[3 * i] << 16 | s.tids[3 * i + 1]) * kPerPage + s.tids[3 * i + 2];

		if (s.keys[i] != s.keys[i - 1])
			k += std::log2((double) (s.keys[i] - s.keys[i - 1]));
		t += std::log2(1.0 + (double) (a > b ? a - b : b - a));
	}
	*kbits = k / n;
	*tbits = std::min(t / n, std::log2((double) n) - 1.44);
}

/* cut, encode and measure one data set */
void
run(const std::string &name)
{
	Set			s;
	size_t		leaves = 0,
				bytes = 0,
				kbrk = 0,
				tbrk = 0;
	uint64_t	kb = 0,
				tb = 0;
	std::vector<uint8_t> block(8192);
	double		ek,
				et;

	make(name, s);
	auto		t0 = std::chrono::steady_clock::now();

	for (size_t pos = 0; pos < s.keys.size();)
	{
		uint32_t	n = (uint32_t) std::min<size_t>(16384, s.keys.size() - pos);
		uint32_t	m = li_cleaf_fit(&s.keys[pos], &s.tids[3 * pos], n, 8152 * 95 / 100);
		size_t		nb;
		li_cleaf_widths w;
		li_cleaf_view v;

		if (m == 0 || li_cleaf_encode(&s.keys[pos], &s.tids[3 * pos], m, block.data(),
									  block.size(), &nb) != LI_OK ||
			li_cleaf_validate(block.data(), nb) != LI_OK)
		{
			std::printf("%s: encode failed at %zu\n", name.c_str(), pos);
			return;
		}
		li_cleaf_open(block.data(), &v);
		kbrk += (block[5] & LI_CLEAF_KBRK) != 0;
		tbrk += (block[5] & LI_CLEAF_TBRK) != 0;
		for (uint32_t i = 0; i < m; i += 97)
		{
			uint16_t	t[3];

			li_cleaf_tid_at(&v, i, t);
			if (li_cleaf_key_at(&v, i) != s.keys[pos + i] ||
				std::memcmp(t, &s.tids[3 * (pos + i)], 6) != 0)
			{
				std::printf("%s: wrong decode at %zu\n", name.c_str(), pos + i);
				return;
			}
		}
		li_cleaf_get_widths(block.data(), &w);
		kb += w.key_bits;
		tb += w.tid_bits;
		bytes += nb;
		leaves++;
		pos += m;
	}
	double		secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

	entropy(s, &ek, &et);
	std::printf("%-10s leaves %6zu  block %.3f B/entry  key %.2f bits (entropy %.1f)  "
				"tid %.2f bits (entropy %.1f)  breaks key %zu TID %zu  cut+encode %.1f s\n",
				name.c_str(), leaves, (double) bytes / s.keys.size(),
				(double) kb / s.keys.size(), ek, (double) tb / s.keys.size(), et, kbrk, tbrk, secs);
}

}								/* namespace */

/* the data sets named on the command line, or all */
int
main(int argc, char **argv)
{
	std::vector<std::string> names;

	/* LI_EF=0: without Elias-Fano key groups (to compare) */
	if (getenv("LI_EF") != nullptr && strcmp(getenv("LI_EF"), "0") == 0)
		li_cleaf_set_ef(0);

	for (int i = 1; i < argc; i++)
		names.push_back(argv[i]);
	if (names.empty())
		names = {"dups", "timeseries", "uniform"};
	for (const auto &n : names)
		run(n);
	return 0;
}
