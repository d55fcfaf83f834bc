/*
 * li_encode.cpp -- order-preserving encoding of SQL keys into uint64.
 */
#include <cmath>
#include <cstring>

#include "li_core.h"

namespace
{
constexpr uint64_t kSign = UINT64_C(0x8000000000000000);
/* canonical quiet NaN, positive */
constexpr uint64_t kNaNBits = UINT64_C(0x7FF8000000000000);

inline uint64_t
bits_of(double v) noexcept
{
	uint64_t	b;

	std::memcpy(&b, &v, sizeof b);
	return b;
}

inline double
double_of(uint64_t b) noexcept
{
	double		v;

	std::memcpy(&v, &b, sizeof v);
	return v;
}
}								/* namespace */

extern "C" uint64_t
li_encode_int64(int64_t v) noexcept
{
	return static_cast<uint64_t>(v) ^ kSign;
}

extern "C" uint64_t
li_encode_float8(double v) noexcept
{
	uint64_t	b = std::isnan(v) ? kNaNBits : bits_of(v);

	/* non-negative (sign clear): above all negatives; negatives reversed */
	return (b & kSign) ? ~b : (b | kSign);
}

extern "C" double
li_decode_float8(uint64_t k) noexcept
{
	uint64_t	b = (k & kSign) ? (k & ~kSign) : ~k;

	return double_of(b);
}

extern "C" uint64_t
li_float8_bound_lo(double v) noexcept
{
	if (v == 0.0)
		return li_encode_float8(-0.0);
	return li_encode_float8(v);
}

extern "C" uint64_t
li_float8_bound_hi(double v) noexcept
{
	if (v == 0.0)
		return li_encode_float8(0.0);
	return li_encode_float8(v);
}
