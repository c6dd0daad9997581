#!/bin/sh
# The CMake package: find_package(SignGate) from a `make install DESTDIR=`
# tree, signgate_sign() on the sample project tests/cmake-project (build
# tree `sign` target, install step, CPack packages); every signature checked
# by openssl; an unreviewed commit fails each step with signgate's message.
. "$SG_TOP/tests/lib/test-lib.sh"
. "$SG_LIB/sign-lib.sh"
sg_sign_fixture || { echo "fixture failed"; exit 1; }

expect 0 "make install DESTDIR=... PREFIX=/usr" -- \
	make -C "$SG_TOP" --no-print-directory install DESTDIR="$TRASH/inst" PREFIX=/usr INSTALL_BIN="$SIGNGATE"
INST=$TRASH/inst/usr

# the release profile also signs the sample project's files (by file name)
sg_policy_text | sed 's|^\tartifacts = dist/\*$|&\n\tartifacts = hello\n\tartifacts = libgreet.so.*\n\tartifacts = hello-data.txt\n\tartifacts = hello-*.tar.gz|' |
	sg_commit_policy
cp -R "$SG_TOP/tests/cmake-project" "$REPO/cmake-project"
git -C "$REPO" add cmake-project
git -C "$REPO" commit -q -m "sample cmake project" -m "Reviewed-by: Bob <bob@example.com>
Reviewed-by: Carol <carol@example.com>"

B=$TRASH/b
# signgate is not on PATH: the package finds the program installed beside it
expect 0 "configure with find_package(SignGate 0.1 REQUIRED)" -- \
	cmake -S "$REPO/cmake-project" -B "$B" -DCMAKE_PREFIX_PATH="$INST" -DCMAKE_BUILD_TYPE=Release
check "SIGNGATE_EXECUTABLE is the installed program" grep -q "^SIGNGATE_EXECUTABLE:FILEPATH=$INST/bin/signgate\$" "$B/CMakeCache.txt"
expect 0 "build" -- cmake --build "$B"
expect 0 "cmake --build . --target sign" -- cmake --build "$B" --target sign
grep_out "artifacts signed" "signgate's summary is in the build output"
for f in hello libgreet.so.1.0.0 hello-data.txt; do
	check "openssl cms -verify accepts the built $f" cms_verify "$B/$f"
done
check "the symlink libgreet.so is not signed" test ! -e "$B/libgreet.so.p7s"
expect 0 "cmake --build . --target verify-signatures" -- cmake --build "$B" --target verify-signatures

expect 0 "cmake --install --prefix signs the installed files" -- cmake --install "$B" --prefix "$TRASH/prefix"
for f in bin/hello lib/libgreet.so.1.0.0 share/hello/hello-data.txt; do
	check "openssl cms -verify accepts the installed $f" cms_verify "$TRASH/prefix/$f"
done
check "the installed files are the built ones (hello-data.txt)" cmp -s "$B/hello-data.txt" "$TRASH/prefix/share/hello/hello-data.txt"
check "install_manifest.txt lists the signatures" grep -q "prefix/bin/hello.p7s\$" "$B/install_manifest.txt"
check "the note records the installed path" sh -c "git -C '$REPO' log --notes=signatures -1 --format=%N | grep -q '^Artifact: $TRASH/prefix/bin/hello\$'"
# forgery twin of the independent check
printf 'tampered\n' >>"$TRASH/prefix/share/hello/hello-data.txt"
check "openssl cms -verify rejects a tampered installed file" sh -c "! openssl cms -verify -binary -inform DER -in '$TRASH/prefix/share/hello/hello-data.txt.p7s' -content '$TRASH/prefix/share/hello/hello-data.txt' -CAfile '$PKI/ca.pem' -purpose any -out /dev/null 2>/dev/null"

expect 0 "DESTDIR=... cmake --install" -- env DESTDIR="$TRASH/dd" cmake --install "$B" --prefix /opt/hello
check "the DESTDIR copy is signed" cms_verify "$TRASH/dd/opt/hello/bin/hello"

expect 0 "cpack -G TGZ signs the package" -- sh -c "cd '$B' && cpack -G TGZ"
check "openssl cms -verify accepts the package" cms_verify "$B/hello-1.0.0.tar.gz"

# SIGNGATE_EXECUTABLE names the program
mkdir -p "$TRASH/wrap"
printf '#!/bin/sh\necho "wrapper ran" >>"%s"\nexec "%s" "$@"\n' "$TRASH/wrap.log" "$INST/bin/signgate" >"$TRASH/wrap/signgate"
chmod +x "$TRASH/wrap/signgate"
expect 0 "configure with -DSIGNGATE_EXECUTABLE" -- \
	cmake -S "$REPO/cmake-project" -B "$TRASH/b2" -DCMAKE_PREFIX_PATH="$INST" -DSIGNGATE_EXECUTABLE="$TRASH/wrap/signgate"
expect 0 "sign through the named program" -- cmake --build "$TRASH/b2" --target sign
check "the named program ran" grep -q "wrapper ran" "$TRASH/wrap.log"
expect 1 "a missing SIGNGATE_EXECUTABLE fails find_package(SignGate REQUIRED)" -- \
	cmake -S "$REPO/cmake-project" -B "$TRASH/b3" -DCMAKE_PREFIX_PATH="$INST" -DSIGNGATE_EXECUTABLE="$TRASH/nowhere/signgate"
grep_out "SIGNGATE_EXECUTABLE" "the configure error names the cache variable"
expect 1 "find_package(SignGate 9.0) is refused by the version file" -- \
	sh -c "mkdir -p '$TRASH/v9' && printf 'cmake_minimum_required(VERSION 3.19)\nproject(v9 NONE)\nfind_package(SignGate 9.0 REQUIRED)\n' >'$TRASH/v9/CMakeLists.txt' && cmake -S '$TRASH/v9' -B '$TRASH/v9/b' -DCMAKE_PREFIX_PATH='$INST'"

# denial twins: the same project on an unreviewed commit
git -C "$REPO" checkout -q -b feature
commit_file "$REPO" cmake-project/hello-data.txt.in "unreviewed @PROJECT_VERSION@" "unreviewed change"
rm -f "$B"/*.p7s "$TRASH/prefix/bin/hello.p7s"
expect 2 "cmake --build . --target sign on an unreviewed commit fails" -- cmake --build "$B" --target sign
grep_out "signgate: denied" "the build output has signgate's denial"
check "nothing was signed in the build tree" sh -c "! ls '$B'/*.p7s 2>/dev/null"
expect 1 "cmake --install on an unreviewed commit fails" -- cmake --install "$B" --prefix "$TRASH/prefix"
grep_out "signgate refused to sign the installed files (exit 3)" "the install error says signgate refused"
grep_out "denied" "and gives signgate's reason"
check "the installed file was not signed" test ! -e "$TRASH/prefix/bin/hello.p7s"
rm -f "$B/hello-1.0.0.tar.gz.p7s"
expect 1 "cpack on an unreviewed commit fails" -- sh -c "cd '$B' && cpack -G TGZ"
grep_out "signgate refused to sign the" "the cpack error says signgate refused"
check "the package was not signed" test ! -e "$B/hello-1.0.0.tar.gz.p7s"
done_testing
