#!/bin/sh
# One signing path (DESIGN.md section 5): src/pipeline never includes
# src/verify, src/verify never uses the pipeline's steps, and nothing
# outside src/pipeline calls a signing backend's sign function or appends a
# signing event itself. Each rule is also run on a copy of the tree with a
# violation planted, which it must find.
. "$SG_TOP/tests/lib/test-lib.sh"

# layering SRC: print every violation, exit 1 when there is one
layering() {
	src=$1 bad=0
	# the pipeline does not reach up into verify
	if grep -n '#include *"verify/' "$src"/pipeline/*.[ch]; then bad=1; fi
	# verify may use the pipeline's data types, never its steps
	if grep -n '#include *"pipeline/run.h"' "$src"/verify/*.[ch]; then bad=1; fi
	if grep -nE '\bsg_(pipeline_sign|run_[a-z_]+)[[:space:]]*\(' "$src"/verify/*.[ch]; then bad=1; fi
	# only the pipeline signs: a backend's sign (and raw) entry is called
	# nowhere else (src/sign defines the backends)
	if grep -rnE '(->|\.)(raw_)?sign(_[a-z]+)?[[:space:]]*\(' "$src" --include='*.c' |
		grep -v "^$src/pipeline/" | grep -v "^$src/sign/"; then bad=1; fi
	# only the pipeline records signing events
	if grep -rnE '\bsg_notes_append[[:space:]]*\(' "$src" --include='*.c' |
		grep -v "^$src/pipeline/" | grep -v "^$src/notes/"; then bad=1; fi
	return $bad
}

expect 0 "the tree keeps one signing path" -- layering "$SG_TOP/src"
check "git tag -s (x509) signs through sg_pipeline_sign" grep -q 'sg_pipeline_sign(' "$SG_TOP/src/hooks/x509.c"
check "the tag hook signs through sg_pipeline_sign" grep -q 'sg_pipeline_sign(' "$SG_TOP/src/hooks/reftx.c"
check "neither evaluates the gate for signing itself" sh -c "! grep -n 'sg_gate_evaluate' '$SG_TOP/src/hooks/x509.c'"

# twins: each rule finds a planted violation
plant() {
	rm -rf "$TRASH/src" && cp -r "$SG_TOP/src" "$TRASH/src" && printf '%s\n' "$2" >>"$TRASH/src/$1"
}
plant pipeline/pipeline.c '#include "verify/verify.h"'
expect 1 "a pipeline file including verify/ is found" -- layering "$TRASH/src"
grep_out 'pipeline/pipeline.c' "and named"
plant verify/verify.c '#include "pipeline/run.h"'
expect 1 "verify including the pipeline's step header is found" -- layering "$TRASH/src"
plant verify/doctor.c 'static int x(void) { return sg_pipeline_sign(0, 0, 0, 0); }'
expect 1 "verify calling a pipeline step is found" -- layering "$TRASH/src"
plant hooks/x509.c 'static int x(sg_signer *s) { return be->sign(s, 0, 0, 0); }'
expect 1 "a backend's sign called outside the pipeline is found" -- layering "$TRASH/src"
grep_out 'hooks/x509.c' "and named"
plant cli/sign.c 'static int x(void) { return sg_sign_cms.sign (0, 0, 0, 0); }'
expect 1 "a backend's sign called by name outside the pipeline is found" -- layering "$TRASH/src"
plant hooks/reftx.c 'static int x(void) { return sg_notes_append(0, 0, 0, 0, 0, 0); }'
expect 1 "a signing event appended outside the pipeline is found" -- layering "$TRASH/src"
done_testing
