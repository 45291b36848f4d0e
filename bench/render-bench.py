#!/usr/bin/env python3
"""Render benchmark (issue 3): `petrel render` of a 20 MB message.

The message (built here, deterministic): multipart/mixed with a 5 MB
text/html part (UTF-8, quoted-printable, with paragraphs, lists, tables,
links, entities and Hangul) and a base64 application/octet-stream attachment
that brings the message to 20 MB. It is rendered as text and as --json, with
no mailcap (the built-in HTML converter), and the attachment is saved once.
Wall time is the median of --rounds runs; peak RSS comes from bench/peakrss.

Targets: under 0.5 s and a peak RSS under 4x the message size.

usage: python3 bench/render-bench.py [--build DIR] [--rounds N] [--size MB]
"""

import argparse
import os
import quopri
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_message(path, total_mb, html_mb):
    rnd = random.Random(20)
    html = ["<!DOCTYPE html><html><head><title>Bench</title>"
            "<style>p { margin: 0 }</style></head><body>\n"]
    size = 0
    i = 0
    while size < html_mb * 1024 * 1024:
        chunk = (
            "<h2>Section %d</h2>\n<p>Lorem ipsum dolor sit amet, consectetur "
            "adipiscing elit &amp; sed do eiusmod tempor &mdash; incididunt ut "
            "labore et dolore magna aliqua. 한국어 문장도 조금 있습니다. "
            "<a href=\"https://example.com/article/%d\">Read more</a> &nbsp;"
            "<b>bold</b> <i>italic</i> &#x263A;</p>\n<ul><li>item one</li>"
            "<li>item two with a <a href=\"https://example.com/x/%d\">link</a></li></ul>\n"
            "<table><tr><td>cell</td><td>%d</td></tr></table>\n" % (i, i, i % 500, i))
        html.append(chunk)
        size += len(chunk.encode())
        i += 1
    html.append("</body></html>\n")
    html_qp = quopri.encodestring("".join(html).encode())
    head = (b"From: Bench <bench@example.org>\r\nTo: you@example.org\r\n"
            b"Subject: render benchmark\r\nDate: Tue, 01 Jul 2003 10:52:37 +0200\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_bench\"\r\n\r\n"
            b"--=_bench\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    mid = (b"\r\n--=_bench\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
           b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n")
    tail = b"\r\n--=_bench--\r\n"
    room = total_mb * 1024 * 1024 - len(head) - len(html_qp) - len(mid) - len(tail)
    nbin = room * 57 // 78          # 76 base64 characters and CRLF per 57 bytes
    data = rnd.randbytes(nbin)
    import base64
    b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
    with open(path, "wb") as f:
        f.write(head + html_qp + mid + b64 + tail)
    return os.path.getsize(path), len(html_qp), nbin


def measure(peakrss, petrel, args, env, tmp):
    out = os.path.join(tmp, "rss")
    t0 = time.monotonic()
    with open(os.devnull, "wb") as null:
        p = subprocess.run([peakrss, out, petrel] + args, stdout=null,
                           stderr=subprocess.PIPE, env=env)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("petrel %s failed: %s" % (" ".join(args), p.stderr.decode()))
    with open(out) as f:
        kb = int(f.read().split()[0].split("=")[1])
    return dt, kb * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", type=int, default=20, help="message size in MB")
    ap.add_argument("--html", type=int, default=5, help="HTML part size in MB")
    a = ap.parse_args()
    petrel = os.path.join(a.build, "petrel")
    peakrss = os.path.join(a.build, "bench", "peakrss")
    for p in (petrel, peakrss):
        if not os.access(p, os.X_OK):
            sys.exit("%s not built (meson setup %s && ninja -C %s)" % (p, a.build, a.build))
    tmp = tempfile.mkdtemp(prefix="petrel-render-bench-")
    env = dict(os.environ, PETREL_MAILCAP="", XDG_CONFIG_HOME=tmp, LC_ALL="C.UTF-8")
    env.pop("PETREL_CONFIG", None)
    try:
        msg = os.path.join(tmp, "big.eml")
        total, html_qp, nbin = build_message(msg, a.size, a.html)
        print("message: %.1f MB (HTML part %.1f MB quoted-printable, base64 attachment %.1f MB decoded)"
              % (total / 2**20, html_qp / 2**20, nbin / 2**20))
        rows = []
        savedir = os.path.join(tmp, "save")
        for label, args in (("render", ["render", msg]),
                            ("render --json", ["render", "--json", msg]),
                            ("render --save 1", ["render", "--save", "1", savedir, msg])):
            times, rss = [], []
            for _ in range(a.rounds):
                if label.startswith("render --save"):
                    shutil.rmtree(savedir, ignore_errors=True)
                    os.mkdir(savedir)
                dt, r = measure(peakrss, petrel, args, env, tmp)
                times.append(dt)
                rss.append(r)
            rows.append((label, statistics.median(times), max(rss), times))
        print("%-18s %9s %12s %8s   runs" % ("command", "time (s)", "peak RSS", "xsize"))
        for label, t, r, times in rows:
            print("%-18s %9.3f %9.1f MB %7.2fx   %s" % (label, t, r / 2**20, r / total,
                  " ".join("%.3f" % x for x in times)))
        ok = True
        for label, t, r, _ in rows[:2]:
            for what, good in (("time %.3f s < 0.5 s" % t, t < 0.5),
                               ("peak RSS %.1f MB < 4x message (%.1f MB)" % (r / 2**20, 4 * total / 2**20),
                                r < 4 * total)):
                print("%s %s: %s" % ("PASS" if good else "FAIL", label, what))
                ok = ok and good
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
