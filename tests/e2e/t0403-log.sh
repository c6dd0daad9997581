#!/bin/sh
# log: events newest first, --json parsed by jq, filters, ranges, and
# notes written by others (non-event paragraphs skipped, -v says so).
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/verify-lib.sh"
vt_setup
vt_policy "$(vt_profile release "$VT_PKI/codesign.pem" "$VT_PKI/codesign.key" 'artifacts = dist/*')"
echo one >dist/one.tar.gz && vt_commit one && first=$(git rev-parse HEAD)
expect 0 "sign one" -- "$SIGNGATE" sign dist/one.tar.gz
sleep 1
echo two >dist/two.tar.gz && vt_commit two && git tag v2
expect 0 "sign two (tag v2)" -- "$SIGNGATE" sign --tag v2 dist/two.tar.gz
git notes --ref=signatures append -m "A person's remark, not an event." "$first"

expect 0 "log --json" -- "$SIGNGATE" --json log
check "json array of 2 events, newest first" sh -c "jq -e 'length == 2 and .[0].artifact == \"dist/two.tar.gz\" and
	.[1].artifact == \"dist/one.tar.gz\" and .[0].tag == \"v2\" and .[0].type == \"event\" and .[0].event == \"sign\"' '$TRASH/out' >/dev/null"
check "json fields: digests, cert, commit, ref" sh -c "jq -e '.[1].artifact_sha256 == \"$(vt_sha dist/one.tar.gz)\" and
	.[1].signature_sha256 == \"$(vt_sha dist/one.tar.gz.p7s)\" and .[1].signer_cert_sha256 == \"$(vt_cert_sha "$VT_PKI/codesign.pem")\" and
	.[1].commit == \"$first\" and .[1].notes_ref == \"refs/notes/signatures\" and (.[1].timestamp | startswith(\"20\")) and .[1].revoked == false' '$TRASH/out' >/dev/null"
expect 0 "log -v" -- "$SIGNGATE" -v log
grep_out "1 paragraph that is not" "-v counts the skipped paragraph"
grep_out "Artifact-Sha256: *$(vt_sha dist/one.tar.gz)" "readable aligned block"
no_grep_out "$(printf '\033')" "no colour when not a terminal"
expect 0 "log --artifact" -- "$SIGNGATE" --json log --artifact "$(vt_sha dist/two.tar.gz)"
check "--artifact keeps one event" sh -c "jq -e 'length == 1 and .[0].artifact == \"dist/two.tar.gz\"' '$TRASH/out' >/dev/null"
expect 0 "log --cert (unknown)" -- "$SIGNGATE" --json log --cert 0000000000000000000000000000000000000000000000000000000000000000
check "--cert of another cert: nothing" sh -c "jq -e 'length == 0' '$TRASH/out' >/dev/null"
expect 0 "log REVRANGE" -- "$SIGNGATE" --json log "$first..HEAD"
check "range excludes the first commit's event" sh -c "jq -e 'length == 1 and .[0].tag == \"v2\"' '$TRASH/out' >/dev/null"
check "git log --notes=signatures shows the events too" sh -c "git log --notes=signatures | grep -q 'Signgate-Event: sign'"
expect 2 "log refuses two ranges" -- "$SIGNGATE" log a b

# an event written by another tool, with values that need escaping and a
# byte that is not UTF-8: the JSON still parses and keeps what it can
printf 'Signgate-Event: sign\nArtifact: dist/"quoted" back\\slash\tTab\nArtifact-Sha256: %s\nNote: caf\351\n' \
	"$(printf x | sha256sum | cut -d' ' -f1)" >"$TRASH/odd-note"
git notes --ref=signatures append -F "$TRASH/odd-note" "$first"
expect 0 "log --json with hostile values" -- "$SIGNGATE" --json log
check "the document parses and the quoted value round-trips" sh -c "jq -e 'map(select(.artifact == \"dist/\\\"quoted\\\" back\\\\slash Tab\")) | length == 1' '$TRASH/out' >/dev/null"
check "a byte that is not UTF-8 becomes ?" sh -c "jq -e 'map(select(.note == \"caf?\")) | length == 1' '$TRASH/out' >/dev/null"
done_testing
