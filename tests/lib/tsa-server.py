#!/usr/bin/env python3
"""A local RFC 3161 timestamp authority for signgate's tests and demo.

Binds 127.0.0.1 on an ephemeral port, writes the port to --port-file and
answers POSTed TimeStampReq bodies with `openssl ts -reply` using the config
made by sg_tsa_pki (tests/lib/tsa.sh). --mode picks a fault:

  ok             a correct, trusted reply
  http500        HTTP 500
  garbage        HTTP 200, right content type, random bytes
  slow           a correct reply after --slow-seconds (default 5)
  wrong-nonce    a reply to the query with its nonce altered
  wrong-imprint  a reply to the query with its message imprint altered
  untrusted      a correct reply signed by a TSA from another CA
  huge           --huge-bytes (default 1 MiB) of body, no Content-Length
  badtype        a correct reply with Content-Type text/html
  rejected       a reply with status rejection (badAlg)
  redirect       HTTP 302 to --redirect-to

--fail-first N answers HTTP 500 to the first N requests, then MODE.
--log FILE appends one line per request ("<n> <mode>").
Stops after --lifetime seconds (default 120) and on SIGTERM/SIGINT.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_QUERY = 64 * 1024
MODES = ("ok", "http500", "garbage", "slow", "wrong-nonce", "wrong-imprint",
         "untrusted", "huge", "badtype", "rejected", "redirect")


def der_header(buf, off):
    """(tag, content offset, content length) of the DER element at off."""
    tag = buf[off]
    n = buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    if off + n > len(buf):
        raise ValueError("truncated DER")
    return tag, off, n


def der_children(buf, start, length):
    off, end = start, start + length
    while off < end:
        tag, c, n = der_header(buf, off)
        yield tag, c, n
        off = c + n


def tamper(query, what):
    """Flip a byte inside the query's nonce, imprint, or hash OID, in place."""
    q = bytearray(query)
    tag, c, n = der_header(q, 0)
    kids = list(der_children(q, c, n))
    if what == "nonce":
        ints = [k for k in kids if k[0] == 0x02]
        if len(ints) < 2:
            raise ValueError("query has no nonce")
        _, c, n = ints[1]
        q[c + n - 1] ^= 0x01
    else:
        imprint = [k for k in kids if k[0] == 0x30][0]
        alg, digest = list(der_children(q, imprint[1], imprint[2]))[:2]
        if what == "imprint":
            q[digest[1] + digest[2] - 1] ^= 0x01
        else:  # hash OID: sha256 (...2.1) -> sha384 (...2.2), not accepted here
            oid = list(der_children(q, alg[1], alg[2]))[0]
            q[oid[1] + oid[2] - 1] = 0x02
    return bytes(q)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0
        self.work = tempfile.mkdtemp(prefix="sgtsasrv.")
        self.serial = os.path.join(self.work, "serial")
        with open(self.serial, "w") as f:
            f.write("01\n")

    def reply(self, query, section):
        """Run openssl ts -reply under a lock (it rewrites the serial file)."""
        env = dict(os.environ, SG_TSA_SERIAL=self.serial)
        with self.lock:
            qf = os.path.join(self.work, "q.tsq")
            rf = os.path.join(self.work, "r.tsr")
            with open(qf, "wb") as f:
                f.write(query)
            subprocess.run(["openssl", "ts", "-reply", "-config",
                            os.path.join(self.args.dir, "tsa.cnf"), "-section", section,
                            "-queryfile", qf, "-out", rf],
                           env=env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
            with open(rf, "rb") as f:
                return f.read()


class Handler(BaseHTTPRequestHandler):
    server_version = "signgate-test-tsa/1"

    def log_message(self, fmt, *args):  # quiet: tests read --log instead
        pass

    def send(self, code, body=b"", ctype="application/timestamp-reply", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.send(405, b"POST a TimeStampReq\n", "text/plain")

    def do_POST(self):
        st = self.server.state
        a = st.args
        n = int(self.headers.get("Content-Length", "0"))
        if n <= 0 or n > MAX_QUERY:
            self.send(400, b"bad length\n", "text/plain")
            return
        query = self.rfile.read(n)
        with st.lock:
            st.count += 1
            nr = st.count
        mode = "http500" if nr <= a.fail_first else a.mode
        if a.log:
            with open(a.log, "a") as f:
                f.write("%d %s\n" % (nr, mode))
        try:
            self.answer(st, mode, query)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bad query: say so like a TSA would
            sys.stderr.write("tsa-server: %s\n" % e)
            self.send(400, b"bad request\n", "text/plain")

    def answer(self, st, mode, query):
        a = st.args
        if mode == "http500":
            self.send(500, b"internal error\n", "text/plain")
        elif mode == "garbage":
            self.send(200, os.urandom(200))
        elif mode == "redirect":
            self.send(302, b"", "text/plain", {"Location": a.redirect_to})
        elif mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"\x30" * 65536
            left = a.huge_bytes
            while left > 0:
                self.wfile.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
        elif mode == "slow":
            time.sleep(a.slow_seconds)
            self.send(200, st.reply(query, "tsa_ok"))
        elif mode == "wrong-nonce":
            self.send(200, st.reply(tamper(query, "nonce"), "tsa_ok"))
        elif mode == "wrong-imprint":
            self.send(200, st.reply(tamper(query, "imprint"), "tsa_ok"))
        elif mode == "rejected":
            self.send(200, st.reply(tamper(query, "alg"), "tsa_ok"))
        elif mode == "untrusted":
            self.send(200, st.reply(query, "tsa_rogue"))
        elif mode == "badtype":
            self.send(200, st.reply(query, "tsa_ok"), "text/html")
        else:
            self.send(200, st.reply(query, "tsa_ok"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="the PKI made by sg_tsa_pki")
    p.add_argument("--mode", default="ok", choices=MODES)
    p.add_argument("--port-file", required=True)
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--huge-bytes", type=int, default=1024 * 1024)
    p.add_argument("--redirect-to", default="http://127.0.0.1:1/")
    p.add_argument("--log")
    a = p.parse_args()
    a.dir = os.path.abspath(a.dir)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(a)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Timer(a.lifetime, server.shutdown).start()

    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        shutil.rmtree(server.state.work, ignore_errors=True)
    os._exit(0)  # do not wait for the lifetime timer or slow handlers


if __name__ == "__main__":
    main()
