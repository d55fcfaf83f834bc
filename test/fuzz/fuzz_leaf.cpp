/*
 * fuzz_leaf.cpp -- libFuzzer target for the compressed leaf codec
 * (src/li_leaf.h, the group codec of leaf format 2).
 *
 * Every input is used twice:
 *
 * 1. as the recipe of a leaf:
 *   byte 0     bits 0-2 pick how the key material becomes sorted keys
 *              (make_keys), bit 3 starts them near UINT64_MAX;
 *              bits 4-5 pick the TIDs (make_tids); bit 7 repeats every
 *              key 1 + byte 2 % 128 times (runs of duplicates: breaks),
 *              bit 6 sorts the TIDs of equal keys (as an index holds
 *              duplicates: their TIDs jump back where the key changes)
 *   byte 1     TID parameter (block and offset widths)
 *   bytes 2-3  li_cleaf_fit budget (little endian u16, plus 40); byte 3
 *              also picks li_cleaf_fit_tail's fill (50..100%)
 *   rest       key material; TID material is read from the end backwards
 *   The first min(n, LI_CLEAF_MAX) entries are encoded into a buffer of
 *   exactly the block's size; the target traps when validate refuses the
 *   block, its header is not li_cleaf_plan's, a key, TID, tombstone or
 *   liveness does not round-trip (an offset 0 in is a tombstone), the
 *   group tables, break fields or li_cleaf_get_widths disagree with the
 *   header, the
 *   windowed lower bound differs from std::lower_bound (present and absent
 *   keys, windows right, too small, off, empty, negative, beyond n),
 *   li_cleaf_kill changes anything but the killed entries' tombstone bits,
 *   li_cleaf_fit's or li_cleaf_fit_tail's m does not fit (or m + 1 does, or
 *   m is 0 though one entry fits), or encode accepts n > LI_CLEAF_MAX or
 *   unsorted keys.  The encoded block is then damaged at a few places
 *   chosen by the input (header, group tables, break fields, anywhere)
 *   and, whenever li_cleaf_validate still accepts it, read in full; and
 *   changed in a few header fields (flags and step widths too), group
 *   widths and breaks but laid out again consistently, where validate
 *   must accept it exactly when every field is in range.
 *
 *   The block is encoded twice: without Elias-Fano key groups (all of the
 *   above) and with them (the default; no table tightness or resealing).
 *
 * 2. as a stored block: li_cleaf_validate(data, size), and if it says
 *   LI_OK, every key and TID is read, searched, decoded, measured and
 *   killed in a copy of exactly size bytes -- under ASan, a block that validates but is read
 *   out of bounds crashes here (the "damaged page never crashes a scan"
 *   guarantee).
 *
 * Build and run: make fuzz [FUZZ_SECONDS=60] (half the time each for
 * fuzz_fit and this target); seeds in test/fuzz/corpus_leaf
 * (make_corpus_leaf.py).
 */
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "li_leaf.h"

#define FUZZ_CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			std::fprintf(stderr, "fuzz_leaf: check failed: %s: ", #cond); \
			std::fprintf(stderr, __VA_ARGS__); \
			std::fprintf(stderr, "\n"); \
			__builtin_trap(); \
		} \
	} while (0)

namespace
{

/* more than a full leaf, so that fit and encode see n > LI_CLEAF_MAX */
const size_t kMaxKeys = LI_CLEAF_MAX + 1024;

/* little-endian integer of nbytes bytes */
uint64_t
load_le(const uint8_t *p, size_t nbytes)
{
	uint64_t	v = 0;

	for (size_t i = 0; i < nbytes; i++)
		v |= (uint64_t) p[i] << (8 * i);
	return v;
}

/* a + b, saturated at UINT64_MAX */
uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* a small deterministic generator seeded from the input */
struct Rng
{
	uint64_t	s;

	uint64_t	next()
	{
		s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		return s ^ (s >> 29);
	}
};

/* sorted keys from the key material (mode: byte 0) */
std::vector<uint64_t>
make_keys(uint8_t mode, const uint8_t *p, size_t len)
{
	static const uint64_t ext[] = {
		0, 1, 2, UINT64_C(1) << 32, (UINT64_C(1) << 63) - 1,
		UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1, UINT64_MAX - 2,
		UINT64_MAX - 1, UINT64_MAX, UINT64_C(0x5555555555555555),
		UINT64_C(0xAAAAAAAAAAAAAAAA), 1000, UINT64_MAX - 1000, 7, 8};
	std::vector<uint64_t> keys;
	uint64_t	cur = (mode & 8) ? UINT64_MAX - (UINT64_C(1) << 30) : 0;

	switch (mode & 7)
	{
		case 0:				/* raw 64-bit keys */
			for (size_t i = 0; i + 8 <= len; i += 8)
				keys.push_back(load_le(p + i, 8));
			break;
		case 1:				/* 1-byte deltas (0 = duplicate) */
			for (size_t i = 0; i < len; i++)
				keys.push_back(cur = sat_add(cur, p[i]));
			break;
		case 2:				/* runs of duplicates: (copies - 1, delta) */
			for (size_t i = 0; i + 2 <= len && keys.size() < kMaxKeys; i += 2)
			{
				cur = sat_add(cur, (uint64_t) p[i + 1] << (p[i + 1] & 0x3F));
				for (size_t c = 0; c <= (size_t) p[i] * 4; c++)
					keys.push_back(cur);
			}
			break;
		case 3:				/* dense: start (8 bytes), count (2), step (1) */
			if (len >= 11)
			{
				uint64_t	start = load_le(p, 8);
				size_t		count = (size_t) load_le(p + 8, 2);
				uint64_t	step = p[10] ? p[10] : 1;

				for (size_t i = 0; i < count && keys.size() < kMaxKeys; i++)
					keys.push_back(start + i * step);
			}
			break;
		case 4:				/* extremes: a table entry, or low bits */
			for (size_t i = 0; i < len; i++)
				keys.push_back((p[i] & 0x80) ? ext[p[i] & 15] : cur + (p[i] & 0x7F));
			break;
		case 5:				/* time series: step (4 bytes), then jitters */
			if (len >= 4)
			{
				uint64_t	step = load_le(p, 4);

				for (size_t i = 4; i < len; i++)
				{
					cur = sat_add(cur, step);
					keys.push_back(sat_add(cur, (uint64_t) p[i] * (step >> 8)));
				}
			}
			break;
		case 6:				/* 4-byte deltas */
			for (size_t i = 0; i + 4 <= len; i += 4)
				keys.push_back(cur = sat_add(cur, load_le(p + i, 4)));
			break;
		default:			/* 7: 2-byte values hugging both ends */
			for (size_t i = 0; i + 2 <= len; i += 2)
			{
				uint64_t	v = load_le(p + i, 2);

				keys.push_back((v & 1) ? UINT64_MAX - (v >> 1) : (v >> 1));
			}
			break;
	}
	if (keys.size() > kMaxKeys)
		keys.resize(kMaxKeys);
	std::sort(keys.begin(), keys.end());
	return keys;
}

/*
 * TIDs for n entries (mode: byte 0 bits 4-5, parameter: byte 1), from the
 * input read backwards (tail) and the generator
 */
std::vector<uint16_t>
make_tids(uint8_t mode, uint8_t param, const uint8_t *tail, size_t tlen,
		  size_t n, Rng &rng)
{
	std::vector<uint16_t> t(3 * n);
	uint32_t	bshift = param & 31;	/* block width 32 - bshift */
	uint32_t	oshift = (param >> 5) * 2;	/* offset width 16 - oshift */
	uint32_t	b0 = (uint32_t) rng.next();

	for (size_t i = 0; i < n; i++)
	{
		uint32_t	blk;
		uint32_t	off;
		uint64_t	r = tlen ? load_le(tail + (i % tlen), 1) | (rng.next() << 8) : rng.next();

		switch ((mode >> 4) & 3)
		{
			case 0:			/* random heap order, widths from param */
				blk = (uint32_t) r >> bshift;
				off = (uint32_t) (r >> 32) & (0xFFFFu >> oshift);
				break;
			case 1:			/* key-ordered heap from b0 */
				blk = b0 + (uint32_t) (i / (1 + param));
				off = 1 + (uint32_t) (i % (1 + param));
				break;
			case 2:			/* extremes */
				{
					static const uint32_t eb[] = {0, 1, 0xFFFFFFFEu, 0xFFFFFFFFu};
					static const uint16_t eo[] = {0, 1, 291, 65535};

					blk = eb[r & 3];
					off = eo[(r >> 2) & 3];
				}
				break;
			default:		/* every offset equal, one or two blocks */
				blk = b0 + (uint32_t) ((r & 1) << (param & 31));
				off = param;
				break;
		}
		t[3 * i] = (uint16_t) (blk >> 16);
		t[3 * i + 1] = (uint16_t) blk;
		t[3 * i + 2] = (uint16_t) off;
	}
	return t;
}

/* every key repeated r times (at most kMaxKeys keys) */
void
repeat_keys(std::vector<uint64_t> &keys, uint32_t r)
{
	std::vector<uint64_t> out;

	for (size_t i = 0; i < keys.size() && out.size() < kMaxKeys; i++)
		for (uint32_t c = 0; c < r && out.size() < kMaxKeys; c++)
			out.push_back(keys[i]);
	keys.swap(out);
}

/* the TIDs of each run of equal keys in (block, offset) order */
void
sort_dup_tids(const std::vector<uint64_t> &keys, std::vector<uint16_t> &tids)
{
	std::vector<uint64_t> x;

	for (size_t i = 0; i < keys.size();)
	{
		size_t		j = i;

		x.clear();
		for (; j < keys.size() && keys[j] == keys[i]; j++)
			x.push_back((uint64_t) tids[3 * j] << 32 | (uint64_t) tids[3 * j + 1] << 16 |
						tids[3 * j + 2]);
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

/* std::lower_bound position of key */
uint32_t
std_lb(const uint64_t *keys, uint32_t n, uint64_t key)
{
	return (uint32_t) (std::lower_bound(keys, keys + n, key) - keys);
}

/*
 * The windowed lower bound of key equals std::lower_bound and uses the
 * window exactly when the clamped window holds the answer.
 */
void
check_window(const li_cleaf_view *v, const uint64_t *keys, uint64_t key,
			 int64_t lo, int64_t hi)
{
	const int64_t n = v->n;
	uint32_t	lb = std_lb(keys, v->n, key);
	int			used = -1;
	uint32_t	got = li_cleaf_lower_bound(v, key, lo, hi, &used);
	int64_t		clo = std::max<int64_t>(lo, 0);
	int64_t		chi = std::min<int64_t>(hi, n);

	FUZZ_CHECK(got == lb, "n=%u key=%llu window [%lld,%lld): got %u expected %u",
			   v->n, (unsigned long long) key, (long long) lo, (long long) hi, got, lb);
	FUZZ_CHECK(used == (clo <= (int64_t) lb && (int64_t) lb <= chi),
			   "n=%u key=%llu window [%lld,%lld): used %d, lower bound %u",
			   v->n, (unsigned long long) key, (long long) lo, (long long) hi, used, lb);
}

/* a window for key: around its lower bound (right or off), or arbitrary */
void
check_key(const li_cleaf_view *v, const uint64_t *keys, uint64_t key, Rng &rng)
{
	const int64_t n = v->n;
	int64_t		lb = std_lb(keys, v->n, key);
	uint64_t	r = rng.next();
	int64_t		a = (int64_t) ((r >> 8) % 80) - 8;
	int64_t		b = (int64_t) ((r >> 24) % 80) - 8;
	int64_t		lo,
				hi;

	switch (r & 7)
	{
		case 0:
		case 1:
		case 2:				/* model-like: [lb - a, lb + b), maybe off */
			lo = lb - a;
			hi = lb + b;
			break;
		case 3:				/* empty */
			lo = hi = lb + (a % 3) - 1;
			break;
		case 4:				/* arbitrary in [-4, n + 4) */
			lo = (int64_t) ((r >> 40) % (uint64_t) (n + 8)) - 4;
			hi = (int64_t) ((r >> 52) % (uint64_t) (n + 8)) - 4;
			break;
		case 5:				/* extremes */
			lo = (r & 8) ? INT64_MIN : (r & 16) ? INT64_MAX : -a;
			hi = (r & 32) ? INT64_MAX : (r & 64) ? INT64_MIN : n + b;
			break;
		case 6:				/* beyond n */
			lo = n + (a < 0 ? -a : a);
			hi = lo + b;
			break;
		default:			/* negative */
			lo = -1 - (a < 0 ? -a : a);
			hi = lo + (b % 4);
			break;
	}
	check_window(v, keys, key, lo, hi);
}

/* read everything of a validated block (no checks: must not crash) */
uint64_t
read_all(const uint8_t *block, Rng &rng)
{
	li_cleaf_view v;
	uint64_t	sum = 0;

	li_cleaf_open(block, &v);
	for (uint32_t i = 0; i < v.n; i++)
	{
		uint16_t	t[3];

		sum += li_cleaf_key_at(&v, i);
		sum += (uint64_t) li_cleaf_tid_at(&v, i, t) + t[0] + t[1] + t[2];
	}
	for (int q = 0; q < 8; q++)
	{
		uint64_t	r = rng.next();
		int64_t		lo = (int64_t) ((r >> 16) % (v.n + 9)) - 4;

		sum += li_cleaf_lower_bound(&v, rng.next(), lo, lo + (int64_t) (r % 70), nullptr);
	}
	std::vector<uint64_t> dec(v.n);
	std::vector<uint16_t> tids(3 * (size_t) v.n);
	std::vector<li_item> items(v.n);
	uint32_t	nitems = 0;
	uint32_t	from = v.n ? (uint32_t) (rng.next() % v.n) : 0;
	li_cleaf_widths w;

	li_cleaf_decode_keys(&v, dec.data());
	for (uint64_t k : dec)
		sum += k;
	/* the in-order decoders, from anywhere, with and without a stop key */
	sum += li_cleaf_decode_run(&v, from, v.n, rng.next(), dec.data(), tids.data());
	sum += li_cleaf_decode_items(&v, 0, v.n, UINT64_MAX, items.data(), &nitems) + nitems;
	sum += li_cleaf_decode_items(&v, from, v.n, rng.next(), items.data(), &nitems) + nitems;
	sum += li_cleaf_decode_itups(&v, from, v.n, rng.next(),
								 reinterpret_cast<li_itup *>(items.data()), &nitems) + nitems;
	li_cleaf_get_widths(block, &w);
	FUZZ_CHECK(w.key_max <= 64 && w.tid_max <= 64, "validated widths %u %u", w.key_max,
			   w.tid_max);
	return sum + w.key_bits + w.tid_bits;
}

/* validate a stored block of len bytes; read, search and kill it if valid */
void
check_stored(const uint8_t *data, size_t len, Rng &rng)
{
	if (li_cleaf_validate(data, len) != LI_OK)
		return;
	uint64_t	sum = read_all(data, rng);
	std::vector<uint8_t> copy(data, data + len);
	li_cleaf_view v;

	li_cleaf_open(copy.data(), &v);
	if (v.n > 0)
	{
		li_cleaf_kill(copy.data(), (uint32_t) (rng.next() % v.n));
		li_cleaf_kill(copy.data(), v.n - 1);
		li_cleaf_kill(copy.data(), 0);
	}
	li_cleaf_kill(copy.data(), v.n);
	FUZZ_CHECK(li_cleaf_validate(copy.data(), len) == LI_OK, "kill broke a valid block");
	sum += read_all(copy.data(), rng);
	volatile uint64_t sink = sum;

	(void) sink;
}

/* what m entries need with their tail room (li_cleaf_fit_tail's measure) */
uint64_t
need_of(const uint64_t *keys, const uint16_t *tids, uint32_t m, uint32_t num,
		uint32_t den)
{
	li_cleaf_hdr h;

	FUZZ_CHECK(li_cleaf_plan(keys, tids, m, &h) == LI_OK, "plan %u", m);
	return h.bytes + LI_TAIL_ENTRY_BYTES * (((uint64_t) m * num + den - 1) / den);
}

/*
 * li_cleaf_fit (num/den 0/1) or li_cleaf_fit_tail: m fits, m + 1 does not
 * (unless m is min(n, LI_CLEAF_MAX)), m >= 1 exactly when one entry fits
 */
void
check_fit(const uint64_t *keys, const uint16_t *tids, uint32_t n, size_t avail,
		  uint32_t num, uint32_t den)
{
	const uint32_t cap = std::min<uint32_t>(n, LI_CLEAF_MAX);
	uint32_t	m = (num == 0 && den == 1) ? li_cleaf_fit(keys, tids, n, avail)
		: li_cleaf_fit_tail(keys, tids, n, avail, num, den);

	FUZZ_CHECK(m <= cap, "fit m=%u n=%u", m, n);
	if (n > 0)
		FUZZ_CHECK((m >= 1) == (need_of(keys, tids, 1, num, den) <= avail),
				   "fit m=%u, one entry needs %llu of %zu (tail %u/%u)", m,
				   (unsigned long long) need_of(keys, tids, 1, num, den), avail, num, den);
	if (m > 0)
		FUZZ_CHECK(need_of(keys, tids, m, num, den) <= avail,
				   "fit m=%u needs %llu > %zu (tail %u/%u)", m,
				   (unsigned long long) need_of(keys, tids, m, num, den), avail, num, den);
	if (m < cap)
		FUZZ_CHECK(need_of(keys, tids, m + 1, num, den) > avail,
				   "fit m=%u but m+1 needs %llu <= %zu (tail %u/%u)", m,
				   (unsigned long long) need_of(keys, tids, m + 1, num, den), avail, num,
				   den);
}

/*
 * One column's group tables: positions one after the other adding up to
 * res_bits, every group's (with a break: both parts') smallest residual 0
 * and largest needing exactly its width, the smallest group offset 0 and
 * the largest needing gw bits; break fields: each break inside its group,
 * none without a step, the largest step needing exactly hw bits
 */
void
check_column(const li_cview &c, const li_ccol &hc, uint32_t n, uint32_t hw, const char *what)
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

		FUZZ_CHECK(w <= 64 && (meta & 0xFFFFFF) == pos, "%s group %u: meta %08x at %llu",
				   what, g, meta, (unsigned long long) pos);
		FUZZ_CHECK(b < len && (b > 0 || f == 0), "%s group %u: break field %llx", what, g,
				   (unsigned long long) f);
		for (uint32_t j = 0; j < len; j++)
		{
			uint64_t	u = li_bits_get(c.res, pos + (uint64_t) j * w, w);

			umin[j < b] = std::min(umin[j < b], u);
			umax = std::max(umax, u);
		}
		FUZZ_CHECK(umin[0] == 0 && (b == 0 || umin[1] == 0) &&
				   (w == 0 ? umax == 0 : (umax >> (w - 1)) == 1),
				   "%s group %u of width %u, break %u: residuals %llu/%llu..%llu", what, g, w,
				   b, (unsigned long long) umin[0], (unsigned long long) umin[1],
				   (unsigned long long) umax);
		o = li_bits_get(c.goff, (uint64_t) g * c.gw, c.gw);
		omin = std::min(omin, o);
		omax = std::max(omax, o);
		smax = std::max(smax, f >> LI_CLEAF_BRK_BITS);
		pos += (uint64_t) len * w;
	}
	FUZZ_CHECK(pos == hc.res_bits, "%s res_bits %u, groups %llu", what, hc.res_bits,
			   (unsigned long long) pos);
	FUZZ_CHECK(hw <= LI_CLEAF_HW_MAX && (c.hbits == 0 ? hw == 0 && smax == 0 :
										 hw == 0 ? smax == 0 : (smax >> (hw - 1)) == 1),
			   "%s steps up to %llu in %u bits", what, (unsigned long long) smax, hw);
	if (n > 0)
		FUZZ_CHECK(omin == 0 && (c.gw == 0 ? omax == 0 : (omax >> (c.gw - 1)) == 1),
				   "%s group offsets %llu..%llu in %u bits", what,
				   (unsigned long long) omin, (unsigned long long) omax, c.gw);
}

/* write the low nbits of v at bit position pos of p (bit by bit) */
void
put_bits(uint8_t *p, uint64_t pos, uint32_t nbits, uint64_t v)
{
	for (uint32_t k = 0; k < nbits; k++, pos++)
	{
		uint64_t	bit = k < 64 ? (v >> k) & 1 : 0;

		p[pos / 8] = (uint8_t) ((p[pos / 8] & ~(1u << (pos % 8))) | (bit << (pos % 8)));
	}
}

/* a random change of a header field, a group's width or break (from r) */
void
reseal_change(uint64_t r, li_cleaf_hdr &h, uint32_t &n, std::vector<uint32_t> &kw,
			  std::vector<uint32_t> &tw, std::vector<uint32_t> &kb, std::vector<uint32_t> &tb)
{
	uint32_t	val = (uint32_t) ((r >> 16) % 70);	/* mostly <= 64 */
	bool		tid = (r >> 40) & 1;

	switch ((r >> 8) % 10)
	{
		case 0:
			h.version = (uint8_t) ((r & 0x10000) ? LI_CLEAF_VERSION : r >> 24);
			break;
		case 1:				/* n, new groups of random widths and breaks */
			n = (r & 0x10000) ? LI_CLEAF_MAX + (uint32_t) (r >> 24) % 70
				: (uint32_t) (r >> 24) % (LI_CLEAF_MAX + 1);
			kw.resize(li_cleaf_ngroups(n), val);
			tw.resize(li_cleaf_ngroups(n), (val * 7) % 65);
			kb.resize(li_cleaf_ngroups(n), 0);
			tb.resize(li_cleaf_ngroups(n), val % 64);
			break;
		case 2:
			h.kgw = (uint8_t) val;
			break;
		case 3:
			h.tgw = (uint8_t) val;
			break;
		case 4:
			{
				static const uint32_t mults[] = {0, 1, 2, 65535, 65536, 65537, UINT32_MAX};

				h.mult = (r & 0x10000) ? mults[(r >> 24) % 7] : (uint32_t) (r >> 32);
			}
			break;
		case 5:				/* flags, mostly the three known ones */
			h.flags = (uint8_t) ((r & 0x10000) ? (r >> 24) % 8 : r >> 24);
			break;
		case 6:				/* a step width */
			(tid ? h.thw : h.khw) = (uint8_t) val;
			break;
		case 7:				/* a group's break (past the end of a short last group: refused) */
			if (!kw.empty())
				(tid ? tb : kb)[(r >> 24) % kw.size()] = val % 64;
			break;
		default:			/* a group's width (key or TID) */
			if (!kw.empty())
				(tid ? tw : kw)[(r >> 24) % kw.size()] = val;
			break;
	}
}

/*
 * The encoded block with a few header fields (version, n, kgw, tgw, M,
 * flags, khw, thw), group widths and breaks changed, then laid out again
 * consistently (positions one after the other, res_bits their sum, bytes
 * what they need, random tombstones, offsets, steps and residuals):
 * li_cleaf_validate must accept it exactly when every field is in range,
 * and then it is read in full
 */
void
check_resealed(const std::vector<uint8_t> &block, Rng &rng)
{
	li_cleaf_hdr h;
	li_cleaf_view v;

	std::memcpy(&h, block.data(), sizeof(h));
	li_cleaf_open(block.data(), &v);
	uint32_t	n = h.n;
	std::vector<uint32_t> kw(li_cleaf_ngroups(n)),
				tw(li_cleaf_ngroups(n)),
				kb(li_cleaf_ngroups(n)),
				tb(li_cleaf_ngroups(n));

	for (uint32_t g = 0; g < kw.size(); g++)
	{
		uint32_t	mk,
					mt;

		std::memcpy(&mk, v.key.table + (size_t) g * 4, sizeof(mk));
		std::memcpy(&mt, v.tid.table + (size_t) g * 4, sizeof(mt));
		kw[g] = mk >> 24;
		tw[g] = mt >> 24;
		kb[g] = (uint32_t) (li_bits_get(v.key.head, (uint64_t) g * v.key.hbits, v.key.hbits) & 63);
		tb[g] = (uint32_t) (li_bits_get(v.tid.head, (uint64_t) g * v.tid.hbits, v.tid.hbits) & 63);
	}
	for (uint64_t k = 1 + rng.next() % 4; k > 0; k--)
		reseal_change(rng.next(), h, n, kw, tw, kb, tb);

	const bool	kbrk = (h.flags & LI_CLEAF_KBRK) != 0,
				tbrk = (h.flags & LI_CLEAF_TBRK) != 0;
	bool		ok = h.version == LI_CLEAF_VERSION && n <= LI_CLEAF_MAX && h.kgw <= 64 &&
		h.tgw <= 64 && h.mult >= 1 && h.mult <= 65536 && h.flags <= 6 && h.flags != 5 &&
		h.khw <= LI_CLEAF_HW_MAX && h.thw <= LI_CLEAF_HW_MAX && (kbrk || h.khw == 0) &&
		(tbrk || h.thw == 0);
	uint64_t	kbits = 0,
				tbits = 0;

	for (uint32_t g = 0; g < kw.size(); g++)
	{
		uint32_t	len = std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP);

		ok = ok && kw[g] <= 64 && tw[g] <= 64 && (!kbrk || kb[g] < len) &&
			(!tbrk || tb[g] < len);
		kbits += (uint64_t) len * kw[g];
		tbits += (uint64_t) len * tw[g];
	}
	const uint32_t khb = kbrk ? LI_CLEAF_BRK_BITS + h.khw : 0,
				thb = tbrk ? LI_CLEAF_BRK_BITS + h.thw : 0;

	h.n = (uint16_t) n;
	h.key.res_bits = (uint32_t) kbits;
	h.tid.res_bits = (uint32_t) tbits;
	h.bytes = (uint32_t) li_cleaf_bytes(n, h.kgw, khb, kbits, h.tgw, thb, tbits);

	std::vector<uint8_t> b(h.bytes);

	for (auto &x : b)
		x = (uint8_t) rng.next();
	std::memcpy(b.data(), &h, sizeof(h));
	size_t		at = LI_CLEAF_HDR + ((size_t) n + 7) / 8;

	for (int col = 0; col < 2; col++)
	{
		const std::vector<uint32_t> &w = col ? tw : kw;
		const std::vector<uint32_t> &brk = col ? tb : kb;
		const uint32_t hb = col ? thb : khb;
		const uint32_t gw = col ? h.tgw : h.kgw;
		uint64_t	pos = 0;

		for (uint32_t g = 0; g < w.size(); g++)
		{
			uint32_t	meta = (w[g] << 24) | (uint32_t) pos;

			std::memcpy(b.data() + at + (size_t) g * 4, &meta, sizeof(meta));
			pos += (uint64_t) std::min<uint32_t>(n - g * LI_CLEAF_GROUP, LI_CLEAF_GROUP) * w[g];
			/* the break field: the break, a random side and step */
			put_bits(b.data() + at + (size_t) w.size() * 4 + ((size_t) w.size() * gw + 7) / 8,
					 (uint64_t) g * hb, std::min<uint32_t>(hb, 6), brk[g]);
		}
		at += li_ccol_bytes(n, gw, hb, pos);
	}
	li_status	st = li_cleaf_validate(b.data(), b.size());

	FUZZ_CHECK(st == (ok ? LI_OK : LI_ERR_CORRUPT),
			   "validate %d on a consistent block: version %u n %u kgw %u tgw %u mult %u "
			   "flags %u khw %u thw %u",
			   (int) st, h.version, n, h.kgw, h.tgw, h.mult, h.flags, h.khw, h.thw);
	check_stored(b.data(), b.size(), rng);
}

}								/* namespace */

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Rng			rng = {UINT64_C(0x9E3779B97F4A7C15) ^ size};

	for (size_t i = 0; i < size; i++)
		rng.s = (rng.s ^ data[i]) * UINT64_C(0x100000001B3);

	/* 2. the input as a stored block */
	check_stored(data, size, rng);

	if (size < 4)
		return 0;

	/* 1. the input as a recipe */
	const uint8_t mode = data[0];
	const size_t budget = 40 + (size_t) load_le(data + 2, 2);
	std::vector<uint64_t> keys = make_keys(mode, data + 4, size - 4);

	if (mode & 0x80)
		repeat_keys(keys, 1 + data[2] % 128);

	const uint32_t n = (uint32_t) keys.size();
	std::vector<uint8_t> rtail(data + 4, data + size);

	std::reverse(rtail.begin(), rtail.end());
	std::vector<uint16_t> tids = make_tids(mode, data[1], rtail.data(), rtail.size(), n, rng);

	if (mode & 0x40)
		sort_dup_tids(keys, tids);
	const uint32_t cap = std::min<uint32_t>(n, LI_CLEAF_MAX);
	li_cleaf_hdr h;
	size_t		bytes = 0;

	/* fit: m fits, m + 1 does not; without and with tail room */
	check_fit(keys.data(), tids.data(), n, budget, 0, 1);
	{
		uint32_t	fill = 50 + data[3] % 51;

		check_fit(keys.data(), tids.data(), n, budget, 100 - fill, fill);
		check_fit(keys.data(), tids.data(), n, 8152, 100 - fill, fill);
	}

	/* too many entries, or unsorted: refused */
	if (n > LI_CLEAF_MAX)
	{
		std::vector<uint8_t> big(1 << 18);

		FUZZ_CHECK(li_cleaf_encode(keys.data(), tids.data(), n, big.data(), big.size(),
								   &bytes) == LI_ERR_ARG, "encode n=%u", n);
		FUZZ_CHECK(li_cleaf_plan(keys.data(), tids.data(), n, &h) == LI_ERR_ARG, "plan n=%u", n);
	}
	if (cap >= 2 && keys[0] < keys[cap - 1])
	{
		std::vector<uint64_t> u(keys.begin(), keys.begin() + cap);
		uint32_t	j = (uint32_t) (rng.next() % (cap - 1));

		while (u[j] == u[j + 1])
			j = (j + 1) % (cap - 1);
		std::swap(u[j], u[j + 1]);
		std::vector<uint8_t> out(1 << 18);

		FUZZ_CHECK(li_cleaf_encode(u.data(), tids.data(), cap, out.data(), out.size(),
								   &bytes) == LI_ERR_ARG, "unsorted keys accepted (swap at %u)", j);
	}

	/*
	 * Twice: without Elias-Fano key groups (every check, the tight tables
	 * and the resealed layouts included), then with them (the encoder's
	 * default: round trip, search, kill, damage)
	 */
	for (int ef = 0; ef <= 1; ef++)
	{
		li_cleaf_set_ef(ef);
		/* encode the first cap entries into a block of exactly its size */
		FUZZ_CHECK(li_cleaf_plan(keys.data(), tids.data(), cap, &h) == LI_OK, "plan cap");
		std::vector<uint8_t> block(h.bytes);

		if (h.bytes > 0)
			FUZZ_CHECK(li_cleaf_encode(keys.data(), tids.data(), cap, block.data(),
									   h.bytes - 1, &bytes) == LI_ERR_ARG, "outcap too small accepted");
		FUZZ_CHECK(li_cleaf_encode(keys.data(), tids.data(), cap, block.data(), block.size(),
								   &bytes) == LI_OK && bytes == h.bytes, "encode n=%u", cap);
		FUZZ_CHECK(li_cleaf_validate(block.data(), block.size()) == LI_OK, "validate own block");
		FUZZ_CHECK(li_cleaf_validate(block.data(), block.size() - 1) == LI_ERR_CORRUPT,
				   "validate a block cut short");

		/* round trip */
		li_cleaf_view v;

		li_cleaf_open(block.data(), &v);
		FUZZ_CHECK(std::memcmp(block.data(), &h, sizeof(h)) == 0,
				   "stored header differs from li_cleaf_plan's");
		FUZZ_CHECK(v.n == cap && v.mult == h.mult && v.bytes == h.bytes &&
				   v.key.gw == h.kgw && v.tid.gw == h.tgw &&
				   v.key.hbits == li_chead_bits(h.flags & LI_CLEAF_KBRK, h.khw) &&
				   v.tid.hbits == li_chead_bits(h.flags & LI_CLEAF_TBRK, h.thw) &&
				   h.flags <= (ef ? 6 : 3) && h.flags != 5,
				   "view n=%u mult=%u bytes=%u", v.n, v.mult, v.bytes);
		if (!ef)
		{
			check_column(v.key, h.key, cap, h.khw, "key");
			check_column(v.tid, h.tid, cap, h.thw, "TID");
		}
		{
			li_cleaf_widths w;
			uint64_t	ng = li_cleaf_ngroups(cap);

			li_cleaf_get_widths(block.data(), &w);
			FUZZ_CHECK(w.key_bits == h.key.res_bits + ng * (32 + h.kgw + v.key.hbits) &&
					   w.tid_bits == h.tid.res_bits + ng * (32 + h.tgw + v.tid.hbits) &&
					   w.key_max <= 64 && w.tid_max <= 64,
					   "widths %llu %llu %u %u", (unsigned long long) w.key_bits,
					   (unsigned long long) w.tid_bits, w.key_max, w.tid_max);
		}
		for (uint32_t i = 0; i < cap; i++)
		{
			uint16_t	t[3];
			int			live = li_cleaf_tid_at(&v, i, t);
			uint64_t	k = li_cleaf_key_at(&v, i);

			FUZZ_CHECK(k == keys[i], "key %u: %llu, expected %llu", i,
					   (unsigned long long) k, (unsigned long long) keys[i]);
			FUZZ_CHECK(std::memcmp(t, &tids[3 * i], sizeof(t)) == 0 && live == (t[2] != 0) &&
					   li_cleaf_dead(&v, i) == !live,
					   "TID %u: (%u,%u,%u) live %d, expected (%u,%u,%u)", i, t[0], t[1], t[2],
					   live, tids[3 * i], tids[3 * i + 1], tids[3 * i + 2]);
		}
		{
			std::vector<uint64_t> dec(cap);

			li_cleaf_decode_keys(&v, dec.data());
			FUZZ_CHECK(std::equal(dec.begin(), dec.end(), keys.begin()), "decode_keys");
		}

		/* exact lower bound: present keys, their neighbours, gaps, the ends */
		{
			const uint64_t *k = keys.data();
			uint32_t	step = std::max<uint32_t>(1, cap / 256);

			for (uint64_t key : {UINT64_C(0), UINT64_C(1), UINT64_MAX, UINT64_MAX - 1})
				check_key(&v, k, key, rng);
			for (uint32_t i = 0; i < cap; i += step)
			{
				check_key(&v, k, k[i], rng);
				check_key(&v, k, k[i] - 1, rng);
				check_key(&v, k, k[i] + 1, rng);
				if (i + 1 < cap && k[i + 1] > k[i])
					check_key(&v, k, k[i] + (k[i + 1] - k[i]) / 2, rng);
				check_key(&v, k, rng.next(), rng);
			}
		}

		/* kill: only those entries' tombstone bits change */
		if (cap > 0)
		{
			std::vector<uint8_t> b2 = block;
			uint32_t	kills[3] = {(uint32_t) (rng.next() % cap), 0, cap - 1};
			std::vector<uint16_t> t2(tids.begin(), tids.begin() + 3 * cap);
			std::vector<uint8_t> expect = block;

			for (uint32_t x : kills)
			{
				li_cleaf_kill(b2.data(), x);
				t2[3 * x + 2] = 0;
				expect[LI_CLEAF_HDR + x / 8] |= (uint8_t) (1u << (x % 8));
			}
			li_cleaf_kill(b2.data(), cap);
			li_cleaf_kill(b2.data(), cap + 1);
			li_cleaf_kill(b2.data(), UINT32_MAX);
			FUZZ_CHECK(li_cleaf_validate(b2.data(), b2.size()) == LI_OK, "validate after kill");
			FUZZ_CHECK(b2 == expect, "kill changed more than the tombstone bits");
			li_cleaf_open(b2.data(), &v);
			for (uint32_t i = 0; i < cap; i++)
			{
				uint16_t	t[3];
				int			live = li_cleaf_tid_at(&v, i, t);

				FUZZ_CHECK(li_cleaf_key_at(&v, i) == keys[i], "key %u after kill", i);
				FUZZ_CHECK(std::memcmp(t, &t2[3 * i], sizeof(t)) == 0 && live == (t[2] != 0),
						   "TID %u after kill: (%u,%u,%u), expected (%u,%u,%u)", i, t[0], t[1],
						   t[2], t2[3 * i], t2[3 * i + 1], t2[3 * i + 2]);
			}
		}

		/* the block damaged at a few places: validated blocks are readable */
		{
			std::vector<uint8_t> d = block;

			li_cleaf_view dv;

			li_cleaf_open(block.data(), &dv);
			const size_t ktab = (size_t) (dv.key.table - block.data());
			const size_t ttab = (size_t) (dv.tid.table - block.data());
			const size_t tab_bytes = (size_t) li_cleaf_ngroups(cap) * 4;
			const size_t khf = (size_t) (dv.key.head - block.data());
			const size_t thf = (size_t) (dv.tid.head - block.data());
			const size_t khb = (size_t) (dv.key.res - dv.key.head);
			const size_t thb = (size_t) (dv.tid.res - dv.tid.head);

			for (size_t j = 0; j < 4 && 4 + 2 * j + 1 < size; j++)
			{
				uint8_t		pos = data[size - 1 - 2 * j];
				uint8_t		x = data[size - 2 - 2 * j];
				size_t		at;

				/* the header, a break field, a group table, anywhere */
				switch (pos >> 6)
				{
					case 0:
						at = pos % LI_CLEAF_HDR;
						break;
					case 1:			/* (a column's that has them) */
						if (khb + thb == 0)
							at = pos % LI_CLEAF_HDR;
						else if ((pos & 1) ? thb > 0 : khb == 0)
							at = thf + (pos >> 1) % thb;
						else
							at = khf + (pos >> 1) % khb;
						break;
					case 2:
						at = tab_bytes ? ((pos & 1) ? ttab : ktab) + (pos >> 1) % tab_bytes
							: pos % LI_CLEAF_HDR;
						break;
					default:
						at = ((size_t) pos * 2654435761u) % d.size();
						break;
				}
				d[at] ^= x;
			}
			check_stored(d.data(), d.size(), rng);
			/* the same bytes in a shorter or longer buffer */
			std::vector<uint8_t> shorter(d.begin(), d.begin() + (long) (d.size() - d.size() / 3));

			check_stored(shorter.data(), shorter.size(), rng);
			d.resize(d.size() + 64, 0xFF);
			check_stored(d.data(), d.size(), rng);
		}
		if (!ef)
			check_resealed(block, rng);
	}
	li_cleaf_set_ef(1);
	return 0;
}
