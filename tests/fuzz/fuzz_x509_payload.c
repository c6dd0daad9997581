/* libFuzzer target: the payload git hands its signing program
 * (gpg.format=x509, gpg.x509.program=signgate) on stdin -- a tag's header
 * (object/type/tag) or a commit's (src/hooks/x509.c sg_tag_payload_parse).
 * The input is NOT NUL-terminated, as a fuzzer buffer. Invariants: a
 * success is a commit payload, or a tag payload with a 40-hex object, a
 * type and a tag name; a failure sets a message and leaves nothing. */
#include "fuzz.h"

#include <string.h>

#include "core/error.h"
#include "hooks/hooks.h"

SG_FUZZ_TARGET(x509_payload)
{
	sg_tag_payload p;
	int rc;

	memset(&p, 0, sizeof(p));
	sg_error_clear();
	rc = sg_tag_payload_parse(&p, (const char *)data, size);
	if (rc == SG_OK) {
		if (!p.is_commit) {
			SG_FUZZ_ASSERT(strlen(p.object) == 40 && strspn(p.object, "0123456789abcdef") == 40);
			SG_FUZZ_ASSERT(p.type[0] && p.tag && p.tag[0]);
		}
		sg_tag_payload_release(&p);
	} else {
		SG_FUZZ_ASSERT(rc < 0 && sg_error_last() && p.tag == NULL);
	}
	return 0;
}
