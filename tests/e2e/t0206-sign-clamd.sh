#!/bin/sh
# [scan] engine = clamd: a real clamd on a socket in the test folder scans
# what signgate streams to it (INSTREAM); clean signs and the note names
# clamd and its version; EICAR, the size limit, clamd down and a socket that
# is not clamd are exit 4 with nothing published; a TCP clamd on 127.0.0.1.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
. "$SG_LIB/clamd.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }
sg() { (cd "$REPO" && "$SIGNGATE" "$@"); }
note() { git -C "$REPO" log --notes=signatures -1 --format=%N; }
notes_tip() { git -C "$REPO" rev-parse -q --verify refs/notes/signatures || echo none; }
# nothing_published FILE: no signature, no temp file beside it, no new note
nothing_published() {
	[ ! -e "$REPO/$1.p7s" ] && [ "$(notes_tip)" = "$before" ] &&
		[ -z "$(find "$REPO/dist" -name '.*' -newer "$TRASH/stamp" 2>/dev/null)" ] &&
		[ -z "$(find "$REPO/dist" -name '*.tmp*' 2>/dev/null)" ]
}
clamd_policy() { # ADDR [EXTRA LINE]
	sg_policy_text | sed "s|^\[scan\]|[scan]\n\tengine = clamd\n\tclamd = $1${2:+\n\t$2}|" >"$TRASH/policy"
}
version=$(/usr/sbin/clamd --version | sed 's|^ClamAV \([^/]*\).*|\1|')

sg_clamd_start "$TRASH/clamd" "$CLAMDB" StreamMaxLength 64K || { echo "clamd did not start"; exit 1; }
clamd_policy "unix:$SG_CLAMD_SOCK"

printf 'a clean artifact\n' >"$REPO/dist/clean.txt"
expect 0 "via clamd: a clean file is signed" -- sg --policy "$TRASH/policy" sign dist/clean.txt
check "its signature verifies (openssl cms)" cms_verify "$REPO/dist/clean.txt"
check "the note's Scan: line names clamd, its version and socket" sh -c \
	"git -C '$REPO' log --notes=signatures -1 --format=%N | grep -qF 'Scan: clamd $version, database unversioned, unix:$SG_CLAMD_SOCK, clean'"
check "the digest in the note is the file's (sha256sum)" sh -c \
	"git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q \"^Artifact-Sha256: \$(sha256sum '$REPO/dist/clean.txt' | cut -d' ' -f1)\""
check "clamd saw the stream (its log)" grep -q "stream(.*): OK" "$TRASH/clamd/clamd.log"
expect 0 "verify accepts it" -- sg verify dist/clean.txt
# a file of several INSTREAM chunks, under the limit
head -c 60000 /dev/urandom >"$REPO/dist/multi.bin"
expect 0 "a file of several chunks (60000 bytes) is signed" -- sg --policy "$TRASH/policy" sign dist/multi.bin
check "its signature verifies (openssl cms)" cms_verify "$REPO/dist/multi.bin"

before=$(notes_tip); touch "$TRASH/stamp"
sg_eicar "$REPO/dist/eicar.com"
expect 4 "via clamd: the EICAR file is refused" -- sg --policy "$TRASH/policy" sign dist/eicar.com
grep_out "infected: Signgate.Test.EICAR" "the message names the signature"
grep_out "clamd at unix:$SG_CLAMD_SOCK" "and the clamd that found it"
check "nothing was published for it" nothing_published dist/eicar.com

# the marker inside a bigger file: clamd's body signature
{ head -c 30000 /dev/zero; sg_marker /dev/stdout; } >"$REPO/dist/marked.bin"
expect 4 "a body signature past the first chunk is found" -- sg --policy "$TRASH/policy" sign dist/marked.bin
grep_out "Signgate.Test.Marker" "the message names the body signature"
check "nothing was published for it" nothing_published dist/marked.bin

head -c 200000 /dev/urandom >"$REPO/dist/big.bin"
expect 4 "over clamd's StreamMaxLength (64 KiB): exit 4" -- sg --policy "$TRASH/policy" sign dist/big.bin
grep_out "StreamMaxLength" "the message names the limit"
grep_out "size limit exceeded" "and quotes clamd"
check "nothing was published for it" nothing_published dist/big.bin
expect 0 "the twin: a file under the limit still signs" -- sg --policy "$TRASH/policy" sign dist/clean.txt

# something that is not clamd on the socket: a protocol error
python3 - "$TRASH/fake.sock" <<'EOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4); s.settimeout(60)
for _ in range(4):
    try:
        c, _ = s.accept()
    except OSError:
        break
    c.recv(100); c.sendall(b"HELLO from something else\0"); c.close()
EOF
fake=$!
sg_at_exit "kill $fake"
while [ ! -S "$TRASH/fake.sock" ]; do sleep 0.1; done
clamd_policy "unix:$TRASH/fake.sock"
before=$(notes_tip); touch "$TRASH/stamp"
printf 'another\n' >"$REPO/dist/clean2.txt"
expect 4 "a socket that does not speak clamd: exit 4 (existing file)" -- sg --policy "$TRASH/policy" sign dist/clean2.txt
grep_out "not 'ClamAV" "the message says the answer is not clamd's"
check "nothing was published" nothing_published dist/clean2.txt

# clamd down
clamd_policy "unix:$SG_CLAMD_SOCK"
sg_clamd_stop
before=$(notes_tip); touch "$TRASH/stamp"
expect 4 "clamd down: exit 4" -- sg --policy "$TRASH/policy" sign dist/clean2.txt
grep_out "cannot reach clamd at unix:$SG_CLAMD_SOCK" "the message names the socket"
no_grep_out "clamav 1" "no fall-back to the in-process engine"
check "nothing was published" nothing_published dist/clean2.txt
expect 4 "scan.required = false does not turn clamd down into unscanned signing" -- \
	sh -c "sed 's/required = true/required = false/' '$TRASH/policy' >'$TRASH/p2' && cd '$REPO' && '$SIGNGATE' --policy '$TRASH/p2' sign dist/clean2.txt"
check "nothing was published" nothing_published dist/clean2.txt

# one clamd over TCP on 127.0.0.1
port=$(sg_free_port)
sg_clamd_start "$TRASH/clamd-tcp" "$CLAMDB" TCPSocket "$port" TCPAddr 127.0.0.1 || { echo "tcp clamd did not start"; exit 1; }
clamd_policy "tcp://127.0.0.1:$port"
expect 0 "via clamd over TCP: a clean file is signed" -- sg --policy "$TRASH/policy" sign dist/clean2.txt
check "its signature verifies (openssl cms)" cms_verify "$REPO/dist/clean2.txt"
check "the note names the TCP clamd" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -qF 'tcp://127.0.0.1:$port, clean'"
before=$(notes_tip); touch "$TRASH/stamp"
expect 4 "via clamd over TCP: EICAR is refused" -- sg --policy "$TRASH/policy" sign dist/eicar.com
check "nothing was published" nothing_published dist/eicar.com

# doctor checks clamd
expect 0 "doctor: clamd answers PING and VERSION" -- sg --policy "$TRASH/policy" doctor
grep_out "clamd $version at tcp://127.0.0.1:$port" "doctor names the clamd and its version"
sg_clamd_stop
expect 1 "doctor: clamd down is a failure" -- sg --policy "$TRASH/policy" doctor
grep_out "cannot reach clamd at tcp://127.0.0.1:$port" "doctor names the address"

# engine = clamav is loaded only when a file is to be scanned, after the
# gate allowed: with a broken database, commands that scan nothing work
mkdir "$TRASH/brokendb"
printf 'this is not a signature\n' >"$TRASH/brokendb/broken.hdb"
sg_policy_text | sed "s|database = $CLAMDB|database = $TRASH/brokendb|" >"$TRASH/policy"
expect 0 "check does not load the engine (broken database)" -- sg --policy "$TRASH/policy" check
expect 0 "verify does not load it" -- sg --policy "$TRASH/policy" verify dist/clean.txt
expect 0 "log does not load it" -- sg --policy "$TRASH/policy" log
git -C "$REPO" checkout -q -b feature && commit_file "$REPO" f.txt x "unreviewed"
expect 3 "a denied gate is denied before the engine loads (exit 3, not 4)" -- sg --policy "$TRASH/policy" sign dist/clean2.txt
git -C "$REPO" checkout -q main
expect 4 "the twin: sign loads it and fails on the broken database" -- sg --policy "$TRASH/policy" sign dist/clean2.txt
grep_out "cannot load scan database" "the message names the database problem"
done_testing
