/* libFuzzer target: RFC 3161 answers (src/tsa) -- what a TSA sends back and
 * what is read back from FILE.asc.tsr and from a .p7s's unsigned attribute.
 * Input: one selector byte (bit 0: 0 = TimeStampResp, 1 = TimeStampToken),
 * then the DER. The seeds (tests/fuzz/corpus/tsa/) are real answers over
 * FUZZ_TSA_DATA from a throwaway TSA whose CA is tests/fuzz/data/tsa-ca.pem,
 * so the fuzzer starts past the DER decoder, inside signature, imprint,
 * signer-EKU and genTime checks.
 * Invariants: a failure is SG_EVERIFY (never SG_OK by accident, never a
 * crash) with a message; a success yields a genTime. */
#include "fuzz.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tsa/tsa.h"

#define FUZZ_TSA_DATA "signgate fuzz data\n"

SG_FUZZ_TARGET(tsa)
{
	static char anchor[PATH_MAX];
	time_t gen = 0;
	int rc, is_token;

	if (!anchor[0])
		snprintf(anchor, sizeof(anchor), "%s/tests/fuzz/data/tsa-ca.pem", sg_fuzz_top());
	if (size < 1)
		return 0;
	is_token = data[0] & 1;
	sg_error_clear();
	rc = sg_tsa_verify(&gen, data + 1, size - 1, is_token, (const unsigned char *)FUZZ_TSA_DATA,
			   strlen(FUZZ_TSA_DATA), anchor);
	if (rc == SG_OK)
		SG_FUZZ_ASSERT(gen > 0);
	else
		SG_FUZZ_ASSERT(rc == SG_EVERIFY && sg_error_last() && sg_error_last()[0]);
	/* The same bytes over other data must never verify. */
	rc = sg_tsa_verify(&gen, data + 1, size - 1, is_token, (const unsigned char *)"other", 5, anchor);
	SG_FUZZ_ASSERT(rc == SG_EVERIFY);
	return 0;
}
