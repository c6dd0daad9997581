#!/bin/sh
# make install PREFIX= DESTDIR=: the program, man pages, hooks, templates
# and the CMake package land where docs/integration-*.md say; the installed
# program finds the installed templates; make uninstall removes them all.
. "$SG_TOP/tests/lib/test-lib.sh"

D=$TRASH/inst P=$TRASH/inst/usr
expect 0 "make install DESTDIR=... PREFIX=/usr" -- \
	make -C "$SG_TOP" --no-print-directory install DESTDIR="$D" PREFIX=/usr INSTALL_BIN="$SIGNGATE"
check "bin/signgate is installed, mode 0755" test "$(stat -c %a "$P/bin/signgate")" = 755
expect 0 "the installed program runs" -- "$P/bin/signgate" --version
grep_out "^signgate $(sed -n 's/^VERSION *:= *//p' "$SG_TOP/Makefile")\$" "it reports the Makefile's VERSION"

n=0
for m in "$SG_TOP"/docs/man/*.1; do
	check "man page $(basename "$m") in share/man/man1" cmp -s "$m" "$P/share/man/man1/$(basename "$m")"; n=$((n + 1))
done
check "signgate-init.1 is among them" test -f "$P/share/man/man1/signgate-init.1"
for m in "$SG_TOP"/docs/man/*.5; do
	check "man page $(basename "$m") in share/man/man5" cmp -s "$m" "$P/share/man/man5/$(basename "$m")"
done

for h in "$SG_TOP"/hooks/*; do
	[ -f "$h" ] || continue
	check "hook $(basename "$h") in share/signgate/hooks, executable" sh -c \
		"cmp -s '$h' '$P/share/signgate/hooks/$(basename "$h")' && [ -x '$P/share/signgate/hooks/$(basename "$h")' ]"
done
check "share/signgate/hooks exists" test -d "$P/share/signgate/hooks"

for t in release-policy.signgate test-policy.signgate signgate.mk ci/github-actions.yml ci/gitlab-ci.yml; do
	check "template $t in share/signgate/templates, mode 0644" sh -c \
		"cmp -s '$SG_TOP/templates/$t' '$P/share/signgate/templates/$t' && [ \$(stat -c %a '$P/share/signgate/templates/$t') = 644 ]"
done

C=$P/lib/cmake/SignGate
for f in SignGateConfig.cmake SignGateConfigVersion.cmake SignGate.cmake SignGateInstall.cmake SignGateCPack.cmake; do
	check "CMake package file $f in lib/cmake/SignGate" test -f "$C/$f"
done
check "the version file carries the Makefile's VERSION" grep -q "^set(PACKAGE_VERSION \"$(sed -n 's/^VERSION *:= *//p' "$SG_TOP/Makefile")\")" "$C/SignGateConfigVersion.cmake"
check "nothing outside DESTDIR/usr was written" test "$(ls "$D")" = usr

# the installed program uses the installed templates
git init -q "$TRASH/r"
expect 0 "the installed signgate init uses share/signgate/templates" -- sh -c "cd '$TRASH/r' && '$P/bin/signgate' init"
grep_out "from $P/share/signgate/templates/release-policy.signgate" "it names the installed template"
check "the policy written is the template" cmp -s "$TRASH/r/.signgate" "$SG_TOP/templates/release-policy.signgate"

# failure twins
expect 2 "make install with a missing program fails" -- \
	make -C "$SG_TOP" --no-print-directory install DESTDIR="$TRASH/inst2" PREFIX=/usr INSTALL_BIN="$TRASH/nowhere/signgate"
check "and installs no program" test ! -e "$TRASH/inst2/usr/bin/signgate"
rm -rf "$TRASH/r2" && git init -q "$TRASH/r2" && cp "$P/bin/signgate" "$TRASH/lonely-signgate"
expect 1 "a program with no templates beside it says where it looked" -- sh -c "cd '$TRASH/r2' && '$TRASH/lonely-signgate' init"
grep_out "share/signgate/templates" "the message names the installed folder"

expect 0 "make uninstall DESTDIR=... PREFIX=/usr" -- \
	make -C "$SG_TOP" --no-print-directory uninstall DESTDIR="$D" PREFIX=/usr
check "uninstall leaves no file behind" test -z "$(find "$D" -type f)"
done_testing
