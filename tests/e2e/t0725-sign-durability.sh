#!/bin/sh
# Crash safety of a batch, read from the system calls (strace -f -y): no
# signature is published (renamed to its final name) before its record is
# on disk, nothing half-written is published, and when signgate exits 0
# the signatures and the note are on disk. libgit2 fsyncs nothing, and on a
# file system without a journal nothing orders writes, so the order must
# come from signgate's own barriers (signatures: the batch's files outside
# .git; caches under .git, such as the notes index, are rebuilt if torn):
#   1. the note's objects are written, then synced, then the notes ref moves
#      (else a crash can leave the ref naming lost objects);
#   2. the ref is fsynced before the first signature is renamed into place
#      (else a crash can leave a published signature without its record);
#   3. every temp output's bytes are synced before the first rename;
#   4. the output folder is fsynced after the last rename (exit 0 = durable).
# For a batch of 1 (fsync per file) and of 12 (one syncfs). The checker is
# shown to reject traces with each barrier moved out of place.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/pki.sh"
command -v strace >/dev/null || { not_ok "strace is installed (scripts/install-deps.sh)"; done_testing; }
PKI=$TRASH/pki
sg_pki_make "$PKI" >/dev/null || { echo "pki failed"; exit 1; }
sg_pki_test_policy "$TRASH/policy" "$PKI" || exit 1
REPO=$TRASH/repo
git init -q "$REPO" && git -C "$REPO" commit -q --allow-empty -m root || exit 1

# barriers TRACE: exit 0 when the four barriers above are in order
barriers() {
	awk '
	/link\(.*\/objects\/tmp_object/ { lastobj = NR }
	/syncfs\(/ { syncs[++ns] = NR }
	/(link|rename)\(".*\/refs\/notes\/signatures\.lock", ".*\/refs\/notes\/signatures"\)/ { if (!refmove) refmove = NR }
	/fsync\([0-9]+<.*\/refs\/notes\/signatures>\)/ { if (refmove && !reffsync) reffsync = NR }
	/write\([0-9]+<.*\/\.[^\/]*\.tmp-[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]>/ && !/\.git\// { lastwrite = NR }
	/fsync\([0-9]+<.*\/\.[^\/]*\.tmp-[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]>\)/ { syncs[++ns] = NR }
	/rename\("([^"]*\/)?\.[^\/"]*\.tmp-[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]", / && !/\.git\// { if (!firstpub) firstpub = NR; lastpub = NR }
	/fsync\([0-9]+<.*\/dist>\)/ { dirsync = NR }
	END {
		for (i = 1; i <= ns; i++) {
			if (syncs[i] > lastobj && syncs[i] < refmove) objsync = 1
			if (syncs[i] > lastwrite && syncs[i] < firstpub) tmpsync = 1
		}
		if (!lastobj || !refmove || !firstpub) { print "# incomplete trace"; exit 1 }
		if (!objsync) { print "# the ref moved before its objects were synced"; exit 1 }
		if (!(reffsync > refmove && reffsync < firstpub)) { print "# a signature was renamed before the ref was synced"; exit 1 }
		if (!tmpsync) { print "# a temp file was renamed before its bytes were synced"; exit 1 }
		if (!(dirsync > lastpub)) { print "# the folder was not synced after the renames"; exit 1 }
	}' "$1"
}
rejects() { ! barriers "$1" >/dev/null; }

# batch N: sign dist/b*.bin (N files) under strace into $TRASH/trace.N
batch() {
	rm -rf "$REPO/dist"; mkdir -p "$REPO/dist"
	i=0; while [ $i -lt "$1" ]; do head -c 4096 /dev/urandom >"$REPO/dist/b$i.bin"; i=$((i + 1)); done
	# LeakSanitizer cannot run under ptrace (make check-asan)
	(cd "$REPO" && ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" strace -f -y -o "$TRASH/trace.$1" \
		-e trace=link,rename,renameat,renameat2,syncfs,fsync,fdatasync,write \
		"$SIGNGATE" -q --policy "$TRASH/policy" sign dist/*.bin) >"$TRASH/out" 2>"$TRASH/err"
}

for n in 1 12; do
	batch $n
	check "batch of $n: signed (exit 0)" test -s "$REPO/dist/b0.bin.p7s"
	check "batch of $n: openssl verifies a signature" openssl cms -verify -binary -inform DER \
		-in "$REPO/dist/b0.bin.p7s" -content "$REPO/dist/b0.bin" -CAfile "$PKI/ca.pem" \
		-purpose any -out /dev/null
	check "batch of $n: the note records it" sh -c "git -C '$REPO' notes --ref signatures show HEAD |
		grep -q '^Signature-Sha256: $(sha256sum <"$REPO/dist/b0.bin.p7s" | cut -d' ' -f1)\$'"
	check "batch of $n: objects synced before the ref, ref before the renames, temps before the renames, folder after" \
		barriers "$TRASH/trace.$n"
done

# The twins: the same trace with one barrier out of place is rejected.
t=$TRASH/trace.12
# the objects' sync dropped (a crash could leave the ref naming lost objects)
awk '/syncfs\(/ && !d { d = 1; next } { print }' "$t" >"$TRASH/bad1"
check "twin: no sync between the objects and the ref is rejected" rejects "$TRASH/bad1"
# the ref's fsync moved after the first rename
awk '/fsync\([0-9]+<.*\/refs\/notes\/signatures>\)/ { held = $0; next }
	/rename\("dist\/\..*\.tmp-/ && held { print; print held; held = ""; next } { print }' "$t" >"$TRASH/bad2"
check "twin: a rename before the ref's fsync is rejected" rejects "$TRASH/bad2"
# a temp file written after every sync
awk '/rename\("dist\/\..*\.tmp-/ && !d { print "1 write(5</x/dist/.late.p7s.tmp-AAAAAA>, \"x\", 1) = 1"; d = 1 } { print }' "$t" >"$TRASH/bad3"
check "twin: a temp written after the last sync is rejected" rejects "$TRASH/bad3"
# no folder fsync after the renames
grep -v 'fsync([0-9]*<.*/dist>)' "$t" >"$TRASH/bad4"
check "twin: no folder fsync after the renames is rejected" rejects "$TRASH/bad4"
done_testing
