# Forge fixture for tests: start tests/lib/forge-server.py. Source it
# (after test-lib.sh, whose sg_at_exit stops the servers at exit).
#
#   sg_forge_start MODE [ARGS]  start a GitHub/GitLab stand-in on 127.0.0.1
#                               (MODE and ARGS: see forge-server.py); sets
#                               SG_FORGE_URL (http://127.0.0.1:PORT) and
#                               SG_FORGE_PID
#   sg_forge_stop [PID...]      stop them (default: every one started here)
# The server stops by itself after --lifetime seconds (default 120).

SG_FORGE_PIDS=${SG_FORGE_PIDS:-}

sg_forge_start() {
	mode=$1
	shift || return 1
	fdir=${TRASH:-/tmp}
	pf=$(mktemp "$fdir/forge-$mode.XXXXXX") || return 1
	rm -f "$pf"
	(python3 "$SG_TOP/tests/lib/forge-server.py" --mode "$mode" --port-file "$pf" "$@" \
		</dev/null >>"$fdir/forge-server.log" 2>&1 & echo $! >"$pf.pid")
	SG_FORGE_PID=$(cat "$pf.pid") && rm -f "$pf.pid"
	SG_FORGE_PIDS="$SG_FORGE_PIDS $SG_FORGE_PID"
	if command -v sg_at_exit >/dev/null 2>&1; then sg_at_exit "kill $SG_FORGE_PID"; fi
	i=0
	while [ ! -s "$pf" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$SG_FORGE_PID" 2>/dev/null; then
			echo "sg_forge_start: the forge server ($mode) did not start; see $fdir/forge-server.log" >&2
			kill "$SG_FORGE_PID" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	SG_FORGE_URL=http://127.0.0.1:$(cat "$pf")
	rm -f "$pf"
	export SG_FORGE_URL SG_FORGE_PID
}

sg_forge_stop() {
	if [ $# -eq 0 ]; then set -- $SG_FORGE_PIDS; SG_FORGE_PIDS=; fi
	for p in "$@"; do kill "$p" 2>/dev/null; done
	return 0
}
