/* Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c) and the plain
 * regression driver (tests/unit/test_fuzz_regressions.c).
 *
 * A target is written once:
 *     SG_FUZZ_TARGET(policy) { ...; return 0; }
 * Built by `make fuzz` (clang -fsanitize=fuzzer) it is the program's
 * LLVMFuzzerTestOneInput. Included by the driver (SG_FUZZ_DRIVER defined)
 * it becomes sg_fuzz_policy(), which the driver calls on every corpus and
 * regression input -- so the corpus is a regression test without clang.
 * Targets keep their helpers static and prefixed with their own name. */
#ifndef SG_TESTS_FUZZ_H
#define SG_TESTS_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef SG_FUZZ_DRIVER
#define SG_FUZZ_TARGET(name) int sg_fuzz_##name(const uint8_t *data, size_t size)
#else
#define SG_FUZZ_TARGET(name)                                          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* An invariant the code under test must keep: abort (a finding for
 * libFuzzer, a failed test for the driver). */
#define SG_FUZZ_ASSERT(c) do { if (!(c)) sg_fuzz_fail(#c, __FILE__, __LINE__); } while (0)

#include <stdio.h>
static inline void sg_fuzz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
	abort();
}

/* The repository top: $SG_TOP (set by tests/run.sh and `make fuzz`), else ".". */
static inline const char *sg_fuzz_top(void)
{
	const char *t = getenv("SG_TOP");
	return t && t[0] ? t : ".";
}
#endif
