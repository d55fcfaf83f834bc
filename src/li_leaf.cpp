/*
 * li_leaf.cpp -- the compressed leaf codec: planning (line, group offsets
 * and widths), encoding, validation of stored blocks, tombstoning in place
 * (see li_leaf.h for the format).
 */
#include "li_leaf.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace
{

const uint32_t G = LI_CLEAF_GROUP;

/* may key groups be coded Elias-Fano? (li_cleaf_set_ef: tests, tools) */
thread_local bool ef_enabled = true;

typedef unsigned __int128 u128;

/* bits needed to write v (0 for 0) */
inline uint32_t
bit_width(uint64_t v)
{
	return v == 0 ? 0 : 64 - (uint32_t) __builtin_clzll(v);
}

/* block number of a 6-byte TID */
inline uint32_t
tid_blk(const uint16_t *t)
{
	return ((uint32_t) t[0] << 16) | t[1];
}

/* prediction of a line at i (mod 2^64) */
inline uint64_t
line_at(uint64_t base, uint64_t sint, uint32_t sfrac, uint32_t i)
{
	return base + (uint64_t) i * sint + (((uint64_t) i * sfrac) >> 32);
}

/* a column's values are produced on the fly: keys, or TIDs as blk * M + off */
struct Source
{
	const uint64_t *keys;
	const uint16_t *tids;
	uint64_t	mult;

	/* value i */
	uint64_t	at(uint32_t i) const
	{
		if (keys)
			return keys[i];
		return (uint64_t) tid_blk(&tids[3 * i]) * mult + tids[3 * i + 2];
	}
};

/* what planning a column yields: header part, widths, breaks, offsets */
struct ColPlan
{
	li_ccol		col;
	uint32_t	gw;				/* width of the group offsets */
	uint32_t	hw;				/* width of the steps */
	bool		brk;			/* the column has breaks */
	uint8_t		w[LI_CLEAF_MAX / LI_CLEAF_GROUP];
	uint8_t		b[LI_CLEAF_MAX / LI_CLEAF_GROUP];	/* break (0: none) */
	uint32_t	hbits() const	/* bits of a break field */
	{
		return li_chead_bits(brk, hw);
	}
	uint64_t	goff[LI_CLEAF_MAX / LI_CLEAF_GROUP];
	uint64_t	step[LI_CLEAF_MAX / LI_CLEAF_GROUP];	/* d */
	uint8_t		side[LI_CLEAF_MAX / LI_CLEAF_GROUP];	/* s */
	bool		ef[LI_CLEAF_MAX / LI_CLEAF_GROUP];	/* Elias-Fano (w: its L) */
	bool		anyef;			/* a group is Elias-Fano coded */
};

/* are the values of group [i0, i1) in order? */
bool
sorted_group(const Source &src, uint32_t i0, uint32_t i1)
{
	for (uint32_t i = i0 + 1; i < i1; i++)
		if (src.at(i) < src.at(i - 1))
			return false;
	return true;
}

/*
 * The bits of group [i0, i1) coded Elias-Fano: values x_j - x_0 for j >= 1
 * (x_0 is the group's base), each as L low bits plus its high part in
 * unary (a one per value, a zero per step of the high part): (len - 1) *
 * (L + 1) + ((x_last - x_0) >> L) bits.  The cheapest L into *L;
 * UINT64_MAX if the group has fewer than 2 values or its last is below its
 * first (the caller checks the order of the others: sorted_group).
 */
uint64_t
ef_bits(const Source &src, uint32_t i0, uint32_t i1, uint32_t *L)
{
	uint64_t	m = i1 - i0 - 1,
				range,
				best = UINT64_MAX;

	if (i1 - i0 < 2 || src.at(i1 - 1) < src.at(i0))
		return UINT64_MAX;
	range = src.at(i1 - 1) - src.at(i0);

	/* m * L + (range >> L) is least near L = log2(range / m) - 0.53 */
	uint32_t	c = bit_width(range / m);

	for (uint32_t l = c > 2 ? c - 2 : 0; l <= std::min(c + 1, 63u); l++)
	{
		uint64_t	bits = m * (l + 1) + (range >> l);

		if (bits < best)
		{
			best = bits;
			*L = l;
		}
	}
	return best;
}

/* the bits a planned column takes: residuals and offsets */
inline uint64_t
col_bits(const ColPlan &p, uint32_t n)
{
	return p.col.res_bits + (uint64_t) li_cleaf_ngroups(n) * (p.gw + p.hbits());
}

/* the slope of [a, b] between i0 and i1 (i1 > i0) in 32.32 fixed point, 0 if b < a */
inline unsigned __int128
slope_q(uint64_t a, uint64_t b, uint32_t i0, uint32_t i1)
{
	if (b <= a)
		return 0;
	return ((unsigned __int128) (b - a) << 32) / (i1 - i0);
}

/* the median of ns slopes (reordered) as the line's slope of p, 0 if none */
void
set_slope(unsigned __int128 *slopes, uint32_t ns, ColPlan *p)
{
	unsigned __int128 q = 0;

	if (ns > 0)
	{
		std::nth_element(slopes, slopes + ns / 2, slopes + ns);
		q = slopes[ns / 2];
	}
	/* a slope beyond 2^64 per entry cannot help: values span 2^64 */
	if ((q >> 96) != 0)
		q = 0;
	p->col.slope_int = (uint64_t) (q >> 32);
	p->col.slope_frac = (uint32_t) q;
}

/*
 * The residuals of group [i0, i1) against p's line: the smallest lo and
 * the width w without a break; with brk, also the best single break b
 * (the one that needs the narrowest width, 0 if none is narrower) with
 * the head's smallest hlo and the rest's lo.
 */
void
group_residuals(const Source &src, const ColPlan *p, uint32_t i0, uint32_t i1,
				bool brk, int64_t *lo, int64_t *hlo, uint32_t *w, uint32_t *b)
{
	int64_t		d[LI_CLEAF_GROUP];
	int64_t		smin[LI_CLEAF_GROUP + 1],
				smax[LI_CLEAF_GROUP + 1];
	uint32_t	len = i1 - i0;
	int64_t		dmin = INT64_MAX,
				dmax = INT64_MIN;

	for (uint32_t j = 0; j < len; j++)
	{
		d[j] = (int64_t) (src.at(i0 + j) -
						  line_at(p->col.base, p->col.slope_int, p->col.slope_frac, i0 + j));
		dmin = std::min(dmin, d[j]);
		dmax = std::max(dmax, d[j]);
	}
	/* (a range is dmax - dmin exactly, as unsigned) */
	*lo = dmin;
	*hlo = 0;
	*b = 0;
	*w = bit_width((uint64_t) dmax - (uint64_t) dmin);
	if (!brk || *w == 0)
		return;
	/* suffix minima and maxima: the rest from each candidate break */
	smin[len] = INT64_MAX;
	smax[len] = INT64_MIN;
	for (uint32_t j = len; j-- > 0;)
	{
		smin[j] = std::min(smin[j + 1], d[j]);
		smax[j] = std::max(smax[j + 1], d[j]);
	}
	int64_t		pmin = INT64_MAX,
				pmax = INT64_MIN;
	uint64_t	best = UINT64_MAX;
	uint32_t	bb = 0;

	/* the break with the smallest wider range of its two parts */
	for (uint32_t j = 1; j < len; j++)
	{
		pmin = std::min(pmin, d[j - 1]);
		pmax = std::max(pmax, d[j - 1]);

		uint64_t	r = std::max((uint64_t) pmax - (uint64_t) pmin,
								 (uint64_t) smax[j] - (uint64_t) smin[j]);

		if (r < best)
		{
			best = r;
			bb = j;
		}
	}
	if (bb == 0 || bit_width(best) >= *w)
		return;
	*w = bit_width(best);
	*b = bb;
	*lo = smin[bb];
	*hlo = INT64_MAX;
	for (uint32_t j = 0; j < bb; j++)
		*hlo = std::min(*hlo, d[j]);
}

/*
 * Plan one column of n values: the line (base = value 0, slope = the
 * median of the groups' endpoint slopes; with brk, of their quarters'
 * slopes: a break is in one quarter at most), each group's offset above the
 * smallest, its residual width and (brk) its break, side and step
 * (without breaks if a step would need more than 57 bits).
 */
void
plan_column(const Source &src, uint32_t n, bool brk, bool efok, ColPlan *p)
{
	uint32_t	ng = li_cleaf_ngroups(n);

	/*
	 * four quarters per group, five in a short last group (11 entries:
	 * q = 2, quarters at 0, 2, 4, 6, 8)
	 */
	unsigned __int128 slopes[4 * LI_CLEAF_MAX / LI_CLEAF_GROUP + 1];
	uint32_t	ns = 0;
	int64_t		gmin[LI_CLEAF_MAX / LI_CLEAF_GROUP],
				hmin[LI_CLEAF_MAX / LI_CLEAF_GROUP];
	uint64_t	res_bits = 0;
	int64_t		rmin = 0;

	std::memset(&p->col, 0, sizeof(p->col));
	p->gw = 0;
	p->hw = 0;
	p->brk = brk;
	p->anyef = false;
	if (n == 0)
		return;
	for (uint32_t g = 0; g < ng; g++)
	{
		uint32_t	i0 = g * G;
		uint32_t	i1 = std::min(n, i0 + G);
		uint32_t	q = (i1 - i0) / 4;

		/* with breaks: the quarters' slopes (a break is in at most one) */
		if (brk && q >= 2)
			for (uint32_t a = i0; a + q <= i1; a += q)
				slopes[ns++] = slope_q(src.at(a), src.at(a + q - 1), a, a + q - 1);
		else if (i1 - 1 > i0)
			slopes[ns++] = slope_q(src.at(i0), src.at(i1 - 1), i0, i1 - 1);
	}
	p->col.base = src.at(0);
	set_slope(slopes, ns, p);
	for (uint32_t g = 0; g < ng; g++)
	{
		uint32_t	i0 = g * G;
		uint32_t	i1 = std::min(n, i0 + G);
		uint32_t	w,
					b;

		group_residuals(src, p, i0, i1, brk, &gmin[g], &hmin[g], &w, &b);

		/*
		 * Elias-Fano where it is smaller (sorted keys, no breaks; never
		 * below width 1: it takes a bit per value)
		 */
		uint32_t	L = 0;
		uint64_t	efb = (efok && !brk && w > 0) ? ef_bits(src, i0, i1, &L) : UINT64_MAX;

		p->ef[g] = efb < (uint64_t) (i1 - i0) * w && sorted_group(src, i0, i1);
		if (p->ef[g])
		{
			p->anyef = true;
			w = L;
			gmin[g] = (int64_t) (src.at(i0) -
								 line_at(p->col.base, p->col.slope_int, p->col.slope_frac, i0));
			res_bits += efb;
		}
		else
			res_bits += (uint64_t) (i1 - i0) * w;
		p->w[g] = (uint8_t) w;
		p->b[g] = (uint8_t) b;
		if (g == 0 || gmin[g] < rmin)
			rmin = gmin[g];
		if (b > 0 && hmin[g] < rmin)
			rmin = hmin[g];
	}
	uint64_t	omax = 0,
				hmax = 0;

	/* the group offset is its smaller part's; the other part adds a step */
	for (uint32_t g = 0; g < ng; g++)
	{
		int64_t		lo = gmin[g];

		p->step[g] = 0;
		p->side[g] = 0;
		if (p->b[g] > 0)
		{
			lo = std::min(gmin[g], hmin[g]);
			p->side[g] = hmin[g] < gmin[g];
			p->step[g] = p->side[g] ? (uint64_t) gmin[g] - (uint64_t) hmin[g] :
				(uint64_t) hmin[g] - (uint64_t) gmin[g];
		}
		p->goff[g] = (uint64_t) lo - (uint64_t) rmin;
		omax = std::max(omax, p->goff[g]);
		hmax = std::max(hmax, p->step[g]);
	}
	p->gw = bit_width(omax);
	p->hw = bit_width(hmax);
	p->col.rmin = (uint64_t) rmin;
	p->col.res_bits = (uint32_t) res_bits;
	/* a break field holds the break, its side and at most 57 step bits */
	if (brk && p->hw > LI_CLEAF_HW_MAX)
		plan_column(src, n, false, efok, p);
}

/* which columns have breaks */
struct Modes
{
	bool		kbrk;
	bool		tbrk;
};

/*
 * does a column of n values take breaks: they save 1 bit per entry over
 * no breaks, or any bit over Elias-Fano groups (efok)?
 */
bool
saves_breaks(const Source &src, uint32_t n, bool efok)
{
	ColPlan		plain,
				brk;

	plan_column(src, n, false, efok, &plain);
	plan_column(src, n, true, false, &brk);
	/* (breaks cost a read more per entry; Elias-Fano groups a select) */
	return col_bits(brk, n) + (efok ? 0 : n) < col_bits(plain, n);
}

/* the largest offset + 1 of the TIDs (M: TID = blk * M + off) */
uint32_t
tid_mult(const uint16_t *tids, uint32_t n)
{
	uint32_t	omax = 0;

	for (uint32_t i = 0; i < n; i++)
		omax = std::max<uint32_t>(omax, tids[3 * i + 2]);
	return omax + 1;
}

/*
 * Which columns of entries [0, n) get breaks: those where they save 1
 * bit per entry on the first (up to) 8 groups, planned both ways (with the
 * TIDs' M of those entries).  A function of the first 512 entries only, so
 * li_cleaf_fit_tail decides once for all its tries of 512 entries or more.
 */
Modes
decide_modes(const uint64_t *keys, const uint16_t *tids, uint32_t n)
{
	const uint32_t probe = std::min(n, 8 * G);

	/*
	 * the last probe's entries and answer: the writer fits a leaf twice
	 * and encodes it, all from the same first entries (an exact copy, so
	 * a hit answers what planning would)
	 */
	static thread_local struct
	{
		uint32_t	n;
		bool		ef;			/* ef_enabled when it was asked */
		Modes		m;
		uint64_t	keys[8 * G];
		uint16_t	tids[3 * 8 * G];
	}			last;

	if (n < 2 * G)
		return Modes{false, false};
	if (last.n == probe && last.ef == ef_enabled &&
		std::memcmp(last.keys, keys, probe * sizeof(uint64_t)) == 0 &&
		std::memcmp(last.tids, tids, probe * 3 * sizeof(uint16_t)) == 0)
		return last.m;
	last.m = Modes{saves_breaks(Source{keys, nullptr, 0}, probe, ef_enabled),
		saves_breaks(Source{nullptr, tids, tid_mult(tids, probe)}, probe, false)};
	last.n = probe;
	last.ef = ef_enabled;
	std::memcpy(last.keys, keys, probe * sizeof(uint64_t));
	std::memcpy(last.tids, tids, probe * 3 * sizeof(uint16_t));
	return last.m;
}

/*
 * plan both columns and the header of entries [0, n) (modes: what
 * decide_modes says for them, nullptr to ask it)
 */
void
plan(const uint64_t *keys, const uint16_t *tids, uint32_t n, li_cleaf_hdr *h,
	 ColPlan *kp, ColPlan *tp, const Modes *modes = nullptr)
{
	Modes		m = modes ? *modes : decide_modes(keys, tids, n);

	std::memset(h, 0, sizeof(*h));
	h->n = (uint16_t) n;
	h->version = LI_CLEAF_VERSION;
	h->mult = n > 0 ? tid_mult(tids, n) : 1;
	plan_column(Source{keys, nullptr, 0}, n, m.kbrk, ef_enabled, kp);
	plan_column(Source{nullptr, tids, h->mult}, n, m.tbrk, false, tp);
	h->kgw = (uint8_t) kp->gw;
	h->tgw = (uint8_t) tp->gw;
	h->khw = (uint8_t) kp->hw;
	h->thw = (uint8_t) tp->hw;
	h->key = kp->col;
	h->tid = tp->col;
	h->flags = (uint8_t) ((kp->brk ? LI_CLEAF_KBRK : 0) | (tp->brk ? LI_CLEAF_TBRK : 0) |
						  (kp->anyef ? LI_CLEAF_KEF : 0));
	h->bytes = (uint32_t) li_cleaf_bytes(n, kp->gw, kp->hbits(), kp->col.res_bits, tp->gw,
										 tp->hbits(), tp->col.res_bits);
}

/*
 * OR the w-bit value val (w <= 64, val < 2^w) into the zeroed bit array p
 * at bit position pos, a word at a time: one unaligned 64-bit
 * read-modify-write and at most one more byte, the mirror of li_bits_get
 * (it may touch the 7 bytes after the field's last byte with zero bits:
 * the block's 8 bytes of slack keep that inside the block)
 */
inline void
bits_put(uint8_t *p, uint64_t pos, uint32_t w, uint64_t val)
{
	uint8_t    *b = p + (pos >> 3);
	uint32_t	s = (uint32_t) (pos & 7);
	uint64_t	v;

	if (w == 0)
		return;
	std::memcpy(&v, b, sizeof(v));
	v |= val << s;
	std::memcpy(b, &v, sizeof(v));
	if (s + w > 64)
		b[8] |= (uint8_t) (val >> (64 - s));
}

/*
 * Write Elias-Fano group [i0, i1) with L low bits at bit pos of res:
 * the low parts of values 1.., then the high parts' bitmap (value j's one
 * at its high part + j - 1).  Returns the group's end.
 */
uint64_t
write_ef_group(const Source &src, uint32_t i0, uint32_t i1, uint32_t L, uint8_t *res,
			   uint64_t pos)
{
	uint64_t	x0 = src.at(i0),
				ub = pos + (uint64_t) (i1 - i0 - 1) * L,
				high = 0;

	for (uint32_t j = 1; j < i1 - i0; j++)
	{
		uint64_t	v = src.at(i0 + j) - x0;

		bits_put(res, pos + (uint64_t) (j - 1) * L, L,
				 L ? v & ((UINT64_C(2) << (L - 1)) - 1) : 0);
		high = L < 64 ? v >> L : 0;
		bits_put(res, ub + high + j - 1, 1, 1);
	}
	return ub + high + (i1 - i0 - 1);
}

/* write a planned column's arrays at p; returns the end */
uint8_t *
write_column(const Source &src, uint32_t n, const ColPlan &cp, uint8_t *p)
{
	uint32_t	ng = li_cleaf_ngroups(n);
	uint32_t	hb = cp.hbits();
	uint8_t    *goff = p + (size_t) ng * 4;
	uint8_t    *head = goff + ((size_t) ng * cp.gw + 7) / 8;
	uint8_t    *res = head + ((size_t) ng * hb + 7) / 8;
	uint64_t	pos = 0;

	for (uint32_t g = 0; g < ng; g++)
	{
		uint32_t	meta = ((uint32_t) cp.w[g] << 24) | (uint32_t) pos |
			(cp.ef[g] ? LI_CLEAF_EF : 0);
		uint32_t	i1 = std::min(n, (g + 1) * G);

		std::memcpy(p + (size_t) g * 4, &meta, sizeof(meta));
		bits_put(goff, (uint64_t) g * cp.gw, cp.gw, cp.goff[g]);
		if (cp.ef[g])
		{
			pos = write_ef_group(src, g * G, i1, cp.w[g], res, pos);
			continue;
		}
		bits_put(head, (uint64_t) g * hb, hb,
				 cp.b[g] | ((uint64_t) cp.side[g] << 6) | (cp.step[g] << LI_CLEAF_BRK_BITS));
		for (uint32_t i = g * G; i < i1; i++)
		{
			bool		stepped = (i - g * G < cp.b[g]) != (cp.side[g] != 0);
			uint64_t	off = cp.goff[g] + (stepped ? cp.step[g] : 0);
			uint64_t	u = src.at(i) -
				line_at(cp.col.base, cp.col.slope_int, cp.col.slope_frac, i) -
				cp.col.rmin - off;

			bits_put(res, pos, cp.w[g], u);
			pos += cp.w[g];
		}
	}
	return res + (pos + 7) / 8;
}

/* per byte of x, the number of ones in bytes 0..k (byte k), without popcnt */
inline uint64_t
byte_ranks(uint64_t x)
{
	uint64_t	s = x - ((x >> 1) & UINT64_C(0x5555555555555555));

	s = (s & UINT64_C(0x3333333333333333)) + ((s >> 2) & UINT64_C(0x3333333333333333));
	s = (s + (s >> 4)) & UINT64_C(0x0F0F0F0F0F0F0F0F);
	return s * UINT64_C(0x0101010101010101);
}

/* the position of the r-th one of each byte value b, [r][b] (8 if none) */
struct SelectInByte
{
	uint8_t		pos[8][256];

	constexpr SelectInByte() : pos()
	{
		for (uint32_t b = 0; b < 256; b++)
			for (uint32_t r = 0, k = 0; r < 8; r++)
			{
				while (k < 8 && !((b >> k) & 1))
					k++;
				pos[r][b] = (uint8_t) k;
				if (k < 8)
					k++;
			}
	}
};

constexpr SelectInByte select_in_byte;

/* the position of the r-th one (from 0) of x, given its byte_ranks s (r < ones) */
inline uint32_t
select64(uint64_t x, uint64_t s, uint32_t r)
{
	const uint64_t L8 = UINT64_C(0x0101010101010101),
				H8 = UINT64_C(0x8080808080808080);

	/* the first byte whose rank passes r (ranks are <= 64: no borrow) */
	uint64_t	m = ((s | H8) - L8 * (r + 1)) & H8;
	uint32_t	k = (uint32_t) __builtin_ctzll(m) & ~7u;
	uint32_t	b = (uint32_t) (x >> k) & 0xFF;

	r -= k ? (uint32_t) (s >> (k - 8)) & 0xFF : 0;
	return k + select_in_byte.pos[r & 7][b];
}

/*
 * bits [p, p + 64) of res (p < end), complemented with ZEROS, those at end
 * and beyond zeroed
 */
template <bool ZEROS = false>
inline uint64_t
word_at(const uint8_t *res, uint64_t end, uint64_t p)
{
	uint64_t	w = li_bits_get(res, p, 64);

	if (ZEROS)
		w = ~w;
	return end - p < 64 ? w & ((UINT64_C(1) << (end - p)) - 1) : w;
}

/*
 * The bit offset from `from` of the r-th one (ZEROS: zero), from 0, in
 * res, reading words below end only; UINT64_MAX if there is none (a
 * damaged block)
 */
template <bool ZEROS = false>
uint64_t
select_from(const uint8_t *res, uint64_t end, uint64_t from, uint64_t r)
{
	for (uint64_t p = from; p < end; p += 64)
	{
		uint64_t	w = word_at<ZEROS>(res, end, p),
					s = byte_ranks(w);
		uint32_t	c = (uint32_t) (s >> 56);

		if (r < c)
			return p - from + select64(w, s, (uint32_t) r);
		r -= c;
	}
	return UINT64_MAX;
}

/*
 * check one column's group table (and break fields: each break inside its
 * group) against its arrays; the end, or nullptr.  Elias-Fano groups
 * (efok: a key column without breaks) have L <= 63, at least 2 entries
 * and exactly len - 1 ones in their bitmap, the last one ending the group,
 * and the last value's high part fits 64 - L bits.
 */
const uint8_t *
check_column(const uint8_t *p, const uint8_t *end, const li_ccol &c, uint32_t gw,
			 uint32_t hbits, uint32_t n, bool efok)
{
	li_cview	v;
	const uint8_t *next = li_ccol_open(p, &c, gw, hbits, n, &v);
	uint64_t	pos = 0;

	if (next > end)
		return nullptr;
	for (uint32_t g = 0; g < li_cleaf_ngroups(n); g++)
	{
		uint32_t	meta;
		uint32_t	len = std::min(n - g * G, G);
		uint64_t	f = li_bits_get(v.head, (uint64_t) g * hbits, hbits);

		std::memcpy(&meta, v.table + (size_t) g * 4, sizeof(meta));
		if (meta & LI_CLEAF_EF)
		{
			uint32_t	L = (meta >> 24) & 0x7F;
			uint64_t	ub = pos + (uint64_t) (len - 1) * L,
						last;

			if (!efok || L > 63 || len < 2 || (meta & 0xFFFFFF) != pos || ub > c.res_bits)
				return nullptr;
			last = select_from(v.res, c.res_bits, ub, len - 2);
			/* the last value's high part (its one's zeros) fits 64 - L bits */
			if (last == UINT64_MAX || last - (len - 2) > (UINT64_MAX >> L))
				return nullptr;
			pos = ub + last + 1;
			continue;
		}
		/* groups are laid out one after the other, as the encoder does */
		if ((meta >> 24) > 64 || (meta & 0xFFFFFF) != pos || (f & 63) >= len)
			return nullptr;
		pos += (uint64_t) len * (meta >> 24);
	}
	return pos == c.res_bits ? next : nullptr;
}

}								/* namespace */

extern "C" void
li_cleaf_set_ef(int on) noexcept
{
	ef_enabled = on != 0;
}

namespace
{

/* the arguments of a plan */
bool
plan_args_ok(const uint64_t *keys, const uint16_t *tids, uint32_t n)
{
	return n <= LI_CLEAF_MAX && (n == 0 || (keys != nullptr && tids != nullptr));
}

}								/* namespace */

extern "C" li_status
li_cleaf_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
			  li_cleaf_hdr *h) noexcept
{
	ColPlan		kp,
				tp;

	if (h == nullptr || !plan_args_ok(keys, tids, n))
		return LI_ERR_ARG;
	plan(keys, tids, n, h, &kp, &tp);
	return LI_OK;
}

extern "C" uint32_t
li_cleaf_fit(const uint64_t *keys, const uint16_t *tids, uint32_t n,
			 size_t budget) noexcept
{
	return li_cleaf_fit_tail(keys, tids, n, budget, 0, 1);
}

extern "C" uint32_t
li_cleaf_fit_tail(const uint64_t *keys, const uint16_t *tids, uint32_t n,
				  size_t avail, uint32_t tail_num, uint32_t tail_den) noexcept
{
	li_cleaf_hdr h;
	ColPlan		kp,
				tp;
	const uint32_t cap = n < LI_CLEAF_MAX ? n : LI_CLEAF_MAX;
	const uint64_t base = li_cleaf_bytes(0, 0, 0, 0, 0, 0, 0);

	if (n == 0 || keys == nullptr || tids == nullptr)
		return 0;
	if (tail_den == 0)
		tail_den = 1;

	/* the modes of every m >= 512 (decide_modes sees 512 entries) */
	const Modes big = decide_modes(keys, tids, cap);

	/* block bytes plus the tail room reserved for m entries */
	auto		need = [&](uint32_t m) {
		plan(keys, tids, m, &h, &kp, &tp, m >= 8 * G ? &big : nullptr);
		return (uint64_t) h.bytes +
			LI_TAIL_ENTRY_BYTES * (((uint64_t) m * tail_num + tail_den - 1) / tail_den);
	};

	/*
	 * Invariant: lo fits (0: nothing yet), hi does not (cap + 1: past the
	 * end); nlo / nhi are what they need.  What m entries need is nearly a
	 * line in m, so the next try is where the line through the bracket's
	 * ends (or from an empty block through lo) meets avail; a try landing
	 * on the same side as the one before moves 1, 2, 4, ... entries on
	 * towards the other end, and once both ends are known, three tries
	 * that did not halve the bracket are followed by one that bisects it
	 * (so O(log cap) plans in any case, 4-8 on the microbench's leaves
	 * where a binary search took 13-15).  Each try is inside the bracket,
	 * so it ends with hi = lo + 1: lo fits, lo + 1 does not.
	 */
	uint32_t	lo = 0,
				hi = cap + 1,
				g = cap < 128 ? cap : 128,
				step = 0,
				width = 0;
	uint64_t	nlo = base,
				nhi = 0;
	int			last = -1,
				tries = 0;

	while (hi - lo > 1)
	{
		g = std::min(std::max(g, lo + 1), hi - 1);

		uint64_t	ng = need(g);
		int			fits = ng <= avail;

		if (fits)
		{
			lo = g;
			nlo = ng;
		}
		else
		{
			hi = g;
			nhi = ng;
		}
		if (hi - lo <= 1)
			break;
		if (hi <= cap && width == 0)
			width = hi - lo;	/* both ends known from here */
		else if (hi <= cap && ++tries == 3)
		{
			bool		slow = hi - lo > width / 2;

			tries = 0;
			width = hi - lo;
			if (slow)
			{
				g = lo + (hi - lo) / 2;
				last = -1;
				continue;
			}
		}
		if (hi == cap + 1)		/* no end that does not fit yet */
			g = (uint32_t) std::min<u128>(cap, lo + (u128) (avail - nlo) *
										  lo / (nlo - base));
		else if (lo == 0)		/* no end that fits yet */
			g = (uint32_t) ((u128) hi * (avail > base ? avail - base : 0) /
							(nhi - base));
		else
			g = lo + (uint32_t) ((u128) (avail - nlo) * (hi - lo) /
								 (nhi - nlo));
		if (fits == last)
		{
			step = step ? 2 * step : 1;
			g = fits ? g + step : (g > step ? g - step : 0);
		}
		else
			step = 0;
		last = fits;
	}
	return lo;
}

namespace
{

/*
 * What a kept plan was made for (a check against mistakes of the caller,
 * which must not have changed the entries: cheap, so not every entry)
 */
struct PlanIdent
{
	const uint64_t *keys;		/* the arrays planned, and n */
	const uint16_t *tids;
	uint32_t	n;
	uint32_t	ef;				/* ef_enabled when planned */
	uint64_t	ends[4];		/* first and last key and TID (0 if n = 0) */
};

/* a plan kept by li_cleaf_plan_keep, and what it was made for */
struct KeptPlan
{
	li_cleaf_hdr h;
	ColPlan		kp;
	ColPlan		tp;
	PlanIdent	id;
};

/* the identity of entries [0, n) of keys and tids, planned now */
PlanIdent
plan_ident(const uint64_t *keys, const uint16_t *tids, uint32_t n)
{
	PlanIdent	id;

	std::memset(&id, 0, sizeof(id));
	id.keys = keys;
	id.tids = tids;
	id.n = n;
	id.ef = ef_enabled;
	if (n > 0)
	{
		id.ends[0] = keys[0];
		id.ends[1] = keys[n - 1];
		std::memcpy(&id.ends[2], tids, 6);
		std::memcpy(&id.ends[3], tids + 3 * (n - 1), 6);
	}
	return id;
}

/* the arguments of an encode, and sorted keys */
bool
encode_args_ok(const uint64_t *keys, const uint16_t *tids, uint32_t n, const uint8_t *out,
			   const size_t *bytes)
{
	if (out == nullptr || bytes == nullptr || !plan_args_ok(keys, tids, n))
		return false;
	for (uint32_t i = 1; i < n; i++)
		if (keys[i] < keys[i - 1])
			return false;
	return true;
}

/* write the block of a plan (h, kp, tp) of entries [0, n) into out */
li_status
encode_planned(const uint64_t *keys, const uint16_t *tids, uint32_t n,
			   const li_cleaf_hdr &h, const ColPlan &kp, const ColPlan &tp, uint8_t *out,
			   size_t outcap, size_t *bytes)
{
	if (h.bytes > outcap)
		return LI_ERR_ARG;
	std::memset(out, 0, h.bytes);
	std::memcpy(out, &h, sizeof(h));

	uint8_t    *dead = out + LI_CLEAF_HDR;
	uint8_t    *p = dead + ((size_t) n + 7) / 8;

	for (uint32_t i = 0; i < n; i++)
		if (tids[3 * i + 2] == 0)
			dead[i / 8] |= (uint8_t) (1u << (i % 8));
	p = write_column(Source{keys, nullptr, 0}, n, kp, p);
	(void) write_column(Source{nullptr, tids, h.mult}, n, tp, p);
	*bytes = h.bytes;
	return LI_OK;
}

}								/* namespace */

extern "C" li_status
li_cleaf_encode(const uint64_t *keys, const uint16_t *tids, uint32_t n,
				uint8_t *out, size_t outcap, size_t *bytes) noexcept
{
	li_cleaf_hdr h;
	ColPlan		kp,
				tp;

	if (!encode_args_ok(keys, tids, n, out, bytes))
		return LI_ERR_ARG;
	plan(keys, tids, n, &h, &kp, &tp);
	return encode_planned(keys, tids, n, h, kp, tp, out, outcap, bytes);
}

extern "C" size_t
li_cleaf_plan_size(void) noexcept
{
	return sizeof(KeptPlan);
}

extern "C" li_status
li_cleaf_plan_keep(const uint64_t *keys, const uint16_t *tids, uint32_t n, li_cleaf_hdr *h,
				   void *plan_out) noexcept
{
	KeptPlan   *k = static_cast<KeptPlan *>(plan_out);

	if (h == nullptr || k == nullptr || !plan_args_ok(keys, tids, n))
		return LI_ERR_ARG;
	plan(keys, tids, n, &k->h, &k->kp, &k->tp);
	k->id = plan_ident(keys, tids, n);
	*h = k->h;
	return LI_OK;
}

extern "C" li_status
li_cleaf_encode_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
					 const void *plan_in, uint8_t *out, size_t outcap, size_t *bytes) noexcept
{
	const KeptPlan *k = static_cast<const KeptPlan *>(plan_in);
	PlanIdent	id;

	if (k == nullptr || !encode_args_ok(keys, tids, n, out, bytes))
		return LI_ERR_ARG;
	id = plan_ident(keys, tids, n);
	if (std::memcmp(&id, &k->id, sizeof(id)) != 0)
		return li_cleaf_encode(keys, tids, n, out, outcap, bytes);
	return encode_planned(keys, tids, n, k->h, k->kp, k->tp, out, outcap, bytes);
}

extern "C" li_status
li_cleaf_validate_header(const uint8_t *block, size_t len) noexcept
{
	li_cleaf_hdr h;

	if (block == nullptr || len < LI_CLEAF_HDR)
		return LI_ERR_CORRUPT;
	std::memcpy(&h, block, sizeof(h));
	if (h.version != LI_CLEAF_VERSION || h.n > LI_CLEAF_MAX || h.kgw > 64 ||
		h.tgw > 64 || h.khw > LI_CLEAF_HW_MAX || h.thw > LI_CLEAF_HW_MAX ||
		(h.flags & ~(LI_CLEAF_KBRK | LI_CLEAF_TBRK | LI_CLEAF_KEF)) != 0 ||
		(h.flags & (LI_CLEAF_KBRK | LI_CLEAF_KEF)) == (LI_CLEAF_KBRK | LI_CLEAF_KEF) ||
		(h.khw > 0 && !(h.flags & LI_CLEAF_KBRK)) ||
		(h.thw > 0 && !(h.flags & LI_CLEAF_TBRK)) ||
		h.mult == 0 || h.mult > 65536 ||
		h.key.res_bits > (uint64_t) h.n * 64 || h.tid.res_bits > (uint64_t) h.n * 64 ||
		h.bytes != li_cleaf_bytes(h.n, h.kgw, li_chead_bits(h.flags & LI_CLEAF_KBRK, h.khw),
								  h.key.res_bits, h.tgw,
								  li_chead_bits(h.flags & LI_CLEAF_TBRK, h.thw),
								  h.tid.res_bits) ||
		h.bytes > len)
		return LI_ERR_CORRUPT;
	return LI_OK;
}

extern "C" li_status
li_cleaf_validate(const uint8_t *block, size_t len) noexcept
{
	li_cleaf_hdr h;

	if (li_cleaf_validate_header(block, len) != LI_OK)
		return LI_ERR_CORRUPT;
	std::memcpy(&h, block, sizeof(h));

	const uint8_t *end = block + h.bytes - 8;
	const uint8_t *p = block + LI_CLEAF_HDR + ((size_t) h.n + 7) / 8;

	p = check_column(p, end, h.key, h.kgw, li_chead_bits(h.flags & LI_CLEAF_KBRK, h.khw),
					 h.n, (h.flags & LI_CLEAF_KEF) != 0);
	if (p == nullptr ||
		check_column(p, end, h.tid, h.tgw, li_chead_bits(h.flags & LI_CLEAF_TBRK, h.thw),
					 h.n, false) == nullptr)
		return LI_ERR_CORRUPT;
	return LI_OK;
}

extern "C" uint64_t
li_ccol_step(const li_cview *c, uint32_t g, uint32_t j) noexcept
{
	uint64_t	f = li_bits_get(c->head, (uint64_t) g * c->hbits, c->hbits);

	return ((j < (f & 63)) != ((f >> 6) & 1)) ? f >> LI_CLEAF_BRK_BITS : 0;
}

namespace
{

/* the value every entry of group g adds to the line: rmin plus its offset */
inline uint64_t
group_add(const li_cview *c, uint32_t g)
{
	return c->rmin + li_bits_get(c->goff, (uint64_t) g * c->gw, c->gw);
}

/* entries in group g of a column of n (0 past the end) */
inline uint32_t
group_len(uint32_t n, uint32_t g)
{
	return n > g * G ? std::min(n - g * G, G) : 0;
}

/* where group g's residuals end: the next group's start, or res_bits */
inline uint64_t
group_end(const li_cview *c, uint32_t g)
{
	uint32_t	nx;

	if (g + 1 >= li_cleaf_ngroups(c->n))
		return c->res_bits;
	std::memcpy(&nx, c->table + (size_t) (g + 1) * 4, sizeof(nx));
	return std::min<uint64_t>(nx & 0xFFFFFF, c->res_bits);
}

/* an Elias-Fano group as its table entry and the column place it */
struct EfGroup
{
	uint64_t	base;			/* its first value */
	uint64_t	pos;			/* bit position of its low parts */
	uint64_t	ub;				/* bit position of its bitmap */
	uint32_t	L;				/* bits of a low part */
	uint32_t	len;			/* entries */
};

/* Elias-Fano group g of column c, table entry meta */
inline EfGroup
ef_group(const li_cview *c, uint32_t g, uint32_t meta)
{
	EfGroup		e;

	e.base = line_at(c->base, c->slope_int, c->slope_frac, g * G) + group_add(c, g);
	e.L = (meta >> 24) & 63;
	e.len = group_len(c->n, g);
	e.pos = meta & 0xFFFFFF;
	e.ub = e.pos + (uint64_t) (e.len ? e.len - 1 : 0) * e.L;
	return e;
}

}								/* namespace */

extern "C" uint64_t
li_ccol_ef_at(const li_cview *c, uint32_t g, uint32_t j, uint32_t meta) noexcept
{
	EfGroup		e = ef_group(c, g, meta);
	uint64_t	hi;

	/* (a damaged table reads a wrong value, never outside the residuals) */
	if (j == 0 || j >= e.len || e.ub > c->res_bits)
		return e.base;
	hi = select_from(c->res, c->res_bits, e.ub, j - 1);
	if (hi == UINT64_MAX)
		return e.base;
	return e.base + (((hi - (j - 1)) << e.L) |
					 li_bits_get(c->res, e.pos + (uint64_t) (j - 1) * e.L, e.L));
}

extern "C" void
li_cleaf_kill(uint8_t *block, uint32_t i) noexcept
{
	uint16_t	n;

	std::memcpy(&n, block, sizeof(n));
	if (i < n)
		block[LI_CLEAF_HDR + i / 8] |= (uint8_t) (1u << (i % 8));
}

namespace
{

/*
 * One column inside a group, from the entry being decoded on: the bit
 * position of its residual, the residual width and mask, and what is added
 * to the line below the break (head) and from it on (add).
 */
struct GroupCol
{
	uint64_t	pos;
	uint64_t	mask;			/* (1 << w) - 1; 0 for width 0 */
	uint64_t	head;
	uint64_t	add;
	uint32_t	w;
	uint32_t	brk;			/* first position that adds `add` */
	uint32_t	ef;				/* an Elias-Fano group: its table entry, else 0 */
};

/* where a walk of an Elias-Fano group's values stands */
struct EfCursor
{
	uint64_t	base;			/* the group's first value */
	uint64_t	mask;			/* (1 << L) - 1 */
	uint64_t	wpos;			/* bit position of w's bit 0 */
	uint64_t	w;				/* bitmap bits from wpos on, the used ones cleared */
	uint64_t	lpos;			/* bit position of the next low part */
	uint64_t	hb;				/* next value's high part: wpos + ctz(w) - ub - (j - 1) */
	uint32_t	L;
};

/*
 * A walk of Elias-Fano group g (table entry meta) of column c from value
 * j >= 1 on: false for a damaged group (then every value reads as its
 * base, e->base)
 */
inline bool
ef_start(const li_cview *c, uint32_t g, uint32_t meta, uint32_t j, uint32_t j1, EfCursor *e)
{
	EfGroup		eg = ef_group(c, g, meta);
	uint64_t	first;

	e->base = eg.base;
	e->L = eg.L;
	e->mask = e->L ? (UINT64_C(2) << (e->L - 1)) - 1 : 0;
	if (j1 > eg.len || eg.ub > c->res_bits)
		return false;
	/* value 1 (a walk from a group's start): the bitmap's first one */
	first = (j == 1 && eg.ub < c->res_bits) ? word_at(c->res, c->res_bits, eg.ub) : 0;
	first = first ? (uint64_t) __builtin_ctzll(first) :
		select_from(c->res, c->res_bits, eg.ub, j - 1);
	if (first == UINT64_MAX)
		return false;
	e->wpos = eg.ub + first;
	e->w = word_at(c->res, c->res_bits, e->wpos);
	e->lpos = eg.pos + (uint64_t) (j - 1) * e->L;
	e->hb = e->wpos - eg.ub - (j - 1);
	return true;
}

static_assert(sizeof(li_item) == 16 && offsetof(li_item, tid) == 8 &&
			  offsetof(li_item, isnull) == 14, "li_item layout");
static_assert(sizeof(li_itup) == 16 && offsetof(li_itup, info) == 6 &&
			  offsetof(li_itup, datum) == 8, "li_itup layout");

/*
 * The TID of block q and offset off (bi_hi, bi_lo, posid) followed by
 * `last` (an li_item's isnull 0, an li_itup's info), as one 64-bit value
 * to store.
 */
inline uint64_t
item_tid_word(uint32_t q, uint16_t off, uint16_t last)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint64_t) ((q >> 16) | (q << 16)) | ((uint64_t) off << 32) |
		((uint64_t) last << 48);
#else
	uint16_t	t[4] = {(uint16_t) (q >> 16), (uint16_t) (q & 0xffff), off, last};
	uint64_t	w;

	std::memcpy(&w, t, sizeof(w));
	return w;
#endif
}

/*
 * The scans' decoder writes 16-byte records: li_item (key, then the TID
 * word), or with IT li_itup, an index tuple of one 8-byte integer datum
 * (the TID word with info LI_ITUP_INFO, then the key's datum: key ^ 2^63).
 * Rec<IT> names the layout; every access is a memcpy at the field's offset.
 */
template <bool IT>
struct Rec
{
	static constexpr size_t key_at = IT ? offsetof(li_itup, datum) : offsetof(li_item, key);
	static constexpr size_t tid_at = IT ? offsetof(li_itup, tid) : offsetof(li_item, tid);
	static constexpr uint64_t flip = IT ? UINT64_C(1) << 63 : 0;	/* key <-> datum */
};

/* store a record's key */
template <bool IT>
inline void
put_key(li_item *o, uint64_t k)
{
	k ^= Rec<IT>::flip;
	std::memcpy(reinterpret_cast<char *>(o) + Rec<IT>::key_at, &k, sizeof(k));
}

/* the key of a record (put_key's) */
template <bool IT>
inline uint64_t
get_key(const li_item *o)
{
	uint64_t	k;

	std::memcpy(&k, reinterpret_cast<const char *>(o) + Rec<IT>::key_at, sizeof(k));
	return k ^ Rec<IT>::flip;
}

/* store a record's TID word (block q, offset off) */
template <bool IT>
inline void
put_tid(li_item *o, uint32_t q, uint16_t off)
{
	uint64_t	w = item_tid_word(q, off, IT ? LI_ITUP_INFO : 0);

	std::memcpy(reinterpret_cast<char *>(o) + Rec<IT>::tid_at, &w, sizeof(w));
}

/* a record's heap offset (posid, the TID's third uint16) */
template <bool IT>
inline uint16_t
get_off(const li_item *o)
{
	uint16_t	off;

	std::memcpy(&off, reinterpret_cast<const char *>(o) + Rec<IT>::tid_at + 4, sizeof(off));
	return off;
}

/*
 * Values n..cnt - 1 all read as base (a damaged group): into keys[] or
 * (ITEMS) items[]' keys (IT: li_itup records), stopping at a value > stop;
 * returns the new n
 */
template <bool ITEMS, bool IT = false>
inline uint32_t
ef_fill(uint64_t base, uint32_t n, uint32_t cnt, uint64_t stop, uint64_t *keys,
		li_item *items)
{
	for (; n < cnt; n++)
	{
		if (!ITEMS)
			keys[n] = base;
		else if (base > stop)
			return n;
		else
			put_key<IT>(&items[n], base);
	}
	return n;
}

/*
 * Values j..j1 - 1 of a walk into keys[] (ITEMS: into items[].key,
 * stopping at the first value > stop, which CHECK compares); returns how
 * many.  WIDE: low parts of more than 56 bits (read as li_bits_get), else
 * one load each (inside the block: li_leaf.h).
 */
template <bool WIDE, bool ITEMS, bool CHECK = ITEMS, bool IT = false>
inline uint32_t
ef_walk(const li_cview *c, const EfCursor &e, uint32_t j, uint32_t j1, uint64_t stop,
		uint64_t *keys, li_item *items)
{
	const uint8_t *res = c->res;
	const uint64_t res_bits = c->res_bits,
				base = e.base,
				mask = e.mask;
	const uint32_t L = e.L,
				cnt = j1 - j;
	uint64_t	w = e.w,
				wpos = e.wpos,
				lpos = e.lpos,
				hb = e.hb;
	uint32_t	n = 0;
	li_item    *o = items;
	uint64_t   *ko = keys;

	while (n < cnt)
	{
		uint64_t	lw,
					k;

		if (__builtin_expect(w == 0, 0))
		{
			wpos += 64;
			hb += 64;
			if (wpos >= res_bits)
				break;			/* damaged */
			w = word_at(res, res_bits, wpos);
			continue;
		}
		if (WIDE)
			lw = li_bits_get(res, lpos, L);
		else
		{
			std::memcpy(&lw, res + (lpos >> 3), sizeof(lw));
			lw = (lw >> (lpos & 7)) & mask;
		}
		k = base + (((hb + (unsigned) __builtin_ctzll(w)) << L) | lw);
		if (ITEMS)
		{
			if (CHECK && k > stop)
				return n;
			put_key<IT>(o++, k);
		}
		else
			*ko++ = k;
		n++;
		w &= w - 1;
		lpos += L;
		hb--;
	}
	/* (a damaged group: the rest read as its base) */
	return ef_fill<ITEMS, IT>(base, n, cnt, stop, keys, items);
}

/*
 * Values [j0, j1) of Elias-Fano group g (table entry meta) of column c
 * into keys[0, j1 - j0), or with ITEMS into items[].key stopping at the
 * first value > stop; returns how many.  The first value j0 >= 1 by a
 * select, the next ones by walking the bitmap's ones.  A damaged group
 * gives wrong values (its base), never a read outside the residuals.
 */
template <bool ITEMS, bool IT = false>
uint32_t
ef_values(const li_cview *c, uint32_t g, uint32_t meta, uint32_t j0, uint32_t j1,
		  uint64_t stop, uint64_t *keys, li_item *items)
{
	EfCursor	e;
	uint32_t	n = 0;

	if (j0 >= j1)
		return 0;
	if (j0 == 0)
	{
		/* value 0: the group's base */
		n = ef_fill<ITEMS, IT>(ef_group(c, g, meta).base, 0, 1, stop, keys, items);
		if (n == 0 || ++j0 >= j1)
			return n;
	}
	if (!ef_start(c, g, meta, j0, j1, &e))
		return ef_fill<ITEMS, IT>(e.base, n, n + (j1 - j0), stop, keys, items);
	if (e.L > 56)
		return n + ef_walk<true, ITEMS, ITEMS, IT>(c, e, j0, j1, stop, keys + (ITEMS ? 0 : n),
												   items + (ITEMS ? n : 0));
	/* (a scan without an upper bound compares nothing) */
	if (ITEMS && stop == UINT64_MAX)
		return n + ef_walk<false, true, false, IT>(c, e, j0, j1, stop, nullptr, items + n);
	return n + ef_walk<false, ITEMS, ITEMS, IT>(c, e, j0, j1, stop, keys + (ITEMS ? 0 : n),
												items + (ITEMS ? n : 0));
}

/*
 * Column c's state for group g from entry i on (the group's entries end at
 * `end`); a damaged group table reads zeros, never outside the residuals.
 */
inline void
group_col(const li_cview *c, uint32_t g, uint32_t i, uint32_t end, GroupCol *o)
{
	uint32_t	m;

	std::memcpy(&m, c->table + (size_t) g * 4, sizeof(m));
	o->ef = (m & LI_CLEAF_EF) ? m : 0;
	o->w = m >> 24;
	o->pos = (m & 0xFFFFFF) + (uint64_t) (i % G) * o->w;
	if (o->ef || o->w > 64 || o->pos + (uint64_t) (end - i) * o->w > c->res_bits)
	{
		o->w = 0;
		o->pos = 0;
	}
	o->mask = o->w ? (UINT64_C(2) << (o->w - 1)) - 1 : 0;

	/* the group's offset; on one side of the break, plus its step */
	uint64_t	add = group_add(c, g);
	uint64_t	f = li_bits_get(c->head, (uint64_t) g * c->hbits, c->hbits);

	o->head = add + ((f & 64) ? 0 : f >> LI_CLEAF_BRK_BITS);
	o->add = add + ((f & 64) ? f >> LI_CLEAF_BRK_BITS : 0);
	o->brk = g * G + (uint32_t) (f & 63);
}

/*
 * The residual of column state c at its position: with WIDE as
 * li_bits_get, else (width <= 57) one unaligned 64-bit load, which stays
 * inside the block (li_leaf.h: every field is read with one load and at
 * most one more byte; a width-0 group reads at its start, or at 0).
 */
template <bool WIDE>
inline uint64_t
group_field(const uint8_t *res, const GroupCol &c)
{
	uint64_t	v;

	if (WIDE)
		return li_bits_get(res, c.pos, c.w);
	std::memcpy(&v, res + (c.pos >> 3), sizeof(v));
	return (v >> (c.pos & 7)) & c.mask;
}

/*
 * Value i of column col, a group of residuals whose state c stands at
 * entry i: the line, what its side of the break adds, the residual
 */
template <bool WIDE>
inline uint64_t
col_value(const li_cview *col, const GroupCol &c, uint32_t i)
{
	return line_at(col->base, col->slope_int, col->slope_frac, i) +
		(i < c.brk ? c.head : c.add) + group_field<WIDE>(col->res, c);
}

/* tid_divmod's split by the reciprocal, exact for x < 2^48 and magic != 0 */
inline void
magic_divmod(uint64_t magic, uint64_t mult, uint64_t x, uint32_t *blk, uint16_t *off)
{
	uint64_t	q = (uint64_t) (((u128) x * magic) >> 64);

	*blk = (uint32_t) q;
	*off = (uint16_t) (x - q * mult);
}

/*
 * Split a TID column value x = blk * M + off (M = mult = v->mult) into
 * *blk and *off: with
 * magic = floor((2^64 - 1) / M) + 1 (M >= 2) the quotient is the high half
 * of x * magic, exact for x < 2^48 (the error x * (magic * M - 2^64) stays
 * below 2^64); else, and for magic 0, li_cleaf_split_tid.
 */
inline void
tid_divmod(const li_cleaf_view *v, uint64_t magic, uint64_t mult, uint64_t x, uint32_t *blk,
		   uint16_t *off)
{
	if (__builtin_expect((x >> 48) == 0 && magic != 0, 1))
		magic_divmod(magic, mult, x, blk, off);
	else
	{
		uint16_t	t[3];

		li_cleaf_split_tid(v, x, 1, t);
		*blk = ((uint32_t) t[0] << 16) | t[1];
		*off = t[2];
	}
}

/* the same into tid[0..3) (offset 0 if not live) and tid[3] = 0 */
inline void
split_tid_magic(const li_cleaf_view *v, uint64_t magic, uint64_t x, int live,
				uint16_t tid[4])
{
	uint32_t	blk;
	uint16_t	off;

	tid_divmod(v, magic, v->mult, x, &blk, &off);
	tid[0] = (uint16_t) (blk >> 16);
	tid[1] = (uint16_t) (blk & 0xffff);
	tid[2] = live ? off : 0;
	tid[3] = 0;
}

/*
 * Entries [i, end) of one group (end inside it), stopping at the first
 * key > stop, into keys[] and tids[] at *count (every entry, tombstones
 * with offset 0).  Returns the position it stopped at (end if no key
 * passed stop).
 */
template <bool WIDE>
inline uint32_t
decode_group_run(const li_cleaf_view *v, uint32_t i, uint32_t end, uint64_t stop,
				 uint64_t magic, GroupCol kc, GroupCol tc, uint64_t *keys, uint16_t *tids,
				 uint32_t *count)
{
	uint64_t	dw;				/* the group's tombstone bits */
	uint32_t	c = *count;		/* (a local: the stores below may alias) */
	uint64_t	ek[LI_CLEAF_GROUP]; /* an Elias-Fano group's keys */
	const uint32_t i0 = i;

	/* 8 bytes from the group's first: past the bitmap, still in the block */
	std::memcpy(&dw, v->dead + (size_t) (i / G) * 8, sizeof(dw));
	if (kc.ef)
		ef_values<false>(&v->key, i / G, kc.ef, i % G, i % G + (end - i), UINT64_MAX, ek,
						 nullptr);
	for (; i < end; i++, kc.pos += kc.w, tc.pos += tc.w)
	{
		uint64_t	k = kc.ef ? ek[i - i0] : col_value<WIDE>(&v->key, kc, i);
		uint64_t	x;
		uint16_t	t[4];

		if (k > stop)
			break;
		x = col_value<WIDE>(&v->tid, tc, i);
		split_tid_magic(v, magic, x, !((dw >> (i % G)) & 1), t);
		keys[c] = k;
		std::memcpy(&tids[3 * c], t, 6);
		c++;
	}
	*count = c;
	return i;
}

/* items_keys' loop; ZW: the group's width is 0 (dense keys: the line) */
template <bool WIDE, bool CHECK, bool ZW, bool IT>
inline uint32_t
items_keys_loop(const li_cview *col, uint32_t i, uint32_t end, uint64_t stop, uint64_t add,
				GroupCol kc, li_item *out)
{
	const uint8_t *res = col->res;
	uint64_t	base = col->base + add,
				sint = col->slope_int;
	uint32_t	sfrac = col->slope_frac;
	uint32_t	n = 0;

	for (; i < end; i++, n++, kc.pos += kc.w)
	{
		uint64_t	k = line_at(base, sint, sfrac, i) + (ZW ? 0 : group_field<WIDE>(res, kc));

		if (CHECK && k > stop)
			break;
		put_key<IT>(&out[n], k);
	}
	return n;
}

/*
 * The scans' first pass over entries [i, end) of one group, on one side of
 * its key break (every entry adds `add`): the keys into out[0..), with
 * CHECK stopping at the first key > stop.  Returns how many.
 */
template <bool WIDE, bool CHECK, bool IT>
inline uint32_t
items_keys(const li_cview *col, uint32_t i, uint32_t end, uint64_t stop, uint64_t add,
		   const GroupCol &kc, li_item *out)
{
	return kc.w == 0 ?
		items_keys_loop<WIDE, CHECK, true, IT>(col, i, end, stop, add, kc, out) :
		items_keys_loop<WIDE, CHECK, false, IT>(col, i, end, stop, add, kc, out);
}

/*
 * items_tids' loop.  FAST: magic is not 0 and every value is taken to be
 * below 2^48 (a valid TID's is: blk < 2^32, M <= 2^16); the loop only
 * gathers whether one was not, and then returns -1 (a damaged block: the
 * caller runs the checked loop).  Else 1 if an offset came out 0, or 0.
 */
template <bool WIDE, bool FAST, bool IT>
inline int
items_tids_loop(const li_cleaf_view *v, uint32_t i, uint32_t end, uint64_t magic,
				uint64_t add, GroupCol tc, li_item *out)
{
	const uint8_t *res = v->tid.res;
	uint64_t	base = v->tid.base + add,
				sint = v->tid.slope_int,
				mult = v->mult;
	uint32_t	sfrac = v->tid.slope_frac;
	uint32_t	low = 0;		/* bit 31: an offset 0 */
	uint64_t	all = 0;		/* FAST: every value or'ed */

	for (; i < end; i++, out++, tc.pos += tc.w)
	{
		uint64_t	x = line_at(base, sint, sfrac, i) + group_field<WIDE>(res, tc);
		uint32_t	blk;
		uint16_t	off;

		if (FAST)
		{
			all |= x;
			magic_divmod(magic, mult, x, &blk, &off);
		}
		else
			tid_divmod(v, magic, mult, x, &blk, &off);
		put_tid<IT>(out, blk, off);
		low |= (uint32_t) off - 1;
	}
	if (FAST && (all >> 48) != 0)
		return -1;
	return (low >> 31) != 0;
}

/*
 * The second pass over entries [i, end), on one side of the TID break
 * (every entry adds `add`): their TIDs into out[0..) (tombstones too; they
 * are dropped afterwards).  Returns whether an offset came out 0
 * (only in a damaged block: encode marks such TIDs dead).
 */
template <bool WIDE, bool IT>
inline bool
items_tids(const li_cleaf_view *v, uint32_t i, uint32_t end, uint64_t magic, uint64_t add,
		   GroupCol tc, li_item *out)
{
	int			r = magic != 0 ?
		items_tids_loop<WIDE, true, IT>(v, i, end, magic, add, tc, out) : -1;

	if (r < 0)
		r = items_tids_loop<WIDE, false, IT>(v, i, end, magic, add, tc, out);
	return r != 0;
}

/* whether a key of out[0, n) is above stop (branch-free) */
template <bool IT>
inline bool
keys_above(const li_item *out, uint32_t n, uint64_t stop)
{
	bool		above = false;

	for (uint32_t j = 0; j < n; j++)
		above |= get_key<IT>(&out[j]) > stop;
	return above;
}

/*
 * Both passes over entries [i, end) of one group into out[0..): each
 * column split at its break, so that the loops add one constant.  The key
 * pass checks stop in its loop only if the group's last key passes it
 * (else it checks the decoded keys once after, for damaged blocks whose
 * keys are out of order: those are decoded again with the check).  *zero: an
 * offset came out 0.  Returns the number of entries decoded.
 */
template <bool WIDE, bool IT>
inline uint32_t
items_group(const li_cleaf_view *v, uint32_t i, uint32_t end, uint64_t stop, uint64_t magic,
			GroupCol kc, GroupCol tc, li_item *out, bool *zero)
{
	uint32_t	kb = std::min(std::max(kc.brk, i), end),
				tb;
	uint32_t	n;
	bool		check = !kc.ef && stop != UINT64_MAX && li_cleaf_key_at(v, end - 1) > stop;
	GroupCol	k2 = kc,
				t2 = tc;

	k2.pos += (uint64_t) (kb - i) * kc.w;
	if (kc.ef)
	{
		/* an Elias-Fano group: its keys, checked one by one */
		n = ef_values<true, IT>(&v->key, i / G, kc.ef, i % G, i % G + (end - i), stop,
								nullptr, out);
	}
	else if (!check)
	{
		n = items_keys<WIDE, false, IT>(&v->key, i, kb, stop, kc.head, kc, out);
		n += items_keys<WIDE, false, IT>(&v->key, kb, end, stop, kc.add, k2, out + n);
		/* sorted keys end at the last, which passed; a damaged block may not */
		check = stop != UINT64_MAX && keys_above<IT>(out, n, stop);
	}
	if (check)
	{
		n = items_keys<WIDE, true, IT>(&v->key, i, kb, stop, kc.head, kc, out);
		if (n == kb - i)
			n += items_keys<WIDE, true, IT>(&v->key, kb, end, stop, kc.add, k2, out + n);
	}
	end = i + n;
	tb = std::min(std::max(tc.brk, i), end);
	t2.pos += (uint64_t) (tb - i) * tc.w;
	*zero = items_tids<WIDE, IT>(v, i, tb, magic, tc.head, tc, out);
	*zero |= items_tids<WIDE, IT>(v, tb, end, magic, tc.add, t2, out + (tb - i));
	return n;
}

/*
 * Entries [i, end) of one group (end inside it) for a scan: decoded into
 * out[0..) stopping at the first key > stop, tombstones (and offsets 0)
 * left out.  *decoded gets the number of entries decoded; returns the
 * number of items kept.
 */
template <bool IT>
inline uint32_t
decode_group_items(const li_cleaf_view *v, uint32_t i, uint32_t end, uint64_t stop,
				   uint64_t magic, const GroupCol &kc, const GroupCol &tc, li_item *out,
				   uint32_t *decoded)
{
	bool		zero;
	uint32_t	n = (kc.w > 57 || tc.w > 57) ?
		items_group<true, IT>(v, i, end, stop, magic, kc, tc, out, &zero) :
		items_group<false, IT>(v, i, end, stop, magic, kc, tc, out, &zero);
	uint64_t	dw;				/* the group's tombstone bits */
	uint32_t	kept = 0;

	*decoded = n;
	if (n == 0)
		return 0;
	/* 8 bytes from the group's first: past the bitmap, still in the block */
	std::memcpy(&dw, v->dead + (size_t) (i / G) * 8, sizeof(dw));
	dw = (dw >> (i % G)) & (n == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1);
	if (dw == 0 && !zero)
		return n;
	for (uint32_t j = 0; j < n; j++)
		if (!((dw >> j) & 1) && get_off<IT>(&out[j]) != 0)
		{
			if (kept != j)
				std::memcpy(&out[kept], &out[j], sizeof(li_item));
			kept++;
		}
	return kept;
}

}								/* namespace */

/*
 * Entries [from, to) in order, stopping at the first key > stop: into
 * keys[] and tids[] (every entry, tombstones with offset 0), or with
 * ITEMS into items[] (only entries with a valid TID, *nitems of them).
 * Returns the number of entries decoded.  Group by group: the group's
 * widths, offsets and tombstone bits are read once, and groups whose
 * residuals are at most 57 bits wide (nearly all) read each with one load.
 */
template <bool ITEMS, bool IT = false>
static inline uint32_t
decode_run_to(const li_cleaf_view *v, uint32_t from, uint32_t to, uint64_t stop,
			  uint64_t *keys, uint16_t *tids, li_item *items, uint32_t *nitems)
{
	uint32_t	count = 0,
				nout = 0;
	uint64_t	magic = v->mult >= 2 ? UINT64_MAX / v->mult + 1 : 0;

	if (to > v->n)
		to = v->n;
	for (uint32_t i = from; i < to;)
	{
		uint32_t	g = i / G;
		uint32_t	end = std::min(to, (g + 1) * G);
		uint32_t	stopped;
		GroupCol	kc,
					tc;

		group_col(&v->key, g, i, end, &kc);
		group_col(&v->tid, g, i, end, &tc);
		if (ITEMS)
		{
			uint32_t	n;

			nout += decode_group_items<IT>(v, i, end, stop, magic, kc, tc, items + nout, &n);
			count += n;
			stopped = i + n;
		}
		else if (kc.w <= 57 && tc.w <= 57)
			stopped = decode_group_run<false>(v, i, end, stop, magic, kc, tc, keys, tids,
											  &count);
		else
			stopped = decode_group_run<true>(v, i, end, stop, magic, kc, tc, keys, tids,
											 &count);
		if (stopped < end)
			break;
		i = end;
	}
	if (ITEMS)
		*nitems = nout;
	return count;
}

/*
 * First j in [0, len) of Elias-Fano group g (table entry meta, len
 * entries) whose value is >= key, or len: the values below key's high
 * part h are the ones before the bitmap's zero h - 1 (a select of zeros),
 * then the ones of high part h are compared by their low parts.
 */
static uint32_t
ef_lower_bound(const li_cview *c, uint32_t g, uint32_t meta, uint64_t key)
{
	EfGroup		e = ef_group(c, g, meta);
	uint64_t	end = group_end(c, g),
				t,
				h,
				p,
				tl;
	uint32_t	j,
				len = e.len;

	if (key <= e.base)
		return 0;
	if (len < 2 || e.ub > c->res_bits)
		return len;				/* (damaged) */
	t = key - e.base;
	h = t >> e.L;
	tl = t - (h << e.L);
	/* zeros in the bitmap: the last value's high part */
	if (end < e.ub + len - 1 || h > end - e.ub - (len - 1))
		return len;
	if (h == 0)
	{
		p = 0;
		j = 1;
	}
	else
	{
		/* zero h - 1, inside the group */
		uint64_t	z = select_from<true>(c->res, end, e.ub, h - 1);

		if (z == UINT64_MAX)
			return len;			/* (damaged) */
		j = 1 + (uint32_t) (z - (h - 1));
		p = z + 1;
	}
	/* the values of high part h, in order, until a zero */
	for (; j < len && e.ub + p < end && li_bits_get(c->res, e.ub + p, 1); j++, p++)
		if (li_bits_get(c->res, e.pos + (uint64_t) (j - 1) * e.L, e.L) >= tl)
			return j;
	return j < len ? j : len;
}

extern "C" uint32_t
li_cleaf_lower_bound_ef(const li_cleaf_view *v, uint64_t key, uint32_t lo,
						uint32_t hi) noexcept
{
	const li_cview *c = &v->key;
	uint32_t	g,
				glast,
				a,
				b,
				meta;

	if (lo >= hi)
		return lo;
	/*
	 * the last group of [lo, hi) whose first key is below key (else lo's):
	 * a binary search on the groups' first keys (an Elias-Fano group's is
	 * its base, no select)
	 */
	g = lo / G;
	glast = (hi - 1) / G;
	while (g < glast)
	{
		uint32_t	mid = g + (glast - g + 1) / 2;

		if (li_ccol_at(c, mid * G) < key)
			g = mid;
		else
			glast = mid - 1;
	}
	a = std::max(lo, g * G);
	b = std::min(hi, (g + 1) * G);
	std::memcpy(&meta, c->table + (size_t) g * 4, sizeof(meta));
	if (meta & LI_CLEAF_EF)
	{
		uint32_t	j = ef_lower_bound(c, g, meta, key);

		return std::min(std::max(g * G + j, a), b);
	}
	return li_cleaf_bsearch(v, key, a, b);
}

extern "C" uint32_t
li_cleaf_decode_run(const li_cleaf_view *v, uint32_t from, uint32_t to, uint64_t stop,
					uint64_t *keys, uint16_t *tids) noexcept
{
	return decode_run_to<false>(v, from, to, stop, keys, tids, nullptr, nullptr);
}

extern "C" uint32_t
li_cleaf_decode_items(const li_cleaf_view *v, uint32_t from, uint32_t to, uint64_t stop,
					  li_item *items, uint32_t *nitems) noexcept
{
	return decode_run_to<true>(v, from, to, stop, nullptr, nullptr, items, nitems);
}

extern "C" uint32_t
li_cleaf_decode_itups(const li_cleaf_view *v, uint32_t from, uint32_t to, uint64_t stop,
					  li_itup *itups, uint32_t *nitems) noexcept
{
	/* (16-byte records like li_item's, written field by field: put_key) */
	return decode_run_to<true, true>(v, from, to, stop, nullptr, nullptr,
									 reinterpret_cast<li_item *>(itups), nitems);
}

extern "C" void
li_cleaf_decode_keys(const li_cleaf_view *v, uint64_t *out) noexcept
{
	for (uint32_t i = 0; i < v->n; i += G)
	{
		uint32_t	g = i / G,
					end = std::min<uint32_t>(v->n, i + G),
					m;

		/*
		 * an Elias-Fano group in one walk of its bitmap, not a select a
		 * key; a group of residuals in one pass over them (as
		 * decode_group_run)
		 */
		std::memcpy(&m, v->key.table + (size_t) g * 4, sizeof(m));
		if (m & LI_CLEAF_EF)
		{
			ef_values<false>(&v->key, g, m, 0, end - i, UINT64_MAX, out + i, nullptr);
			continue;
		}

		GroupCol	kc;

		group_col(&v->key, g, i, end, &kc);
		for (uint32_t j = i; j < end; j++, kc.pos += kc.w)
			out[j] = kc.w > 57 ? col_value<true>(&v->key, kc, j) :
				col_value<false>(&v->key, kc, j);
	}
}

extern "C" void
li_cleaf_get_widths(const uint8_t *block, li_cleaf_widths *w) noexcept
{
	li_cleaf_hdr h;
	li_cleaf_view v;
	uint32_t	ng;

	std::memcpy(&h, block, sizeof(h));
	li_cleaf_open(block, &v);
	ng = li_cleaf_ngroups(h.n);
	w->key_bits = h.key.res_bits + (uint64_t) ng * (32 + h.kgw + v.key.hbits);
	w->tid_bits = h.tid.res_bits + (uint64_t) ng * (32 + h.tgw + v.tid.hbits);
	w->key_max = 0;
	w->tid_max = 0;
	for (uint32_t g = 0; g < ng; g++)
	{
		uint32_t	mk,
					mt;

		std::memcpy(&mk, v.key.table + (size_t) g * 4, sizeof(mk));
		std::memcpy(&mt, v.tid.table + (size_t) g * 4, sizeof(mt));
		if (mk & LI_CLEAF_EF)
		{
			/* an Elias-Fano group: its bits per entry, rounded up */
			uint32_t	len = group_len(h.n, g);
			uint64_t	end = group_end(&v.key, g);

			mk = end > (mk & 0xFFFFFF) ?
				(uint32_t) std::min<uint64_t>((end - (mk & 0xFFFFFF) + len - 1) / len, 64) << 24 : 0;
		}
		w->key_max = std::max(w->key_max, std::min(mk >> 24, 64u));
		w->tid_max = std::max(w->tid_max, std::min(mt >> 24, 64u));
	}
}
