/*
 * test_encode.cpp -- order-preserving key encoding (int64, float8, float4).
 */
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "li_core.h"

namespace
{

uint64_t
bits(double v)
{
	uint64_t	b;

	std::memcpy(&b, &v, sizeof b);
	return b;
}

double
from_bits(uint64_t b)
{
	double		v;

	std::memcpy(&v, &b, sizeof v);
	return v;
}

uint32_t
fbits(float v)
{
	uint32_t	b;

	std::memcpy(&b, &v, sizeof b);
	return b;
}

float
from_fbits(uint32_t b)
{
	float		v;

	std::memcpy(&v, &b, sizeof v);
	return v;
}

/* PostgreSQL float8_cmp_internal: NaN == NaN, NaN > everything, -0 == +0 */
int
pg_cmp(double a, double b)
{
	if (std::isnan(a))
		return std::isnan(b) ? 0 : 1;
	if (std::isnan(b))
		return -1;
	if (a < b)
		return -1;
	if (a > b)
		return 1;
	return 0;
}

const double kInf = std::numeric_limits<double>::infinity();

/* a double drawn from a wide distribution, including every special class */
double
random_double(std::mt19937_64 &rng)
{
	switch (rng() % 8)
	{
		case 0:
			/* arbitrary bit pattern (covers NaN payloads, denormals) */
			return from_bits(rng());
		case 1:
			{
				static const double specials[] = {
					0.0, -0.0, kInf, -kInf, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
					DBL_TRUE_MIN, -DBL_TRUE_MIN, 1.0, -1.0, DBL_EPSILON,
					std::numeric_limits<double>::quiet_NaN(),
					-std::numeric_limits<double>::quiet_NaN(),
					std::numeric_limits<double>::signaling_NaN(),
				};

				return specials[rng() % (sizeof specials / sizeof specials[0])];
			}
		case 2:
			/* denormal */
			return from_bits((rng() & UINT64_C(0x000FFFFFFFFFFFFF)) |
							 (rng() & UINT64_C(0x8000000000000000)));
		case 3:
			/* small integers: many exact ties */
			return (double) ((int64_t) (rng() % 21) - 10);
		default:
			{
				/* random sign, exponent and mantissa of a finite value */
				uint64_t	exp = rng() % 2047;

				return from_bits((rng() & UINT64_C(0x800FFFFFFFFFFFFF)) | (exp << 52));
			}
	}
}

TEST(EncodeInt64, Extremes)
{
	EXPECT_EQ(li_encode_int64(INT64_MIN), UINT64_C(0));
	EXPECT_EQ(li_encode_int64(INT64_MAX), UINT64_MAX);
	EXPECT_EQ(li_encode_int64(-1), UINT64_C(0x7FFFFFFFFFFFFFFF));
	EXPECT_EQ(li_encode_int64(0), UINT64_C(0x8000000000000000));
	EXPECT_EQ(li_decode_int64(0), INT64_MIN);
	EXPECT_EQ(li_decode_int64(UINT64_MAX), INT64_MAX);
	const int64_t edge[] = {INT64_MIN, INT64_MIN + 1, -2, -1, 0, 1, 2,
		INT64_MAX - 1, INT64_MAX};

	for (int64_t v : edge)
		EXPECT_EQ(li_decode_int64(li_encode_int64(v)), v) << v;
	for (int64_t v : edge)
	{
		if (v != INT64_MAX)
		{
			EXPECT_EQ(li_encode_int64(v) + 1, li_encode_int64(v + 1)) << v;
		}
	}
}

TEST(EncodeInt64, RandomPairsOrderAndRoundTrip)
{
	std::mt19937_64 rng(12345);

	for (int i = 0; i < 1000000; i++)
	{
		int64_t		a = (int64_t) rng();
		int64_t		b = (i % 4 == 0) ? a + (int64_t) (rng() % 5) - 2 : (int64_t) rng();

		if (i % 7 == 0)
			b = (i % 2) ? INT64_MIN : INT64_MAX;
		uint64_t	ea = li_encode_int64(a),
					eb = li_encode_int64(b);

		ASSERT_EQ(a < b, ea < eb) << a << " " << b;
		ASSERT_EQ(a == b, ea == eb) << a << " " << b;
		ASSERT_EQ(li_decode_int64(ea), a);
		ASSERT_EQ(li_decode_int64(eb), b);
		/* every code decodes and re-encodes to itself (bijection) */
		uint64_t	k = rng();

		ASSERT_EQ(li_encode_int64(li_decode_int64(k)), k);
	}
}

TEST(EncodeFloat8, SpecialOrdering)
{
	const double nan = std::numeric_limits<double>::quiet_NaN();
	/* strictly increasing in PostgreSQL order (zeros: -0 before +0 in code) */
	const double chain[] = {
		-kInf, -DBL_MAX, -1e300, -1.0, -DBL_MIN, -DBL_TRUE_MIN * 2,
		-DBL_TRUE_MIN, -0.0, 0.0, DBL_TRUE_MIN, DBL_TRUE_MIN * 2, DBL_MIN,
		1.0, 1e300, DBL_MAX, kInf, nan
	};
	const size_t n = sizeof chain / sizeof chain[0];

	for (size_t i = 0; i + 1 < n; i++)
		EXPECT_LT(li_encode_float8(chain[i]), li_encode_float8(chain[i + 1]))
			<< "i=" << i << " " << chain[i] << " vs " << chain[i + 1];

	/* -0.0 is the code immediately below +0.0 */
	EXPECT_EQ(li_encode_float8(-0.0) + 1, li_encode_float8(0.0));
	/* denormals are adjacent to the zeros */
	EXPECT_EQ(li_encode_float8(0.0) + 1, li_encode_float8(DBL_TRUE_MIN));
	EXPECT_EQ(li_encode_float8(-DBL_TRUE_MIN) + 1, li_encode_float8(-0.0));
	/* largest denormal / DBL_MIN adjacency */
	EXPECT_EQ(li_encode_float8(from_bits(UINT64_C(0x000FFFFFFFFFFFFF))) + 1,
			  li_encode_float8(DBL_MIN));
	EXPECT_EQ(li_encode_float8(DBL_MAX) + 1, li_encode_float8(kInf));
	EXPECT_EQ(li_encode_float8(-kInf) + 1, li_encode_float8(-DBL_MAX));
	/* NaN above +Inf */
	EXPECT_GT(li_encode_float8(nan), li_encode_float8(kInf));
}

TEST(EncodeFloat8, AllNaNsShareOneCode)
{
	const uint64_t nancode = li_encode_float8(std::numeric_limits<double>::quiet_NaN());
	std::mt19937_64 rng(7);

	EXPECT_GT(nancode, li_encode_float8(kInf));
	EXPECT_EQ(li_encode_float8(-std::numeric_limits<double>::quiet_NaN()), nancode);
	EXPECT_EQ(li_encode_float8(std::numeric_limits<double>::signaling_NaN()), nancode);
	EXPECT_EQ(li_encode_float8(from_bits(UINT64_C(0x7FF0000000000001))), nancode);
	EXPECT_EQ(li_encode_float8(from_bits(UINT64_C(0xFFF0000000000001))), nancode);
	EXPECT_EQ(li_encode_float8(from_bits(UINT64_C(0x7FFFFFFFFFFFFFFF))), nancode);
	EXPECT_EQ(li_encode_float8(from_bits(UINT64_C(0xFFFFFFFFFFFFFFFF))), nancode);
	EXPECT_EQ(li_encode_float8(std::sqrt(-1.0)), nancode);
	EXPECT_EQ(li_encode_float8(kInf - kInf), nancode);
	for (int i = 0; i < 100000; i++)
	{
		/* exponent all ones, non-zero mantissa, random sign */
		uint64_t	mant = rng() & UINT64_C(0x000FFFFFFFFFFFFF);

		if (mant == 0)
			mant = 1;
		uint64_t	b = (rng() & UINT64_C(0x8000000000000000)) |
			UINT64_C(0x7FF0000000000000) | mant;

		ASSERT_TRUE(std::isnan(from_bits(b)));
		ASSERT_EQ(li_encode_float8(from_bits(b)), nancode) << std::hex << b;
	}
	/* the NaN code decodes to a NaN; it is also bound_lo == bound_hi */
	EXPECT_TRUE(std::isnan(li_decode_float8(nancode)));
	EXPECT_EQ(li_float8_bound_lo(std::numeric_limits<double>::quiet_NaN()), nancode);
	EXPECT_EQ(li_float8_bound_hi(std::numeric_limits<double>::quiet_NaN()), nancode);
}

TEST(EncodeFloat8, NegativeZero)
{
	double		d = li_decode_float8(li_encode_float8(-0.0));

	EXPECT_EQ(bits(d), bits(-0.0));
	EXPECT_TRUE(std::signbit(d));
	d = li_decode_float8(li_encode_float8(0.0));
	EXPECT_EQ(bits(d), bits(0.0));
	EXPECT_FALSE(std::signbit(d));

	EXPECT_EQ(li_float8_bound_lo(0.0), li_encode_float8(-0.0));
	EXPECT_EQ(li_float8_bound_hi(0.0), li_encode_float8(0.0));
	EXPECT_EQ(li_float8_bound_lo(-0.0), li_encode_float8(-0.0));
	EXPECT_EQ(li_float8_bound_hi(-0.0), li_encode_float8(0.0));
}

TEST(EncodeFloat8, SpecialRoundTrips)
{
	const double vals[] = {
		0.0, -0.0, kInf, -kInf, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
		DBL_TRUE_MIN, -DBL_TRUE_MIN, from_bits(UINT64_C(0x000FFFFFFFFFFFFF)),
		from_bits(UINT64_C(0x800FFFFFFFFFFFFF)), 1.0, -1.0, 0.1, -0.1,
		DBL_EPSILON, 1.0 + DBL_EPSILON, 9007199254740993.0, -9007199254740993.0,
	};

	for (double v : vals)
	{
		EXPECT_EQ(bits(li_decode_float8(li_encode_float8(v))), bits(v)) << v;
		if (v != 0.0)
		{
			EXPECT_EQ(li_float8_bound_lo(v), li_encode_float8(v)) << v;
			EXPECT_EQ(li_float8_bound_hi(v), li_encode_float8(v)) << v;
		}
	}
}

TEST(EncodeFloat8, RandomPairsMatchPostgresOrder)
{
	std::mt19937_64 rng(424242);

	for (int i = 0; i < 1000000; i++)
	{
		double		a = random_double(rng);
		double		b = random_double(rng);
		int			c = pg_cmp(a, b);
		uint64_t	ea = li_encode_float8(a),
					eb = li_encode_float8(b);

		if (c < 0)
		{
			ASSERT_LT(ea, eb) << a << " < " << b;
			ASSERT_LT(li_float8_bound_hi(a), li_float8_bound_lo(b)) << a << " " << b;
		}
		else if (c > 0)
		{
			ASSERT_GT(ea, eb) << a << " > " << b;
			ASSERT_GT(li_float8_bound_lo(a), li_float8_bound_hi(b)) << a << " " << b;
		}
		else
		{
			/* equal in SQL: codes inside each other's [lo, hi] range */
			ASSERT_LE(li_float8_bound_lo(a), eb) << a << " == " << b;
			ASSERT_LE(eb, li_float8_bound_hi(a)) << a << " == " << b;
			ASSERT_EQ(li_float8_bound_lo(a), li_float8_bound_lo(b));
			ASSERT_EQ(li_float8_bound_hi(a), li_float8_bound_hi(b));
			/* only the zeros have two codes */
			if (ea != eb)
			{
				ASSERT_EQ(a, 0.0);
				ASSERT_NE(std::signbit(a), std::signbit(b));
			}
		}
		ASSERT_LE(li_float8_bound_lo(a), ea);
		ASSERT_LE(ea, li_float8_bound_hi(a));

		/* round trip: bit exact for non-NaN */
		double		da = li_decode_float8(ea);

		if (std::isnan(a))
			ASSERT_TRUE(std::isnan(da));
		else
			ASSERT_EQ(bits(da), bits(a)) << a;
	}
}

/* exhaustive-ish walk: decode(code) is monotone for every non-NaN code */
TEST(EncodeFloat8, CodeSpaceIsMonotone)
{
	std::mt19937_64 rng(99);
	const uint64_t lo = li_encode_float8(-kInf);
	const uint64_t hi = li_encode_float8(kInf);

	for (int i = 0; i < 200000; i++)
	{
		uint64_t	k1 = lo + rng() % (hi - lo + 1);
		uint64_t	k2 = (i % 3 == 0 && k1 < hi) ? k1 + 1 : lo + rng() % (hi - lo + 1);
		double		d1 = li_decode_float8(k1),
					d2 = li_decode_float8(k2);

		ASSERT_FALSE(std::isnan(d1));
		ASSERT_FALSE(std::isnan(d2));
		ASSERT_EQ(li_encode_float8(d1), k1);
		ASSERT_EQ(li_encode_float8(d2), k2);
		if (k1 < k2)
		{
			ASSERT_LE(pg_cmp(d1, d2), 0);
		}
		if (k1 > k2)
		{
			ASSERT_GE(pg_cmp(d1, d2), 0);
		}
	}
}

TEST(EncodeFloat4, RoundTripAndOrder)
{
	std::mt19937_64 rng(2024);
	const float fspecial[] = {
		0.0f, -0.0f, std::numeric_limits<float>::infinity(),
		-std::numeric_limits<float>::infinity(), FLT_MAX, -FLT_MAX, FLT_MIN,
		-FLT_MIN, std::numeric_limits<float>::denorm_min(),
		-std::numeric_limits<float>::denorm_min(), 1.0f, -1.0f, 0.1f,
	};

	for (float f : fspecial)
	{
		double		d = (double) f;
		double		back = li_decode_float8(li_encode_float8(d));

		EXPECT_EQ(bits(back), bits(d)) << f;
		EXPECT_EQ(fbits((float) back), fbits(f)) << f;
	}
	for (int i = 0; i < 1000000; i++)
	{
		float		a = from_fbits((uint32_t) rng());
		float		b = (i % 5 == 0) ? std::nextafter(a, 0.0f) : from_fbits((uint32_t) rng());
		uint64_t	ea = li_encode_float8((double) a);
		uint64_t	eb = li_encode_float8((double) b);

		if (std::isnan(a))
		{
			ASSERT_EQ(ea, li_encode_float8(std::numeric_limits<double>::quiet_NaN()));
			continue;
		}
		float		back = (float) li_decode_float8(ea);

		ASSERT_EQ(fbits(back), fbits(a)) << a;
		int			c = pg_cmp((double) a, (double) b);

		if (c < 0)
			ASSERT_LT(ea, eb) << a << " " << b;
		else if (c > 0)
			ASSERT_GT(ea, eb) << a << " " << b;
		else
			ASSERT_EQ(li_float8_bound_lo((double) a), li_float8_bound_lo((double) b));
	}
}

}								/* namespace */
