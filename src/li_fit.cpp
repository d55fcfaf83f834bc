/*
 * li_fit.cpp -- streaming optimal error-bounded piecewise-linear fitting.
 *
 * What is fitted.  For a sorted key array, lb(x) = #keys < x is the
 * position a lookup of x must find (present or absent x).  Between two
 * consecutive distinct keys a < b, lb is constant: lb(x) = pos(b) for every
 * x in [a+1, b].  A segment's prediction is clamp(line(x), first_pos,
 * next first_pos); it is within eps of lb on all of [a+1, b] when the line
 * is non-decreasing and
 *     line(a+1) >= pos(b) - tau    (a "lower" constraint, at a+1)
 *     line(b)   <= pos(b) + tau    (an "upper" constraint, at b)
 * (the line is monotone in between; tau = eps - 1/64, the rest of eps
 * absorbs the rounding of the double line).  So each distinct key costs one
 * lower and one upper constraint -- the same hull work as one two-sided
 * point -- and absent keys are bounded by eps as well as present ones.  A
 * lower constraint with pos(b) - tau <= first_pos needs no hull work at
 * all: the clamp at first_pos already satisfies it (the segment's first
 * point keeps both sides, so the line never runs far below the positions
 * it covers, where rounding would grow).
 *
 * How.  As in O'Rourke's algorithm (used by the PGM-index), we keep the two
 * extreme feasible lines (least slope, through an upper point then a lower
 * point; greatest slope, through a lower point then an upper point) and two
 * convex chains: the lower hull of the upper points and the upper hull of
 * the lower points.  A constraint that leaves no feasible line closes the
 * segment.  Each point is pushed and popped at most once per chain, so the
 * fit is O(n) amortised.  Until a lower (upper) point exists to the right
 * of an upper (lower) one, the least (greatest) slope is unbounded.
 *
 * Integer arithmetic: x is kept relative to the segment's first x (uint64),
 * y is scaled by 64 so that the tolerance 64*eps - 1 (i.e. eps - 1/64) is
 * an integer; slope comparisons use 128-bit cross products, so the hull
 * logic is exact.  The final line (the average of the two extreme lines,
 * made non-decreasing) is computed in long double and stored as doubles.
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

/* y is scaled by kScale: the tolerance kScale*eps - 1 is eps - 1/64 */
constexpr int64_t kScale = 64;

/* positions must stay below this so that scaled y and cross products fit */
constexpr uint64_t kMaxPos = UINT64_C(1) << 54;

/* event kinds */
constexpr int kLower = 1;
constexpr int kUpper = 2;
constexpr int kBoth = 3;

struct Pt
{
	uint64_t	dx;				/* x - x0 */
	int64_t		y;				/* kScale*y +/- tol */
};

/* dy * dx exactly (|dy| < 2^62, dx < 2^64) */
inline i128
mul(int64_t dy, uint64_t dx)
{
	return (i128) dy * (i128) dx;
}

/*
 * slope(a->b) < slope(c->d), with a.dx <= b.dx and c.dx < d.dx (so the dx
 * differences are unsigned 64-bit, the dy differences fit in 63 bits)
 */
inline bool
slope_less(const Pt &a, const Pt &b, const Pt &c, const Pt &d)
{
	return mul(b.y - a.y, d.dx - c.dx) < mul(d.y - c.y, b.dx - a.dx);
}

/* cross product (a - o) x (b - o), with o.dx <= a.dx, o.dx <= b.dx */
inline i128
cross(const Pt &o, const Pt &a, const Pt &b)
{
	return mul(b.y - o.y, a.dx - o.dx) - mul(a.y - o.y, b.dx - o.dx);
}

}								/* namespace */

struct li_fitter
{
	int64_t		tol;			/* kScale*eps - 1 */
	int			active;			/* a segment is open */
	int			have_last;
	uint64_t	last_x;			/* last x added (order check) */
	uint64_t	x0;				/* first x of the segment */
	uint64_t	y0;				/* its position (first_pos) */
	int64_t		y0s;			/* kScale*y0: lower points at or below it are
								 * implied by the clamp */
	int64_t		max_lower;		/* largest lower y kept */
	int			has_min,		/* a0, a1 defined */
				has_max;		/* b0, b1 defined */
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

/* open a segment at its first point (x, y) */
inline void
start_segment(li_fitter *f, uint64_t x, uint64_t y)
{
	f->active = 1;
	f->x0 = x;
	f->y0 = y;
	f->y0s = kScale * (int64_t) y;
	f->has_min = f->has_max = 0;
	f->up[0] = Pt{0, f->y0s + f->tol};
	f->ustart = 0;
	f->uend = 1;
	f->lstart = f->lend = 0;
	/*
	 * The line is bounded from below at the segment's start too: then its
	 * value over the whole segment stays within the positions it covers,
	 * and so does the rounding of intercept + slope * dx.
	 */
	f->lo[0] = Pt{0, f->y0s - f->tol};
	f->lend = 1;
	f->max_lower = f->y0s - f->tol;
}

/* drop the chain points before *start when the chain is full */
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

/* the line must pass at or below u; false if no feasible line does */
inline bool
add_upper(li_fitter *f, const Pt &u)
{
	/* below the min-slope line: no feasible line passes below u */
	if (f->has_min && slope_less(f->a0, u, f->a0, f->a1))
		return false;
	/* above the max-slope line: implied, now and for every later point */
	if (f->has_max && !slope_less(f->b0, u, f->b0, f->b1))
		return true;
	if (f->uend >= kChainCap && !compact(f->up, &f->ustart, &f->uend))
		return false;
	if (f->lend > f->lstart)
	{
		/* the new max-slope line: u and its tangent point on the lower chain */
		int			best = f->lstart;

		for (int i = f->lstart + 1; i < f->lend; i++)
		{
			if (slope_less(f->lo[best], u, f->lo[i], u))
				break;
			best = i;
		}
		f->b0 = f->lo[best];
		f->b1 = u;
		f->lstart = best;
		f->has_max = 1;
	}

	int			end = f->uend;

	while (end >= f->ustart + 2 && cross(f->up[end - 2], f->up[end - 1], u) <= 0)
		end--;
	f->up[end] = u;
	f->uend = end + 1;
	return true;
}

/* the line must pass at or above l; false if no feasible line does */
inline bool
add_lower(li_fitter *f, const Pt &l)
{
	/* at or below first_pos: the clamp of the prediction satisfies it */
	if (l.y <= f->y0s)
		return true;
	/* above the max-slope line: no feasible line passes above l */
	if (f->has_max && slope_less(f->b0, f->b1, f->b0, l))
		return false;
	f->max_lower = l.y;
	/* below the min-slope line: implied */
	if (f->has_min && !slope_less(f->a0, f->a1, f->a0, l))
		return true;
	if (f->lend >= kChainCap && !compact(f->lo, &f->lstart, &f->lend))
		return false;

	/* the new min-slope line: l and its tangent point on the upper chain */
	int			best = f->ustart;

	for (int i = f->ustart + 1; i < f->uend; i++)
	{
		if (slope_less(f->up[i], l, f->up[best], l))
			break;
		best = i;
	}
	f->a0 = f->up[best];
	f->a1 = l;
	f->ustart = best;
	f->has_min = 1;

	int			end = f->lend;

	while (end >= f->lstart + 2 && cross(f->lo[end - 2], f->lo[end - 1], l) >= 0)
		end--;
	f->lo[end] = l;
	f->lend = end + 1;
	return true;
}

/* value at dx = 0 and slope of the line p->q, in unscaled units */
inline void
line_of(const Pt &p, const Pt &q, long double *at0, long double *slope)
{
	long double s = ((long double) q.y - (long double) p.y) /
		((long double) q.dx - (long double) p.dx);

	*slope = s / kScale;
	*at0 = ((long double) p.y - s * (long double) p.dx) / kScale;
}

/*
 * The line of the open segment: inside both extreme lines, non-decreasing.
 * Closing the segment may add a constraint of its own first.
 */
void
emit_segment(li_fitter *f, li_segment *out)
{
	long double slope = 0.0L,
				at0 = (long double) f->y0;

	/*
	 * No upper point after a lower one (a segment ended by an upper
	 * constraint right after lower ones, as after every long run of
	 * duplicates): the greatest slope is unbounded and the least-slope
	 * line grazes two constraints.  Bound the line from above at the last
	 * lower point too, as if it were a key, when that leaves a feasible
	 * line: the average is then centred (exact on runs of duplicates).
	 */
	if (f->has_min && !f->has_max)
	{
		Pt			v = f->lo[f->lend - 1];

		v.y += 2 * f->tol;
		(void) add_upper(f, v);
	}

	out->first_key = f->x0;
	out->first_pos = f->y0;
	if (f->has_min)
	{
		line_of(f->a0, f->a1, &at0, &slope);
		if (f->has_max)
		{
			long double at0b,
						slopeb;

			line_of(f->b0, f->b1, &at0b, &slopeb);
			at0 = (at0 + at0b) / 2.0L;
			slope = (slope + slopeb) / 2.0L;
		}
	}

	/*
	 * A negative slope would break the implied constraints (see the top of
	 * the file).  A feasible line of negative slope runs from at most the
	 * first upper point down to at least the last lower point, so the
	 * horizontal lines between those two heights are feasible: take the
	 * middle one.
	 */
	if (!(slope >= 0.0L))
	{
		slope = 0.0L;
		at0 = ((long double) f->max_lower + (long double) (f->y0s + f->tol)) /
			(2.0L * kScale);
	}
	out->slope = (double) slope;
	out->intercept = (double) at0;
}

/*
 * Add a constraint (kind: kLower, kUpper or kBoth) at (x, y), x above every
 * x before.  Returns 1 and writes *closed when the open segment had to be
 * closed (a new one then starts at this point), else 0.
 */
inline int
fit_event(li_fitter *f, uint64_t x, uint64_t y, int kind, li_segment *closed)
{
	f->last_x = x;
	f->have_last = 1;
	if (!f->active)
	{
		start_segment(f, x, y);
		return 0;
	}

	const uint64_t dx = x - f->x0;
	const int64_t ys = kScale * (int64_t) y;
	bool		ok = true;

	if (kind & kUpper)
		ok = add_upper(f, Pt{dx, ys + f->tol});
	if (ok && (kind & kLower))
		ok = add_lower(f, Pt{dx, ys - f->tol});
	if (ok)
		return 0;
	emit_segment(f, closed);
	start_segment(f, x, y);
	return 1;
}

/*
 * The next key of a sorted stream: a repeat only moves the position on; a
 * new key k at position p constrains the line from below at prev+1 (the
 * first absent key before k, if any) and from above at k.  Returns the
 * number of segments closed (0 or 1: a segment opened by the lower
 * constraint cannot be closed by the upper one).
 */
inline int
stream_key(li_keystream *ks, li_fitter *f, uint64_t key, li_segment *closed)
{
	int			nc = 0;

	if (ks->have_prev && key == ks->prev_key)
	{
		ks->pos++;
		return 0;
	}
	if (ks->have_prev && key - 1 != ks->prev_key)
	{
		nc = fit_event(f, ks->prev_key + 1, ks->pos, kLower, closed);
		nc += fit_event(f, key, ks->pos, kUpper, closed + nc);
	}
	else
		nc = fit_event(f, key, ks->pos, kBoth, closed);
	ks->have_prev = 1;
	ks->prev_key = key;
	ks->prev_pos = ks->pos;
	ks->pos++;
	return nc;
}

}								/* namespace */

/* bytes the caller allocates for a fitter */
extern "C" size_t
li_fitter_size(void) noexcept
{
	return sizeof(li_fitter);
}

/* an empty fitter of bound epsilon in caller memory */
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
	f->tol = kScale * (int64_t) epsilon - 1;
	return LI_OK;
}

/* one point (x, y), bounded from both sides */
extern "C" li_status
li_fitter_add(li_fitter *f, uint64_t x, uint64_t y, li_segment *closed,
			  int *nclosed) noexcept
{
	if (f == nullptr || closed == nullptr || nclosed == nullptr)
		return LI_ERR_ARG;
	*nclosed = 0;
	if (f->have_last && x <= f->last_x)
		return LI_ERR_ORDER;
	if (y >= kMaxPos)
		return LI_ERR_ARG;
	*nclosed = fit_event(f, x, y, kBoth, closed);
	return LI_OK;
}

/* close the open segment, if any */
extern "C" li_status
li_fitter_finish(li_fitter *f, li_segment *closed, int *nclosed) noexcept
{
	if (f == nullptr || closed == nullptr || nclosed == nullptr)
		return LI_ERR_ARG;
	*nclosed = 0;
	if (f->active)
	{
		emit_segment(f, closed);
		*nclosed = 1;
		f->active = 0;
	}
	return LI_OK;
}

/* an empty key stream at position 0 */
extern "C" void
li_keystream_init(li_keystream *ks) noexcept
{
	ks->have_prev = 0;
	ks->prev_key = 0;
	ks->prev_pos = 0;
	ks->pos = 0;
}

/* the next key of a sorted stream */
extern "C" li_status
li_keystream_push(li_keystream *ks, li_fitter *f, uint64_t key,
				  li_segment closed[2], int *nclosed) noexcept
{
	*nclosed = 0;
	if (ks->have_prev ? key < ks->prev_key
		: (f->have_last && key <= f->last_x))
		return LI_ERR_ORDER;
	if (ks->pos >= kMaxPos)
		return LI_ERR_ARG;
	*nclosed = stream_key(ks, f, key, closed);
	return LI_OK;
}

/* end of the stream: the keys after the last one are at ks->pos */
extern "C" li_status
li_keystream_finish(li_keystream *ks, li_fitter *f, li_segment closed[2],
					int *nclosed) noexcept
{
	return li_keystream_finish_at(ks, f, ks->pos, closed, nclosed);
}

/*
 * End of the stream: the keys after the last one are at end_pos; the lower
 * constraint at last+1 bounds them, then the open segment is closed.
 */
extern "C" li_status
li_keystream_finish_at(li_keystream *ks, li_fitter *f, uint64_t end_pos,
					   li_segment closed[2], int *nclosed) noexcept
{
	int			n = 0;
	int			n2 = 0;
	li_status	st;

	*nclosed = 0;
	if (end_pos < ks->pos)
		return LI_ERR_ARG;
	if (end_pos >= kMaxPos)
		return LI_ERR_ARG;
	if (ks->have_prev && ks->prev_key != UINT64_MAX)
		n = fit_event(f, ks->prev_key + 1, end_pos, kLower, &closed[0]);
	st = li_fitter_finish(f, &closed[n], &n2);
	if (st != LI_OK)
		return st;
	*nclosed = n + n2;
	return LI_OK;
}

/* fit a whole sorted array; the per-key path is inlined */
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
	size_t		ns = 0;

	if ((keys == nullptr && n > 0) || fitter_mem == nullptr || nseg == nullptr)
		return LI_ERR_ARG;
	*nseg = 0;
	st = li_fitter_init(f, epsilon);
	if (st != LI_OK)
		return st;
	if (n >= kMaxPos)
		return LI_ERR_ARG;
	li_keystream_init(&ks);
	for (size_t i = 0; i < n; i++)
	{
		const uint64_t key = keys[i];

		if (ks.have_prev && key <= ks.prev_key)
		{
			if (key < ks.prev_key)
				return LI_ERR_ORDER;
			ks.pos++;
			continue;
		}
		if (stream_key(&ks, f, key, closed) != 0)
		{
			if (ns >= out_cap)
				return LI_ERR_ARG;
			out[ns++] = closed[0];
			*nseg = ns;
		}
	}
	st = li_keystream_finish(&ks, f, closed, &nc);
	if (st != LI_OK)
		return st;
	for (int j = 0; j < nc; j++)
	{
		if (ns >= out_cap)
			return LI_ERR_ARG;
		out[ns++] = closed[j];
	}
	*nseg = ns;
	return LI_OK;
}
