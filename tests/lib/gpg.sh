# GnuPG fixtures for tests (unit tests run these through system()/popen;
# e2e scripts source this file). POSIX sh. Passphrases here are test-only.
#
#   sg_gpg_init [DIR]       make and export GNUPGHOME (DIR, else a new
#                           /tmp/g.XXXXXX: gpg-agent's socket path must stay
#                           short), mode 0700, loopback pinentry allowed
#   sg_gpg_genkey NAME EMAIL PASSPHRASE [EXPIRE [FAKED-TIME]]
#                           make an ed25519 signing key (empty PASSPHRASE =
#                           unprotected) and print its fingerprint; EXPIRE
#                           defaults to 1y; FAKED-TIME (e.g. 20200101T000000)
#                           backdates the key, so "1d" makes an expired key
#   sg_gpg_revoke FPR       import the revocation certificate gpg made for FPR
#   sg_gpg_disable FPR      mark FPR disabled (gpg --edit-key FPR disable)
#   sg_gpg_kill             stop gpg-agent (forgets cached passphrases)
#   sg_gpg_cleanup          stop the agent and remove GNUPGHOME

sg_gpg_init() {
	if [ -n "${1:-}" ]; then
		mkdir -p "$1" || return 1
		GNUPGHOME=$1
	else
		GNUPGHOME=$(mktemp -d /tmp/g.XXXXXX) || return 1
	fi
	export GNUPGHOME
	chmod 700 "$GNUPGHOME" || return 1
	printf '%s\n' allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
}

sg_gpg_genkey() {
	sg_gpg_out=$(printf '%s\n' "$3" |
		gpg --batch --no-tty --status-fd 1 --pinentry-mode loopback \
			--passphrase-fd 0 ${5:+--faked-system-time "$5"} \
			--quick-gen-key "$1 <$2>" ed25519 sign "${4:-1y}" 2>/dev/null) || return 1
	printf '%s\n' "$sg_gpg_out" | sed -n 's/^\[GNUPG:\] KEY_CREATED [PB] \([0-9A-F]*\).*/\1/p'
}

sg_gpg_revoke() {
	sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$1.rev" |
		gpg --batch --no-tty --import 2>/dev/null
}

sg_gpg_disable() {
	printf 'disable\nsave\n' |
		gpg --batch --no-tty --command-fd 0 --edit-key "$1" >/dev/null 2>&1
}

sg_gpg_kill() {
	gpgconf --kill all 2>/dev/null
	return 0
}

sg_gpg_cleanup() {
	[ -n "${GNUPGHOME:-}" ] || return 0
	sg_gpg_kill
	rm -rf "$GNUPGHOME"
}
