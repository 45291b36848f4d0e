#!/usr/bin/env python3
"""The MIME corpus (tests/corpus/*.eml) rendered through `petrel show` from a
real Dovecot mailbox must print exactly what `petrel render` prints for the
same file: the pager, show and render share one renderer, and nothing on the
way (IMAP literals, the cache, line-end conversion) may change the result.
"""

import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()
SRC = os.environ.get("PETREL_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    files = sorted(glob.glob(os.path.join(SRC, "tests", "corpus", "*.eml")))
    check(len(files) >= 50, "the corpus has at least 50 messages (%d)"
          % len(files))
    with harness.Dovecot() as d:
        # Files go into the Maildir as they are (APPEND would refuse NULs
        # and bare CRs); Dovecot serves them with CRLF line ends.
        cur = os.path.join(d.maildir("alice", "INBOX"), "cur")
        os.makedirs(cur, exist_ok=True)
        t = int(time.time()) - len(files)
        for i, f in enumerate(files):
            data = open(f, "rb").read()
            name = "%d.M%dP1.corpus,S=%d:2,S" % (t + i, i, len(data))
            with open(os.path.join(cur, name), "wb") as out:
                out.write(data)
        d._chown_tree(d.maildir("alice", "INBOX"))
        d.force_resync("alice", "INBOX")
        d.write_petrel_config()
        r = d.run_petrel(["sync", "--bodies", "INBOX"])
        check.eq(r.status, 0, "sync --bodies of the corpus folder (%s)"
                 % r.stderr.strip())
        idx = d.fetch_index("alice", "INBOX")
        # UIDs follow the file names, which follow the sorted corpus.
        uids = sorted(idx)
        check.eq(len(uids), len(files), "every corpus file is a message")
        env = d.petrel_env()
        bad, changed = [], []
        for uid, f in zip(uids, files):
            orig = open(f, "rb").read()
            raw = subprocess.run(
                [os.environ["PETREL"], "show", "--offline", "--raw", "INBOX",
                 str(uid)], env=env, stdout=subprocess.PIPE).stdout
            # Dovecot sends NUL bytes as 0x80 (NUL is not allowed in IMAP
            # literals): then the reference is what the server sent.
            same = raw.replace(b"\r\n", b"\n") == \
                orig.replace(b"\r\n", b"\n")
            if not same and b"\0" in orig:
                changed.append(os.path.basename(f))
            elif not same:
                changed.append("!" + os.path.basename(f))
            for opts in ([], ["--headers", "all"]):
                shown = subprocess.run(
                    [os.environ["PETREL"], "show", "--offline"] + opts +
                    ["INBOX", str(uid)], env=env, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
                rendered = subprocess.run(
                    [os.environ["PETREL"], "render"] + opts + ["-"],
                    input=orig if same else raw, env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                if (shown.returncode, shown.stdout) != \
                        (rendered.returncode, rendered.stdout):
                    bad.append("%s %s" % (os.path.basename(f), " ".join(opts)))
        check.eq(bad, [], "petrel show from Dovecot prints what petrel render "
                 "prints for all %d messages (default and all headers)"
                 % len(files))
        check(not any(c.startswith("!") for c in changed),
              "only messages with NUL bytes were changed by the server (%s)"
              % ", ".join(changed))
    check.done()


if __name__ == "__main__":
    main()
