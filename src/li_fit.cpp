/*
 * li_fit.cpp -- streaming optimal error-bounded piecewise-linear fitting.
 *
 * For a stream of points (x_i, y_i) with strictly increasing x, a segment
 * is a line with |line(x_i) - y_i| <= eps for all its points.  We keep, as
 * in O'Rourke's algorithm (used by the PGM-index), the two extreme feasible
 * lines (the one of least slope and the one of greatest slope) and two
 * convex chains: the lower hull of the upper points (x, y + eps) and the
 * upper hull of the lower points (x, y - eps).  A new point that leaves no
 * feasible line closes the segment.  Each point is pushed and popped at
 * most once per chain, so the fit is O(n) amortised.
 *
 * Integer arithmetic: x is kept relative to the segment's first x (uint64),
 * y is scaled by 2 so that the tolerance 2*eps - 1 (i.e. eps - 0.5) is an
 * integer; slope comparisons use 128-bit cross products, so the hull logic
 * is exact.  Only the final line is computed in long double; the half unit
 * of slack absorbs its rounding.
 *
 * The chains have a fixed capacity (no allocation in the core); when one is
 * full the segment is closed early, which keeps the bound (a segment can
 * always be cut) at the price of one more segment.
 */
#include <cstring>
#include <new>

#include "li_core.h"

namespace
{
typedef __int128 i128;

constexpr int kChainCap = 16384;

struct Pt
{
	uint64_t	dx;				/* x - x0 */
	int64_t		y;				/* 2*y +/- (2*eps - 1) */
};

/* slope(a->b) < slope(c->d), with a.dx < b.dx and c.dx < d.dx */
inline bool
slope_less(const Pt &a, const Pt &b, const Pt &c, const Pt &d)
{
	i128		dy1 = (i128) b.y - (i128) a.y;
	i128		dx1 = (i128) b.dx - (i128) a.dx;
	i128		dy2 = (i128) d.y - (i128) c.y;
	i128		dx2 = (i128) d.dx - (i128) c.dx;

	return dy1 * dx2 < dy2 * dx1;
}

/* cross product (a - o) x (b - o) */
inline i128
cross(const Pt &o, const Pt &a, const Pt &b)
{
	i128		ax = (i128) a.dx - (i128) o.dx;
	i128		ay = (i128) a.y - (i128) o.y;
	i128		bx = (i128) b.dx - (i128) o.dx;
	i128		by = (i128) b.y - (i128) o.y;

	return ax * by - ay * bx;
}

}								/* namespace */

struct li_fitter
{
	int64_t		tol;			/* 2*eps - 1 */
	uint64_t	npoints;		/* points in the current segment */
	uint64_t	x0;				/* first x of the segment */
	uint64_t	y0;				/* first y (unscaled) */
	uint64_t	last_x;
	uint64_t	last_dx;
	int			have_last;
	/* min-slope line: a0 (upper point) -> a1 (lower point) */
	Pt			a0, a1;
	/* max-slope line: b0 (lower point) -> b1 (upper point) */
	Pt			b0, b1;
	int			ustart, uend;	/* lower hull of upper points */
	int			lstart, lend;	/* upper hull of lower points */
	Pt			up[kChainCap];
	Pt			lo[kChainCap];
};

namespace
{

void
start_segment(li_fitter *f, uint64_t x, uint64_t y)
{
	Pt			u = {0, (int64_t) (2 * y) + f->tol};
	Pt			l = {0, (int64_t) (2 * y) - f->tol};

	f->npoints = 1;
	f->x0 = x;
	f->y0 = y;
	f->last_dx = 0;
	f->a0 = u;
	f->b0 = l;
	f->a1 = l;
	f->b1 = u;
	f->ustart = f->lstart = 0;
	f->up[0] = u;
	f->lo[0] = l;
	f->uend = f->lend = 1;
}

/* value of the line p->q at dx, in unscaled (y) units */
long double
line_at(const Pt &p, const Pt &q, long double dx)
{
	long double py = (long double) p.y;
	long double qy = (long double) q.y;
	long double px = (long double) p.dx;
	long double qx = (long double) q.dx;

	return (py + (qy - py) * (dx - px) / (qx - px)) / 2.0L;
}

void
emit_segment(const li_fitter *f, li_segment *out)
{
	out->first_key = f->x0;
	out->first_pos = f->y0;
	if (f->npoints <= 1)
	{
		out->slope = 0.0;
		out->intercept = (double) f->y0;
		return;
	}

	long double xl = (long double) f->last_dx;
	long double b = (line_at(f->a0, f->a1, 0.0L) + line_at(f->b0, f->b1, 0.0L)) / 2.0L;
	long double e = (line_at(f->a0, f->a1, xl) + line_at(f->b0, f->b1, xl)) / 2.0L;

	out->slope = (double) ((e - b) / xl);
	out->intercept = (double) b;
}

bool
compact(Pt *chain, int *start, int *end)
{
	if (*start == 0)
		return *end < kChainCap;
	std::memmove(chain, chain + *start, sizeof(Pt) * (size_t) (*end - *start));
	*end -= *start;
	*start = 0;
	return *end < kChainCap;
}

/* Try to add a point to the current segment; false if it does not fit. */
bool
try_add(li_fitter *f, uint64_t x, uint64_t y)
{
	uint64_t	dx = x - f->x0;
	Pt			u = {dx, (int64_t) (2 * y) + f->tol};
	Pt			l = {dx, (int64_t) (2 * y) - f->tol};

	if (f->uend >= kChainCap && !compact(f->up, &f->ustart, &f->uend))
		return false;
	if (f->lend >= kChainCap && !compact(f->lo, &f->lstart, &f->lend))
		return false;

	if (f->npoints == 1)
	{
		f->a1 = l;
		f->b1 = u;
		f->up[f->uend++] = u;
		f->lo[f->lend++] = l;
		f->npoints++;
		f->last_dx = dx;
		return true;
	}

	/* u below the min-slope line, or l above the max-slope line: no line */
	if (slope_less(f->a1, u, f->a0, f->a1))
		return false;
	if (slope_less(f->b0, f->b1, f->b1, l))
		return false;

	/* u below the max-slope line: the max slope decreases */
	if (slope_less(f->b0, u, f->b0, f->b1))
	{
		int			best = f->lstart;

		for (int i = f->lstart + 1; i < f->lend; i++)
		{
			/* slope(lo[i] -> u) keeps decreasing while we walk the hull */
			if (slope_less(f->lo[best], u, f->lo[i], u))
				break;
			best = i;
		}
		f->b0 = f->lo[best];
		f->b1 = u;
		f->lstart = best;

		int			end = f->uend;

		while (end >= f->ustart + 2 && cross(f->up[end - 2], f->up[end - 1], u) <= 0)
			end--;
		f->uend = end;
		f->up[f->uend++] = u;
	}

	/* l above the min-slope line: the min slope increases */
	if (slope_less(f->a0, f->a1, f->a0, l))
	{
		int			best = f->ustart;

		for (int i = f->ustart + 1; i < f->uend; i++)
		{
			/* slope(up[i] -> l) keeps increasing while we walk the hull */
			if (slope_less(f->up[i], l, f->up[best], l))
				break;
			best = i;
		}
		f->a0 = f->up[best];
		f->a1 = l;
		f->ustart = best;

		int			end = f->lend;

		while (end >= f->lstart + 2 && cross(f->lo[end - 2], f->lo[end - 1], l) >= 0)
			end--;
		f->lend = end;
		f->lo[f->lend++] = l;
	}

	f->npoints++;
	f->last_dx = dx;
	return true;
}

}								/* namespace */

extern "C" size_t
li_fitter_size(void) noexcept
{
	return sizeof(li_fitter);
}

extern "C" li_status
li_fitter_init(li_fitter *f, uint32_t epsilon) noexcept
{
	if (f == nullptr || epsilon < 1 || epsilon > (UINT32_C(1) << 30))
		return LI_ERR_ARG;
	/*
	 * Default-initialise: the hull arrays (kChainCap points each, half a
	 * megabyte) are written before they are read, so zeroing them would
	 * only cost time (a retrain starts one fitter per run of leaves).
	 */
	new (f) li_fitter;
	std::memset(static_cast<void *>(f), 0, offsetof(li_fitter, up));
	f->tol = 2 * (int64_t) epsilon - 1;
	f->npoints = 0;
	f->have_last = 0;
	return LI_OK;
}

extern "C" li_status
li_fitter_add(li_fitter *f, uint64_t x, uint64_t y, li_segment *closed,
			  int *nclosed) noexcept
{
	if (f == nullptr || closed == nullptr || nclosed == nullptr)
		return LI_ERR_ARG;
	*nclosed = 0;
	if (f->have_last && x <= f->last_x)
		return LI_ERR_ORDER;
	/* positions are < 2^62 so that 2*y +/- tol cannot overflow */
	if (y >= (UINT64_C(1) << 61))
		return LI_ERR_ARG;
	f->have_last = 1;
	f->last_x = x;

	if (f->npoints == 0)
	{
		start_segment(f, x, y);
		return LI_OK;
	}
	if (!try_add(f, x, y))
	{
		emit_segment(f, closed);
		*nclosed = 1;
		start_segment(f, x, y);
	}
	return LI_OK;
}

extern "C" li_status
li_fitter_finish(li_fitter *f, li_segment *closed, int *nclosed) noexcept
{
	if (f == nullptr || closed == nullptr || nclosed == nullptr)
		return LI_ERR_ARG;
	*nclosed = 0;
	if (f->npoints > 0)
	{
		emit_segment(f, closed);
		*nclosed = 1;
		f->npoints = 0;
	}
	return LI_OK;
}

extern "C" void
li_keystream_init(li_keystream *ks) noexcept
{
	ks->have_prev = 0;
	ks->prev_key = 0;
	ks->prev_pos = 0;
	ks->pos = 0;
}

extern "C" li_status
li_keystream_push(li_keystream *ks, li_fitter *f, uint64_t key,
				  li_segment closed[2], int *nclosed) noexcept
{
	int			n1 = 0,
				n2 = 0;
	li_status	st;

	*nclosed = 0;
	if (ks->have_prev)
	{
		if (key < ks->prev_key)
			return LI_ERR_ORDER;
		if (key == ks->prev_key)
		{
			ks->pos++;
			return LI_OK;
		}
		if (ks->prev_key + 1 < key && ks->pos - ks->prev_pos <= (uint64_t) (f->tol / 2 + 1))
		{
			st = li_fitter_add(f, ks->prev_key + 1, ks->pos, &closed[0], &n1);
			if (st != LI_OK)
				return st;
		}
	}
	st = li_fitter_add(f, key, ks->pos, &closed[n1], &n2);
	if (st != LI_OK)
		return st;
	*nclosed = n1 + n2;
	ks->have_prev = 1;
	ks->prev_key = key;
	ks->prev_pos = ks->pos;
	ks->pos++;
	return LI_OK;
}

extern "C" li_status
li_keystream_finish(li_keystream *ks, li_fitter *f, li_segment closed[2],
					int *nclosed) noexcept
{
	return li_keystream_finish_at(ks, f, ks->pos, closed, nclosed);
}

extern "C" li_status
li_keystream_finish_at(li_keystream *ks, li_fitter *f, uint64_t end_pos,
					   li_segment closed[2], int *nclosed) noexcept
{
	int			n1 = 0,
				n2 = 0;
	li_status	st;

	*nclosed = 0;
	if (end_pos < ks->pos)
		return LI_ERR_ARG;
	if (ks->have_prev && ks->prev_key != UINT64_MAX &&
		end_pos - ks->prev_pos <= (uint64_t) (f->tol / 2 + 1))
	{
		st = li_fitter_add(f, ks->prev_key + 1, end_pos, &closed[0], &n1);
		if (st != LI_OK)
			return st;
	}
	st = li_fitter_finish(f, &closed[n1], &n2);
	if (st != LI_OK)
		return st;
	*nclosed = n1 + n2;
	return LI_OK;
}

extern "C" li_status
li_fit_sorted(const uint64_t *keys, size_t n, uint32_t epsilon,
			  void *fitter_mem, li_segment *out, size_t out_cap,
			  size_t *nseg) noexcept
{
	li_fitter  *f = static_cast<li_fitter *>(fitter_mem);
	li_keystream ks;
	li_segment	closed[2];
	int			nc;
	li_status	st;

	if ((keys == nullptr && n > 0) || fitter_mem == nullptr || nseg == nullptr)
		return LI_ERR_ARG;
	*nseg = 0;
	st = li_fitter_init(f, epsilon);
	if (st != LI_OK)
		return st;
	li_keystream_init(&ks);
	for (size_t i = 0; i < n; i++)
	{
		st = li_keystream_push(&ks, f, keys[i], closed, &nc);
		if (st != LI_OK)
			return st;
		for (int j = 0; j < nc; j++)
		{
			if (*nseg >= out_cap)
				return LI_ERR_ARG;
			out[(*nseg)++] = closed[j];
		}
	}
	st = li_keystream_finish(&ks, f, closed, &nc);
	if (st != LI_OK)
		return st;
	for (int j = 0; j < nc; j++)
	{
		if (*nseg >= out_cap)
			return LI_ERR_ARG;
		out[(*nseg)++] = closed[j];
	}
	return LI_OK;
}
