/*
 * li_leaf.cpp -- the compressed leaf codec: width planning, encoding,
 * validation of stored blocks, tombstoning in place (see li_leaf.h for the
 * format).
 */
#include "li_leaf.h"

#include <cstring>

namespace
{

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

/* the line through keys[0] and keys[n-1]: integer and 2^-32 parts */
void
line_of(const uint64_t *keys, uint32_t n, uint64_t *sint, uint32_t *sfrac)
{
	*sint = 0;
	*sfrac = 0;
	if (n < 2 || keys[n - 1] <= keys[0])
		return;
	unsigned __int128 q = ((unsigned __int128) (keys[n - 1] - keys[0]) << 32) / (n - 1);

	*sint = (uint64_t) (q >> 32);
	*sfrac = (uint32_t) q;
}

/* prediction of the line at i (mod 2^64) */
inline uint64_t
line_at(uint64_t base, uint64_t sint, uint32_t sfrac, uint32_t i)
{
	return base + (uint64_t) i * sint + (((uint64_t) i * sfrac) >> 32);
}

/* OR the w-bit value val into the zeroed bit array p at bit position pos */
void
bits_put(uint8_t *p, uint64_t pos, uint32_t w, uint64_t val)
{
	for (uint32_t done = 0; done < w;)
	{
		uint64_t	bit = pos + done;
		uint32_t	s = (uint32_t) (bit & 7);
		uint32_t	take = 8 - s;

		if (take > w - done)
			take = w - done;
		p[bit >> 3] |= (uint8_t) (((val >> done) & ((1u << take) - 1)) << s);
		done += take;
	}
}

/* widths and parameters of entries [0, n), without checking the order */
void
plan(const uint64_t *keys, const uint16_t *tids, uint32_t n, li_cleaf_hdr *h)
{
	std::memset(h, 0, sizeof(*h));
	h->n = (uint16_t) n;
	h->version = LI_CLEAF_VERSION;
	if (n > 0)
	{
		uint64_t	sint;
		uint32_t	sfrac;
		int64_t		dmin = 0,
					dmax = 0;
		uint32_t	bmin = UINT32_MAX,
					bmax = 0,
					omax = 0;

		line_of(keys, n, &sint, &sfrac);
		for (uint32_t i = 0; i < n; i++)
		{
			int64_t		d = (int64_t) (keys[i] - line_at(keys[0], sint, sfrac, i));
			uint32_t	b = tid_blk(&tids[3 * i]);

			if (i == 0 || d < dmin)
				dmin = d;
			if (i == 0 || d > dmax)
				dmax = d;
			bmin = b < bmin ? b : bmin;
			bmax = b > bmax ? b : bmax;
			omax = tids[3 * i + 2] > omax ? tids[3 * i + 2] : omax;
		}
		h->kw = (uint8_t) bit_width((uint64_t) dmax - (uint64_t) dmin);
		h->bw = (uint8_t) bit_width(bmax - bmin);
		h->ow = (uint8_t) bit_width(omax);
		h->min_blk = bmin;
		h->base = keys[0];
		h->slope_int = sint;
		h->slope_frac = sfrac;
		h->rmin = (uint64_t) dmin;
	}
	h->bytes = (uint32_t) li_cleaf_bytes(n, h->kw, (uint32_t) h->bw + h->ow);
}

}								/* namespace */

extern "C" li_status
li_cleaf_plan(const uint64_t *keys, const uint16_t *tids, uint32_t n,
			  li_cleaf_hdr *h) noexcept
{
	if (h == nullptr || n > LI_CLEAF_MAX || (n > 0 && (keys == nullptr || tids == nullptr)))
		return LI_ERR_ARG;
	plan(keys, tids, n, h);
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
	uint32_t	lo = 1,
				hi = n < LI_CLEAF_MAX ? n : LI_CLEAF_MAX;

	if (n == 0)
		return 0;
	if (tail_den == 0)
		tail_den = 1;

	/* block bytes plus the tail room reserved for m entries */
	auto		need = [&](uint32_t m) {
		plan(keys, tids, m, &h);
		return (uint64_t) h.bytes +
			LI_TAIL_ENTRY_BYTES * (((uint64_t) m * tail_num + tail_den - 1) / tail_den);
	};

	if (need(hi) <= avail)
		return hi;
	/* invariant: lo is taken (one entry always is), hi does not fit */
	while (hi - lo > 1)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (need(mid) <= avail)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

extern "C" li_status
li_cleaf_encode(const uint64_t *keys, const uint16_t *tids, uint32_t n,
				uint8_t *out, size_t outcap, size_t *bytes) noexcept
{
	li_cleaf_hdr h;

	if (out == nullptr || bytes == nullptr || n > LI_CLEAF_MAX ||
		(n > 0 && (keys == nullptr || tids == nullptr)))
		return LI_ERR_ARG;
	for (uint32_t i = 1; i < n; i++)
		if (keys[i] < keys[i - 1])
			return LI_ERR_ARG;
	plan(keys, tids, n, &h);
	if (h.bytes > outcap)
		return LI_ERR_ARG;
	std::memset(out, 0, h.bytes);
	std::memcpy(out, &h, sizeof(h));

	uint8_t    *kbits = out + LI_CLEAF_HDR;
	uint8_t    *tbits = kbits + ((size_t) n * h.kw + 7) / 8;
	uint32_t	tw = (uint32_t) h.bw + h.ow;

	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	u = keys[i] - line_at(h.base, h.slope_int, h.slope_frac, i) - h.rmin;
		uint64_t	t = ((uint64_t) (tid_blk(&tids[3 * i]) - h.min_blk) << h.ow) |
			tids[3 * i + 2];

		bits_put(kbits, (uint64_t) i * h.kw, h.kw, u);
		bits_put(tbits, (uint64_t) i * tw, tw, t);
	}
	*bytes = h.bytes;
	return LI_OK;
}

extern "C" li_status
li_cleaf_validate(const uint8_t *block, size_t len) noexcept
{
	li_cleaf_hdr h;

	if (block == nullptr || len < LI_CLEAF_HDR)
		return LI_ERR_CORRUPT;
	std::memcpy(&h, block, sizeof(h));
	if (h.version != LI_CLEAF_VERSION || h.n > LI_CLEAF_MAX || h.kw > 64 ||
		h.bw > 32 || h.ow > 16 ||
		h.bytes != li_cleaf_bytes(h.n, h.kw, (uint32_t) h.bw + h.ow) ||
		h.bytes > len)
		return LI_ERR_CORRUPT;
	return LI_OK;
}

extern "C" void
li_cleaf_kill(uint8_t *block, uint32_t i) noexcept
{
	li_cleaf_view v;

	li_cleaf_open(block, &v);
	if (i >= v.n || v.ow == 0)
		return;

	uint64_t	pos = (uint64_t) i * v.tw;
	uint8_t    *p = const_cast<uint8_t *>(v.tbits) + (pos >> 3);
	uint64_t	word;

	/* ow <= 16 and the shift < 8: the offset bits lie in one 64-bit word */
	std::memcpy(&word, p, sizeof(word));
	word &= ~((((uint64_t) 1 << v.ow) - 1) << (pos & 7));
	std::memcpy(p, &word, sizeof(word));
}

extern "C" void
li_cleaf_decode_keys(const li_cleaf_view *v, uint64_t *out) noexcept
{
	for (uint32_t i = 0; i < v->n; i++)
		out[i] = li_cleaf_key_at(v, i);
}
