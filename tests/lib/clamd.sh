# A real clamd (Debian clamav-daemon) for one test, on a socket in the
# test's folder. Source it after test-lib.sh (or set sg_at_exit yourself).
#
#   sg_clamd_start DIR DB [KEY VALUE]...
#        write DIR/clamd.conf and start /usr/sbin/clamd in the foreground on
#        the unix socket DIR/clamd.sock with DatabaseDirectory DB; extra
#        clamd.conf lines as KEY VALUE pairs (StreamMaxLength 4k,
#        TCPSocket PORT, ...). Waits until it answers PING; sets
#        SG_CLAMD_SOCK and SG_CLAMD_PID. Its log is DIR/clamd.log.
#        SG_CLAMD_WAIT: seconds to wait for it (default 60; a full-size
#        database takes 20-60 s to load).
#   sg_clamd_stop        stop it (also done at the test's exit).
#   sg_free_port         print a free TCP port on 127.0.0.1.
#
# The daemon never outlives its test: besides the exit hook, a watchdog
# stops it as soon as the test's shell is gone (killed with SIGKILL too) or
# DIR was removed. It runs with its own config only: the system's clamd,
# its socket and freshclam are never touched.

SG_CLAMD=${SG_CLAMD:-/usr/sbin/clamd}

sg_clamd_ping() {
	python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"zPING\0")
sys.exit(0 if s.recv(16).startswith(b"PONG") else 1)
EOF
}

sg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sg_clamd_start() {
	_cd_dir=$1 _cd_db=$2
	shift 2
	mkdir -p "$_cd_dir/tmp" || return 1
	{
		echo "LocalSocket $_cd_dir/clamd.sock"
		echo "DatabaseDirectory $_cd_db"
		echo "TemporaryDirectory $_cd_dir/tmp"
		echo "PidFile $_cd_dir/clamd.pid"
		echo "LogFile $_cd_dir/clamd.log"
		echo "Foreground yes"
		echo "MaxThreads 2"
		echo "SelfCheck 0"
		echo "ConcurrentDatabaseReload no"
		echo "AlertExceedsMax yes"
		echo "LogClean yes"
		while [ $# -ge 2 ]; do echo "$1 $2"; shift 2; done
	} >"$_cd_dir/clamd.conf"
	"$SG_CLAMD" --config-file="$_cd_dir/clamd.conf" </dev/null >>"$_cd_dir/clamd.out" 2>&1 &
	SG_CLAMD_PID=$!
	SG_CLAMD_SOCK=$_cd_dir/clamd.sock
	command -v sg_at_exit >/dev/null 2>&1 && sg_at_exit sg_clamd_stop
	# the watchdog: the test's shell ($$) gone or its folder removed => stop
	( while kill -0 $$ 2>/dev/null && [ -d "$_cd_dir" ] && kill -0 "$SG_CLAMD_PID" 2>/dev/null; do
		sleep 1
	done
	kill "$SG_CLAMD_PID" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
	_cd_i=0
	while ! sg_clamd_ping "$SG_CLAMD_SOCK"; do
		if ! kill -0 "$SG_CLAMD_PID" 2>/dev/null || [ $_cd_i -ge $((${SG_CLAMD_WAIT:-60} * 10)) ]; then
			echo "sg_clamd_start: clamd did not start; its log:" >&2
			cat "$_cd_dir/clamd.out" "$_cd_dir/clamd.log" >&2 2>/dev/null
			sg_clamd_stop
			return 1
		fi
		sleep 0.1
		_cd_i=$((_cd_i + 1))
	done
}

sg_clamd_stop() {
	[ -n "${SG_CLAMD_PID:-}" ] || return 0
	kill "$SG_CLAMD_PID" 2>/dev/null
	wait "$SG_CLAMD_PID" 2>/dev/null
	SG_CLAMD_PID=
}
