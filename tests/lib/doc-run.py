#!/usr/bin/env python3
"""Turn the code blocks of a Markdown page into a shell script that runs
them as a reader would (tests/e2e/t0902-docs.sh), or compare a console
block's output.

usage: doc-run.py script PAGE.md      print the script for PAGE
       doc-run.py block PAGE.md NAME  print the block whose info string
                                       says id=NAME (for a test that runs
                                       the page's own block elsewhere)
       doc-run.py match EXPECTED ACTUAL
                                       every line of EXPECTED appears in
                                       ACTUAL, in order ("..." matches any
                                       text within a line)

Every code block is fenced and its info string says what to do with it
(an indented code block, or a fence without an info string, is an error:
a block nobody runs is a block that can rot):

  ```sh                 run in the reader's shell (cd and variables carry
                        on to the next block); any failure fails the page
  ```sh exit=3          run in a subshell; it must exit 3
  ```sh in=source       run in the signgate source tree (the test installs
                        into its own folder: `make install` there, `sudo`
                        runs the command as is)
  ```LANG file=PATH     write the block to PATH (cmake, make, c, ini, ...)
  ```ini policy         a policy example: it must load (signgate --policy
                        FILE check exits 0 or 3, never 1 or 2)
  ```console [exit=N]   "$ command" lines are run; the lines that follow
                        are output that must appear, in order; every
                        command exits N (default 0)
  ```text note         a note paragraph (or fields of one): it must be read
                        back by signgate log as events with no warning
  ```LANG skip="why"    not run; the test lists the reason

Any block may also carry id=NAME (`doc-run.py block` prints it).

A manual page (PAGE.1 ... PAGE.8) is read the same way: every .nf/.fi
block of its EXAMPLE or EXAMPLES section, and any .ig/.. block (roff
ignores it: a setup the reader does not see), follows a comment that
gives its info string,
  .\" doc-run: sh
and its text is what man prints (\- is -, \e is \, ...).
"""
import re
import shlex
import sys

FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
EOF_MARK = "SG_DOC_EOF"


class DocError(Exception):
    pass


def blocks(path):
    """(line, info, text) for every fenced block; DocError for bad ones."""
    out = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i, prev_blank = 0, True
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            fence, info, start = m.group(1), m.group(2).strip(), i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith(fence):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise DocError("%s:%d: the code block is never closed" % (path, start))
            if not info:
                raise DocError("%s:%d: a code block without an info string; say what it is "
                               "(sh, console, LANG file=PATH, ini policy, skip=\"why\")" % (path, start))
            out.append((start, info, "\n".join(body) + "\n"))
            prev_blank = False
        elif prev_blank and (line.startswith("    ") or line.startswith("\t")) and line.strip():
            raise DocError("%s:%d: an indented code block; write it as a fenced block with an "
                           "info string so that the docs test runs it" % (path, i + 1))
        else:
            prev_blank = not line.strip()
        i += 1
    return out


ROFF = [("\\-", "-"), ("\\(dq", '"'), ("\\(aq", "'"), ("\\&", ""), ("\\e", "\\")]


def unroff(line):
    for esc, text in ROFF:
        line = line.replace(esc, text)
    return line


def man_blocks(path):
    """(line, info, text) for the example blocks of a manual page."""
    out = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    section, info = "", None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".SH "):
            section = line[4:].strip().strip('"')
        elif line.startswith('.\\" doc-run: '):
            info = (i + 1, line[len('.\\" doc-run: '):].strip())
        elif line in (".nf", ".ig") and (line == ".ig" or section in ("EXAMPLE", "EXAMPLES")):
            end = ".fi" if line == ".nf" else ".."
            if not info or info[0] != i:
                raise DocError("%s:%d: an example without a '.\\\" doc-run: INFO' comment on the line "
                               "before it; say what it is (sh, text note, ini policy, skip=\"why\")" % (path, i + 1))
            body = []
            i += 1
            while i < len(lines) and lines[i] != end:
                body.append(unroff(lines[i]))
                i += 1
            if i == len(lines):
                raise DocError("%s:%d: the example is never closed (%s)" % (path, info[0] + 1, end))
            out.append((info[0] + 1, info[1], "\n".join(body) + "\n"))
        i += 1
    return out


def page_blocks(path):
    if re.search(r"\.[1-8]$", path):
        return man_blocks(path)
    return blocks(path)


def parse_info(path, line, info):
    words = shlex.split(info)
    lang, opts = words[0], {}
    for w in words[1:]:
        k, eq, v = w.partition("=")
        opts[k] = v if eq else True
    known = {"file", "exit", "in", "skip", "policy", "note", "id"}
    bad = set(opts) - known
    if bad:
        raise DocError("%s:%d: unknown word %s in the info string" % (path, line, sorted(bad)[0]))
    return lang, opts


def heredoc(text):
    if EOF_MARK in text:
        raise DocError("a block contains %s" % EOF_MARK)
    return "<<'%s'\n%s%s\n" % (EOF_MARK, text, EOF_MARK)


def script(path):
    out = ["# generated from %s by tests/lib/doc-run.py" % path]
    for line, info, text in page_blocks(path):
        where = "%s:%d" % (path, line)
        lang, o = parse_info(path, line, info)
        q = shlex.quote(where)
        if "skip" in o:
            if o["skip"] is True or not o["skip"]:
                raise DocError("%s: skip needs a reason: skip=\"why\"" % where)
            out.append("sg_doc_skip %s %s" % (q, shlex.quote(o["skip"])))
        elif "file" in o:
            out.append("sg_doc_file %s %s %s" % (q, shlex.quote(o["file"]), heredoc(text)))
        elif "policy" in o:
            out.append("sg_doc_policy %s %s" % (q, heredoc(text)))
        elif "note" in o:
            out.append("sg_doc_note %s %s" % (q, heredoc(text)))
        elif lang == "console":
            out.append("sg_doc_console %s %s %s" % (q, shlex.quote(str(o.get("exit", 0))), heredoc(text)))
        elif lang == "sh" and o.get("in") == "source":
            out.append("sg_doc_source %s %s" % (q, heredoc(text)))
        elif lang == "sh" and "exit" in o:
            out.append("sg_doc_at %s\nset +e\n( set -e\n%s)\nsg_doc_rc=$?\nset -e\nsg_doc_exit %s %s \"$sg_doc_rc\""
                       % (q, text, q, shlex.quote(o["exit"])))
        elif lang == "sh":
            out.append("sg_doc_at %s\n%ssg_doc_ok %s" % (q, text, q))
        else:
            raise DocError("%s: a %s block that does nothing: give it file=PATH (write it), "
                           "policy (an ini policy), note (a note paragraph), or skip=\"why\"" % (where, lang))
    return "\n".join(out) + "\n"


def block(path, name):
    """The text of the one block of PATH whose info string says id=NAME."""
    found = [text for line, info, text in page_blocks(path) if parse_info(path, line, info)[1].get("id") == name]
    if len(found) != 1:
        raise DocError("%s: %d blocks with id=%s, want 1" % (path, len(found), name))
    return found[0]


def match(expected_path, actual_path):
    with open(expected_path) as f:
        want = [l.rstrip() for l in f if l.strip()]
    with open(actual_path, errors="replace") as f:
        have = [l.rstrip() for l in f]
    at = 0
    for w in want:
        pat = re.compile(".*".join(re.escape(p) for p in w.split("...")))
        while at < len(have) and not pat.search(have[at]):
            at += 1
        if at == len(have):
            print("missing from the output (in order): %s" % w)
            return 1
        at += 1
    return 0


def main():
    try:
        if len(sys.argv) == 3 and sys.argv[1] == "script":
            sys.stdout.write(script(sys.argv[2]))
            return 0
        if len(sys.argv) == 4 and sys.argv[1] == "block":
            sys.stdout.write(block(sys.argv[2], sys.argv[3]))
            return 0
        if len(sys.argv) == 4 and sys.argv[1] == "match":
            return match(sys.argv[2], sys.argv[3])
    except DocError as e:
        print("doc-run: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
