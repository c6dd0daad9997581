#!/bin/sh
# The extra Debian packages `make fuzz` needs (not `make check`): clang and
# its libFuzzer/sanitizer runtime (a Recommends of clang, which
# install-deps.sh does not pull in). Installs only what is missing.
exec "$(dirname "$0")/install-deps.sh" clang libclang-rt-dev
