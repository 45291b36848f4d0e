#!/usr/bin/env python3
"""Generate the MIME corpus: tests/corpus/NAME.eml and NAME.expect.json.

The messages are written with other tools' encoders (Python's email
package, iconv, Perl's Encode, coreutils base64) or by hand, and the
expectations come from the text that was fed to those encoders, never from
petrel. The generated files are committed; run this again only to change
the corpus:  python3 tests/corpus/gen.py tests/corpus

Expectation keys (see README.md): subject, from, to, cc, date (exact);
attachments (file names in order), types, sizes (optional, in order);
body (fragments that must appear in the rendered body); not_body (fragments
that must not).
"""

import base64
import email.policy
import hashlib
import random
import json
import os
import subprocess
import sys
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

random.seed(3)        # MIME boundaries: the same files on every run
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
CASES = []
DATE = "Tue, 01 Jul 2003 10:52:37 +0200"
DATE_RFC3339 = "2003-07-01T10:52:37+02:00"


def case(name, raw, desc, **expect):
    """Record one message and what petrel must show for it."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    expect["description"] = desc
    CASES.append((name, raw, expect))


def iconv(text, cs):
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", cs], input=text.encode(),
                          stdout=subprocess.PIPE, check=True).stdout


def perl_encode(encoding, text):
    return subprocess.run(["perl", "-CSA", "-MEncode", "-e",
                           "print encode($ARGV[0], $ARGV[1])", encoding, text],
                          stdout=subprocess.PIPE, check=True).stdout


def b64(data):
    return subprocess.run(["base64"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def legacy(msg):
    """Bytes of a compat32 message (Python's classic MIME encoder)."""
    return msg.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))


def modern(msg):
    return msg.as_bytes(policy=email.policy.SMTP)


def std_headers(m, subject, frm=("Alice Example", "alice@example.org"),
                to=("Bob", "bob@example.net")):
    m["From"] = formataddr(frm) if isinstance(frm, tuple) else frm
    m["To"] = formataddr(to) if isinstance(to, tuple) else to
    m["Subject"] = subject
    m["Date"] = DATE
    m["Message-ID"] = "<%s@corpus.example>" % hashlib.sha1(str(subject).encode()).hexdigest()[:16]


ALICE = "Alice Example <alice@example.org>"

# ---------------------------------------------------------------- headers

case("hdr-folding", (
    "From: Alice Example\r\n <alice@example.org>\r\n"
    "To: bob@example.net,\r\n\tcarol@example.net,\r\n dave@example.net\r\n"
    "Subject: a subject that was folded\r\n over three\r\n\tlines\r\n"
    "Date: " + DATE + "\r\n\r\nBody of a folded message.\r\n"),
    "folded header fields (space and tab continuations)",
    subject="a subject that was folded over three lines", **{"from": ALICE},
    to=["bob@example.net", "carol@example.net", "dave@example.net"],
    date=DATE_RFC3339, body=["Body of a folded message."])

m = EmailMessage(policy=email.policy.SMTPUTF8)
m["From"] = "Jörg Müller <joerg@example.de>"
m["To"] = "Zoë <zoe@example.org>"
m["Subject"] = "Grüße aus München – ünïcödé 日本語"
m["Date"] = DATE
m.set_content("Schöne Grüße\n", cte="8bit")
case("hdr-rfc6532-utf8", m.as_bytes(),
     "RFC 6532 raw UTF-8 header fields (Python SMTPUTF8 policy)",
     subject="Grüße aus München – ünïcödé 日本語",
     **{"from": "Jörg Müller <joerg@example.de>"}, to=["Zoë <zoe@example.org>"],
     body=["Schöne Grüße"])

case("hdr-obsolete", (
    "Received: from x by y; Tue, 1 Jul 03 10:52:37 EDT\n"
    "From : \"Alice (not a comment)\" <@relay.example:alice@example.org>\n"
    "To: bob (Bob Builder) @ example . net\n"
    "Subject : obsolete syntax\n"
    "Date: Tue,  1 Jul 03 10:52:37 EDT (Eastern Daylight Time)\n"
    "\nobs-body\n"),
    "RFC 2822 obsolete syntax: blank before colon, routes, two-digit year, zone name",
    subject="obsolete syntax",
    **{"from": "Alice (not a comment) <alice@example.org>"},
    to=["Bob Builder <bob@example.net>"], date="2003-07-01T10:52:37-04:00",
    body=["obs-body"])

case("addr-groups", (
    "From: " + ALICE + "\n"
    "To: Team: \"Bob B.\" <bob@example.net>, carol@example.net;, dave@example.net\n"
    "Cc: undisclosed-recipients:;\n"
    "Subject: groups\nDate: " + DATE + "\n\ngroup body\n"),
    "address groups, flattened; an empty group",
    subject="groups", **{"from": ALICE},
    to=["Bob B. <bob@example.net>", "carol@example.net", "dave@example.net"], cc=[],
    body=["group body"])

case("addr-quoted-comments", (
    "From: \"Example, Alice \\\"Al\\\"\" <alice@example.org>\n"
    "To: bob@example.net (Bob Builder), \"O'Neil, C.\" <c@example.net>\n"
    "Cc: <d@example.net>, e@example.net\n"
    "Subject: quoted names\nDate: " + DATE + "\n\nq\n"),
    "quoted display names with commas and escapes; comment as name",
    subject="quoted names", **{"from": "Example, Alice \"Al\" <alice@example.org>"},
    to=["Bob Builder <bob@example.net>", "O'Neil, C. <c@example.net>"],
    cc=["d@example.net", "e@example.net"], body=["q"])

case("addr-encoded-in-quotes", (
    "From: \"=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?=\" <joerg@example.de>\n"
    "To: =?utf-8?q?Doe=2C_John?= <john@example.com>, "
    "=?ISO-8859-1?Q?Fran=E7ois?= <f@example.fr>\n"
    "Subject: encoded names\nDate: " + DATE + "\n\nx\n"),
    "encoded words inside quoted display names and with specials",
    subject="encoded names", **{"from": "Jörg Müller <joerg@example.de>"},
    to=["Doe, John <john@example.com>", "François <f@example.fr>"], body=["x"])

# ---------------------------------------------------------------- RFC 2047

case("ew-case-and-q", (
    "From: =?utf-8?b?SsO2cmc=?= <j@example.de>\n"
    "Subject: =?UTF-8?Q?caf=C3=A9_?= =?utf-8?q?au_lait?= and =?Utf-8?B?w6k=?=\n"
    "Date: " + DATE + "\n\nb\n"),
    "B and Q in any case; underscore as space; words next to text",
    subject="café au lait and é", **{"from": "Jörg <j@example.de>"}, body=["b"])

hdr = Header("안녕하세요 여러분 반갑습니다 오늘은 좋은 날입니다", "euc-kr").encode()
case("ew-adjacent-folded",
     "From: " + ALICE + "\nSubject: " + hdr + "\nDate: " + DATE + "\n\nbody\n",
     "adjacent euc-kr words across a fold (Python email.header)",
     subject="안녕하세요 여러분 반갑습니다 오늘은 좋은 날입니다", **{"from": ALICE},
     body=["body"])

u = "日本語のテキスト".encode()
w1 = base64.b64encode(u[:4]).decode()
w2 = base64.b64encode(u[4:11]).decode()
w3 = base64.b64encode(u[11:]).decode()
case("ew-split-utf8", (
    "From: " + ALICE + "\n"
    "Subject: =?UTF-8?B?" + w1 + "?=\n =?UTF-8?B?" + w2 + "?= =?utf-8?b?" + w3 + "?=\n"
    "Date: " + DATE + "\n\nsplit\n"),
    "a UTF-8 character split across adjacent B words",
    subject="日本語のテキスト", **{"from": ALICE}, body=["split"])

k = "한국어 제목".encode("euc-kr")
q1 = "".join("=%02X" % c for c in k[:3])
q2 = "".join("=%02X" % c for c in k[3:])
case("ew-split-euckr", (
    "From: =?ks_c_5601-1987?B?" + base64.b64encode("김철수".encode("cp949")[:1]).decode() +
    "?= =?ks_c_5601-1987?B?" + base64.b64encode("김철수".encode("cp949")[1:]).decode() +
    "?= <kim@example.kr>\n"
    "Subject: =?euc-kr?Q?" + q1 + "?= =?EUC-KR?Q?" + q2 + "?=\n"
    "Date: " + DATE + "\n\nsplit\n"),
    "EUC-KR characters split across Q words; ks_c_5601-1987 name split after one byte",
    subject="한국어 제목", **{"from": "김철수 <kim@example.kr>"}, body=["split"])

case("ew-invalid", (
    "From: " + ALICE + "\n"
    "Subject: =?utf-8?x?bad?= =?utf-8?b?!!!?= =?utf-8?q?ok?= =?unterminated\n"
    "Date: " + DATE + "\n\ninvalid\n"),
    "invalid encoded words are shown raw",
    subject="=?utf-8?x?bad?= =?utf-8?b?!!!?= ok =?unterminated",
    **{"from": ALICE}, body=["invalid"])

case("ew-unknown-charset", (
    "From: " + ALICE + "\n"
    "Subject: =?x-no-such-charset?Q?caf=E9?= =?x-bogus?B?w6k=?=\n"
    "Date: " + DATE + "\n\nunknown\n"),
    "unknown charset names: UTF-8 when valid, else the fallback (windows-1252)",
    subject="caféé", **{"from": ALICE}, body=["unknown"])

# ---------------------------------------------------------------- RFC 2231

m = EmailMessage()
std_headers(m, "RFC 2231 file name")
m.set_content("see attachment\n")
m.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf",
                 filename=("utf-8", "ko", "한국어 보고서 – 2024년 최종본 (수정).pdf"))
case("rfc2231-python", modern(m),
     "RFC 2231 charset'lang' file name as Python writes it",
     subject="RFC 2231 file name", **{"from": ALICE},
     attachments=["한국어 보고서 – 2024년 최종본 (수정).pdf"], types=["application/pdf"],
     sizes=[9], body=["see attachment"])

name = "Überweisungsbestätigung für den Monat Dezember mit sehr langem Namen.txt"
enc = "".join(c if c.isalnum() and ord(c) < 128 else "%%%02X" % b
              for c in name for b in c.encode("utf-8"))
# Split only between escapes.
parts, cur = [], ""
i = 0
while i < len(enc):
    tok = enc[i:i + 3] if enc[i] == "%" else enc[i]
    if len(cur) + len(tok) > 28:
        parts.append(cur)
        cur = ""
    cur += tok
    i += len(tok)
parts.append(cur)
cd = "attachment;\n" + ";\n".join(
    " filename*%d*=%s%s" % (n, "UTF-8''" if n == 0 else "", p) for n, p in reversed(list(enumerate(parts))))
case("rfc2231-continuations", (
    "From: " + ALICE + "\nSubject: continuations\nDate: " + DATE + "\n"
    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"=_b\"\n\n"
    "--=_b\nContent-Type: text/plain\n\nbody\n"
    "--=_b\nContent-Type: text/plain; name*0=\"plain \"; name*1=\"continued.txt\"\n"
    "Content-Disposition: " + cd + "\n\nfile\n"
    "--=_b\nContent-Type: application/octet-stream; name*0=\"only \"; name*1=\"name.bin\"\n"
    "Content-Disposition: attachment\n\nxx\n--=_b--\n"),
    "RFC 2231 continuations (filename*N*=, out of order) and plain name*N",
    subject="continuations", **{"from": ALICE},
    attachments=[name, "only name.bin"], body=["body"])

case("rfc2231-latin1-lang", (
    "From: " + ALICE + "\nSubject: latin1 name\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Disposition: attachment; filename*=iso-8859-1'fr'%E9t%E9%20%E0%20Paris.txt\n"
    "Content-Transfer-Encoding: quoted-printable\n\n=E9t=E9\n--b--\n"),
    "RFC 2231 with charset and language",
    subject="latin1 name", **{"from": ALICE}, attachments=["été à Paris.txt"],
    sizes=[3], body=["body"])

fn = "Рабочий план (финал).docx"
case("rfc2047-filename", (
    "From: " + ALICE + "\nSubject: 2047 file name\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nbody\n--b\n"
    "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\n"
    " name=\"" + Header(fn, "utf-8").encode(maxlinelen=1000) + "\"\n"
    "Content-Disposition: attachment;\n filename=\"" +
    Header(fn, "koi8-r").encode(maxlinelen=1000) + "\"\n"
    "Content-Transfer-Encoding: base64\n\n" + b64(b"PK\x03\x04 not really a zip").decode() +
    "--b--\n"),
    "RFC 2047 encoded words in quoted file names (koi8-r and UTF-8)",
    subject="2047 file name", **{"from": ALICE}, attachments=[fn],
    sizes=[21], body=["body"])

# ---------------------------------------------------------------- transfer encodings

text = ("Ein sehr langer Satz mit Umlauten: äöü ÄÖÜ ß, der weit über "
        "sechsundsiebzig Zeichen hinausgeht und daher weich umbrochen wird. " * 3)
msg = MIMEText(text, "plain", "utf-8")
msg.replace_header("Content-Transfer-Encoding", "quoted-printable")
import quopri
msg.set_payload(quopri.encodestring(text.encode()).decode())
std_headers(msg, "quoted-printable soft breaks")
case("qp-soft-breaks", legacy(msg), "quoted-printable with soft line breaks",
     subject="quoted-printable soft breaks", **{"from": "Alice Example <alice@example.org>"},
     body=["weich umbrochen wird. Ein sehr langer Satz mit Umlauten: äöü ÄÖÜ ß"])

case("qp-malformed", (
    "From: " + ALICE + "\nSubject: broken qp\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    "Price: 100=ZZ and 50% =\nsoft= \t\nbreak with blanks, caf=C3=A9, x=4 end=\n"),
    "malformed quoted-printable kept literally",
    subject="broken qp", **{"from": ALICE},
    body=["Price: 100=ZZ and 50% soft", "break with blanks, café, x=4 end"])

payload = base64.b64encode("Base64 without padding: ünïcödé text.\n".encode()).decode().rstrip("=")
payload = payload[:10] + "\r\n" + payload[10:20] + " *%!* \r\n" + payload[20:]
case("base64-broken", (
    "From: " + ALICE + "\nSubject: broken base64\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: BASE64\n\n" +
    payload + "\n"),
    "base64 with odd line breaks, junk characters, no padding",
    subject="broken base64", **{"from": ALICE},
    body=["Base64 without padding: ünïcödé text."])

case("base64-concatenated", (
    "From: " + ALICE + "\nSubject: concatenated base64\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n\n" +
    base64.b64encode(b"first half, ").decode() + "\n" +
    base64.b64encode(b"second half.").decode() + "\n"),
    "two base64 streams one after the other (padding in the middle)",
    subject="concatenated base64", **{"from": ALICE},
    body=["first half, second half."])

case("8bit-binary", (
    "From: " + ALICE + "\nSubject: 8bit and binary\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    "Ünïcödé in 8bit.\n--b\nContent-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: binary\nContent-Disposition: attachment; filename=blob.bin\n\n"
    ).encode() + bytes(range(256)).replace(b"\n", b"").replace(b"\r", b"") + b"\n--b--\n",
    "8bit text and a binary attachment",
    subject="8bit and binary", **{"from": ALICE}, attachments=["blob.bin"], sizes=[254],
    body=["Ünïcödé in 8bit."])

# ---------------------------------------------------------------- charsets

korean = "안녕하세요. 이 메일은 한국어로 작성되었습니다."
msg = MIMEText(korean + "\n", "plain", "euc-kr")
std_headers(msg, Header("한국어 메일", "euc-kr"), to=("김철수", "kim@example.kr"))
case("cs-euc-kr", legacy(msg), "EUC-KR body and subject (Python email)",
     subject="한국어 메일", **{"from": "Alice Example <alice@example.org>"},
     to=["김철수 <kim@example.kr>"], body=[korean])

cp949 = "똠방각하 펲시콜라 - 확장 완성형 글자"
case("cs-ks_c_5601", (
    b"From: =?ks_c_5601-1987?B?" + base64.b64encode("홍길동".encode("cp949")) +
    b"?= <hong@example.kr>\nSubject: =?ks_c_5601-1987?B?" +
    base64.b64encode("똠방각하".encode("cp949")) + b"?=\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=\"ks_c_5601-1987\"\n"
    b"Content-Transfer-Encoding: base64\n\n" + b64(iconv(cp949 + "\n", "CP949"))),
    "ks_c_5601-1987 (Outlook) with CP949-only characters, via iconv",
    subject="똠방각하", **{"from": "홍길동 <hong@example.kr>"}, body=[cp949])

case("cs-euckr-cp949-ext", (
    b"From: " + ALICE.encode() + b"\nSubject: euc-kr label, cp949 bytes\nDate: " +
    DATE.encode() + b"\nContent-Type: text/plain; charset=euc-kr\n"
    b"Content-Transfer-Encoding: 8bit\n\n" + iconv("똠방 펲시\n", "CP949")),
    "euc-kr label on CP949 extension bytes",
    subject="euc-kr label, cp949 bytes", **{"from": ALICE}, body=["똠방 펲시"])

jp = "日本語のメールです。半角カナも少し。"
case("cs-iso-2022-jp-perl", (
    b"From: " + perl_encode("MIME-Header-ISO_2022_JP", "山田太郎") + b" <yamada@example.jp>\n"
    b"Subject: " + perl_encode("MIME-Header-ISO_2022_JP", "会議の議事録について（ご確認ください）") +
    b"\nDate: " + DATE.encode() + b"\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n" +
    perl_encode("iso-2022-jp", jp + "\n")),
    "ISO-2022-JP subject and body written by Perl Encode",
    subject="会議の議事録について（ご確認ください）", **{"from": "山田太郎 <yamada@example.jp>"},
    body=[jp])

ext = (b"\x1b$B$3$s$K$A$O\x1b(B \x1b(I36\x1b(B "     # hiragana, half-width kana by ESC ( I
       b"\x0e\x31\x32\x0f "                          # SO/SI katakana
       b"\x1b$B-!-\"-#\x1b(B "                       # NEC row 13: circled digits
       b"\x1b$B-b\x1b(B\n")                          # NEC row 13: No. sign
case("cs-iso-2022-jp-ext", (
    b"From: " + ALICE.encode() + b"\nSubject: =?iso-2022-jp?B?" +
    base64.b64encode(b"\x1b(I12\x1b(B \x1b$B-!\x1b(B") + b"?=\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=iso-2022-jp\n\n" + ext),
    "ISO-2022-JP extensions: half-width katakana (ESC ( I, SO/SI), NEC row 13",
    subject="ｱｲ ①", **{"from": ALICE}, body=["こんにちは ｳｶ ｱｲ ①②③ №"])

case("cs-iso-2022-jp-undeclared", (
    b"From: " + ALICE.encode() + b"\nSubject: Re: " + perl_encode("iso-2022-jp", "お問い合わせ") +
    b"\nDate: " + DATE.encode() + b"\n\n" + perl_encode("iso-2022-jp", "古いメーラーの本文です。\n")),
    "raw ISO-2022-JP in the Subject and a body without any charset (old Japanese mailers)",
    subject="Re: お問い合わせ", **{"from": ALICE}, body=["古いメーラーの本文です。"])

sj = "C:\\Users\\山田\\デスクトップ ①"
case("cs-shift_jis", (
    b"From: " + ALICE.encode() + b"\nSubject: =?Shift_JIS?B?" +
    base64.b64encode("パス名".encode("cp932")) + b"?=\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: 8bit\n\n" +
    iconv(sj + "\n", "CP932")),
    "Shift_JIS read as CP932: backslashes stay backslashes, NEC characters decode",
    subject="パス名", **{"from": ALICE}, body=[sj])

case("cs-x-sjis", (
    b"From: " + ALICE.encode() + b"\nSubject: x-sjis\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=x-sjis\nContent-Transfer-Encoding: base64\n\n" +
    b64("ｶﾀｶﾅとひらがなと漢字\n".encode("shift_jis"))),
    "x-sjis label with half-width katakana",
    subject="x-sjis", **{"from": ALICE}, body=["ｶﾀｶﾅとひらがなと漢字"])

cn = "简体中文邮件：镕基与𠀀"   # 镕 is GBK only; U+20000 needs GB18030 four bytes
case("cs-gb2312-gbk", (
    b"From: =?gb2312?B?" + base64.b64encode("张三".encode("gb2312")) +
    b"?= <zhang@example.cn>\nSubject: =?GB2312?B?" +
    base64.b64encode("朱镕基".encode("gbk")) + b"?=\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n" +
    b64(iconv(cn + "\n", "GB18030"))),
    "gb2312 label on GBK and GB18030 bytes, read as GB18030",
    subject="朱镕基", **{"from": "张三 <zhang@example.cn>"}, body=[cn])

case("cs-gbk", (
    b"From: " + ALICE.encode() + b"\nSubject: =?gbk?Q?" +
    "".join("=%02X" % c for c in "欢迎光临".encode("gbk")).encode() + b"?=\nDate: " +
    DATE.encode() + b"\nContent-Type: text/plain; charset=GBK\n\n" +
    iconv("欢迎光临，镕。\n", "GBK")),
    "GBK label",
    subject="欢迎光临", **{"from": ALICE}, body=["欢迎光临，镕。"])

case("cs-gb18030", (
    b"From: " + ALICE.encode() + b"\nSubject: gb18030 four-byte\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=GB18030\nContent-Transfer-Encoding: base64\n\n" +
    b64(iconv("四字节：😀 㐀 €\n", "GB18030"))),
    "GB18030 four-byte sequences (emoji, CJK extension A)",
    subject="gb18030 four-byte", **{"from": ALICE}, body=["四字节：😀 㐀 €"])

tw = "繁體中文郵件，測試。"
msg = MIMEText(tw + "\n", "plain", "big5")
std_headers(msg, Header("繁體中文", "big5"), frm=("陳大文", "chan@example.tw"))
case("cs-big5", legacy(msg), "Big5 body, subject and name (Python email)",
     subject="繁體中文", **{"from": "陳大文 <chan@example.tw>"}, body=[tw])

case("cs-latin1-utf8", (
    "From: " + ALICE + "\nSubject: declared latin1, written UTF-8\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
    "Crème brûlée – 5 €\n"),
    "iso-8859-1 label on UTF-8 bytes: read as UTF-8",
    subject="declared latin1, written UTF-8", **{"from": ALICE}, body=["Crème brûlée – 5 €"])

case("cs-ascii-cp1252", (
    b"From: " + ALICE.encode() + b"\nSubject: smart quotes\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=us-ascii\n\n" +
    iconv("\u201cSmart quotes\u201d \u2013 and \u20ac20 \u2026 na\u00efve\n", "CP1252")),
    "us-ascii label on windows-1252 bytes: read as windows-1252",
    subject="smart quotes", **{"from": ALICE}, body=["“Smart quotes” – and €20 … naïve"])

case("cs-windows-1252", (
    b"From: =?windows-1252?Q?Fran=E7ois_=80?= <f@example.fr>\nSubject: cp1252\nDate: " +
    DATE.encode() + b"\nContent-Type: text/plain; charset=windows-1252\n"
    b"Content-Transfer-Encoding: quoted-printable\n\nCo=FBt: 20 =80 =96 d=E9j=E0 vu\n"),
    "windows-1252 in Q words and QP body",
    subject="cp1252", **{"from": "François € <f@example.fr>"}, body=["Coût: 20 € – déjà vu"])

ru = "Привет, это письмо в кодировке KOI8-R."
msg = MIMEText(ru + "\n", "plain", "koi8-r")
std_headers(msg, Header("Тема письма", "koi8-r"))
case("cs-koi8-r", legacy(msg), "KOI8-R through iconv by name",
     subject="Тема письма", **{"from": "Alice Example <alice@example.org>"}, body=[ru])

case("cs-unknown", (
    "From: " + ALICE + "\nSubject: unknown charset\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Type: text/plain; charset=x-mac-unknown-thing\n\n").encode() + (
    "UTF-8 text: naïve café\n".encode() + b"--b\n"
    b"Content-Type: text/plain; charset=\"x-user-defined\"\n\n"
    b"cp1252 fallback: na\xefve caf\xe9\n--b\nContent-Type: text/plain\n\n"
    b"no charset: na\xc3\xafve\n--b--\n"),
    "unknown charset names and a missing charset: UTF-8 if valid, else the fallback",
    subject="unknown charset", **{"from": ALICE},
    body=["UTF-8 text: naïve café", "cp1252 fallback: naïve café", "no charset: naïve"])

case("cs-invalid-sequences", (
    b"From: " + ALICE.encode() + b"\nSubject: =?utf-8?q?bad_=FF_byte?=\nDate: " +
    DATE.encode() + b"\nContent-Type: text/plain; charset=euc-kr\n\n" +
    "한".encode("euc-kr") + b"\xff\xfe" + "국".encode("euc-kr") + b" and a truncated " +
    "말".encode("euc-kr")[:1] + b"\n"),
    "invalid sequences become U+FFFD; nothing is dropped silently",
    subject="bad \ufffd byte", **{"from": ALICE},
    body=["한\ufffd", "국 and a truncated \ufffd"])

case("cs-utf7", (
    b"From: " + ALICE.encode() + b"\nSubject: utf-7\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=utf-7\n\n" + perl_encode("UTF-7", "Hi Mom -☺-! 日本\n")),
    "UTF-7 (Perl Encode) through iconv",
    subject="utf-7", **{"from": ALICE}, body=["Hi Mom -☺-! 日本"])

# ---------------------------------------------------------------- structure

msg = MIMEMultipart("alternative")
std_headers(msg, "alternative")
msg.attach(MIMEText("The plain text version.\n", "plain", "utf-8"))
msg.attach(MIMEText("<html><body><p>The <b>HTML</b> version.</p></body></html>\n", "html", "utf-8"))
case("alt-prefers-plain", legacy(msg), "multipart/alternative: text/plain preferred",
     subject="alternative", **{"from": "Alice Example <alice@example.org>"},
     body=["The plain text version."], not_body=["HTML", "version.</p>"])

msg = MIMEMultipart("alternative")
std_headers(msg, "blank plain part")
msg.attach(MIMEText("\n   \n", "plain", "utf-8"))
msg.attach(MIMEText("<p>Only the HTML has content &amp; entities.</p>\n", "html", "utf-8"))
case("alt-blank-plain", legacy(msg), "a blank text/plain alternative is passed over",
     subject="blank plain part", **{"from": "Alice Example <alice@example.org>"},
     body=["Only the HTML has content & entities."])

newsletter = """<!DOCTYPE html>
<html><head><title>Newsletter</title>
<style type="text/css">body { color: red; } .x:before { content: "STYLE"; }</style>
<script>document.write("SCRIPT")</script></head>
<body>
<h1>Weekly&nbsp;News</h1>
<p>Hello&#44; reader! Prices &lt; &euro;10 &mdash; &quot;deal&quot; &#x263A;</p>
<ul><li>First item</li><li>Second <a href="https://example.com/item2">item</a></li></ul>
<table><tr><td>Cell A</td><td>Cell B</td></tr></table>
<p>Visit <a href="https://example.com/">our site</a> or <a href="mailto:news@example.com">write</a>.</p>
<img src="cid:logo" alt="Company logo">
<!-- hidden comment -->
</body></html>
"""
msg = MIMEText(newsletter, "html", "utf-8")
std_headers(msg, "HTML-only newsletter", frm=("News", "news@example.com"))
case("html-only", legacy(msg), "HTML-only: tags dropped, entities, lists, links as footnotes",
     subject="HTML-only newsletter", **{"from": "News <news@example.com>"},
     body=["Weekly News", "Hello, reader! Prices < €10 — \"deal\" ☺", "* First item",
           "* Second item[1]", "Cell A Cell B", "Visit our site[2] or write[3].",
           "[Company logo]", "[1] https://example.com/item2", "[2] https://example.com/",
           "[3] mailto:news@example.com"],
     not_body=["<p>", "STYLE", "SCRIPT", "hidden comment", "Newsletter"])

html_jp = "<html><body><p>" + "お知らせ" + "</p><p>詳細は<a href=\"https://example.jp/\">こちら</a></p></body></html>\n"
case("html-iso-2022-jp", (
    b"From: " + ALICE.encode() + b"\nSubject: html in iso-2022-jp\nDate: " + DATE.encode() +
    b"\nContent-Type: text/html; charset=\"iso-2022-jp\"\n\n" + perl_encode("iso-2022-jp", html_jp)),
    "HTML in ISO-2022-JP",
    subject="html in iso-2022-jp", **{"from": ALICE},
    body=["お知らせ", "詳細はこちら[1]", "[1] https://example.jp/"])

inner = EmailMessage()
std_headers(inner, "the original message", frm=("Carol", "carol@example.net"))
inner.set_content("Original body text.\n")
inner.add_attachment(b"col1,col2\n1,2\n", maintype="text", subtype="csv", filename="data.csv")
outer = EmailMessage()
std_headers(outer, "Fwd: the original message")
outer.set_content("See the forwarded message below.\n")
outer.add_attachment(inner)
case("nested-rfc822", modern(outer), "message/rfc822 shows its own headers inline",
     subject="Fwd: the original message", **{"from": "Alice Example <alice@example.org>"},
     attachments=["", "data.csv"], types=["message/rfc822", "text/csv"],
     body=["See the forwarded message below.", "From: Carol <carol@example.net>",
           "Subject: the original message", "Original body text.",
           "[-- Attachment #2: data.csv (text/csv, 14 bytes) --]",
           "[-- End of forwarded message --]"])

inner2 = MIMEText("Deepest body.\n", "plain", "utf-8")
std_headers(inner2, "level 2", frm=("Dave", "dave@example.net"))
mid = MIMEMultipart()
std_headers(mid, "level 1", frm=("Carol", "carol@example.net"))
mid.attach(MIMEText("Middle body.\n", "plain", "utf-8"))
mid.attach(MIMEMessage(inner2))
top = MIMEMultipart()
std_headers(top, "level 0")
top.attach(MIMEText("Top body.\n", "plain", "utf-8"))
top.attach(MIMEMessage(mid))
case("nested-rfc822-twice", legacy(top), "a forward of a forward",
     subject="level 0", **{"from": "Alice Example <alice@example.org>"},
     attachments=["", ""], types=["message/rfc822", "message/rfc822"],
     body=["Top body.", "Subject: level 1", "Middle body.", "Subject: level 2", "Deepest body."])

msg = MIMEMultipart("related")
std_headers(msg, "related")
alt = MIMEMultipart("alternative")
alt.attach(MIMEText("Plain with image.\n", "plain", "utf-8"))
alt.attach(MIMEText('<p>HTML with <img src="cid:img1" alt="inline image"></p>\n', "html", "utf-8"))
msg.attach(alt)
img = MIMEBase("image", "png")
img.set_payload(b"\x89PNG\r\n\x1a\n fake png")
from email import encoders
encoders.encode_base64(img)
img.add_header("Content-ID", "<img1>")
img.add_header("Content-Disposition", "inline", filename="logo.png")
msg.attach(img)
case("multipart-related", legacy(msg), "multipart/related: the root shown, the image listed",
     subject="related", **{"from": "Alice Example <alice@example.org>"},
     attachments=["logo.png"], types=["image/png"], sizes=[17], body=["Plain with image."])

case("multipart-signed", (
    "From: " + ALICE + "\nSubject: signed\nDate: " + DATE + "\n"
    "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\";\n"
    " boundary=\"sig\"\n\n--sig\nContent-Type: text/plain; charset=utf-8\n\nSigned text.\n"
    "--sig\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n"
    "Content-Disposition: attachment; filename=\"signature.asc\"\n\n"
    "-----BEGIN PGP SIGNATURE-----\nAAAA\n-----END PGP SIGNATURE-----\n--sig--\n"),
    "multipart/signed: the text shown, the signature listed",
    subject="signed", **{"from": ALICE}, attachments=["signature.asc"],
    types=["application/pgp-signature"], body=["Signed text."])

case("missing-close-boundary", (
    "From: " + ALICE + "\nSubject: no close delimiter\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=\"xyz\"\n\n"
    "This is the preamble.\n--xyz\nContent-Type: text/plain\n\nFirst part.\n"
    "--xyz\nContent-Type: text/plain\n\nSecond part, never closed.\n"),
    "a missing close delimiter: the last part runs to the end",
    subject="no close delimiter", **{"from": ALICE},
    body=["First part.", "Second part, never closed."], not_body=["preamble"])

case("no-content-type", (
    "From: " + ALICE + "\nSubject: parts without Content-Type\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Transfer-Encoding: quoted-printable\n\nDefault text/plain =E2=9C=93\n"
    "--b\n\nNo header at all.\n--b\nX-Other: header\n\nOnly an unrelated header.\n--b--\n"),
    "parts without Content-Type are text/plain (charset sniffed)",
    subject="parts without Content-Type", **{"from": ALICE},
    body=["Default text/plain ✓", "No header at all.", "Only an unrelated header."])

case("empty-parts", (
    "From: " + ALICE + "\nSubject: empty parts\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\nContent-Type: text/plain\n\n"
    "--b\nContent-Type: text/plain\n\nAfter two empty parts.\n--b\n--b--\n"),
    "empty parts are skipped quietly",
    subject="empty parts", **{"from": ALICE}, body=["After two empty parts."])

case("multipart-no-boundary", (
    "From: " + ALICE + "\nSubject: no boundary parameter\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed\n\nThe body is shown as text.\n"),
    "multipart without a boundary parameter: shown as text",
    subject="no boundary parameter", **{"from": ALICE}, body=["The body is shown as text."])

case("digest", (
    "From: digest@example.org\nSubject: Digest, Vol 1\nDate: " + DATE + "\n"
    "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
    "From: one@example.org\nSubject: first entry\n\nFirst digest entry.\n--d\n\n"
    "From: two@example.org\nSubject: second entry\n\nSecond digest entry.\n--d--\n"),
    "multipart/digest: parts default to message/rfc822",
    subject="Digest, Vol 1", **{"from": "digest@example.org"}, attachments=["", ""],
    types=["message/rfc822", "message/rfc822"],
    body=["Subject: first entry", "First digest entry.", "Subject: second entry",
          "Second digest entry."])

case("format-flowed", (
    "From: " + ALICE + "\nSubject: flowed\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
    "This paragraph was written as flowed text, so its lines end with a space \n"
    "and the reader joins them into one paragraph and wraps it again for the \n"
    "screen.\n"
    ">> Quoted twice \n>> and flowed.\n"
    "> Quoted once.\n"
    " From a space-stuffed line.\n"
    "-- \nSignature line\n"),
    "format=flowed reflowed; quotes; space-stuffing; signature separator",
    subject="flowed", **{"from": ALICE},
    body=["This paragraph was written as flowed text, so its lines end with a space and\n"
          "the reader joins them into one paragraph and wraps it again for the screen.\n",
          ">> Quoted twice and flowed.\n", "> Quoted once.\n",
          "\nFrom a space-stuffed line.\n", "-- \nSignature line"])

case("format-flowed-delsp", (
    b"From: " + ALICE.encode() + b"\nSubject: delsp\nDate: " + DATE.encode() +
    b"\nContent-Type: text/plain; charset=ISO-2022-JP; format=flowed; delsp=yes\n\n" +
    perl_encode("iso-2022-jp", "これは長い日本語の文 \n章です。\n")),
    "format=flowed with delsp=yes (no space between joined Japanese lines)",
    subject="delsp", **{"from": ALICE}, body=["これは長い日本語の文章です。"])

case("multipart-report", (
    "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n"
    "Date: " + DATE + "\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
    "--r\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
    "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; nobody@example.net\nStatus: 5.1.1\n"
    "--r\nContent-Type: text/rfc822-headers\n\nSubject: the lost one\n--r--\n"),
    "a delivery status notification",
    subject="Undelivered Mail Returned to Sender", **{"from": "MAILER-DAEMON@example.org"},
    body=["Your message could not be delivered.", "Status: 5.1.1", "Subject: the lost one"])

# ---------------------------------------------------------------- attachments

m = EmailMessage()
std_headers(m, "several attachments")
m.set_content("Three attachments follow.\n")
m.add_attachment(b"%PDF-1.7\n" + b"x" * 2000, maintype="application", subtype="pdf",
                 filename="report.pdf")
m.add_attachment(bytes(range(256)) * 20, maintype="image", subtype="jpeg", filename="photo.jpg")
m.add_attachment("notes, with a comma\n", subtype="plain", filename="notes.txt")
case("att-several", modern(m), "attachments listed with decoded names, types and sizes",
     subject="several attachments", **{"from": "Alice Example <alice@example.org>"},
     attachments=["report.pdf", "photo.jpg", "notes.txt"],
     types=["application/pdf", "image/jpeg", "text/plain"], sizes=[2009, 5120, 20],
     body=["Three attachments follow.", "[-- Attachment #1: report.pdf (application/pdf, 2.0 KB) --]",
           "[-- Attachment #2: photo.jpg (image/jpeg, 5.0 KB) --]"])

case("att-hostile-names", (
    "From: " + ALICE + "\nSubject: hostile names\nDate: " + DATE + "\n"
    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n"
    "--b\nContent-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename=\"../../../etc/passwd\"\n\nroot\n"
    "--b\nContent-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename=\".bashrc\"\n\nalias\n"
    "--b\nContent-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename*=utf-8''evil%1B%5D52%3Bc%3BAAA%07%E2%80%AEfdp.exe\n\nexe\n"
    "--b--\n"),
    "hostile attachment names: shown safely (saving is tested by the runner)",
    subject="hostile names", **{"from": ALICE},
    attachments=["../../../etc/passwd", ".bashrc", "evil^[]52;c;AAA^G<U+202E>fdp.exe"],
    body=["body"], not_body=["\u202e"])

# ---------------------------------------------------------------- terminal safety

case("esc-csi", (
    "From: \"\x1b[2J\x1b[HEvil\" <evil@example.com>\n"
    "Subject: =?utf-8?q?=1B[31mred=1B[0m?= and \x1b[5mraw\n"
    "Date: " + DATE + "\n\nBody \x1b[1;31mred\x1b[0m, cursor \x1b[10A up, "
    "title \x1b]0;pwned\x07, bell \x07, backspace x\x08y, CR\roverwrite, DEL \x7f.\n"),
    "CSI sequences and C0 controls in headers and body are shown as ^[ etc.",
    subject="^[[31mred^[[0m and ^[[5mraw", **{"from": "^[[2J^[[HEvil <evil@example.com>"},
    body=["Body ^[[1;31mred^[[0m, cursor ^[[10A up", "title ^[]0;pwned^G", "bell ^G",
          "backspace x^Hy", "DEL ^?."])

case("esc-osc52-osc8", (
    "From: " + ALICE + "\nSubject: OSC 52 and OSC 8\nDate: " + DATE + "\n"
    "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "Clipboard: \x1b]52;c;cm0gLXJmIH4K\x07 and link: \x1b]8;;https://evil.example/\x1b\\"
    "innocent\x1b]8;;\x1b\\ end\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n"),
    "OSC 52 (clipboard) and OSC 8 (hyperlink) are never written raw",
    subject="OSC 52 and OSC 8", **{"from": ALICE},
    body=["Clipboard: ^[]52;c;cm0gLXJmIH4K^G and link: ^[]8;;https://evil.example/^[\\innocent^[]8;;^[\\ end"])

case("html-escapes", (
    "From: " + ALICE + "\nSubject: escapes in HTML\nDate: " + DATE + "\n"
    "Content-Type: text/html; charset=utf-8\n\n"
    "<p>Entity ESC: &#27;[31mred&#x1b;[0m, raw \x1b]52;c;AAAA\x07, C1 &#x9b; is "
    "cp1252 here, U+009B raw: \u009b1m</p>"
    "<a href=\"https://x.example/\x1b[0m\">link</a>\n"),
    "escape characters from HTML entities and raw bytes are neutralised",
    subject="escapes in HTML", **{"from": ALICE},
    body=["Entity ESC: ^[[31mred^[[0m, raw ^[]52;c;AAAA^G", "C1 › is cp1252 here",
          "U+009B raw: <U+009B>1m", "[1] https://x.example/^[[0m"])

case("bidi-override", (
    "From: \"\u202eevila\" <mallory@example.com>\n"
    "Subject: invoice \u202egnp.exe and \u2066isolate\u2069\n"
    "Date: " + DATE + "\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Type: text/plain; charset=utf-8\n\nClick \u202dhere\u202c or \u202bthere\u202a \u200fmark\n"
    "--b\nContent-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename=\"=?utf-8?q?invoice=E2=80=AEfdp.exe?=\"\n\nx\n--b--\n"),
    "bidi embedding, override and isolate characters are shown visibly",
    subject="invoice <U+202E>gnp.exe and <U+2066>isolate<U+2069>",
    **{"from": "<U+202E>evila <mallory@example.com>"},
    attachments=["invoice<U+202E>fdp.exe"],
    body=["Click <U+202D>here<U+202C> or <U+202B>there<U+202A> \u200fmark"],
    not_body=["\u202e", "\u202d"])

case("c1-controls", (
    b"From: " + ALICE.encode() + b"\nSubject: =?utf-8?b?" + base64.b64encode("C1 \u009b31m here".encode()) +
    b"?=\nDate: " + DATE.encode() + b"\nContent-Type: text/plain; charset=utf-8\n\n"
    b"C1 CSI: \xc2\x9b2J, NEL: \xc2\x85, OSC: \xc2\x9d0;t\xc2\x9c\n"),
    "C1 controls (U+0080..U+009F) are shown as <U+XXXX>",
    subject="C1 <U+009B>31m here", **{"from": ALICE},
    body=["C1 CSI: <U+009B>2J, NEL: <U+0085>, OSC: <U+009D>0;t<U+009C>"])

case("nul-cr-only", (
    b"From: " + ALICE.encode() + b"\rSubject: CR-only line ends\rDate: " + DATE.encode() +
    b"\r\rfirst line\rNUL here:\x00:end\rlast line\r"),
    "CR-only line ends and NUL bytes",
    subject="CR-only line ends", **{"from": ALICE},
    body=["first line\nNUL here:^@:end\nlast line\n"])

case("wide-emoji", (
    "From: =?utf-8?b?" + base64.b64encode("😀 Emoji Sender".encode()).decode() + "?= <e@example.org>\n"
    "Subject: 📦 Your parcel 🚚 한글 日本\nDate: " + DATE + "\n"
    "Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
    "한국어 문장이 길게 이어지는 단락입니다 한국어 문장이 길게 이어지는 단락입니다 \n"
    "한국어 문장이 길게 이어지는 단락입니다.\n"),
    "wide characters (Hangul, emoji) wrapped by display width, never cut",
    subject="📦 Your parcel 🚚 한글 日本", **{"from": "😀 Emoji Sender <e@example.org>"},
    body=["이어지는 단락입니다\n한국어 문장이 길게 이어지는 단락입니다."])

case("missing-headers", (
    "X-Mailer: broken\n\nA message without From, To, Subject or Date.\n"),
    "no From, Subject or Date at all",
    subject="", **{"from": ""}, to=[], date=None,
    body=["A message without From, To, Subject or Date."])

case("bad-date", (
    "From: " + ALICE + "\nSubject: bad date\nDate: the day after tomorrow\n\nbody\n"),
    "an unreadable Date is null in JSON",
    subject="bad date", **{"from": ALICE}, date=None, body=["body"])


def main():
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for name, raw, expect in CASES:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(raw)
        with open(os.path.join(OUT, name + ".expect.json"), "w", encoding="utf-8") as f:
            json.dump(expect, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print("%d messages written to %s" % (len(CASES), OUT))


main()
