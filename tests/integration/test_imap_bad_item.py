#!/usr/bin/env python3
"""One bad message must cost only its bad item, not the folder.

A FAKE IMAP server (tests/fake/fakeimap.py, fault "bad_items") sends, in the
header fetch of `petrel sync`, three messages each with one item over a
parser limit among normal messages: a BODYSTRUCTURE nested 100 deep (the
limit is 64) before FLAGS, a 1.5 MB header literal (over the 1 MB in-memory
limit, no sink during the header fetch), and a 1.2 MB quoted ENVELOPE
string. The sync must succeed with a warning naming each message and item,
every message must be cached (the bad ones without their item), and the
next syncs must work, also when new bad messages arrive.
"""

import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from fakeimap import FakeIMAP  # noqa: E402
from test_imap_faults import Home  # noqa: E402

check = harness.Check()


def listing(h):
    st, out, err = h.run(["list", "--json", "INBOX"])
    check(st == 0, "list --json works (%d: %s)" % (st, err.strip()[:200]))
    return {m["uid"]: m for m in
            (json.loads(line) for line in out.splitlines() if line.strip())}


def header_fetches(f):
    return [c for c in f.commands
            if "UID FETCH" in c.upper() and "BODY" in c.upper()]


def main():
    h = Home()
    with FakeIMAP(count=10, fault="bad_items", at=4) as f:
        h.config(f.port)
        st, out, err = h.run(["sync"])
    check(st == 0, "sync with three bad items exits 0 (got %d: %s)"
          % (st, err.strip()[:300]))
    for uid, item, why in ((4, "BODYSTRUCTURE", "nested deeper than 64"),
                           (5, "BODY[HEADER.FIELDS", "literal over"),
                           (6, "ENVELOPE", "quoted string over")):
        lines = [x for x in err.splitlines()
                 if "UID %d " % uid in x and item in x and why in x]
        check(len(lines) == 1, "one warning names UID %d and %s (%s)"
              % (uid, item, err.strip()[:300]))
    check(len(err.strip().splitlines()) == 3,
          "nothing else on stderr (%r)" % err[:300])

    msgs = listing(h)
    check(sorted(msgs) == list(range(1, 11)),
          "all ten messages are cached, the bad ones too (%r)"
          % sorted(msgs))
    m = msgs.get(4, {})
    check(m.get("subject") == "message 4" and
          set(m.get("flags", [])) == {"\\Seen", "$Deep"},
          "the deep-BODYSTRUCTURE message keeps its header and the FLAGS "
          "after the bad item (%r)" % m)
    m = msgs.get(5, {})
    check(m.get("subject") == "" and m.get("flags") == ["\\Seen"] and
          m.get("size", 0) > 0,
          "the oversized-header message is stored without its header "
          "(%r)" % m)
    m = msgs.get(6, {})
    check(m.get("subject") == "message 6" and m.get("flags") == ["\\Seen"],
          "the oversized-ENVELOPE message is stored without it (%r)" % m)
    check(all(msgs.get(i, {}).get("subject") == "message %d" % i
              for i in (1, 2, 3, 7, 8, 9, 10)),
          "the normal messages are intact")
    row = h.db("SELECT complete, synced_uid FROM folders WHERE name='INBOX'")
    check(row == [(1, 10)], "the folder is complete up to UID 10 (%r)" % row)

    # The same server again: nothing to fetch, no error.
    with FakeIMAP(count=10, fault="bad_items", at=4) as f:
        h.config(f.port)
        st, _, err = h.run(["sync"])
        fetches = header_fetches(f)
    check(st == 0 and not err.strip(),
          "a second sync works (%d: %s)" % (st, err.strip()[:200]))
    check(not fetches, "and fetches no headers again (%r)" % fetches)

    # New messages, bad ones among them: only they are fetched.
    with FakeIMAP(count=15, fault="bad_items", at=12) as f:
        h.config(f.port)
        st, _, err = h.run(["sync"])
        fetches = header_fetches(f)
    check(st == 0 and len(err.strip().splitlines()) == 3,
          "a sync with new bad messages works, one warning each (%d: %s)"
          % (st, err.strip()[:300]))
    check(fetches and " 11:*" in fetches[0],
          "it fetches from UID 11 on (%r)" % fetches[:1])
    msgs = listing(h)
    check(sorted(msgs) == list(range(1, 16)),
          "all fifteen messages are cached (%r)" % sorted(msgs))
    row = h.db("SELECT complete, synced_uid FROM folders WHERE name='INBOX'")
    check(row == [(1, 15)], "the folder is complete up to UID 15 (%r)" % row)

    check.done()


if __name__ == "__main__":
    main()
