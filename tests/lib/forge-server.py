#!/usr/bin/env python3
"""A local GitHub/GitLab API stand-in for signgate's review-source tests.

Binds 127.0.0.1 on an ephemeral port, writes the port to --port-file and
answers GET requests in the documented shapes of

  GitHub  /repos/{owner}/{repo}/commits/{sha}/pulls
          /repos/{owner}/{repo}/pulls/{n}/reviews
          /repos/{owner}/{repo}/branches/{b}/protection/required_pull_request_reviews
  GitLab  (optionally under /api/v4)
          /projects/{id}/repository/commits/{sha}/merge_requests
          /projects/{id}/merge_requests/{iid}/approvals
          /projects/{id}/merge_requests/{iid}/approval_state
          /projects/{id}/approvals

The pull/merge request contains the requested commit as its head (--head
overrides). --mode picks the scenario:

  approved           bob and carol approved the head
  stale              carol's approval is on an older commit (GitLab: the
                     project does not reset approvals on push)
  changes-requested  carol approved, then requested changes (GitLab: only
                     bob still approves)
  dismissed          carol's approval was dismissed (GitLab: as changes-requested)
  paged              reviews (GitLab: merge requests) on two pages, Link rel="next"
  paged-offsite      as paged, but the next page is on another host
  unmerged           the pull/merge request is open, not merged
  self               the author (alice) and bob approved
  protected3         approved, and branch protection (GitLab: the merge
                     request) requires 3 approvals
  rate-limited       GitHub: 403 with X-RateLimit-Remaining: 0; GitLab: 429
  http500            HTTP 500
  malformed          HTTP 200 with a body that is not JSON
  slow               approved, after --slow-seconds (default 5)
  scenario           answers from --scenario FILE: {"PATH": {"status": 200,
                     "headers": {...}, "body": JSON}}; "PATH?QUERY" is tried
                     before PATH (pagination); in the file, @HEAD@ is
                     replaced by --head and @BASE@ by this server's URL.
                     Recorded-style answers live in tests/lib/forge-recorded/

--author-json J replaces the pull request's "user" (GitLab: the merge
request's "author") with the JSON value J ("absent" drops the member);
--reviewer-json J does the same to carol's "user" in her review (GitLab:
her approval), e.g. null, {}, {"login": 42}, {"login": ""}.
--token T answers 401 unless "Authorization: Bearer T" is sent.
--log FILE appends "<path> <authorization present: yes|no>" per request.
Stops after --lifetime seconds (default 120) and on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("approved", "stale", "changes-requested", "dismissed", "paged", "paged-offsite",
         "unmerged", "self", "protected3", "rate-limited", "http500", "malformed", "slow",
         "scenario")
OLD = "1111111111111111111111111111111111111111"
MERGE = "2222222222222222222222222222222222222222"


def review(rid, login, state, commit, minute):
    return {"id": rid, "node_id": "PRR_%d" % rid, "user": {"login": login, "id": rid * 10, "type": "User"},
            "body": "", "state": state, "commit_id": commit,
            "html_url": "https://github.example/o/r/pull/7#pullrequestreview-%d" % rid,
            "submitted_at": "2026-11-20T09:%02d:00Z" % minute, "author_association": "MEMBER"}


def gl_user(uid, name):
    return {"user": {"id": uid, "username": name, "name": name.title(), "state": "active",
                     "web_url": "https://gitlab.example/" + name}}


def reshape(obj, key, j):
    """obj with obj[key] replaced by the JSON value j (None: unchanged; "absent": dropped)."""
    if j is None:
        return obj
    obj = dict(obj)
    if j == "absent":
        obj.pop(key, None)
    else:
        obj[key] = json.loads(j)
    return obj


class Handler(BaseHTTPRequestHandler):
    server_version = "forge-test/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("forge-server: " + (fmt % args) + "\n")

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def do_GET(self):
        o = self.server.opts
        path, _, query = self.path.partition("?")
        if path.startswith("/api/v4/"):
            path = path[7:]                 # GitLab's API prefix
        auth = self.headers.get("Authorization")
        if o.log:
            with open(o.log, "a") as f:
                f.write("%s %s\n" % (self.path, "yes" if auth else "no"))
        if o.token and auth != "Bearer " + o.token:
            return self.send(401, {"message": "Bad credentials"})
        mode = o.mode
        if mode == "slow":
            time.sleep(o.slow_seconds)
            mode = "approved"
        if mode == "http500":
            return self.send(500, {"message": "Server Error"})
        if mode == "malformed":
            return self.send(200, b'[{"number": 7, "merged_at": ')
        if mode == "rate-limited":
            if path.startswith("/projects/"):
                return self.send(429, {"message": "429 Too Many Requests"},
                                 {"RateLimit-Remaining": "0", "RateLimit-Reset": "1795000000",
                                  "Retry-After": "60"})
            return self.send(403, {"message": "API rate limit exceeded"},
                             {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
                              "X-RateLimit-Reset": "1795000000"})
        if mode == "scenario":
            sc = self.server.scenario.get(path + "?" + query) if query else None
            if sc is None:
                sc = self.server.scenario.get(path)
            if sc is None:
                return self.send(404, {"message": "Not Found"})
            return self.send(sc.get("status", 200), sc.get("body"), sc.get("headers"))
        if path.startswith("/repos/"):
            return self.github(mode, path, query)
        if path.startswith("/projects/"):
            return self.gitlab(mode, path, query)
        return self.send(404, {"message": "Not Found"})

    # ---- GitHub ----
    def github(self, mode, path, query):
        o = self.server.opts
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/commits/([0-9a-f]{40})/pulls", path)
        if m:
            head = o.head or m.group(3)
            self.server.head = head
            pr = {"number": 7, "html_url": "https://github.example/%s/%s/pull/7" % (m.group(1), m.group(2)),
                  "state": "closed", "title": "a change", "user": {"login": o.author, "id": 1},
                  "merged_at": None if mode == "unmerged" else "2026-11-20T10:00:00Z",
                  "merge_commit_sha": MERGE, "head": {"sha": head, "ref": "feature"},
                  "base": {"sha": OLD, "ref": o.base,
                           "repo": {"full_name": "%s/%s" % (m.group(1), m.group(2))}}}
            return self.send(200, [reshape(pr, "user", o.author_json)])
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/pulls/7/reviews", path)
        if m:
            head = self.server.head or o.head or OLD
            bob = review(101, "bob", "APPROVED", head, 1)
            carol = reshape(review(102, "carol", "APPROVED", head, 2), "user", o.reviewer_json)
            if mode == "stale":
                carol["commit_id"] = OLD
                return self.send(200, [bob, carol])
            if mode == "changes-requested":
                return self.send(200, [bob, carol, review(103, "carol", "CHANGES_REQUESTED", head, 3)])
            if mode == "dismissed":
                carol["state"] = "DISMISSED"
                return self.send(200, [bob, carol])
            if mode == "self":
                return self.send(200, [review(100, o.author, "APPROVED", head, 0), bob])
            if mode in ("paged", "paged-offsite"):
                if "page=2" in query:
                    return self.send(200, [carol])
                host = self.base() if mode == "paged" else "http://127.0.0.2:%d" % self.server.server_address[1]
                nxt = "%s%s?per_page=1&page=2" % (host, path)
                return self.send(200, [bob, review(104, "dave", "COMMENTED", head, 4)],
                                 {"Link": '<%s>; rel="next", <%s>; rel="last"' % (nxt, nxt)})
            return self.send(200, [bob, carol])
        if path.endswith("/protection/required_pull_request_reviews"):
            if mode == "protected3":
                return self.send(200, {"url": "https://github.example" + path, "dismiss_stale_reviews": True,
                                       "require_code_owner_reviews": False,
                                       "required_approving_review_count": 3})
            return self.send(404, {"message": "Branch not protected"})
        return self.send(404, {"message": "Not Found"})

    # ---- GitLab ----
    def gitlab(self, mode, path, query):
        o = self.server.opts
        m = re.fullmatch(r"/projects/([^/]+)/repository/commits/([0-9a-f]{40})/merge_requests", path)
        if m:
            head = o.head or m.group(2)
            mr = {"id": 70, "iid": 7, "project_id": 5, "title": "a change",
                  "state": "opened" if mode == "unmerged" else "merged",
                  "merged_at": None if mode == "unmerged" else "2026-11-20T10:00:00Z",
                  "target_branch": o.base, "source_branch": "feature",
                  "author": {"id": 1, "username": o.author}, "sha": head, "merge_commit_sha": MERGE,
                  "squash_commit_sha": None, "web_url": "https://gitlab.example/g/p/-/merge_requests/7"}
            mr = reshape(mr, "author", o.author_json)
            if mode in ("paged", "paged-offsite"):
                if "page=2" in query:
                    return self.send(200, [mr])
                other = dict(mr, iid=6, id=60, state="closed", merged_at=None)
                host = self.base() if mode == "paged" else "http://127.0.0.2:%d" % self.server.server_address[1]
                nxt = "%s%s?per_page=1&page=2" % (host, path)
                return self.send(200, [other], {"Link": '<%s>; rel="next"' % nxt})
            return self.send(200, [mr])
        m = re.fullmatch(r"/projects/([^/]+)/approvals", path)
        if m:
            return self.send(200, {"approvers": [], "approver_groups": [], "approvals_before_merge": 0,
                                   "reset_approvals_on_push": mode != "stale",
                                   "merge_requests_author_approval": False})
        m = re.fullmatch(r"/projects/([^/]+)/merge_requests/7/(approvals|approval_state)", path)
        if m:
            by = [gl_user(11, "bob"), reshape(gl_user(12, "carol"), "user", o.reviewer_json)]
            if mode in ("changes-requested", "dismissed"):
                by = [gl_user(11, "bob")]
            if mode == "self":
                by = [gl_user(1, o.author), gl_user(11, "bob")]
            if m.group(2) == "approval_state":     # the default rule: any member may approve
                return self.send(200, {"approval_rules_overwritten": False, "rules": [
                    {"id": 1, "name": "All Members", "rule_type": "any_approver", "eligible_approvers": [],
                     "approvals_required": 3 if mode == "protected3" else 1, "users": [], "groups": [],
                     "contains_hidden_groups": False, "approved_by": [b.get("user") for b in by],
                     "source_rule": None, "approved": len(by) >= (3 if mode == "protected3" else 1)}]})
            return self.send(200, {"id": 70, "iid": 7, "project_id": 5, "state": "merged",
                                   "approvals_required": 3 if mode == "protected3" else 1,
                                   "approvals_left": 0, "approved_by": by})
        return self.send(404, {"message": "404 Not Found"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--slow-seconds", type=float, default=5)
    ap.add_argument("--head")
    ap.add_argument("--author", default="alice")
    ap.add_argument("--author-json")
    ap.add_argument("--reviewer-json")
    ap.add_argument("--base", default="main")
    ap.add_argument("--token")
    ap.add_argument("--log")
    ap.add_argument("--scenario")
    o = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.opts = o
    srv.head = None
    srv.scenario = {}
    if o.scenario:
        with open(o.scenario) as f:
            text = f.read()
        text = text.replace("@HEAD@", o.head or OLD)
        text = text.replace("@BASE@", "http://127.0.0.1:%d" % srv.server_address[1])
        srv.scenario = json.loads(text)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    signal.signal(signal.SIGINT, lambda *a: os._exit(0))
    threading.Timer(o.lifetime, lambda: os._exit(0)).start()
    tmp = o.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, o.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
