#!/usr/bin/env python3
"""Folders of every NAMESPACE (RFC 2342) against the private Dovecot with a
public namespace under the prefix "Public/" that LIST "" "*" does not show
(`list = no`): the sync asks NAMESPACE, lists "Public/*" as well, and the
public folders are cached and synced under their prefix like any other
(petrel folders, petrel list).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()

PUBLIC = """
namespace public {
  type = public
  separator = /
  prefix = Public/
  location = maildir:%s
  subscriptions = no
  list = no
}
"""


def main():
    d = harness.Dovecot(rawlog=True)
    pub = os.path.join(d.dir, "public")
    os.makedirs(pub, exist_ok=True)
    os.chown(pub, d.mail_uid, d.mail_gid)
    d.extra_conf = PUBLIC % pub
    with d:
        d.doveadm("mailbox", "create", "-u", "alice", "Public/News")
        d.append("alice", "Public/News",
                 "From: Editor <ed@example.org>\r\nSubject: Shared news\r\n"
                 "Message-ID: <pub1@example.org>\r\n\r\nFor everyone.\r\n")
        m = d.imap_client("alice")
        typ, data = m.list('""', '"*"')
        check(not any(b"Public/News" in x for x in data if x),
              "the set-up: LIST \"*\" does not show Public/News (%r)" % data)
        m.logout()

        d.write_petrel_config(home="ns")
        rc, out, err = d.run_petrel(["sync"], home="ns")
        check.eq(rc, 0, "sync (%s)" % err.strip()[-200:])
        sent = b"".join(s.get("in", b"") for s in d.rawlog("alice"))
        check(b" NAMESPACE\r\n" in sent and b'LIST "" "Public/*"' in sent,
              "it asks NAMESPACE and lists the public prefix")
        rc, out, err = d.run_petrel(["folders"], home="ns")
        line = [l for l in out.splitlines() if l.startswith("Public/News")]
        check(len(line) == 1 and line[0].split()[1:3] == ["1", "1"],
              "Public/News is a folder with its message (%r)" % out)
        rc, out, err = d.run_petrel(["list", "Public/News"], home="ns")
        check(rc == 0 and "Shared news" in out,
              "and its message is listed (%r)" % (out + err))
    check.done()


if __name__ == "__main__":
    main()
