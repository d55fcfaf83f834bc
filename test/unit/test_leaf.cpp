/*
 * test_leaf.cpp -- the compressed leaf codec (src/li_leaf.h, the group
 * codec of leaf format 2): round trip of every key, TID and tombstone, the
 * exact in-leaf lower bound for any window, group widths on adversarial
 * keys and TIDs (dense keys and a heap in key order need no or few bits, a
 * step in the data costs one group offset), tombstones in place,
 * li_cleaf_fit / li_cleaf_fit_tail's budget, encode's argument checks and
 * li_cleaf_validate on blocks wrong in one field at a time.
 *
 * Blocks live in std::vector buffers of exactly their size, so that the ASan
 * run (LI_TEST_SCALE=small, fewer random leaves) catches a read past a block.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "li_leaf.h"

namespace
{

/* true for the ASan run */
bool
small_scale()
{
	const char *s = std::getenv("LI_TEST_SCALE");

	return s != nullptr && std::strcmp(s, "small") == 0;
}

/* bits needed to write v (0 for 0) */
uint32_t
bitw(uint64_t v)
{
	return v == 0 ? 0 : 64 - (uint32_t) __builtin_clzll(v);
}

/* sorted keys and their TIDs (3 uint16 each), as the codec takes them */
struct Entries
{
	std::vector<uint64_t> keys;
	std::vector<uint16_t> tids;

	uint32_t	n() const { return (uint32_t) keys.size(); }
};

/* block number of TID i */
uint32_t
blk_of(const uint16_t *t)
{
	return ((uint32_t) t[0] << 16) | t[1];
}

/* append one entry */
void
push(Entries &e, uint64_t key, uint32_t blk, uint16_t off)
{
	e.keys.push_back(key);
	e.tids.push_back((uint16_t) (blk >> 16));
	e.tids.push_back((uint16_t) (blk & 0xffff));
	e.tids.push_back(off);
}

/* overwrite the TID of entry i */
void
set_tid(Entries &e, size_t i, uint32_t blk, uint16_t off)
{
	e.tids[3 * i] = (uint16_t) (blk >> 16);
	e.tids[3 * i + 1] = (uint16_t) (blk & 0xffff);
	e.tids[3 * i + 2] = off;
}

/* the header li_cleaf_plan gives (expects LI_OK) */
li_cleaf_hdr
plan_of(const Entries &e)
{
	li_cleaf_hdr h;

	EXPECT_EQ(li_cleaf_plan(e.keys.data(), e.tids.data(), e.n(), &h), LI_OK);
	return h;
}

/* the header stored in a block */
li_cleaf_hdr
hdr_of(const std::vector<uint8_t> &block)
{
	li_cleaf_hdr h;

	std::memcpy(&h, block.data(), sizeof(h));
	return h;
}

/* li_cleaf_get_widths of a block */
li_cleaf_widths
widths_of(const std::vector<uint8_t> &block)
{
	li_cleaf_widths w;

	li_cleaf_get_widths(block.data(), &w);
	return w;
}

/* encode e into a buffer of exactly the block's size; false on failure */
bool
encode(const Entries &e, std::vector<uint8_t> &block)
{
	li_cleaf_hdr h;
	size_t		bytes = 0;

	if (li_cleaf_plan(e.keys.data(), e.tids.data(), e.n(), &h) != LI_OK)
	{
		ADD_FAILURE() << "li_cleaf_plan failed, n=" << e.n();
		return false;
	}
	block.assign(h.bytes, 0xA5);
	li_status	st = li_cleaf_encode(e.keys.data(), e.tids.data(), e.n(),
									 block.data(), block.size(), &bytes);

	if (st != LI_OK || bytes != h.bytes)
	{
		ADD_FAILURE() << "li_cleaf_encode: status " << st << " bytes " << bytes
					  << " planned " << h.bytes << " n=" << e.n();
		return false;
	}

	/* a kept plan encodes the same block */
	std::vector<uint64_t> plan(li_cleaf_plan_size() / 8 + 1);
	std::vector<uint8_t> again(h.bytes, 0x5A);
	li_cleaf_hdr kh;

	if (li_cleaf_plan_keep(e.keys.data(), e.tids.data(), e.n(), &kh, plan.data()) != LI_OK ||
		std::memcmp(&kh, &h, sizeof(h)) != 0 ||
		li_cleaf_encode_plan(e.keys.data(), e.tids.data(), e.n(), plan.data(), again.data(),
							 again.size(), &bytes) != LI_OK ||
		bytes != h.bytes || again != block)
	{
		ADD_FAILURE() << "li_cleaf_encode_plan differs from li_cleaf_encode, n=" << e.n();
		return false;
	}
	return true;
}

/* the widths of e's encoded block */
li_cleaf_widths
widths_of(const Entries &e)
{
	std::vector<uint8_t> block;
	li_cleaf_widths w = {0, 0, 0, 0};

	if (encode(e, block))
		w = widths_of(block);
	return w;
}

/* std::lower_bound position of key */
uint32_t
std_lb(const std::vector<uint64_t> &keys, uint64_t key)
{
	return (uint32_t) (std::lower_bound(keys.begin(), keys.end(), key) -
					   keys.begin());
}

/* group g's table entry */
uint32_t
group_meta(const li_cview &c, uint32_t g)
{
	uint32_t	meta;

	std::memcpy(&meta, c.table + (size_t) g * 4, sizeof(meta));
	return meta;
}

/* where group g's residuals end: the next group's start, or res_bits */
uint64_t
group_end(const li_cview &c, uint32_t g)
{
	return g + 1 < li_cleaf_ngroups(c.n) ? group_meta(c, g + 1) & 0xFFFFFF : c.res_bits;
}

/*
 * The width of group g of a column (from its group table): an
 * Elias-Fano group's bits per entry, rounded up
 */
uint32_t
group_width(const li_cview &c, uint32_t g)
{
	uint32_t	meta = group_meta(c, g);
	uint32_t	len = std::min<uint32_t>(c.n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP);

	if (meta & LI_CLEAF_EF)
		return (uint32_t) ((group_end(c, g) - (meta & 0xFFFFFF) + len - 1) / len);
	return meta >> 24;
}

/* no Elias-Fano key groups while it lives (tests of the line's residuals) */
struct EfOff
{
	EfOff()
	{
		li_cleaf_set_ef(0);
	}
	~EfOff()
	{
		li_cleaf_set_ef(1);
	}
};

/*
 * Elias-Fano group g of a key column is tight: L <= 63, the low parts and
 * the bitmap's len - 1 ones (the last one ending the group) give back the
 * keys, L is the cheapest and the group is smaller than the line's
 * residuals would be (what the encoder chose it for).
 */
void
check_ef_tight(const li_cview &c, uint32_t g, uint32_t len, const char *what)
{
	uint32_t	meta = group_meta(c, g);
	uint32_t	L = (meta >> 24) & 0x7F;
	uint64_t	pos = meta & 0xFFFFFF,
				ub = pos + (uint64_t) (len - 1) * L,
				end = group_end(c, g),
				ones = 0;
	ASSERT_LE(L, 63u) << what << " group " << g;
	ASSERT_GE(len, 2u) << what << " group " << g;
	ASSERT_EQ(c.hbits, 0u) << what << ": Elias-Fano group in a column with breaks";
	ASSERT_GT(end, ub) << what << " group " << g;
	for (uint64_t p = ub; p < end; p++)
		ones += li_bits_get(c.res, p, 1);
	ASSERT_EQ(ones, len - 1) << what << " group " << g << ": ones in the bitmap";
	ASSERT_EQ(li_bits_get(c.res, end - 1, 1), 1u) << what << " group " << g << ": last bit";

	/* the values again, against the line: their residuals' width */
	uint64_t	range = li_ccol_at(&c, g * LI_CLEAF_GROUP + len - 1) -
		li_ccol_at(&c, g * LI_CLEAF_GROUP);
	int64_t		dmin = INT64_MAX,
				dmax = INT64_MIN;

	for (uint32_t j = 0; j < len; j++)
	{
		uint32_t	i = g * LI_CLEAF_GROUP + j;
		int64_t		d = (int64_t) (li_ccol_at(&c, i) - (c.base + (uint64_t) i * c.slope_int +
													   (((uint64_t) i * c.slope_frac) >> 32)));

		dmin = std::min(dmin, d);
		dmax = std::max(dmax, d);
	}
	uint64_t	bits = end - pos;
	uint64_t	m = len - 1;

	ASSERT_EQ(bits, m * (L + 1) + (range >> L)) << what << " group " << g;
	if (L > 0)
	{
		ASSERT_LE(bits, m * L + (range >> (L - 1))) << what << " group " << g << ": L - 1 is cheaper";
	}
	if (L < 63)
	{
		ASSERT_LE(bits, m * (L + 2) + (range >> (L + 1))) << what << " group " << g << ": L + 1 is cheaper";
	}
	ASSERT_LT(bits, (uint64_t) len * bitw((uint64_t) dmax - (uint64_t) dmin))
		<< what << " group " << g << ": the line's residuals were not wider";
}

/*
 * One column's group tables are tight and in order: positions follow each
 * other and add up to res_bits, every group's (with a break: both parts')
 * smallest residual is 0 and its largest needs exactly the group's width,
 * the smallest group offset is 0 and the largest needs exactly gw bits, a
 * break is inside its group, a group without one has no step and the
 * largest step needs exactly hw bits (no bit wasted).
 */
void
check_column_tight(const li_cview &c, const li_ccol &hc, uint32_t n, uint32_t hw,
				   const char *what)
{
	uint64_t	pos = 0,
				omin = UINT64_MAX,
				omax = 0,
				smax = 0;

	for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
	{
		uint32_t	meta;
		uint32_t	len = std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP);
		uint64_t	umin[2] = {UINT64_MAX, UINT64_MAX},
					umax = 0,
					o;
		uint64_t	f = li_bits_get(c.head, (uint64_t) g * c.hbits, c.hbits);
		uint32_t	b = (uint32_t) (f & 63);

		std::memcpy(&meta, c.table + (size_t) g * 4, sizeof(meta));
		uint32_t	w = meta >> 24;

		ASSERT_EQ(meta & 0xFFFFFF, pos) << what << " group " << g;
		if (meta & LI_CLEAF_EF)
		{
			ASSERT_NO_FATAL_FAILURE(check_ef_tight(c, g, len, what));
			o = li_bits_get(c.goff, (uint64_t) g * c.gw, c.gw);
			omin = std::min(omin, o);
			omax = std::max(omax, o);
			pos = group_end(c, g);
			continue;
		}
		ASSERT_LE(w, 64u) << what << " group " << g;
		ASSERT_LT(b, len) << what << " group " << g << ": break";
		if (b == 0)
		{
			ASSERT_EQ(f, 0u) << what << " group " << g << ": side or step without a break";
		}
		for (uint32_t j = 0; j < len; j++)
		{
			uint64_t	u = li_bits_get(c.res, pos + (uint64_t) j * w, w);

			umin[j < b] = std::min(umin[j < b], u);
			umax = std::max(umax, u);
		}
		ASSERT_EQ(umin[0], 0u) << what << " group " << g << ": smallest residual";
		if (b > 0)
		{
			ASSERT_EQ(umin[1], 0u) << what << " group " << g << ": smallest head residual";
		}
		ASSERT_EQ(bitw(umax), w) << what << " group " << g << ": width not tight";
		o = li_bits_get(c.goff, (uint64_t) g * c.gw, c.gw);
		omin = std::min(omin, o);
		omax = std::max(omax, o);
		smax = std::max(smax, f >> LI_CLEAF_BRK_BITS);
		pos += (uint64_t) len * w;
	}
	ASSERT_EQ(pos, hc.res_bits) << what;
	ASSERT_EQ(c.hbits ? bitw(smax) : 0u, hw) << what << ": step width not tight";
	ASSERT_LE(hw, (uint32_t) LI_CLEAF_HW_MAX) << what;
	if (n > 0)
	{
		ASSERT_EQ(omin, 0u) << what << ": smallest group offset";
		ASSERT_EQ(bitw(omax), c.gw) << what << ": group offset width not tight";
	}
}

/*
 * li_cleaf_decode_itups over [from, to) with stop returns what
 * decode_items did there (count decoded, items[0, nitems)) as index
 * tuples: the same TIDs, info LI_ITUP_INFO, datum key ^ 2^63
 */
void
expect_itups(const li_cleaf_view &v, uint32_t from, uint32_t to, uint64_t stop,
			 uint32_t count, const std::vector<li_item> &items, uint32_t nitems)
{
	std::vector<li_itup> t(items.size() + 1);
	uint32_t	nt = 12345;

	ASSERT_EQ(li_cleaf_decode_itups(&v, from, to, stop, t.data(), &nt), count)
		<< "decode_itups from " << from << " stop " << stop;
	ASSERT_EQ(nt, nitems) << "decode_itups count from " << from << " stop " << stop;
	for (uint32_t j = 0; j < nitems; j++)
	{
		ASSERT_EQ(std::memcmp(t[j].tid, items[j].tid, 6), 0) << "decode_itups tid " << j;
		ASSERT_EQ(t[j].info, LI_ITUP_INFO) << "decode_itups info " << j;
		ASSERT_EQ(t[j].datum, items[j].key ^ (UINT64_C(1) << 63)) << "decode_itups datum " << j;
	}
}

/* both columns of a block are tight (check_column_tight) */
void
check_tight(const std::vector<uint8_t> &block)
{
	li_cleaf_view v;
	li_cleaf_hdr h = hdr_of(block);

	li_cleaf_open(block.data(), &v);
	ASSERT_EQ(h.flags & ~(LI_CLEAF_KBRK | LI_CLEAF_TBRK | LI_CLEAF_KEF), 0);
	ASSERT_EQ(v.key.hbits, li_chead_bits(h.flags & LI_CLEAF_KBRK, h.khw));
	ASSERT_EQ(v.tid.hbits, li_chead_bits(h.flags & LI_CLEAF_TBRK, h.thw));
	ASSERT_NO_FATAL_FAILURE(check_column_tight(v.key, h.key, v.n, h.khw, "key"));
	ASSERT_NO_FATAL_FAILURE(check_column_tight(v.tid, h.tid, v.n, h.thw, "TID"));
}

/*
 * The block decodes to exactly e: validate accepts it, every key_at and
 * tid_at (block, offset, liveness) and tombstone bit matches, decode_keys
 * too, the header is li_cleaf_plan's of e (or of `planned`: the entries
 * before kills) and li_cleaf_get_widths agrees with the group tables.
 */
void
check_round_trip(const Entries &e, const std::vector<uint8_t> &block,
				 const Entries *planned = nullptr)
{
	li_cleaf_view v;
	li_cleaf_hdr h = plan_of(planned ? *planned : e);
	const uint32_t n = e.n();
	const uint32_t ng = li_cleaf_ngroups(n);

	ASSERT_EQ(li_cleaf_validate(block.data(), block.size()), LI_OK);
	ASSERT_EQ(block.size() % 8, 0u);
	ASSERT_EQ(block.size(), (size_t) h.bytes);
	ASSERT_EQ(std::memcmp(block.data(), &h, sizeof(h)), 0)
		<< "stored header differs from li_cleaf_plan's";
	li_cleaf_open(block.data(), &v);
	ASSERT_EQ(v.n, n);
	ASSERT_EQ(v.mult, h.mult);
	ASSERT_EQ(v.bytes, h.bytes);
	ASSERT_EQ(v.key.gw, (uint32_t) h.kgw);
	ASSERT_EQ(v.tid.gw, (uint32_t) h.tgw);

	/* the widths reported for statistics */
	li_cleaf_widths w = widths_of(block);
	uint32_t	kmax = 0,
				tmax = 0;

	for (uint32_t g = 0; g < ng; g++)
	{
		kmax = std::max(kmax, group_width(v.key, g));
		tmax = std::max(tmax, group_width(v.tid, g));
	}
	ASSERT_EQ(w.key_max, kmax);
	ASSERT_EQ(w.tid_max, tmax);
	ASSERT_LE(w.key_max, 64u);
	ASSERT_LE(w.tid_max, 64u);
	ASSERT_EQ(w.key_bits, h.key.res_bits + (uint64_t) ng * (32 + h.kgw + v.key.hbits));
	ASSERT_EQ(w.tid_bits, h.tid.res_bits + (uint64_t) ng * (32 + h.tgw + v.tid.hbits));

	for (uint32_t i = 0; i < n; i++)
	{
		uint16_t	t[3] = {1, 1, 1};
		int			live = li_cleaf_tid_at(&v, i, t);

		ASSERT_EQ(li_cleaf_key_at(&v, i), e.keys[i]) << "key " << i << " of " << n;
		ASSERT_EQ(blk_of(t), blk_of(&e.tids[3 * i])) << "block of TID " << i << " of " << n;
		ASSERT_EQ(t[2], e.tids[3 * i + 2]) << "offset of TID " << i << " of " << n;
		ASSERT_EQ(live, e.tids[3 * i + 2] != 0 ? 1 : 0) << "liveness of " << i;
		ASSERT_EQ(li_cleaf_dead(&v, i), live ? 0 : 1) << "tombstone bit of " << i;
	}
	std::vector<uint64_t> dec(n + 1, 0x5A5A);

	li_cleaf_decode_keys(&v, dec.data());
	ASSERT_EQ(dec[n], 0x5A5Au) << "decode_keys wrote past n";
	dec.resize(n);
	ASSERT_EQ(dec, e.keys);

	/* the in-order decoder: every start, stops at and after keys */
	std::vector<uint64_t> rk(n + 1);
	std::vector<uint16_t> rt(3 * (n + 1));

	for (uint32_t from = 0; from <= n; from += (n > 200 ? 37 : 1))
	{
		for (uint64_t stop : {UINT64_MAX, from < n ? e.keys[from] : 0,
							  from + 5 < n ? e.keys[from + 5] : 0,
							  from + 70 < n ? e.keys[from + 70] - 1 : 0})
		{
			uint32_t	expect = n - from;

			/* keys are sorted: decoding stops at the first key > stop */
			for (uint32_t i = from; i < n; i++)
				if (e.keys[i] > stop)
				{
					expect = i - from;
					break;
				}
			ASSERT_EQ(li_cleaf_decode_run(&v, from, n, stop, rk.data(), rt.data()), expect)
				<< "decode_run from " << from << " stop " << stop;
			for (uint32_t j = 0; j < expect; j++)
			{
				ASSERT_EQ(rk[j], e.keys[from + j]) << "decode_run key " << from + j;
				ASSERT_EQ(blk_of(&rt[3 * j]), blk_of(&e.tids[3 * (from + j)])) << "decode_run block " << from + j;
				ASSERT_EQ(rt[3 * j + 2], e.tids[3 * (from + j) + 2]) << "decode_run offset " << from + j;
			}

			/* the scans' variant: the same entries, tombstones left out */
			std::vector<li_item> items(n - from + 1);
			uint32_t	nitems = 12345;
			uint32_t	k = 0;

			ASSERT_EQ(li_cleaf_decode_items(&v, from, n, stop, items.data(), &nitems), expect)
				<< "decode_items from " << from << " stop " << stop;
			for (uint32_t j = 0; j < expect; j++)
			{
				if (rt[3 * j + 2] == 0)
					continue;
				ASSERT_LT(k, nitems) << "decode_items count " << from + j;
				ASSERT_EQ(items[k].key, rk[j]) << "decode_items key " << from + j;
				ASSERT_EQ(std::memcmp(items[k].tid, &rt[3 * j], 6), 0) << "decode_items tid " << from + j;
				ASSERT_EQ(items[k].isnull, 0) << "decode_items isnull " << from + j;
				k++;
			}
			ASSERT_EQ(k, nitems) << "decode_items count from " << from << " stop " << stop;
			expect_itups(v, from, n, stop, expect, items, nitems);
			if (::testing::Test::HasFatalFailure())
				return;
		}
	}
}

/* the windows to try for a key whose lower bound is lb among n entries */
std::vector<std::pair<int64_t, int64_t>>
windows_for(int64_t lb, int64_t n)
{
	return {
		/* right: the answer is inside (or on a border) */
		{lb, lb}, {lb - 1, lb + 1}, {lb, lb + 1}, {lb - 1, lb},
		{lb - 33, lb + 33}, {0, n}, {lb - 1000, lb + 1000},
		/* too small, off to the left or to the right */
		{lb - 10, lb - 1}, {lb - 2, lb - 1}, {lb + 1, lb + 2},
		{lb + 1, lb + 10}, {lb - 65, lb - 33}, {lb + 33, lb + 66},
		/* empty elsewhere, inverted */
		{lb - 1, lb - 1}, {lb + 1, lb + 1}, {0, 0}, {n, n},
		{lb + 5, lb - 5}, {lb, lb - 1},
		/* negative, beyond n, extremes */
		{-5, -1}, {-100, lb}, {-1, 0}, {n + 1, n + 10}, {lb, n + 100},
		{n + 1, n + 1}, {INT64_MIN, INT64_MIN}, {INT64_MIN, INT64_MAX},
		{INT64_MAX, INT64_MAX}, {INT64_MAX, INT64_MIN}, {INT64_MIN, lb},
		{lb, INT64_MAX}, {INT64_MIN, -1}, {n, INT64_MAX},
	};
}

/*
 * li_cleaf_lower_bound of key equals std::lower_bound for every window of
 * windows_for(), and uses the window exactly when the clamped window holds
 * the answer; false after the first mismatch (reported).
 */
bool
check_key(const std::vector<uint64_t> &keys, const li_cleaf_view *v,
		  uint64_t key)
{
	const int64_t n = (int64_t) keys.size();
	const uint32_t lb = std_lb(keys, key);

	if (li_cleaf_lower_bound_in(v, key, 0, v->n) != lb)
	{
		ADD_FAILURE() << "lower_bound_in key=" << key << " expected " << lb;
		return false;
	}
	for (auto w : windows_for(lb, n))
	{
		int			used = -1;
		uint32_t	got = li_cleaf_lower_bound(v, key, w.first, w.second, &used);
		int64_t		clo = std::max<int64_t>(w.first, 0);
		int64_t		chi = std::min<int64_t>(w.second, n);
		int			expect_used = (clo <= (int64_t) lb && (int64_t) lb <= chi);

		if (got != lb || used != expect_used ||
			li_cleaf_lower_bound(v, key, w.first, w.second, nullptr) != lb)
		{
			ADD_FAILURE() << "n=" << n << " key=" << key << " window [" << w.first
						  << "," << w.second << "): got " << got << " used " << used
						  << ", expected " << lb << " used " << expect_used;
			return false;
		}
	}
	return true;
}

/*
 * Exact lower bound for present keys, their neighbours (k-1, k+1, the
 * midpoint to the next key) and 0 / UINT64_MAX; every distinct key up to
 * max_probes of them (evenly spaced above that).
 */
void
check_lower_bounds(const Entries &e, const std::vector<uint8_t> &block,
				   size_t max_probes = 4096)
{
	li_cleaf_view v;
	const std::vector<uint64_t> &keys = e.keys;
	const size_t n = keys.size();
	size_t		step = std::max<size_t>(1, n / max_probes);

	li_cleaf_open(block.data(), &v);
	if (!check_key(keys, &v, 0) || !check_key(keys, &v, UINT64_MAX) ||
		!check_key(keys, &v, 1) || !check_key(keys, &v, UINT64_MAX - 1))
		return;
	for (size_t i = 0; i < n; i += step)
	{
		uint64_t	k = keys[i];
		size_t		j = std_lb(keys, k);

		if (!check_key(keys, &v, k) || !check_key(keys, &v, k - 1) ||
			!check_key(keys, &v, k + 1))
			return;
		j = (size_t) (std::upper_bound(keys.begin(), keys.end(), k) - keys.begin());
		if (j < n && !check_key(keys, &v, k + (keys[j] - k) / 2))
			return;
	}
}
/*
 * encode, round trip, tight group tables, lower bounds: everything a leaf
 * must satisfy
 */
void
check_all(const Entries &e, size_t max_probes = 4096)
{
	std::vector<uint8_t> block;

	ASSERT_TRUE(encode(e, block));
	ASSERT_NO_FATAL_FAILURE(check_round_trip(e, block));
	ASSERT_NO_FATAL_FAILURE(check_tight(block));
	check_lower_bounds(e, block, max_probes);
}

/* random heap TIDs: blocks < 54000, offsets 1..291 */
void
random_tids(Entries &e, std::mt19937_64 &rng)
{
	e.tids.resize(3 * e.keys.size());
	for (size_t i = 0; i < e.keys.size(); i++)
		set_tid(e, i, (uint32_t) (rng() % 54000), (uint16_t) (1 + rng() % 291));
}

/* key-ordered heap TIDs: consecutive, 185 a page, from block b0 */
void
heap_order_tids(Entries &e, uint32_t b0)
{
	e.tids.resize(3 * e.keys.size());
	for (size_t i = 0; i < e.keys.size(); i++)
		set_tid(e, i, b0 + (uint32_t) (i / 185), (uint16_t) (1 + i % 185));
}

/* n sorted keys of one of several adversarial shapes */
std::vector<uint64_t>
random_keys(std::mt19937_64 &rng, uint32_t n, int shape)
{
	std::vector<uint64_t> k(n);
	uint64_t	start = rng();

	switch (shape)
	{
		case 0:					/* uniform 64-bit */
			for (auto &x : k)
				x = rng();
			break;
		case 1:					/* extremes of both domains, and random */
			{
				static const uint64_t ext[] = {
					0, 1, 2, UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63,
					(UINT64_C(1) << 63) - 1, li_encode_int64(INT64_MIN),
					li_encode_int64(INT64_MAX), li_encode_int64(0),
					li_encode_int64(-1), li_encode_int64(1)};

				for (auto &x : k)
					x = (rng() % 3) ? ext[rng() % 12] : rng();
			}
			break;
		case 2:					/* dense run from a random start */
			for (uint32_t i = 0; i < n; i++)
				k[i] = start + i;
			break;
		case 3:					/* time series: step, jitter, pauses */
			{
				uint64_t	step = 1 + rng() % 1000000;
				uint64_t	jit = rng() % (step + 1);
				uint64_t	t = rng() >> 2;

				for (auto &x : k)
				{
					t += step + (rng() % 50 == 0 ? rng() % (step * 1000) : 0);
					x = t + (jit ? rng() % jit : 0);
				}
			}
			break;
		case 4:					/* few distinct values, long runs */
			{
				uint64_t	d = 1 + rng() % 8;

				for (auto &x : k)
					x = start + (rng() % d) * (rng() % 2 ? 1 : (UINT64_C(1) << 40));
			}
			break;
		case 5:					/* clusters with huge gaps */
			for (auto &x : k)
				x = (rng() % 4) * (UINT64_MAX / 4) + rng() % 100;
			break;
		default:				/* small range near one end */
			for (auto &x : k)
				x = (rng() % 2) ? rng() % 1000 : UINT64_MAX - rng() % 1000;
			break;
	}
	std::sort(k.begin(), k.end());
	return k;
}

const int kShapes = 7;


/* ---------------------------------------------------------------------
 * round trip and lower bound on adversarial inputs
 * ------------------------------------------------------------------- */

/* an empty leaf: plan, encode, validate, lower bound 0 for any window */
TEST(Leaf, Empty)
{
	Entries		e;
	li_cleaf_hdr h = plan_of(e);

	EXPECT_EQ(h.n, 0);
	EXPECT_EQ(h.version, LI_CLEAF_VERSION);
	EXPECT_EQ(h.kgw, 0);
	EXPECT_EQ(h.tgw, 0);
	EXPECT_EQ(h.mult, 1u);
	EXPECT_EQ(h.key.res_bits, 0u);
	EXPECT_EQ(h.tid.res_bits, 0u);
	EXPECT_EQ(h.bytes, li_cleaf_bytes(0, 0, 0, 0, 0, 0, 0));
	EXPECT_EQ(h.bytes, 88u);
	EXPECT_EQ(li_cleaf_plan(nullptr, nullptr, 0, &h), LI_OK);
	EXPECT_EQ(li_cleaf_fit(nullptr, nullptr, 0, 7744), 0u);
	EXPECT_EQ(li_cleaf_fit_tail(nullptr, nullptr, 0, 8152, 5, 95), 0u);

	std::vector<uint8_t> block;

	ASSERT_TRUE(encode(e, block));
	check_round_trip(e, block);

	li_cleaf_view v;
	int			used = -1;

	li_cleaf_open(block.data(), &v);
	EXPECT_EQ(li_cleaf_lower_bound(&v, 5, 0, 0, &used), 0u);
	EXPECT_EQ(used, 1);
	EXPECT_EQ(li_cleaf_lower_bound(&v, 5, 1, 3, &used), 0u);
	EXPECT_EQ(used, 0);
	EXPECT_EQ(li_cleaf_lower_bound(&v, UINT64_MAX, INT64_MIN, INT64_MAX, &used), 0u);
	EXPECT_EQ(used, 1);
	check_lower_bounds(e, block);

	li_cleaf_widths w = widths_of(block);

	EXPECT_EQ(w.key_bits, 0u);
	EXPECT_EQ(w.tid_bits, 0u);
	EXPECT_EQ(w.key_max, 0u);
	EXPECT_EQ(w.tid_max, 0u);
}

/* one entry, at either end of the key domain and in the middle: 0 bits */
TEST(Leaf, OneKey)
{
	for (uint64_t key : {UINT64_C(0), UINT64_C(42), UINT64_MAX, UINT64_C(1) << 63})
	{
		Entries		e;

		push(e, key, 7, 3);
		li_cleaf_hdr h = plan_of(e);

		EXPECT_EQ(h.kgw, 0) << key;
		EXPECT_EQ(h.tgw, 0) << key;
		EXPECT_EQ(h.mult, 4u) << key;
		EXPECT_EQ(h.key.res_bits + h.tid.res_bits, 0u) << key;
		EXPECT_EQ(h.bytes, li_cleaf_bytes(1, 0, 0, 0, 0, 0, 0)) << key;
		EXPECT_EQ(h.bytes, 104u) << key;
		check_all(e);
	}
}

/* 0 and UINT64_MAX in one leaf; residuals that need all 64 bits */
TEST(Leaf, Extremes64)
{
	Entries		e;

	push(e, 0, 1, 1);
	push(e, UINT64_MAX, 1, 2);
	push(e, UINT64_MAX, 1, 3);
	{
		EfOff		off;

		EXPECT_EQ(widths_of(e).key_max, 64u);
		check_all(e);
	}
	/*
	 * Elias-Fano, L = 63: two values of 63 low bits and a one each, and
	 * one zero (the high part 1): 129 bits for 3 entries
	 */
	EXPECT_EQ(widths_of(e).key_max, 43u);
	check_all(e);

	e = Entries();
	push(e, 0, 1, 1);
	push(e, 0, 1, 2);
	push(e, UINT64_MAX, 1, 3);
	{
		EfOff		off;

		EXPECT_GE(widths_of(e).key_max, 63u);
		check_all(e);
	}
	check_all(e);

	/* two keys: the line is exact whatever they are */
	e = Entries();
	push(e, 0, 1, 1);
	push(e, UINT64_MAX, 1, 2);
	EXPECT_EQ(widths_of(e).key_max, 0u);
	EXPECT_EQ(plan_of(e).key.res_bits, 0u);
	check_all(e);

	/* 0 and UINT64_MAX in groups of their own, dense runs elsewhere */
	e = Entries();
	for (uint32_t i = 0; i < 64; i++)
		push(e, i / 63 * 5, 1, (uint16_t) (1 + i));
	for (uint32_t i = 0; i < 64; i++)
		push(e, (UINT64_C(1) << 62) + i, 2, (uint16_t) (1 + i));
	for (uint32_t i = 0; i < 64; i++)
		push(e, UINT64_MAX - 63 + i, 3, (uint16_t) (1 + i));
	e.keys[0] = 0;
	e.keys.back() = UINT64_MAX;
	check_all(e);

	/* every int64 extreme, encoded, with duplicates, in one leaf */
	e = Entries();
	for (int64_t x : {INT64_MIN, INT64_MIN, INT64_MIN + 1, (int64_t) -1,
			 (int64_t) 0, (int64_t) 0, (int64_t) 1, INT64_MAX - 1, INT64_MAX,
			 INT64_MAX})
		push(e, li_encode_int64(x), 100, 1);
	check_all(e);

	/* uint64 extremes and random keys, many leaf sizes */
	std::mt19937_64 rng(4242);

	for (uint32_t n : {3u, 4u, 5u, 17u, 64u, 65u, 127u, 500u, 3000u})
	{
		Entries		f;

		f.keys = random_keys(rng, n, 1);
		f.keys.front() = 0;
		f.keys.back() = UINT64_MAX;
		random_tids(f, rng);
		check_all(f);
	}
}

/* all keys equal: 0 key bits in every group, the lower bound is 0 or n */
TEST(Leaf, AllEqual)
{
	for (uint64_t key : {UINT64_C(0), UINT64_C(12345), UINT64_MAX})
		for (uint32_t n : {2u, 3u, 100u, (uint32_t) LI_CLEAF_MAX})
		{
			Entries		e;

			for (uint32_t i = 0; i < n; i++)
				push(e, key, i / 185, (uint16_t) (1 + i % 185));
			li_cleaf_hdr h = plan_of(e);

			EXPECT_EQ(widths_of(e).key_max, 0u) << "n=" << n << " key=" << key;
			EXPECT_EQ(h.kgw, 0) << "n=" << n << " key=" << key;
			EXPECT_EQ(h.key.res_bits, 0u) << "n=" << n << " key=" << key;
			check_all(e);
		}
}

/*
 * dense keys (any start, any step): 0 residual bits in every group and no
 * group offsets, so a key costs only its share of the group table
 */
TEST(Leaf, Dense)
{
	std::mt19937_64 rng(7);

	for (uint64_t step : {UINT64_C(1), UINT64_C(2), UINT64_C(1000), UINT64_C(1) << 40})
		for (uint32_t n : {2u, 3u, 64u, 65u, 552u, (uint32_t) LI_CLEAF_MAX})
		{
			Entries		e;
			uint64_t	start = (step == 1) ? UINT64_MAX - n + 1 : rng() % 1000;

			for (uint32_t i = 0; i < n; i++)
				e.keys.push_back(start + i * step);
			heap_order_tids(e, 1000);
			li_cleaf_widths w = widths_of(e);
			li_cleaf_hdr h = plan_of(e);

			SCOPED_TRACE(testing::Message() << "n=" << n << " step=" << step);
			EXPECT_EQ(w.key_max, 0u);
			EXPECT_EQ(h.kgw, 0);
			EXPECT_EQ(h.key.res_bits, 0u);
			EXPECT_EQ(w.key_bits, (uint64_t) li_cleaf_ngroups(n) * 32);
			check_all(e);
		}
}

/*
 * A step in the data costs one group offset: dense runs broken by jumps at
 * group borders keep 0 residual bits in every group (the jumps go to the
 * group offsets); a jump inside a group widens that group only (with at
 * least three groups: the line's slope is their median), or is that
 * group's break where the column takes breaks
 */
TEST(Leaf, GroupOffsets)
{
	std::mt19937_64 rng(17);

	for (uint32_t n : {130u, 200u, 1000u, (uint32_t) LI_CLEAF_MAX})
	{
		Entries		e;
		uint64_t	k = rng() % 1000;
		uint64_t	jumps = 0;

		for (uint32_t i = 0; i < n; i++)
		{
			if (i > 0 && i % LI_CLEAF_GROUP == 0)
			{
				uint64_t	j = 1 + (rng() >> (24 + rng() % 40));

				k += j;
				jumps += j;
			}
			e.keys.push_back(k++);
		}
		random_tids(e, rng);
		li_cleaf_widths w = widths_of(e);
		li_cleaf_hdr h = plan_of(e);

		SCOPED_TRACE(testing::Message() << "n=" << n);
		EXPECT_EQ(w.key_max, 0u);
		EXPECT_EQ(h.key.res_bits, 0u);
		EXPECT_GT(h.kgw, 0);
		EXPECT_LE(h.kgw, bitw(jumps));
		check_all(e, 512);

		/* one jump of 2^40 inside group 1: group 1 only needs bits */
		for (uint32_t i = LI_CLEAF_GROUP + 17; i < n; i++)
			e.keys[i] += UINT64_C(1) << 40;
		std::vector<uint8_t> block;

		ASSERT_TRUE(encode(e, block));
		li_cleaf_view v;
		uint32_t	wide = 0;

		li_cleaf_open(block.data(), &v);
		for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
			if (group_width(v.key, g) > 0)
			{
				EXPECT_EQ(g, 1u);
				EXPECT_GE(group_width(v.key, g), 40u);
				wide++;
			}
		if (hdr_of(block).flags & LI_CLEAF_KBRK)
		{
			/* or, with breaks, a break at 17 and a step: no group needs bits */
			EXPECT_EQ(wide, 0u);
			EXPECT_EQ(li_bits_get(v.key.head, v.key.hbits, 6), 17u);
			EXPECT_EQ(hdr_of(block).khw, 41);
		}
		else
		{
			EXPECT_EQ(wide, 1u);
		}
		check_all(e, 512);
	}
}

/*
 * The line's slope is the median of the groups' slopes: groups of steps
 * 1, 4 and 16 in any order, most of step 4, take a slope of exactly 4, so
 * that the step-4 groups need no residual bits and only the others do
 */
TEST(Leaf, LineSlopeIsMedian)
{
	std::mt19937_64 rng(23);

	for (int rep = 0; rep < 20; rep++)
	{
		std::vector<uint64_t> steps = {1, 1, 4, 4, 4, 4, 4, 16, 16};
		uint32_t	extra = (uint32_t) (rep % 4);	/* more of each */

		for (uint32_t j = 0; j < extra; j++)
			steps.insert(steps.end(), {1, 4, 4, 16});
		std::shuffle(steps.begin(), steps.end(), rng);
		Entries		e;
		uint64_t	k = rng() >> 8;

		for (uint64_t st : steps)
			for (uint32_t i = 0; i < LI_CLEAF_GROUP; i++)
			{
				e.keys.push_back(k);
				k += st;
			}
		heap_order_tids(e, 5);
		li_cleaf_hdr h = plan_of(e);
		std::vector<uint8_t> block;

		ASSERT_TRUE(encode(e, block));
		li_cleaf_view v;

		li_cleaf_open(block.data(), &v);
		EXPECT_EQ(h.key.slope_int, 4u);
		EXPECT_EQ(h.key.slope_frac, 0u);
		for (uint32_t g = 0; g < steps.size(); g++)
			EXPECT_EQ(group_width(v.key, g) == 0, steps[g] == 4) << "group " << g;
		check_all(e);
	}
}

/* how many key groups of a block are Elias-Fano coded */
uint32_t
ef_groups(const std::vector<uint8_t> &block)
{
	li_cleaf_view v;
	uint32_t	k = 0;

	li_cleaf_open(block.data(), &v);
	for (uint32_t g = 0; g < li_cleaf_ngroups(v.n); g++)
		k += (group_meta(v.key, g) & LI_CLEAF_EF) != 0;
	return k;
}

/*
 * Elias-Fano key groups: exponential gaps (a time series, uniform keys)
 * take them and are smaller than the line's residuals; equal neighbours,
 * L = 0 (gaps of 1-2), L = 63 (gaps near 2^63), an outage of an hour in
 * a group, a last group of 2 entries, UINT64_MAX; each round-trips and
 * searches exactly (check_all: every key_at, decode, window and lower
 * bound), with the tables tight (check_ef_tight)
 */
TEST(Leaf, EliasFanoGroups)
{
	std::mt19937_64 rng(71);

	for (int shape = 0; shape < 7; shape++)
		for (uint32_t n : {2u, 3u, 64u, 65u, 66u, 130u, 1000u, 2300u})
		{
			Entries		e;
			uint64_t	k = shape == 6 ? UINT64_MAX - 3 * (uint64_t) n : (rng() >> 8);

			for (uint32_t i = 0; i < n; i++)
			{
				uint64_t	u = rng();
				uint64_t	gap = 0;

				switch (shape)
				{
					case 0:		/* exponential, mean 1e6 */
						gap = 2 + (uint64_t) (-std::log(1.0 - (double) (u >> 11) / 9007199254740992.0) * 1e6);
						break;
					case 1:		/* the same with an outage of ~1 h now and then */
						gap = 2 + (u % 2000000) + ((u >> 40) % 97 == 0 ? 3600000000u : 0);
						break;
					case 2:		/* gaps of 0, 1 or 2: L = 0, equal neighbours */
						gap = u % 3;
						break;
					case 3:		/* huge gaps: L near 63 */
						gap = (u >> 1) / (n + 1);
						break;
					case 4:		/* uniform 64-bit keys */
						gap = u % (UINT64_C(1) << 44);
						break;
					case 5:		/* mostly equal, now and then far */
						gap = (u % 16 == 0) ? (u >> 20) : 0;
						break;
					default:	/* up to UINT64_MAX */
						gap = u % 4;
						break;
				}
				if (i > 0)
					k = (k > UINT64_MAX - gap) ? UINT64_MAX : k + gap;
				push(e, k, (uint32_t) (u >> 40) % 50000, (uint16_t) (1 + (u >> 20) % 290));
			}
			SCOPED_TRACE(testing::Message() << "shape " << shape << " n=" << n);
			ASSERT_NO_FATAL_FAILURE(check_all(e, 1024));

			std::vector<uint8_t> with,
						without;

			ASSERT_TRUE(encode(e, with));
			{
				EfOff		off;

				ASSERT_TRUE(encode(e, without));
				ASSERT_NO_FATAL_FAILURE(check_all(e, 256));
			}
			EXPECT_EQ(ef_groups(without), 0u);
			EXPECT_LE(with.size(), without.size());
			if ((shape == 0 || shape == 4) && n >= 64)
			{
				EXPECT_GT(ef_groups(with), 0u);
				EXPECT_LT(hdr_of(with).key.res_bits, hdr_of(without).key.res_bits);
			}
		}
}

/*
 * time-series-like keys: steady step, small jitter; every group's width
 * follows the jitter, and an outage (a gap of an hour) widens at most the
 * group it falls in
 */
TEST(Leaf, TimeSeriesJitter)
{
	std::mt19937_64 rng(11);

	for (uint64_t jitter : {UINT64_C(0), UINT64_C(1), UINT64_C(16), UINT64_C(1000)})
		for (bool outage : {false, true})
		{
			Entries		e;
			const uint64_t step = 1000000;
			const uint64_t t0 = UINT64_C(1700000000000000000);

			for (uint32_t i = 0; i < 2000; i++)
				e.keys.push_back(t0 + i * step + (jitter ? rng() % jitter : 0) +
								 (outage && i >= 1234 ? UINT64_C(3600000000000) : 0));
			random_tids(e, rng);
			std::vector<uint8_t> block;

			ASSERT_TRUE(encode(e, block));
			li_cleaf_view v;
			uint32_t	wide = 0;

			/* residuals within [0, 2 * jitter] of the group's line, plus rounding */
			uint32_t	bound = jitter ? 1 + bitw(2 * jitter) : 0;

			li_cleaf_open(block.data(), &v);
			for (uint32_t g = 0; g < li_cleaf_ngroups(e.n()); g++)
				if (group_width(v.key, g) > bound)
				{
					EXPECT_TRUE(outage) << "jitter " << jitter << " group " << g;
					EXPECT_EQ(g, 1234u / LI_CLEAF_GROUP) << "jitter " << jitter;
					wide++;
				}
			EXPECT_LE(wide, 1u);
			if (!outage)
			{
				EXPECT_LE(widths_of(block).key_max, bound) << "jitter " << jitter;
			}
			check_all(e);
		}
}

/*
 * TIDs: blocks 0 and 0xFFFFFFFE in one leaf, offsets up to 65535 and 291,
 * equal ones; M is the largest offset + 1 and every TID comes back exactly
 */
TEST(Leaf, TidExtremes)
{
	Entries		e;

	for (uint32_t i = 0; i < 40; i++)
		push(e, 10 * i, (i % 2) ? 0xFFFFFFFEu : 0u, (uint16_t) (1 + i));
	li_cleaf_hdr h = plan_of(e);

	EXPECT_EQ(h.mult, 41u);
	EXPECT_GE(widths_of(e).tid_max, 32u);
	check_all(e);

	/* InvalidBlockNumber too, and the largest offset: x = 2^48 - 1 */
	set_tid(e, 5, 0xFFFFFFFFu, 65535);
	h = plan_of(e);
	EXPECT_EQ(h.mult, 65536u);
	check_all(e);

	/* block 0 offset 1 next to block 0xFFFFFFFF offset 65535, 64 times */
	for (uint32_t i = 0; i < 40; i++)
		set_tid(e, i, (i % 2) ? 0xFFFFFFFFu : 0u, (i % 2) ? 65535 : 1);
	EXPECT_EQ(plan_of(e).mult, 65536u);
	check_all(e);

	/* all blocks near 2^32, offsets 291 (MaxHeapTuplesPerPage) */
	for (uint32_t i = 0; i < 40; i++)
		set_tid(e, i, 0xFFFFFFF0u + (i % 15), 291);
	h = plan_of(e);
	EXPECT_EQ(h.mult, 292u);
	EXPECT_LE(widths_of(e).tid_max, bitw(15 * 292) + 1);
	check_all(e);

	/* every offset equal: M = offset + 1 */
	for (uint16_t off : {(uint16_t) 1, (uint16_t) 185, (uint16_t) 291, (uint16_t) 65535})
	{
		for (uint32_t i = 0; i < 40; i++)
			set_tid(e, i, 54000 - i, off);
		h = plan_of(e);
		EXPECT_EQ(h.mult, (uint32_t) off + 1);
		check_all(e);
	}

	/* one block, consecutive offsets: dense TIDs, 0 bits */
	for (uint32_t i = 0; i < 40; i++)
		set_tid(e, i, 77, (uint16_t) (1 + i));
	EXPECT_EQ(widths_of(e).tid_max, 0u);
	EXPECT_EQ(plan_of(e).tid.res_bits, 0u);
	check_all(e);

	/* every offset 0 (all dead): M = 1, 0 bits */
	for (uint32_t i = 0; i < 40; i++)
		set_tid(e, i, 77, 0);
	h = plan_of(e);
	EXPECT_EQ(h.mult, 1u);
	EXPECT_EQ(widths_of(e).tid_max, 0u);
	check_all(e);

	/* offsets over the whole 16-bit range, random blocks up to 2^32 - 1 */
	std::mt19937_64 rng(5);

	for (int rep = 0; rep < 20; rep++)
	{
		for (uint32_t i = 0; i < 40; i++)
			set_tid(e, i, (uint32_t) rng(), (uint16_t) rng());
		check_all(e);
	}

	/* the same over several groups */
	Entries		f;

	f.keys = random_keys(rng, 3000, 0);
	f.tids.resize(3 * 3000);
	for (uint32_t i = 0; i < 3000; i++)
		set_tid(f, i, (i % 3 == 0) ? 0 : (i % 3 == 1) ? 0xFFFFFFFEu : (uint32_t) rng(),
				(uint16_t) ((i % 5 == 0) ? 65535 : (i % 5 == 1) ? 291 : rng()));
	check_all(f, 512);
}

/*
 * A heap in key order (consecutive TIDs, 185 a page) needs at most one TID
 * bit in any group: its TIDs are nearly dense as blk * M + off
 */
TEST(Leaf, HeapOrderTids)
{
	std::mt19937_64 rng(19);

	for (uint32_t n : {64u, 552u, 2000u, (uint32_t) LI_CLEAF_MAX})
		for (int shape = 0; shape < 3; shape++)
		{
			Entries		e;

			e.keys = random_keys(rng, n, shape);
			heap_order_tids(e, (uint32_t) (rng() % 1000000));
			li_cleaf_widths w = widths_of(e);

			SCOPED_TRACE(testing::Message() << "n=" << n << " shape " << shape);
			EXPECT_EQ(plan_of(e).mult, std::min<uint32_t>(n, 185) + 1);
			EXPECT_LE(w.tid_max, 1u);
			EXPECT_LE((double) w.tid_bits / n, 2.0);
			check_all(e, 512);
		}
}

/* LI_CLEAF_MAX entries of every shape, and random TIDs */
TEST(Leaf, MaxEntries)
{
	std::mt19937_64 rng(99);

	for (int shape = 0; shape < kShapes; shape++)
	{
		Entries		e;

		e.keys = random_keys(rng, LI_CLEAF_MAX, shape);
		random_tids(e, rng);
		check_all(e, small_scale() ? 256 : 2048);
	}
}

/* many random leaves: every shape, random n (sometimes LI_CLEAF_MAX) */
TEST(Leaf, RandomLeaves)
{
	std::mt19937_64 rng(2024);
	const int	iters = small_scale() ? 150 : 1500;

	for (int it = 0; it < iters; it++)
	{
		uint32_t	n;

		switch (rng() % 4)
		{
			case 0:
				n = (uint32_t) (rng() % 10);
				break;
			case 1:
				n = (uint32_t) (rng() % 200);
				break;
			case 2:
				n = (uint32_t) (rng() % 2000);
				break;
			default:
				n = (rng() % 4 == 0) ? LI_CLEAF_MAX : (uint32_t) (rng() % LI_CLEAF_MAX);
				break;
		}
		Entries		e;

		e.keys = random_keys(rng, n, (int) (rng() % kShapes));
		switch (rng() % 3)
		{
			case 0:
				random_tids(e, rng);
				break;
			case 1:
				heap_order_tids(e, (uint32_t) rng());
				break;
			default:
				{
					/* random widths: blocks of 0..32 bits, offsets of 0..16 */
					uint32_t	sb = (uint32_t) (rng() % 33),
								so = (uint32_t) (rng() % 17);

					e.tids.resize(3 * n);
					for (uint32_t i = 0; i < n; i++)
						set_tid(e, i, (uint32_t) ((rng() & 0xFFFFFFFF) >> sb),
								(uint16_t) ((rng() & 0xFFFF) >> so));
				}
				break;
		}
		SCOPED_TRACE(testing::Message() << "iteration " << it << " n=" << n);
		check_all(e, small_scale() ? 64 : 256);
		if (HasFatalFailure() || HasNonfatalFailure())
			return;
	}
}

/*
 * Keys of n <= 64 entries (one group) whose planned key width is exactly
 * kw (random tries, then patterns for the widest): sorted keys below
 * 2^(kw+1).  One group's residual bits are n times its width.
 */
std::vector<uint64_t>
keys_of_width(std::mt19937_64 &rng, uint32_t n, uint32_t kw)
{
	std::vector<uint16_t> tids(3 * n, 1);
	std::vector<uint64_t> k(n);
	li_cleaf_hdr h;

	for (int attempt = 0; attempt < 1000; attempt++)
	{
		uint32_t	lim = kw + 1 - (uint32_t) (attempt % 2);

		for (auto &x : k)
			x = lim >= 64 ? rng() : rng() & ((UINT64_C(1) << lim) - 1);
		if (attempt % 3 == 2)
		{
			/* 0, ..., 0, X: residuals -i*X/(n-1) */
			std::fill(k.begin(), k.end() - 1, 0);
			if (kw == 64)		/* 0, 0, UINT64_MAX, ...: needs all 64 */
				std::fill(k.begin() + 2, k.end(), UINT64_MAX);
		}
		std::sort(k.begin(), k.end());
		li_cleaf_plan(k.data(), tids.data(), n, &h);
		if (h.key.res_bits == n * kw)
			return k;
	}
	ADD_FAILURE() << "no keys of width " << kw;
	return k;
}

/*
 * TIDs of n <= 64 entries (one group) whose TID width is exactly bb + ob:
 * entries 0 and n - 1 are (b0, 0), the smallest x (a flat line), entry 2
 * is (b0 + 2^bb - 1, 2^ob - 1), the largest (M = 2^ob), the others random
 * in between; offsets 0 are tombstones.
 */
void
tids_of_width(std::mt19937_64 &rng, Entries &e, uint32_t bb, uint32_t ob)
{
	const uint32_t n = e.n();
	uint64_t	span = UINT64_C(1) << bb;
	uint32_t	b0 = (uint32_t) (rng() % ((UINT64_C(1) << 32) - span + 1));
	uint32_t	omask = (1u << ob) - 1;

	e.tids.resize(3 * n);
	for (uint32_t i = 0; i < n; i++)
		set_tid(e, i, b0 + (uint32_t) (rng() % span), (uint16_t) (rng() & omask));
	set_tid(e, 0, b0, 0);
	set_tid(e, n - 1, b0, 0);
	set_tid(e, 2, b0 + (uint32_t) (span - 1), (uint16_t) omask);
}

/*
 * Every key width 0..64 with TID widths 0..48 round-trips, the fields
 * falling on every bit phase (n = 19, odd widths among them)
 */
TEST(Leaf, AllWidths)
{
	EfOff		off;			/* the widths of the line's residuals */
	std::mt19937_64 rng(31);
	const uint32_t n = 19;

	for (uint32_t kw = 0; kw <= 64; kw++)
		for (uint32_t tw = 0; tw <= 48; tw += (small_scale() && tw >= 3) ? 5 : 1)
		{
			uint32_t	ob = std::min<uint32_t>(tw, (uint32_t) (rng() % 17));
			uint32_t	bb = tw - ob;

			if (bb > 32)
			{
				bb = 32;
				ob = tw - 32;
			}
			Entries		e;

			e.keys = keys_of_width(rng, n, kw);
			tids_of_width(rng, e, bb, ob);
			li_cleaf_hdr h = plan_of(e);

			SCOPED_TRACE(testing::Message() << "kw " << kw << " bb " << bb << " ob " << ob);
			ASSERT_EQ(h.key.res_bits, n * kw);
			ASSERT_EQ(h.tid.res_bits, n * tw);
			ASSERT_EQ(h.mult, 1u << ob);
			ASSERT_EQ(h.kgw + h.tgw, 0);
			check_all(e);
			if (HasFatalFailure())
				return;
		}
}

/*
 * Groups of many different widths in one leaf (positions in the residual
 * array at every bit phase, group tables of 70 groups): each group's keys
 * spread over 2^w, w from a list where small widths are the majority (the
 * median slope stays small)
 */
TEST(Leaf, MixedGroupWidths)
{
	std::mt19937_64 rng(37);

	for (int rep = 0; rep < (small_scale() ? 2 : 8); rep++)
	{
		Entries		e;
		uint64_t	start = rng() % 1000;
		std::vector<uint32_t> ws;

		for (uint32_t g = 0; g < 70; g++)
			ws.push_back(g < 40 ? g % 13 : 13 + (g - 40) * 44 / 29);
		std::shuffle(ws.begin(), ws.end(), rng);
		for (uint32_t g = 0; g < 70; g++)
		{
			uint32_t	len = (g == 69) ? 1 + (uint32_t) (rng() % 64) : 64;
			std::vector<uint64_t> k(len);

			for (auto &x : k)
				x = start + (ws[g] ? rng() >> (64 - ws[g]) : 0);
			std::sort(k.begin(), k.end());
			e.keys.insert(e.keys.end(), k.begin(), k.end());
			start = e.keys.back() + 1 + (rng() % 100);
		}
		random_tids(e, rng);
		std::vector<uint8_t> block;

		ASSERT_TRUE(encode(e, block));
		li_cleaf_view v;
		std::set<uint32_t> seen;

		li_cleaf_open(block.data(), &v);
		for (uint32_t g = 0; g < li_cleaf_ngroups(e.n()); g++)
			seen.insert(group_width(v.key, g));
		EXPECT_GE(seen.size(), 30u);
		check_all(e, 1024);
	}
}

/* ---------------------------------------------------------------------
 * tombstones in place
 * ------------------------------------------------------------------- */

/* bits [from, to) of the array at p set to 1 */
void
set_bits(uint8_t *p, uint64_t from, uint64_t to)
{
	for (uint64_t b = from; b < to; b++)
		p[b / 8] |= (uint8_t) (1u << (b % 8));
}

/*
 * Every bit of block that no reader looks at set to 1: the tombstone
 * bitmap past n, each column's group offsets past ngroups * gw, break
 * fields past ngroups * their bits and residuals past res_bits, the slack
 * and the padding to 8 bytes
 */
void
set_padding(std::vector<uint8_t> &block)
{
	li_cleaf_view v;
	li_cleaf_hdr h = hdr_of(block);
	const uint32_t ng = li_cleaf_ngroups(h.n);
	uint8_t    *b = block.data();

	li_cleaf_open(b, &v);
	set_bits(b + LI_CLEAF_HDR, h.n, (uint64_t) (v.key.table - b - LI_CLEAF_HDR) * 8);
	set_bits(b + (v.key.goff - block.data()), (uint64_t) ng * h.kgw,
			 (uint64_t) (v.key.head - v.key.goff) * 8);
	set_bits(b + (v.key.head - block.data()), (uint64_t) ng * v.key.hbits,
			 (uint64_t) (v.key.res - v.key.head) * 8);
	set_bits(b + (v.key.res - block.data()), h.key.res_bits,
			 (uint64_t) (v.tid.table - v.key.res) * 8);
	set_bits(b + (v.tid.goff - block.data()), (uint64_t) ng * h.tgw,
			 (uint64_t) (v.tid.head - v.tid.goff) * 8);
	set_bits(b + (v.tid.head - block.data()), (uint64_t) ng * v.tid.hbits,
			 (uint64_t) (v.tid.res - v.tid.head) * 8);
	set_bits(b + (v.tid.res - block.data()), h.tid.res_bits,
			 (uint64_t) (b + block.size() - v.tid.res) * 8);
}

/*
 * li_cleaf_kill(i) sets exactly entry i's tombstone bit: that one bit of
 * the block changes, entry i then decodes with its block and offset 0 and
 * tid_at returns 0, every key and every other TID stays, the block stays
 * valid; killing again changes nothing.  First and last entry, every bit
 * phase of the bitmap, one and several groups, n = LI_CLEAF_MAX.
 */
TEST(Leaf, Kill)
{
	std::mt19937_64 rng(77);

	for (uint32_t n : {1u, 2u, 7u, 8u, 9u, 23u, 64u, 65u, 200u, (uint32_t) LI_CLEAF_MAX})
		for (int layout = 0; layout < 3; layout++)
		{
			Entries		e;

			e.keys = random_keys(rng, n, (int) (rng() % kShapes));
			if (layout == 0)
				random_tids(e, rng);
			else if (layout == 1)
				heap_order_tids(e, (uint32_t) rng());
			else
			{
				e.tids.resize(3 * n);
				for (uint32_t i = 0; i < n; i++)
					set_tid(e, i, (uint32_t) rng(), (uint16_t) (1 + rng() % 65535));
			}
			std::vector<uint8_t> block;

			ASSERT_TRUE(encode(e, block));
			std::vector<uint32_t> ks;

			if (n <= 200)
				for (uint32_t k = 0; k < n; k++)
					ks.push_back(k);
			else
			{
				ks = {0, 1, 7, 8, 63, 64, 65, n / 2, n - 9, n - 8, n - 2, n - 1};
				for (int r = 0; r < 8; r++)
					ks.push_back((uint32_t) (rng() % n));
			}
			for (uint32_t k : ks)
			{
				std::vector<uint8_t> b2 = block;
				Entries		e2 = e;
				const size_t byte = LI_CLEAF_HDR + k / 8;

				li_cleaf_kill(b2.data(), k);
				set_tid(e2, k, blk_of(&e.tids[3 * k]), 0);
				SCOPED_TRACE(testing::Message() << "n=" << n << " layout " << layout
							 << " kill " << k);
				ASSERT_EQ(b2[byte], (uint8_t) (block[byte] | (1u << (k % 8))));
				ASSERT_NE(b2[byte], block[byte]);
				ASSERT_EQ(std::memcmp(b2.data(), block.data(), byte), 0)
					<< "a byte before the tombstone's changed";
				ASSERT_EQ(std::memcmp(b2.data() + byte + 1, block.data() + byte + 1,
									  block.size() - byte - 1), 0)
					<< "a byte after the tombstone's changed";
				ASSERT_NO_FATAL_FAILURE(check_round_trip(e2, b2, &e));

				li_cleaf_view v;
				uint16_t	t[3];

				li_cleaf_open(b2.data(), &v);
				ASSERT_EQ(li_cleaf_tid_at(&v, k, t), 0);
				ASSERT_EQ(t[2], 0);

				/* idempotent */
				std::vector<uint8_t> b3 = b2;

				li_cleaf_kill(b3.data(), k);
				ASSERT_EQ(b3, b2);
			}

			/* kill every entry from the middle on: all dead, keys intact */
			{
				std::vector<uint8_t> b3 = block;
				Entries		e2 = e;

				for (uint32_t j = n / 2; j < n; j++)
				{
					li_cleaf_kill(b3.data(), j);
					set_tid(e2, j, blk_of(&e.tids[3 * j]), 0);
				}
				ASSERT_NO_FATAL_FAILURE(check_round_trip(e2, b3, &e));
				check_lower_bounds(e2, b3, 256);
			}

			/* out-of-range entries are ignored (n + 1 may share n's byte) */
			std::vector<uint8_t> b4 = block;

			li_cleaf_kill(b4.data(), n);
			li_cleaf_kill(b4.data(), n + 1);
			li_cleaf_kill(b4.data(), n + 7);
			li_cleaf_kill(b4.data(), UINT32_MAX);
			ASSERT_EQ(b4, block);

			/*
			 * every bit no reader looks at set: the block still validates
			 * and decodes the same, a kill past the end does not touch them
			 */
			std::vector<uint8_t> b5 = block;

			set_padding(b5);
			ASSERT_NO_FATAL_FAILURE(check_round_trip(e, b5));
			b4 = b5;
			li_cleaf_kill(b4.data(), n);
			li_cleaf_kill(b4.data(), n + 1);
			li_cleaf_kill(b4.data(), UINT32_MAX);
			ASSERT_EQ(b4, b5);
			li_cleaf_kill(b4.data(), n - 1);
			Entries		e2 = e;

			set_tid(e2, n - 1, blk_of(&e.tids[3 * (n - 1)]), 0);
			ASSERT_NO_FATAL_FAILURE(check_round_trip(e2, b4, &e));
		}
}

/*
 * An input TID with offset 0 is encoded as a tombstone (its bit set, its
 * block kept); killing it changes nothing; in a leaf of nothing but
 * tombstones too, and in an empty block a kill changes nothing
 */
TEST(Leaf, KillTombstoneInput)
{
	std::mt19937_64 rng(78);

	for (uint32_t n : {5u, 64u, 300u})
	{
		Entries		e;

		e.keys = random_keys(rng, n, 0);
		random_tids(e, rng);
		for (uint32_t i = 0; i < n; i += 3)
			set_tid(e, i, blk_of(&e.tids[3 * i]), 0);
		std::vector<uint8_t> block;

		ASSERT_TRUE(encode(e, block));
		check_all(e);

		li_cleaf_view v;

		li_cleaf_open(block.data(), &v);
		for (uint32_t i = 0; i < n; i++)
		{
			uint16_t	t[3];

			ASSERT_EQ(li_cleaf_dead(&v, i), i % 3 == 0 ? 1 : 0) << i;
			ASSERT_EQ(li_cleaf_tid_at(&v, i, t), i % 3 == 0 ? 0 : 1) << i;
			ASSERT_EQ(blk_of(t), blk_of(&e.tids[3 * i])) << i;
		}
		std::vector<uint8_t> b2 = block;

		for (uint32_t i = 0; i < n; i += 3)
			li_cleaf_kill(b2.data(), i);
		EXPECT_EQ(b2, block);
	}

	Entries		e;

	for (uint32_t i = 0; i < 5; i++)
		push(e, i * 3, 9, 0);
	std::vector<uint8_t> block,
				b2;

	ASSERT_TRUE(encode(e, block));
	EXPECT_EQ(block[LI_CLEAF_HDR], 0x1F);
	b2 = block;
	for (uint32_t i = 0; i < 6; i++)
		li_cleaf_kill(b2.data(), i);
	EXPECT_EQ(b2, block);
	check_round_trip(e, b2);

	Entries		empty;

	ASSERT_TRUE(encode(empty, block));
	b2 = block;
	li_cleaf_kill(b2.data(), 0);
	li_cleaf_kill(b2.data(), 7);
	EXPECT_EQ(b2, block);
}

/* ---------------------------------------------------------------------
 * li_cleaf_fit, li_cleaf_fit_tail
 * ------------------------------------------------------------------- */

/* planned size of the first m entries */
size_t
bytes_of(const Entries &e, uint32_t m)
{
	li_cleaf_hdr h;

	EXPECT_EQ(li_cleaf_plan(e.keys.data(), e.tids.data(), m, &h), LI_OK);
	return h.bytes;
}

/* what m entries need with their tail room (li_cleaf_fit_tail's measure) */
uint64_t
need_of(const Entries &e, uint32_t m, uint32_t num, uint32_t den)
{
	return bytes_of(e, m) +
		LI_TAIL_ENTRY_BYTES * (((uint64_t) m * num + den - 1) / den);
}

/*
 * The m li_cleaf_fit_tail returns fits (block and tail room), m + 1 does
 * not (unless m is all there is or LI_CLEAF_MAX), m >= 1 exactly when one
 * entry fits; the first m entries encode into that many bytes
 */
void
check_fit(const Entries &e, uint32_t n, size_t avail, uint32_t num, uint32_t den)
{
	const uint32_t cap = std::min<uint32_t>(n, LI_CLEAF_MAX);
	uint32_t	m = (num == 0 && den == 1)
		? li_cleaf_fit(e.keys.data(), e.tids.data(), n, avail)
		: li_cleaf_fit_tail(e.keys.data(), e.tids.data(), n, avail, num, den);

	SCOPED_TRACE(testing::Message() << "n=" << n << " avail=" << avail << " tail "
				 << num << "/" << den << " m=" << m);
	ASSERT_LE(m, cap);
	ASSERT_EQ(m >= 1, n >= 1 && need_of(e, 1, num, den) <= avail);
	if (m == 0)
		return;
	ASSERT_LE(need_of(e, m, num, den), avail);
	if (m < cap)
	{
		ASSERT_GT(need_of(e, m + 1, num, den), avail);
	}

	std::vector<uint8_t> out(bytes_of(e, m));
	size_t		bytes = 0;

	ASSERT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), m, out.data(),
							  out.size(), &bytes), LI_OK);
	ASSERT_EQ(bytes, out.size());
}

/*
 * li_cleaf_fit and li_cleaf_fit_tail on every shape, budgets from below
 * one entry to more than LI_CLEAF_MAX entries take, tails of fillfactors
 * 95, 90, 80, 50 and odd ratios
 */
TEST(Leaf, FitBudget)
{
	std::mt19937_64 rng(555);
	const int	iters = small_scale() ? 40 : 300;

	for (int it = 0; it < iters; it++)
	{
		uint32_t	n = (it % 5 == 0) ? 2 * LI_CLEAF_MAX + (uint32_t) (rng() % 100)
			: 1 + (uint32_t) (rng() % (it % 2 ? 3000 : 20));
		Entries		e;

		e.keys = random_keys(rng, n, it % kShapes);
		if (it % 3)
			random_tids(e, rng);
		else
			heap_order_tids(e, (uint32_t) (rng() % 100000));
		for (size_t budget : {(size_t) 72, (size_t) 103, (size_t) 104, (size_t) 105,
				 (size_t) 777, (size_t) 2048, (size_t) 7744, (size_t) 8152,
				 (size_t) 32768, (size_t) 1 << 20, (size_t) (48 + rng() % 20000)})
		{
			ASSERT_NO_FATAL_FAILURE(check_fit(e, n, budget, 0, 1));
		}
		static const uint32_t tails[][2] = {{5, 95}, {10, 90}, {20, 80}, {50, 50},
											{1, 3}, {7, 1}, {0, 7}};

		for (const auto &t : tails)
		{
			ASSERT_NO_FATAL_FAILURE(check_fit(e, n, 8152, t[0], t[1]));
			ASSERT_NO_FATAL_FAILURE(check_fit(e, n, 100 + rng() % 9000, t[0], t[1]));
		}

		/* the writer's call on a page: one entry always fits */
		ASSERT_GE(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), n, 8152, 5, 95), 1u);
		ASSERT_GE(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), n, 8152, 50, 50), 1u);
	}
}

/*
 * li_cleaf_fit_tail where what an entry costs changes along the entries
 * (so an estimate from the first entries is far off): dense keys then
 * uniform ones, uniform then dense, runs of each, duplicates then a
 * cliff; heap TIDs then random ones; every budget, tail ratios from none
 * to 50 tail entries an entry
 */
TEST(Leaf, FitMixedLeaves)
{
	std::mt19937_64 rng(556);
	const int	iters = small_scale() ? 12 : 60;

	for (int it = 0; it < iters; it++)
	{
		const uint32_t n = (it % 3 == 0) ? 2 * LI_CLEAF_MAX : 1 + (uint32_t) (rng() % 9000);
		Entries		e;
		uint64_t	k = rng() % 1000;
		uint32_t	run = 1 + (uint32_t) (rng() % 3000);

		for (uint32_t i = 0; i < n; i++)
		{
			bool		cheap;

			switch (it % 4)
			{
				case 0:
					cheap = i < run;
					break;
				case 1:
					cheap = i >= run;
					break;
				case 2:
					cheap = (i / run) % 2 == 0;
					break;
				default:
					cheap = i % 1000 < 990;
					break;
			}
			k += cheap ? (it % 4 == 3 ? 0 : 1) : 1 + (rng() >> 20);
			e.keys.push_back(k);
		}
		heap_order_tids(e, 7);
		for (uint32_t i = n / 2; i < n; i++)
			if (it % 2)
				set_tid(e, i, (uint32_t) rng(), (uint16_t) (1 + rng() % 291));
		for (size_t avail : {(size_t) 104, (size_t) 300, (size_t) 4000, (size_t) 8152,
				 (size_t) 20000, (size_t) (100 + rng() % 100000)})
			for (uint32_t num : {0u, 5u, 20u, 50u})
			{
				ASSERT_NO_FATAL_FAILURE(check_fit(e, n, avail, num, num ? 100 - num : 1));
			}
		ASSERT_NO_FATAL_FAILURE(check_fit(e, n, 1 << 20, 50, 1));
		ASSERT_NO_FATAL_FAILURE(check_fit(e, n, SIZE_MAX, 5, 95));
	}
}

/* dups: runs of len equal keys (keys from key_of), TIDs random and sorted within each run */
Entries
dup_runs(std::mt19937_64 &rng, uint32_t n, uint32_t first, uint32_t len, uint64_t (*key_of) (uint32_t),
		 uint32_t blk_base, uint32_t nblk)
{
	Entries		e;
	std::vector<uint64_t> x;
	uint32_t	run = 0;

	for (uint32_t i = 0; i < n;)
	{
		uint32_t	m = std::min(n - i, run == 0 && first > 0 ? first : len);

		x.clear();
		for (uint32_t j = 0; j < m; j++)
			x.push_back((uint64_t) (blk_base + (uint32_t) (rng() % nblk)) << 16 | (1 + rng() % 291));
		std::sort(x.begin(), x.end());
		for (uint32_t j = 0; j < m; j++)
			push(e, key_of(run), (uint32_t) (x[j] >> 16), (uint16_t) (x[j] & 0xFFFF));
		i += m;
		run++;
	}
	return e;
}

/* the break of group g of a column (0 without breaks) */
uint32_t
break_of(const li_cview &c, uint32_t g)
{
	return (uint32_t) (li_bits_get(c.head, (uint64_t) g * c.hbits, c.hbits) & 63);
}

/*
 * Duplicates (runs of equal keys, their TIDs sorted, jumping back to the
 * start of the heap where the key changes): runs of 1, 2, 63, 64, 65, 100
 * and 200 over small, INT64-extreme and 2^40 key steps, heaps of 54,000
 * blocks and near 2^32, offsets up to 291: exact round trip and lower
 * bounds; with runs of 63 to 100 entries both columns take breaks (runs
 * of 64 from a group border need none; with runs of 200 the keys' breaks
 * save less than the 1 bit per entry they must), keys with breaks need no
 * residual bits in any group and the TIDs less than the heap's width
 */
TEST(Leaf, DupRunsBreaks)
{
	std::mt19937_64 rng(31);
	uint64_t	(*keyfs[]) (uint32_t) = {
		[](uint32_t r) { return (uint64_t) 10 * r + 10; },
		[](uint32_t r) { return li_encode_int64(r % 2 ? INT64_MAX - (int64_t) (100 - r) : INT64_MIN + (int64_t) r); },
		[](uint32_t r) { return (uint64_t) r << 40; },
	};

	for (uint32_t len : {1u, 2u, 63u, 64u, 65u, 100u, 200u})
		for (auto kf : keyfs)
			for (uint32_t far : {0u, 1u})
			{
				uint32_t	n = (len == 100 && far) ? LI_CLEAF_MAX : 1500;

				/* INT64 extremes: the keys ascend in code order */
				Entries		e = dup_runs(rng, n, 0, len, kf, far ? 0xFFFFFFFEu - 100000 : 0,
										 far ? 100001 : 54000);

				std::sort(e.keys.begin(), e.keys.end());
				SCOPED_TRACE(testing::Message() << "len=" << len << " far=" << far << " key0=" << e.keys[0]);
				ASSERT_NO_FATAL_FAILURE(check_all(e, 512));
				if (len < 63)
					continue;

				std::vector<uint8_t> block;
				li_cleaf_view v;

				ASSERT_TRUE(encode(e, block));
				li_cleaf_open(block.data(), &v);
				/* (runs of 64 from 0 start at the group borders: no break needed) */
				if (len != 64 && len <= 100)
				{
					EXPECT_EQ(hdr_of(block).flags, LI_CLEAF_KBRK | LI_CLEAF_TBRK);
				}
				for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
				{
					if (hdr_of(block).flags & LI_CLEAF_KBRK)
					{
						EXPECT_EQ(group_width(v.key, g), 0u) << "group " << g;
					}
				}
				/* a TID spanning the whole heap would need bitw(heap) + 0.5 bits */
				EXPECT_LT(widths_of(block).tid_bits * 2,
						  (uint64_t) n * (2 * bitw((far ? 100001 : 54000) * 292) - 1))
					<< "TID bits";
			}
}

/*
 * With breaks, a group's slopes are taken over its quarters; a last group
 * of 11 or 15 entries has five "quarters" (q = 2 or 3), so a leaf of 127
 * full groups and such a last one plans 513 slopes: the planner's array
 * held 512 (a stack overflow by one, first met when leaves of dense keys
 * grew past 8128 entries: VACUUM crashed in TAP 017).  Under ASan this
 * fails on the old array; everywhere it checks the round trip.
 */
TEST(Leaf, BreaksLastGroupOfFiveQuarters)
{
	std::mt19937_64 rng(57);

	for (uint32_t n : {127u * 64 + 11, 127u * 64 + 15, 127u * 64 + 9, 64u * 3 + 11, (uint32_t) LI_CLEAF_MAX})
	{
		Entries		e = dup_runs(rng, n, 0, 100, [](uint32_t r) { return (uint64_t) 10 * r + 10; },
								 0, 54000);
		std::vector<uint8_t> block;

		std::sort(e.keys.begin(), e.keys.end());
		SCOPED_TRACE(testing::Message() << "n=" << n);
		ASSERT_TRUE(encode(e, block));
		EXPECT_EQ(hdr_of(block).flags & LI_CLEAF_KBRK, LI_CLEAF_KBRK);
		ASSERT_NO_FATAL_FAILURE(check_all(e, 512));
	}
}

/*
 * A break at group position 1, 32 or 63 (runs of 64 equal keys, the first
 * run shorter): every full group's key column breaks exactly there, no
 * group needs residual bits; at position 0 (runs at the group borders)
 * the keys need no break
 */
TEST(Leaf, BreakPositions)
{
	std::mt19937_64 rng(37);

	for (uint32_t p : {0u, 1u, 2u, 32u, 62u, 63u})
		for (uint32_t n : {640u, 1000u, 4096u})
		{
			Entries		e = dup_runs(rng, n, p, 64, [](uint32_t r) { return (uint64_t) 7 * r + 3; },
									 0, 54000);
			std::vector<uint8_t> block;
			li_cleaf_view v;

			SCOPED_TRACE(testing::Message() << "p=" << p << " n=" << n);
			ASSERT_NO_FATAL_FAILURE(check_all(e, 256));
			ASSERT_TRUE(encode(e, block));
			li_cleaf_open(block.data(), &v);
			if (p == 0)
				EXPECT_EQ(hdr_of(block).flags & LI_CLEAF_KBRK, 0);
			else
				ASSERT_EQ(hdr_of(block).flags & LI_CLEAF_KBRK, LI_CLEAF_KBRK);
			for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
			{
				EXPECT_EQ(group_width(v.key, g), 0u) << "group " << g;
				if ((g + 1) * LI_CLEAF_GROUP <= n)
				{
					EXPECT_EQ(break_of(v.key, g), p) << "group " << g;
				}
			}
		}
}

/*
 * A block written by 0.4.0 (format 2 without breaks: flags, khw and thw 0)
 * still validates and decodes to its entries (150 entries in runs of 70
 * equal keys, a tombstone at 5: what 0.4.0's encoder made of
 * test/fuzz-like data; the same entries now take breaks)
 */
TEST(Leaf, Format040Block)
{
	static const uint8_t old[] = {
	0x96, 0x00, 0x02, 0x02, 0x0e, 0x00, 0x00, 0x00, 0x98, 0x02, 0x00, 0x00,
	0x23, 0x01, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf4, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0x28, 0x8a, 0xa2, 0x28, 0x58, 0x02, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x04, 0x00,
	0x02, 0x00, 0x04, 0x0b, 0x99, 0x99, 0x99, 0x89, 0x88, 0x88, 0x78, 0x77,
	0x77, 0x67, 0x66, 0x66, 0x66, 0x55, 0x55, 0x55, 0x44, 0x44, 0x44, 0x33,
	0x33, 0x33, 0x23, 0x22, 0x22, 0x12, 0x11, 0x11, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x99, 0x99, 0x99, 0x88, 0x88, 0x88, 0x77, 0x77, 0x77,
	0x67, 0x66, 0x66, 0x56, 0x55, 0x55, 0x45, 0x44, 0x44, 0x44, 0x33, 0x33,
	0x33, 0x22, 0x22, 0x22, 0x11, 0x11, 0x11, 0x01, 0x22, 0x22, 0x12, 0x11,
	0x11, 0x01, 0xaa, 0xaa, 0x9a, 0x99, 0x99, 0x00, 0x00, 0x00, 0x18, 0x00,
	0x06, 0x00, 0x18, 0x00, 0x0c, 0x00, 0x18, 0x00, 0x40, 0x16, 0xf5, 0x78,
	0x02, 0x00, 0x00, 0x00, 0xf4, 0xb8, 0x02, 0xe8, 0x71, 0x05, 0xdc, 0x2a,
	0x08, 0xd0, 0xe3, 0x0a, 0x0a, 0x9c, 0x0d, 0xb8, 0x55, 0x10, 0xac, 0x0e,
	0x13, 0x7d, 0xc6, 0x15, 0x71, 0x7f, 0x18, 0x65, 0x38, 0x1b, 0x59, 0xf1,
	0x1d, 0x4d, 0xaa, 0x20, 0x41, 0x63, 0x23, 0x35, 0x1c, 0x26, 0x29, 0xd5,
	0x28, 0xfa, 0x8c, 0x2b, 0xee, 0x45, 0x2e, 0xe2, 0xfe, 0x30, 0xd6, 0xb7,
	0x33, 0xca, 0x70, 0x36, 0xbe, 0x29, 0x39, 0xb2, 0xe2, 0x3b, 0xa6, 0x9b,
	0x3e, 0x77, 0x53, 0x41, 0x6b, 0x0c, 0x44, 0x5f, 0xc5, 0x46, 0x53, 0x7e,
	0x49, 0x47, 0x37, 0x4c, 0x3b, 0xf0, 0x4e, 0x2f, 0xa9, 0x51, 0x23, 0x62,
	0x54, 0xf4, 0x19, 0x57, 0xe8, 0xd2, 0x59, 0xdc, 0x8b, 0x5c, 0xd0, 0x44,
	0x5f, 0xc4, 0xfd, 0x61, 0xb8, 0xb6, 0x64, 0xac, 0x6f, 0x67, 0xa0, 0x28,
	0x6a, 0x71, 0xe0, 0x6c, 0x65, 0x99, 0x6f, 0x59, 0x52, 0x72, 0x4d, 0x0b,
	0x75, 0x41, 0xc4, 0x77, 0x35, 0x7d, 0x7a, 0x29, 0x36, 0x7d, 0x1d, 0xef,
	0x7f, 0xee, 0xa6, 0x82, 0xe2, 0x5f, 0x85, 0xd6, 0x18, 0x88, 0xca, 0xd1,
	0x8a, 0xbe, 0x8a, 0x8d, 0xb2, 0x43, 0x90, 0xa6, 0xfc, 0x92, 0x9a, 0xb5,
	0x95, 0x6b, 0x6d, 0x98, 0x5f, 0x26, 0x9b, 0x53, 0xdf, 0x9d, 0x47, 0x98,
	0xa0, 0x3b, 0x51, 0xa3, 0x2f, 0x0a, 0xa6, 0x23, 0xc3, 0xa8, 0xf4, 0x7a,
	0xab, 0x8f, 0x1f, 0xae, 0x83, 0xd8, 0xb0, 0x77, 0x91, 0xb3, 0x6b, 0x4a,
	0xb6, 0x5f, 0x03, 0xb9, 0x53, 0xbc, 0xbb, 0x00, 0x00, 0x00, 0xd1, 0xb7,
	0x02, 0xc5, 0x70, 0x05, 0xb9, 0x29, 0x08, 0xad, 0xe2, 0x0a, 0xa1, 0x9b,
	0x0d, 0x95, 0x54, 0x10, 0x89, 0x0d, 0x13, 0x7d, 0xc6, 0x15, 0x4e, 0x7e,
	0x18, 0x42, 0x37, 0x1b, 0x36, 0xf0, 0x1d, 0x2a, 0xa9, 0x20, 0x1e, 0x62,
	0x23, 0x12, 0x1b, 0x26, 0x06, 0xd4, 0x28, 0xfa, 0x8c, 0x2b, 0xcb, 0x44,
	0x2e, 0xbf, 0xfd, 0x30, 0xb3, 0xb6, 0x33, 0xa7, 0x6f, 0x36, 0x9b, 0x28,
	0x39, 0x8f, 0xe1, 0x3b, 0x83, 0x9a, 0x3e, 0x77, 0x53, 0x41, 0x48, 0x0b,
	0x44, 0x3c, 0xc4, 0x46, 0x30, 0x7d, 0x49, 0x24, 0x36, 0x4c, 0x18, 0xef,
	0x4e, 0x0c, 0xa8, 0x51, 0x00, 0x61, 0x54, 0xf4, 0x19, 0x57, 0xc5, 0xd1,
	0x59, 0xb9, 0x8a, 0x5c, 0xad, 0x43, 0x5f, 0xa1, 0xfc, 0x61, 0x95, 0xb5,
	0x64, 0x89, 0x6e, 0x67, 0x7d, 0x27, 0x6a, 0x71, 0xe0, 0x6c, 0x42, 0x98,
	0x6f, 0x36, 0x51, 0x72, 0x2a, 0x0a, 0x75, 0x1e, 0xc3, 0x77, 0x12, 0x7c,
	0x7a, 0x06, 0x35, 0x7d, 0xfa, 0xed, 0x7f, 0xcb, 0xa5, 0x82, 0xbf, 0x5e,
	0x85, 0xb3, 0x17, 0x88, 0xa7, 0xd0, 0x8a, 0x9b, 0x89, 0x8d, 0x8f, 0x42,
	0x90, 0x83, 0xfb, 0x92, 0x77, 0xb4, 0x95, 0x48, 0x6c, 0x98, 0x3c, 0x25,
	0x9b, 0xfa, 0xca, 0x9d, 0xee, 0x83, 0xa0, 0xe2, 0x3c, 0xa3, 0xd6, 0xf5,
	0xa5, 0xca, 0xae, 0xa8, 0xbe, 0x67, 0xab, 0x8f, 0x1f, 0xae, 0x83, 0xd8,
	0xb0, 0x77, 0x91, 0xb3, 0x6b, 0x4a, 0xb6, 0x5f, 0x03, 0xb9, 0x53, 0xbc,
	0xbb, 0x00, 0x00, 0x00, 0xf4, 0xb8, 0x02, 0xc5, 0x70, 0x05, 0xb9, 0x29,
	0x08, 0xad, 0xe2, 0x0a, 0xa1, 0x9b, 0x0d, 0x95, 0x54, 0x10, 0x89, 0x0d,
	0x13, 0x7d, 0xc6, 0x15, 0x71, 0x7f, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00
	};
	Entries		e;

	for (uint32_t i = 0; i < 150; i++)
		push(e, 1000 + 10 * (i / 70), (i % 70) * 613 + (i / 70) * 17,
			 (uint16_t) (i == 5 ? 0 : 1 + (i * 37) % 291));

	std::vector<uint8_t> block(old, old + sizeof(old));
	li_cleaf_hdr h = hdr_of(block);
	li_cleaf_view v;

	ASSERT_EQ(block.size(), 664u);
	ASSERT_EQ(h.flags + h.khw + h.thw, 0);
	ASSERT_EQ(li_cleaf_validate_header(block.data(), block.size()), LI_OK);
	ASSERT_EQ(li_cleaf_validate(block.data(), block.size()), LI_OK);
	li_cleaf_open(block.data(), &v);
	EXPECT_EQ(v.key.hbits + v.tid.hbits, 0u);

	std::vector<uint64_t> rk(150);
	std::vector<uint16_t> rt(3 * 150);

	ASSERT_EQ(li_cleaf_decode_run(&v, 0, 150, UINT64_MAX, rk.data(), rt.data()), 150u);
	for (uint32_t i = 0; i < 150; i++)
	{
		uint16_t	t[3];

		ASSERT_EQ(li_cleaf_key_at(&v, i), e.keys[i]) << i;
		ASSERT_EQ(li_cleaf_tid_at(&v, i, t), i == 5 ? 0 : 1) << i;
		ASSERT_EQ(blk_of(t), blk_of(&e.tids[3 * i])) << i;
		ASSERT_EQ(t[2], e.tids[3 * i + 2]) << i;
		ASSERT_EQ(rk[i], e.keys[i]) << i;
		ASSERT_EQ(std::memcmp(&rt[3 * i], t, sizeof(t)), 0) << i;
	}
	check_lower_bounds(e, block);

	/* the new encoder: breaks, half the bytes */
	std::vector<uint8_t> nb;

	ASSERT_TRUE(encode(e, nb));
	EXPECT_EQ(hdr_of(nb).flags, LI_CLEAF_KBRK | LI_CLEAF_TBRK);
	EXPECT_LT(nb.size(), block.size() * 6 / 10);
	check_round_trip(e, nb);
}

/* a budget smaller than any one-entry block: no entry fits, m = 0 */
TEST(Leaf, FitTinyBudget)
{
	Entries		e;

	push(e, 0, 0, 1);
	push(e, UINT64_MAX, 0xFFFFFFFE, 65535);
	push(e, UINT64_MAX, 0, 2);
	size_t		one = bytes_of(e, 1);

	EXPECT_EQ(one, li_cleaf_bytes(1, 0, 0, 0, 0, 0, 0));	/* one entry: 0 bits */
	EXPECT_EQ(one, 104u);
	EXPECT_EQ(bytes_of(e, 2), one); /* two entries: on the line, 0 bits */
	EXPECT_GT(bytes_of(e, 3), one);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 3, one), 2u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 1, one), 1u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 3, one - 1), 0u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 1, one - 1), 0u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 3, 0), 0u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), e.tids.data(), 3, 1 << 20), 3u);
	EXPECT_EQ(li_cleaf_fit(nullptr, e.tids.data(), 3, 1 << 20), 0u);
	EXPECT_EQ(li_cleaf_fit(e.keys.data(), nullptr, 3, 1 << 20), 0u);

	/* with tail room: one entry and ceil(5/95) = 1 tail entry */
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 14, 5, 95), 2u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 13, 5, 95), 0u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 13, 0, 95), 2u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 14, 1, 1), 1u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 27, 1, 1), 1u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 28, 1, 1), 2u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one, 0, 0), 2u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 13, 1, 0), 0u);
	EXPECT_EQ(li_cleaf_fit_tail(e.keys.data(), e.tids.data(), 3, one + 14, 1, 0), 1u);
}

/* ---------------------------------------------------------------------
 * argument checks
 * ------------------------------------------------------------------- */

/* encode: unsorted keys, n > LI_CLEAF_MAX, outcap too small, NULLs */
TEST(Leaf, EncodeRejects)
{
	std::mt19937_64 rng(3);
	Entries		e;

	e.keys = random_keys(rng, 100, 0);
	random_tids(e, rng);
	const size_t bytes = bytes_of(e, 100);
	std::vector<uint8_t> out(bytes + 64, 0xEE);
	size_t		got = 12345;

	/* outcap one short: nothing written */
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), 100, out.data(),
							  bytes - 1, &got), LI_ERR_ARG);
	EXPECT_EQ(got, 12345u);
	EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0xEE; }));
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), 100, out.data(), 0, &got),
			  LI_ERR_ARG);
	/* exactly enough: nothing written past it */
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), 100, out.data(),
							  bytes, &got), LI_OK);
	EXPECT_EQ(got, bytes);
	EXPECT_TRUE(std::all_of(out.begin() + bytes, out.end(), [](uint8_t b) { return b == 0xEE; }));

	/* unsorted: a swapped pair anywhere, the last pair, the first pair */
	for (size_t i : {(size_t) 0, (size_t) 50, (size_t) 98})
	{
		Entries		u = e;

		ASSERT_LT(u.keys[i], u.keys[i + 1]);
		std::swap(u.keys[i], u.keys[i + 1]);
		EXPECT_EQ(li_cleaf_encode(u.keys.data(), u.tids.data(), 100, out.data(),
								  out.size(), &got), LI_ERR_ARG) << i;
	}
	/* descending extremes */
	{
		uint64_t	k[2] = {UINT64_MAX, 0};
		uint16_t	t[6] = {0, 1, 1, 0, 1, 2};

		EXPECT_EQ(li_cleaf_encode(k, t, 2, out.data(), out.size(), &got), LI_ERR_ARG);
	}

	/* n > LI_CLEAF_MAX */
	Entries		big;

	big.keys = random_keys(rng, LI_CLEAF_MAX + 1, 2);
	random_tids(big, rng);
	std::vector<uint8_t> bigout(1 << 20);
	li_cleaf_hdr h;

	EXPECT_EQ(li_cleaf_encode(big.keys.data(), big.tids.data(), LI_CLEAF_MAX + 1,
							  bigout.data(), bigout.size(), &got), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_plan(big.keys.data(), big.tids.data(), LI_CLEAF_MAX + 1, &h),
			  LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_encode(big.keys.data(), big.tids.data(), LI_CLEAF_MAX,
							  bigout.data(), bigout.size(), &got), LI_OK);
	EXPECT_EQ(li_cleaf_fit(big.keys.data(), big.tids.data(), LI_CLEAF_MAX + 1, 1 << 20),
			  (uint32_t) LI_CLEAF_MAX);

	/* NULL pointers */
	EXPECT_EQ(li_cleaf_encode(nullptr, e.tids.data(), 100, out.data(), out.size(), &got), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), nullptr, 100, out.data(), out.size(), &got), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), 100, nullptr, out.size(), &got), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), 100, out.data(), out.size(), nullptr), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_plan(e.keys.data(), e.tids.data(), 100, nullptr), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_plan(nullptr, e.tids.data(), 100, &h), LI_ERR_ARG);
	EXPECT_EQ(li_cleaf_plan(e.keys.data(), nullptr, 100, &h), LI_ERR_ARG);
}

/* ---------------------------------------------------------------------
 * li_cleaf_validate
 * ------------------------------------------------------------------- */

/*
 * A stored block made field by field, consistent unless told otherwise:
 * header fields as given, group widths per column (any value up to 255),
 * res_bits the sum of the groups' bits plus kres_delta / tres_delta,
 * bytes what li_cleaf_bytes says for those (plus bytes_delta)
 */
struct Synth
{
	li_cleaf_hdr h;
	std::vector<uint32_t> kw,
				tw;				/* width of each group */
	int64_t		kres_delta = 0,
				tres_delta = 0,
				bytes_delta = 0;
};

/* a Synth of n entries: random line parameters, widths and M */
Synth
synth_random(std::mt19937_64 &rng, uint32_t n)
{
	Synth		s;

	std::memset(&s.h, 0, sizeof(s.h));
	s.h.n = (uint16_t) n;
	s.h.version = LI_CLEAF_VERSION;
	s.h.kgw = (uint8_t) (rng() % 65);
	s.h.tgw = (uint8_t) (rng() % 65);
	s.h.flags = (uint8_t) (rng() % 4);
	s.h.khw = (s.h.flags & LI_CLEAF_KBRK) ? (uint8_t) (rng() % (LI_CLEAF_HW_MAX + 1)) : 0;
	s.h.thw = (s.h.flags & LI_CLEAF_TBRK) ? (uint8_t) (rng() % (LI_CLEAF_HW_MAX + 1)) : 0;
	s.h.mult = 1 + (uint32_t) (rng() % 65536);
	for (li_ccol *c : {&s.h.key, &s.h.tid})
	{
		c->base = rng();
		c->slope_int = (rng() % 2) ? rng() : rng() % 1000;
		c->slope_frac = (uint32_t) rng();
		c->rmin = rng();
	}
	for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
	{
		s.kw.push_back((rng() % 4 == 0) ? 64 - (uint32_t) (rng() % 3) : (uint32_t) (rng() % 65));
		s.tw.push_back((uint32_t) (rng() % 65));
	}
	return s;
}

/* bits of a column's residuals with these group widths */
uint64_t
synth_res_bits(uint32_t n, const std::vector<uint32_t> &w)
{
	uint64_t	bits = 0;

	for (uint32_t g = 0; g < w.size(); g++)
		bits += (uint64_t) std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP) * w[g];
	return bits;
}

/* write a group table of widths w at p (each group where the previous ends) */
void
synth_table(uint8_t *p, uint32_t n, const std::vector<uint32_t> &w)
{
	uint64_t	pos = 0;

	for (uint32_t g = 0; g < w.size(); g++)
	{
		uint32_t	meta = (w[g] << 24) | (uint32_t) pos;

		std::memcpy(p + (size_t) g * 4, &meta, sizeof(meta));
		pos += (uint64_t) std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP) * w[g];
	}
}

/* random break fields of hbits bits at p, each break inside its group */
void
synth_breaks(uint8_t *p, uint32_t n, uint32_t hbits, std::mt19937_64 &rng)
{
	for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
	{
		uint32_t	len = std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP);
		uint64_t	f = (rng() << 6) | (rng() % len);
		uint64_t	pos = (uint64_t) g * hbits;

		if (hbits < 64)
			f &= (UINT64_C(1) << hbits) - 1;
		for (uint32_t k = 0; k < hbits; k++, pos++)
		{
			p[pos / 8] &= (uint8_t) ~(1u << (pos % 8));
			p[pos / 8] |= (uint8_t) (((k < 64 ? f >> k : 0) & 1) << (pos % 8));
		}
	}
}

/* the break field bits of s's key (tid: TID) column */
uint32_t
synth_hbits(const Synth &s, bool tid)
{
	return tid ? li_chead_bits(s.h.flags & LI_CLEAF_TBRK, s.h.thw) :
		li_chead_bits(s.h.flags & LI_CLEAF_KBRK, s.h.khw);
}

/*
 * The block of s, random bytes wherever the header, group tables and
 * break fields are not, in a buffer of len bytes (0: exactly the block's
 * size)
 */
std::vector<uint8_t>
synth_block(Synth s, std::mt19937_64 &rng, size_t len = 0)
{
	const uint32_t n = s.h.n;
	const uint32_t ng = li_cleaf_ngroups(n);
	const uint32_t khb = synth_hbits(s, false),
				thb = synth_hbits(s, true);

	s.h.key.res_bits = (uint32_t) ((int64_t) synth_res_bits(n, s.kw) + s.kres_delta);
	s.h.tid.res_bits = (uint32_t) ((int64_t) synth_res_bits(n, s.tw) + s.tres_delta);
	size_t		bytes = li_cleaf_bytes(n, s.h.kgw, khb, s.h.key.res_bits, s.h.tgw, thb,
									   s.h.tid.res_bits);

	s.h.bytes = (uint32_t) ((int64_t) bytes + s.bytes_delta);
	std::vector<uint8_t> b(len ? len : std::max<size_t>(bytes, s.h.bytes));

	for (auto &x : b)
		x = (uint8_t) rng();
	std::memcpy(b.data(), &s.h, sizeof(s.h));

	/* the arrays, where li_cleaf_open puts them */
	size_t		ktab = LI_CLEAF_HDR + ((size_t) n + 7) / 8;
	size_t		ttab = ktab + li_ccol_bytes(n, s.h.kgw, khb, s.h.key.res_bits);
	size_t		kbrk = ktab + (size_t) ng * 4 + ((size_t) ng * s.h.kgw + 7) / 8;
	size_t		tbrk = ttab + (size_t) ng * 4 + ((size_t) ng * s.h.tgw + 7) / 8;

	if (ktab + (size_t) ng * 4 <= b.size())
		synth_table(b.data() + ktab, n, s.kw);
	if (ttab + (size_t) ng * 4 <= b.size())
		synth_table(b.data() + ttab, n, s.tw);
	if (kbrk + ((size_t) ng * khb + 7) / 8 <= b.size())
		synth_breaks(b.data() + kbrk, n, khb, rng);
	if (tbrk + ((size_t) ng * thb + 7) / 8 <= b.size())
		synth_breaks(b.data() + tbrk, n, thb, rng);
	return b;
}

/* li_cleaf_validate of synth_block(s) in a buffer of exactly its size */
li_status
synth_validate(const Synth &s, std::mt19937_64 &rng)
{
	std::vector<uint8_t> b = synth_block(s, rng);

	return li_cleaf_validate(b.data(), b.size());
}

/* a group table entry of a block rewritten: (w << 24) | pos */
void
set_meta(std::vector<uint8_t> &b, bool tid, uint32_t g, uint32_t meta)
{
	li_cleaf_view v;

	li_cleaf_open(b.data(), &v);
	std::memcpy((uint8_t *) (tid ? v.tid.table : v.key.table) + (size_t) g * 4,
				&meta, sizeof(meta));
}

/* a group table entry of a block */
uint32_t
get_meta(const std::vector<uint8_t> &b, bool tid, uint32_t g)
{
	li_cleaf_view v;
	uint32_t	meta;

	li_cleaf_open(b.data(), &v);
	std::memcpy(&meta, (tid ? v.tid.table : v.key.table) + (size_t) g * 4, sizeof(meta));
	return meta;
}

/*
 * Blocks wrong in exactly one respect are refused with LI_ERR_CORRUPT
 * (each with the same block right in that respect accepted): version, n,
 * kgw / tgw, M, bytes, bytes > len, len < LI_CLEAF_HDR, a group width
 * over 64, a group position that is not the previous group's end,
 * res_bits not the sum of the group table
 */
/*
 * A kept plan is used only for the entries it was made for: other keys or
 * TIDs at either end, another n, other arrays or the other Elias-Fano
 * setting are planned again, so the block is always li_cleaf_encode's.
 */
TEST(Leaf, KeptPlanOtherEntries)
{
	std::mt19937_64 rng(77);
	Entries		e;
	uint64_t	key = 1000;

	/* a random walk of keys: its groups code smaller Elias-Fano */
	for (uint32_t i = 0; i < 700; i++)
	{
		key += 1 + rng() % 2000;
		push(e, key, (uint32_t) (rng() % 5000), (uint16_t) (1 + rng() % 200));
	}

	std::vector<uint64_t> plan(li_cleaf_plan_size() / 8 + 1);
	li_cleaf_hdr h;

	for (int change = 0; change < 6; change++)
	{
		Entries		f = e;
		uint32_t	n = f.n();

		ASSERT_EQ(li_cleaf_plan_keep(f.keys.data(), f.tids.data(), n, &h, plan.data()), LI_OK);
		if (change == 0)
			f.keys[0] -= 1;
		else if (change == 1)
			f.keys[n - 1] += 77777;
		else if (change == 2)
			set_tid(f, n - 1, 123456, 3);
		else if (change == 3)
			n -= 1;
		else if (change == 4)
			set_tid(f, 0, 99999, 7);
		else
			li_cleaf_set_ef(0);

		std::vector<uint8_t> want(LI_CLEAF_MAX * 32),
					got(LI_CLEAF_MAX * 32);
		size_t		wb = 0,
					gb = 0;

		ASSERT_EQ(li_cleaf_encode(f.keys.data(), f.tids.data(), n, want.data(), want.size(),
								  &wb), LI_OK);

		/* the change makes another block, so a stale plan would show */
		std::vector<uint8_t> stale(LI_CLEAF_MAX * 32);
		size_t		sb = 0;

		li_cleaf_set_ef(1);
		ASSERT_EQ(li_cleaf_encode(e.keys.data(), e.tids.data(), e.n(), stale.data(),
								  stale.size(), &sb), LI_OK);
		if (change == 5)
			li_cleaf_set_ef(0);
		ASSERT_FALSE(sb == wb && std::equal(want.begin(), want.begin() + wb, stale.begin()))
			<< "change " << change << " leaves the block as it was";
		ASSERT_EQ(li_cleaf_encode_plan(f.keys.data(), f.tids.data(), n, plan.data(), got.data(),
									   got.size(), &gb), LI_OK) << "change " << change;
		li_cleaf_set_ef(1);
		ASSERT_EQ(gb, wb) << "change " << change;
		ASSERT_TRUE(std::equal(want.begin(), want.begin() + wb, got.begin()))
			<< "change " << change;
	}

	/*
	 * the same entries in another array: planned again, the same block (a
	 * sanity check only: the kept plan would write that block too)
	 */
	Entries		g = e;
	std::vector<uint8_t> a(LI_CLEAF_MAX * 32),
				b(LI_CLEAF_MAX * 32);
	size_t		ab = 0,
				bb = 0;

	ASSERT_EQ(li_cleaf_plan_keep(e.keys.data(), e.tids.data(), e.n(), &h, plan.data()), LI_OK);
	ASSERT_EQ(li_cleaf_encode_plan(g.keys.data(), g.tids.data(), g.n(), plan.data(), a.data(),
								   a.size(), &ab), LI_OK);
	ASSERT_EQ(li_cleaf_encode(g.keys.data(), g.tids.data(), g.n(), b.data(), b.size(), &bb),
			  LI_OK);
	ASSERT_EQ(ab, bb);
	ASSERT_TRUE(std::equal(a.begin(), a.begin() + ab, b.begin()));

	/* bad arguments as li_cleaf_encode's */
	ASSERT_EQ(li_cleaf_encode_plan(e.keys.data(), e.tids.data(), e.n(), nullptr, a.data(),
								   a.size(), &ab), LI_ERR_ARG);
	ASSERT_EQ(li_cleaf_plan_keep(e.keys.data(), e.tids.data(), e.n(), &h, nullptr), LI_ERR_ARG);
	ASSERT_EQ(li_cleaf_encode_plan(e.keys.data(), e.tids.data(), e.n(), plan.data(), a.data(),
								   10, &ab), LI_ERR_ARG);
}

TEST(Leaf, ValidateRejects)
{
	std::mt19937_64 rng(8);
	Synth		s0 = synth_random(rng, 200);

	s0.kw = {3, 64, 0, 7};		/* 200 entries: groups of 64, 64, 64, 8 */
	s0.tw = {0, 13, 48, 1};
	s0.h.kgw = 9;
	s0.h.tgw = 33;
	s0.h.flags = LI_CLEAF_TBRK; /* TIDs with breaks, keys without */
	s0.h.khw = 0;
	s0.h.thw = 21;

	Synth		s = s0;

	ASSERT_EQ(synth_validate(s, rng), LI_OK);	/* the harness itself */

	/* version */
	for (uint8_t ver : {(uint8_t) 0, (uint8_t) 1, (uint8_t) (LI_CLEAF_VERSION + 1), (uint8_t) 0xFF})
	{
		s = s0;
		s.h.version = ver;
		EXPECT_EQ(synth_validate(s, rng), LI_ERR_CORRUPT) << (int) ver;
	}

	/* n: LI_CLEAF_MAX is the most (group tables of 128 and 129 groups) */
	for (uint32_t n : {(uint32_t) LI_CLEAF_MAX, (uint32_t) LI_CLEAF_MAX + 1, 0xFFFFu})
	{
		s = synth_random(rng, n);
		EXPECT_EQ(synth_validate(s, rng), n <= LI_CLEAF_MAX ? LI_OK : LI_ERR_CORRUPT) << n;
	}

	/* group offset widths: 64 is the most */
	for (uint32_t gw : {0u, 1u, 63u, 64u, 65u, 128u, 255u})
	{
		s = s0;
		s.h.kgw = (uint8_t) gw;
		EXPECT_EQ(synth_validate(s, rng), gw <= 64 ? LI_OK : LI_ERR_CORRUPT) << "kgw " << gw;
		s = s0;
		s.h.tgw = (uint8_t) gw;
		EXPECT_EQ(synth_validate(s, rng), gw <= 64 ? LI_OK : LI_ERR_CORRUPT) << "tgw " << gw;
	}

	/*
	 * flags: the two columns' break flags and Elias-Fano key groups (not
	 * with key breaks)
	 */
	for (uint32_t f : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 0x80u, 0xFFu})
	{
		s = s0;
		s.h.flags = (uint8_t) f;
		s.h.thw = (f & LI_CLEAF_TBRK) ? 21 : 0;
		EXPECT_EQ(synth_validate(s, rng), (f <= 6 && f != 5) ? LI_OK : LI_ERR_CORRUPT)
			<< "flags " << f;
	}

	/* step widths: 57 is the most, and only in a column with breaks */
	for (uint32_t hw : {0u, 1u, 56u, 57u, 58u, 64u, 65u, 255u})
		for (bool tid : {false, true})
		{
			s = s0;
			s.h.flags = LI_CLEAF_KBRK | LI_CLEAF_TBRK;
			(tid ? s.h.thw : s.h.khw) = (uint8_t) hw;
			EXPECT_EQ(synth_validate(s, rng), hw <= 57 ? LI_OK : LI_ERR_CORRUPT)
				<< (tid ? "thw " : "khw ") << hw;
			s.h.flags = tid ? LI_CLEAF_KBRK : LI_CLEAF_TBRK;	/* the other one */
			EXPECT_EQ(synth_validate(s, rng), hw == 0 ? LI_OK : LI_ERR_CORRUPT)
				<< (tid ? "thw " : "khw ") << hw << " without breaks";
		}

	/* a header flag changed alone: bytes no longer match */
	for (uint8_t f : {(uint8_t) 0, (uint8_t) LI_CLEAF_KBRK, (uint8_t) 3})
	{
		std::vector<uint8_t> b = synth_block(s0, rng);
		li_cleaf_hdr h = hdr_of(b);

		h.flags = f;
		h.thw = (f & LI_CLEAF_TBRK) ? h.thw : 0;
		std::memcpy(b.data(), &h, sizeof(h));
		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT) << (int) f;
	}

	/* a break at or past its group's end (the last group holds 8 entries) */
	for (uint32_t g : {0u, 2u, 3u})
		for (uint32_t brk : {0u, 1u, 7u, 8u, 63u})
		{
			std::vector<uint8_t> b = synth_block(s0, rng);
			li_cleaf_view v;
			const uint32_t len = g == 3 ? 8 : 64;

			li_cleaf_open(b.data(), &v);
			uint8_t    *f = b.data() + (v.tid.head - b.data());
			uint64_t	pos = (uint64_t) g * v.tid.hbits;

			for (uint32_t k = 0; k < 6; k++, pos++)
			{
				f[pos / 8] &= (uint8_t) ~(1u << (pos % 8));
				f[pos / 8] |= (uint8_t) (((brk >> k) & 1) << (pos % 8));
			}
			EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), brk < len ? LI_OK : LI_ERR_CORRUPT)
				<< "group " << g << " break " << brk;
			EXPECT_EQ(li_cleaf_validate_header(b.data(), b.size()), LI_OK);
		}

	/* M in 1..65536 */
	for (uint32_t mult : {0u, 1u, 2u, 292u, 65535u, 65536u, 65537u, 1u << 20, UINT32_MAX})
	{
		s = s0;
		s.h.mult = mult;
		EXPECT_EQ(synth_validate(s, rng), mult >= 1 && mult <= 65536 ? LI_OK : LI_ERR_CORRUPT)
			<< "mult " << mult;
	}

	/* bytes that do not match the header (the buffer large enough) */
	for (int64_t d : {-8, -1, 1, 7, 8, 4096})
	{
		s = s0;
		s.bytes_delta = d;
		std::vector<uint8_t> b = synth_block(s, rng, 1 << 16);

		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT) << d;
	}
	for (uint32_t bytes : {0u, 8u, (uint32_t) LI_CLEAF_HDR, UINT32_MAX})
	{
		std::vector<uint8_t> b = synth_block(s0, rng, 1 << 16);

		std::memcpy(b.data() + offsetof(li_cleaf_hdr, bytes), &bytes, sizeof(bytes));
		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT) << bytes;
	}

	/* bytes > len: the block is cut short (exact-size buffers) */
	std::vector<uint8_t> block = synth_block(s0, rng);

	for (size_t len : {block.size() - 1, block.size() - 8, (size_t) LI_CLEAF_HDR})
	{
		std::vector<uint8_t> b(block.begin(), block.begin() + (long) len);

		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT) << len;
	}
	EXPECT_EQ(li_cleaf_validate(block.data(), block.size()), LI_OK);
	{
		std::vector<uint8_t> b = block;

		b.resize(b.size() + 100);	/* a longer buffer is fine */
		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_OK);
	}

	/* len < LI_CLEAF_HDR, even with a valid header in front */
	for (size_t len : {(size_t) 0, (size_t) 1, (size_t) 47, (size_t) LI_CLEAF_HDR - 1})
	{
		std::vector<uint8_t> b(block.begin(), block.begin() + (long) len);

		EXPECT_EQ(li_cleaf_validate(len ? b.data() : block.data(), len), LI_ERR_CORRUPT) << len;
	}
	EXPECT_EQ(li_cleaf_validate(nullptr, 1000), LI_ERR_CORRUPT);

	/* an empty leaf validates only with its 88 bytes */
	Entries		empty;
	std::vector<uint8_t> eb;

	ASSERT_TRUE(encode(empty, eb));
	EXPECT_EQ(li_cleaf_validate(eb.data(), 88), LI_OK);
	EXPECT_EQ(li_cleaf_validate(eb.data(), 87), LI_ERR_CORRUPT);

	/* a group width over 64 (res_bits and bytes still the table's sum) */
	for (bool tid : {false, true})
		for (uint32_t g : {0u, 1u, 3u})
			for (uint32_t w : {64u, 65u, 66u, 127u, 255u})
			{
				s = s0;
				(tid ? s.tw : s.kw)[g] = w;
				EXPECT_EQ(synth_validate(s, rng), w <= 64 ? LI_OK : LI_ERR_CORRUPT)
					<< (tid ? "TID" : "key") << " group " << g << " width " << w;
			}

	/* a group's position that is not where the previous group ends */
	for (bool tid : {false, true})
		for (uint32_t g : {0u, 1u, 2u, 3u})
			for (int64_t d : {-64, -1, 1, 8, 1 << 20})
			{
				std::vector<uint8_t> b = synth_block(s0, rng);
				uint32_t	meta = get_meta(b, tid, g);
				int64_t		pos = (int64_t) (meta & 0xFFFFFF) + d;

				if (pos < 0 || pos > 0xFFFFFF)
					continue;
				set_meta(b, tid, g, (meta & 0xFF000000) | (uint32_t) pos);
				EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT)
					<< (tid ? "TID" : "key") << " group " << g << " moved by " << d;
			}
	/* the same position with another width: the next group's is wrong */
	{
		std::vector<uint8_t> b = synth_block(s0, rng);
		uint32_t	meta = get_meta(b, false, 1);

		set_meta(b, false, 1, meta - (1u << 24));
		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT);
		meta = get_meta(b, true, 3);	/* the last group's width: res_bits */
		b = synth_block(s0, rng);
		set_meta(b, true, 3, meta + (1u << 24));
		EXPECT_EQ(li_cleaf_validate(b.data(), b.size()), LI_ERR_CORRUPT);
	}

	/*
	 * res_bits other than the sum of the group table, the arrays and bytes
	 * laid out for that res_bits (the key column's sum is 3*64 + 64*64 + 0
	 * + 7*8 = 4344 = 543 bytes; its residuals take 543 bytes for 4337..4344
	 * bits)
	 */
	for (bool tid : {false, true})
		for (int64_t d : {-7, -1, 1, 7, 8, -8, 64, -64})
		{
			s = s0;
			(tid ? s.tres_delta : s.kres_delta) = d;
			EXPECT_EQ(synth_validate(s, rng), LI_ERR_CORRUPT)
				<< (tid ? "TID" : "key") << " res_bits off by " << d;
		}
	s = s0;
	s.h.n = 0;
	s.kw.clear();
	s.tw.clear();
	EXPECT_EQ(synth_validate(s, rng), LI_OK);
	s.kres_delta = 1;
	EXPECT_EQ(synth_validate(s, rng), LI_ERR_CORRUPT);
}

/*
 * A block of 3 entries laid out by hand: one Elias-Fano key group with
 * L = 63 (two low parts of 63 bits, all 0) and the given high parts'
 * bitmap (bits as a string, bit 0 first), TIDs (0,1) on a line (width 0)
 */
std::vector<uint8_t>
ef_block_l63(const char *bitmap)
{
	li_cleaf_hdr h;
	const uint32_t n = 3;
	uint32_t	kres = 2 * 63 + (uint32_t) std::strlen(bitmap);

	std::memset(&h, 0, sizeof(h));
	h.n = n;
	h.version = LI_CLEAF_VERSION;
	h.flags = LI_CLEAF_KEF;
	h.mult = 2;
	h.key.res_bits = kres;
	h.tid.base = 1;				/* blk 0, offset 1 for each entry */
	h.bytes = (uint32_t) li_cleaf_bytes(n, 0, 0, kres, 0, 0, 0);

	std::vector<uint8_t> b(h.bytes, 0);
	uint8_t    *ktab = b.data() + LI_CLEAF_HDR + 1;
	uint8_t    *kres_p = ktab + 4;
	uint8_t    *ttab = kres_p + (kres + 7) / 8;
	uint32_t	meta = LI_CLEAF_EF | (63u << 24);

	std::memcpy(b.data(), &h, sizeof(h));
	std::memcpy(ktab, &meta, sizeof(meta));
	for (uint32_t i = 0; bitmap[i]; i++)
		if (bitmap[i] == '1')
			kres_p[(126 + i) / 8] |= (uint8_t) (1u << ((126 + i) % 8));
	meta = 0;
	std::memcpy(ttab, &meta, sizeof(meta));
	return b;
}

/*
 * An Elias-Fano group whose last high part does not fit 64 - L bits (a
 * damaged block: the encoder never writes one) is refused by the full
 * check; one that fits is read back
 */
TEST(Leaf, ValidateRejectsEfHighOverflow)
{
	std::vector<uint8_t> ok = ef_block_l63("011"),
				bad = ef_block_l63("0011");
	li_cleaf_view v;

	ASSERT_EQ(li_cleaf_validate(ok.data(), ok.size()), LI_OK);
	li_cleaf_open(ok.data(), &v);
	EXPECT_EQ(li_cleaf_key_at(&v, 0), 0u);
	EXPECT_EQ(li_cleaf_key_at(&v, 1), UINT64_C(1) << 63);
	EXPECT_EQ(li_cleaf_key_at(&v, 2), UINT64_C(1) << 63);
	EXPECT_EQ(li_cleaf_lower_bound_in(&v, 1, 0, 3), 1u);
	EXPECT_EQ(li_cleaf_lower_bound_in(&v, UINT64_MAX, 0, 3), 3u);
	/* high part 2 at L = 63: the value would need 65 bits */
	ASSERT_EQ(li_cleaf_validate_header(bad.data(), bad.size()), LI_OK);
	EXPECT_EQ(li_cleaf_validate(bad.data(), bad.size()), LI_ERR_CORRUPT);
}

/*
 * Every block validate accepts (random n, widths, line, M, group widths
 * 0..64, random bytes everywhere else) can be read in full without
 * leaving the block: buffers of exactly bytes bytes, so ASan sees a stray
 * read (the "damaged page never crashes a scan" guarantee)
 */
TEST(Leaf, ValidatedGarbageIsReadable)
{
	std::mt19937_64 rng(13);
	const int	iters = small_scale() ? 300 : 3000;

	for (int it = 0; it < iters; it++)
	{
		uint32_t	n = (uint32_t) ((it % 4 == 0) ? LI_CLEAF_MAX - rng() % 3
									: (it % 4 == 1) ? rng() % 130 : rng() % 600);
		Synth		s = synth_random(rng, n);

		if (it % 8 == 3)		/* every width 64 */
			for (auto &w : s.kw)
				w = 64;
		if (it % 8 == 5)		/* no residuals */
			for (auto &w : s.tw)
				w = 0;
		std::vector<uint8_t> b = synth_block(s, rng);

		ASSERT_EQ(li_cleaf_validate(b.data(), b.size()), LI_OK) << "iteration " << it;

		li_cleaf_view v;
		li_cleaf_widths w;
		uint64_t	sum = 0;

		li_cleaf_open(b.data(), &v);
		ASSERT_EQ(v.n, n);
		for (uint32_t i = 0; i < v.n; i++)
		{
			uint16_t	t[3];

			sum += li_cleaf_key_at(&v, i);
			sum += (uint64_t) li_cleaf_tid_at(&v, i, t) + t[0] + t[1] + t[2];
			sum += (uint64_t) li_cleaf_dead(&v, i);
		}
		for (int q = 0; q < 8; q++)
			sum += li_cleaf_lower_bound(&v, rng(), (int64_t) (rng() % (n + 100)) - 50,
										(int64_t) (rng() % (n + 100)) - 50, nullptr);
		std::vector<uint64_t> dec(v.n);

		li_cleaf_decode_keys(&v, dec.data());
		li_cleaf_get_widths(b.data(), &w);
		ASSERT_LE(w.key_max, 64u);
		ASSERT_LE(w.tid_max, 64u);
		if (v.n > 0)
		{
			li_cleaf_kill(b.data(), (uint32_t) (rng() % v.n));
			li_cleaf_kill(b.data(), v.n - 1);
		}
		li_cleaf_kill(b.data(), v.n);
		ASSERT_EQ(li_cleaf_validate(b.data(), b.size()), LI_OK);
		volatile uint64_t sink = sum;

		(void) sink;
	}
}

}								/* namespace */

/*
 * Readers check only the header (li_cleaf_validate_header, O(1)); damaged
 * group tables and break fields must still never make a read leave the
 * block: random bytes in the tables and break fields of real blocks (half
 * of them duplicates, with breaks), every entry read (key_at, tid_at,
 * lower_bound, decode_run, decode_items) under ASan in a buffer of
 * exactly the block's size.
 */
TEST(Leaf, DamagedGroupTablesReadInBounds)
{
	std::mt19937_64 rng(2027);

	for (int it = 0; it < (std::getenv("LI_TEST_SCALE") ? 60 : 400); it++)
	{
		Entries		e;
		uint32_t	n = 1 + (uint32_t) (rng() % 700);
		uint64_t	k = rng() >> (rng() % 64);

		if (it % 2)				/* duplicates: breaks */
			e = dup_runs(rng, n, (uint32_t) (rng() % 64), 1 + (uint32_t) (rng() % 120),
						 [](uint32_t r) { return (uint64_t) r * 1000; }, 0, 100000);
		for (uint32_t i = 0; it % 2 == 0 && i < n; i++)
		{
			k += rng() >> (rng() % 64 | 1);
			if (k < e.keys.size())
				k = UINT64_MAX;
			push(e, std::max(k, e.keys.empty() ? 0 : e.keys.back()),
				 (uint32_t) (rng() % 100000), (uint16_t) (1 + rng() % 300));
		}
		std::vector<uint8_t> block;

		ASSERT_TRUE(encode(e, block));
		li_cleaf_view v;

		li_cleaf_open(block.data(), &v);
		/* damage both columns' group tables and break fields */
		for (const li_cview *c : {&v.key, &v.tid})
			for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
			{
				if (rng() % 2)
				{
					uint32_t	meta = (uint32_t) rng();

					std::memcpy(block.data() + (c->table - block.data()) + 4 * g, &meta, 4);
				}
				for (const uint8_t *p = c->head; p < c->res; p++)
					if (rng() % 4 == 0)
						block[(size_t) (p - block.data())] = (uint8_t) rng();
			}
		ASSERT_EQ(li_cleaf_validate_header(block.data(), block.size()), LI_OK);
		li_cleaf_open(block.data(), &v);
		volatile uint64_t sink = 0;
		std::vector<uint64_t> rk(n);
		std::vector<uint16_t> rt(3 * n);

		for (uint32_t i = 0; i < n; i++)
		{
			uint16_t	t[3];

			sink += li_cleaf_key_at(&v, i);
			sink += (uint64_t) li_cleaf_tid_at(&v, i, t);
		}
		sink += li_cleaf_lower_bound(&v, rng(), -5, 80, nullptr);
		sink += li_cleaf_decode_run(&v, 0, n, UINT64_MAX, rk.data(), rt.data());

		/* the scans' decoder: from anywhere, with and without a stop key */
		std::vector<li_item> items(n);
		uint32_t	nitems;
		uint32_t	from = (uint32_t) (rng() % n);

		sink += li_cleaf_decode_items(&v, 0, n, UINT64_MAX, items.data(), &nitems) + nitems;

		/*
		 * Without a stop key the scans' decoder returns what decode_run
		 * does, less tombstones and offsets 0 (decode_run gives both as
		 * offset 0), even where a damaged width makes TID values of 2^48
		 * and more (its unchecked TID split must fall back to the exact
		 * one there).
		 */
		{
			uint32_t	dr = li_cleaf_decode_run(&v, from, n, UINT64_MAX, rk.data(), rt.data());
			uint32_t	q = 0;

			ASSERT_EQ(li_cleaf_decode_items(&v, from, n, UINT64_MAX, items.data(), &nitems), dr);
			for (uint32_t j = 0; j < dr; j++)
			{
				if (rt[3 * j + 2] == 0)
					continue;
				ASSERT_LT(q, nitems) << "it " << it << " entry " << from + j;
				ASSERT_EQ(items[q].key, rk[j]) << "it " << it << " entry " << from + j;
				ASSERT_EQ(std::memcmp(items[q].tid, &rt[3 * j], 6), 0)
					<< "it " << it << " entry " << from + j;
				q++;
			}
			ASSERT_EQ(q, nitems) << "it " << it;
			expect_itups(v, from, n, UINT64_MAX, dr, items, nitems);
			if (::testing::Test::HasFatalFailure())
				return;
		}
		sink += li_cleaf_decode_items(&v, from, n, rng(), items.data(), &nitems) + nitems;
		(void) sink;

		/*
		 * Keys out of order inside a damaged group: with any stop key, the
		 * scans' decoder stops where decode_run does and returns no key
		 * above it (a range scan must not return rows outside its range).
		 */
		for (uint32_t j = 0; j < std::min(n, 192u); j++)
		{
			uint64_t	stop = li_cleaf_key_at(&v, j);
			uint32_t	to = j + 1 + (uint32_t) (rng() % (n - j));
			uint32_t	fr = (uint32_t) (rng() % to);
			uint32_t	dr = li_cleaf_decode_run(&v, fr, to, stop, rk.data(), rt.data());
			uint32_t	di = li_cleaf_decode_items(&v, fr, to, stop, items.data(), &nitems);

			ASSERT_EQ(di, dr) << "it " << it << " j " << j;
			for (uint32_t q = 0; q < nitems; q++)
				ASSERT_LE(items[q].key, stop) << "it " << it << " j " << j;
			expect_itups(v, fr, to, stop, di, items, nitems);
			if (::testing::Test::HasFatalFailure())
				return;
		}
	}
}
