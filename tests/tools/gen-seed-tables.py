#!/usr/bin/env python3
"""Generate tests/tools/seed-tables.c: RFC 2047 encoded subjects and
display names for the seed tool, each with its decoded UTF-8 text.

Run once and commit the output:
    python3 tests/tools/gen-seed-tables.py > tests/tools/seed-tables.c

Every encoded word is checked by decoding its bytes with both Python's
codecs and glibc iconv(1): the two must agree with the source text, so the
"decoded" column is what any correct decoder must produce.
"""

import base64
import subprocess
import sys

# (charset label as written in the header, python codec, iconv name)
CHARSETS = {
    "UTF-8": ("utf-8", "UTF-8"),
    "utf-8": ("utf-8", "UTF-8"),
    "ISO-8859-1": ("iso-8859-1", "ISO-8859-1"),
    "iso-8859-1": ("iso-8859-1", "ISO-8859-1"),
    "windows-1252": ("cp1252", "WINDOWS-1252"),
    "ISO-2022-JP": ("iso-2022-jp", "ISO-2022-JP"),
    "iso-2022-jp": ("iso-2022-jp", "ISO-2022-JP"),
    "EUC-KR": ("euc-kr", "EUC-KR"),
    "ks_c_5601-1987": ("euc-kr", "EUC-KR"),
    "GB2312": ("gb2312", "GB2312"),
    "gb2312": ("gb2312", "GB2312"),
    "Big5": ("big5", "BIG5"),
    "big5": ("big5", "BIG5"),
    "KOI8-R": ("koi8-r", "KOI8-R"),
}

# Subjects: (charset, B|Q, text[, prefix ASCII kept as is])
SUBJECTS = [
    ("ISO-8859-1", "Q", "Réunion de l'équipe à 15h"),
    ("ISO-8859-1", "Q", "Größenänderung für das Büro"),
    ("iso-8859-1", "q", "¿Cuándo llega el pedido?"),
    ("ISO-8859-1", "B", "Café crème für alle"),
    ("ISO-8859-1", "Q", "Øresund-Ausflug im Frühjahr"),
    ("windows-1252", "Q", "Angebot für 50 € – jetzt „günstig“"),
    ("windows-1252", "Q", "It’s “quoted” — and that’s all…"),
    ("windows-1252", "B", "Preis: 99 € pro Stück"),
    ("UTF-8", "B", "Привет, как дела?"),
    ("UTF-8", "B", "日本語のテスト件名"),
    ("UTF-8", "B", "Ελληνικά θέματα για τη συνάντηση"),
    ("UTF-8", "B", "🎉 Party on Friday 🎉"),
    ("UTF-8", "B", "שלום עולם"),
    ("UTF-8", "B", "Ünïcödé ⚡ mix of scripts: 中文, русский, ελληνικά, "
                   "日本語 and some more words to make it long"),
    ("utf-8", "b", "Grüße aus München"),
    ("UTF-8", "Q", "Résumé of the naïve café meeting"),
    ("UTF-8", "Q", "Zürich → Genève: travel plan"),
    ("utf-8", "q", "Łódź: spotkanie zespołu"),
    ("UTF-8", "Q", "Ça marche très bien, merci beaucoup pour votre "
                   "réponse détaillée à ma question"),
    ("ISO-2022-JP", "B", "会議の議事録について"),
    ("ISO-2022-JP", "B", "お世話になっております"),
    ("iso-2022-jp", "B", "来週の打ち合わせの件"),
    ("EUC-KR", "B", "회의 일정 안내"),
    ("EUC-KR", "B", "안녕하세요 반갑습니다"),
    ("ks_c_5601-1987", "B", "프로젝트 진행 상황 보고"),
    ("GB2312", "B", "会议通知：下周一"),
    ("gb2312", "B", "关于项目进度的报告"),
    ("Big5", "B", "會議記錄"),
    ("big5", "B", "關於專案進度的報告"),
    ("KOI8-R", "B", "Отчёт за третий квартал"),
]

# Subjects that mix ASCII and encoded words: list of parts, each either
# ("ascii", text) or (charset, enc, text). Adjacent encoded words are
# joined by folding white space, which a decoder drops.
MIXED_SUBJECTS = [
    [("ascii", "[petrel-dev] "), ("UTF-8", "Q", "Übersicht der Änderungen")],
    [("ascii", "Fwd: "), ("ISO-8859-1", "Q", "Très urgent"),
     ("ascii", " please read")],
    [("UTF-8", "B", "日本語"), ("ISO-8859-1", "Q", " und Deutsch: schön")],
    [("ascii", "Invoice #4711 "), ("windows-1252", "Q", "– 120 €")],
    [("EUC-KR", "B", "안녕"), ("GB2312", "B", "你好"), ("Big5", "B", "你好")],
]

# ASCII subjects with characters that need care in JSON and shells.
ASCII_SPECIAL = [
    'He said "hi" \\ and left',
    "100% done; $HOME isn't expanded & <b>not bold</b>",
    "A very long subject line that goes on and on about the quarterly "
    "planning meeting and the budget review and the offsite agenda "
    "so that it has to be folded",
    "Re: Re: Fwd: nested prefixes",
]

# Display names: (header form template with {addr}, decoded name, address)
NAMES_ENCODED = [
    ("UTF-8", "Q", "François Dupont", "francois.dupont@example.fr"),
    ("ISO-8859-1", "Q", "Jörg Müller", "joerg.mueller@example.de"),
    ("UTF-8", "B", "山田太郎", "yamada@example.jp"),
    ("ISO-2022-JP", "B", "田中花子", "tanaka@example.jp"),
    ("EUC-KR", "B", "김철수", "kim@example.kr"),
    ("GB2312", "B", "王小明", "wang@example.cn"),
    ("Big5", "B", "陳大文", "chan@example.com.tw"),
    ("windows-1252", "Q", "Zoë O’Neil", "zoe.oneil@example.ie"),
    ("KOI8-R", "B", "Иван Петров", "ivan@example.ru"),
    ("UTF-8", "B", "Ελένη Παπαδοπούλου", "eleni@example.gr"),
]

# Names that are plain header syntax (no encoded words).
NAMES_PLAIN = [
    ('"Doe, John" <{addr}>', "Doe, John", "john.doe@example.com"),
    ('"O\'Brien \\"Bob\\"" <{addr}>', 'O\'Brien "Bob"', "bob@example.net"),
    ('"Smith, Dr. Anna (Lab)" <{addr}>', "Smith, Dr. Anna (Lab)",
     "anna.smith@lab.example.org"),
    ("{addr}", "", "noreply@example.net"),
    ("<{addr}>", "", "bounce@lists.example.org"),
    ('"Søren Kierkegaard" <{addr}>', "Søren Kierkegaard",
     "soren@example.dk"),
    ("=?UTF-8?Q?Jos=C3=A9?= Garcia <{addr}>", "José Garcia",
     "jose.garcia@example.es"),
    ("GitHub <{addr}>", "GitHub", "notifications@github.example"),
]


def check(label, raw, text):
    codec, iconv_name = CHARSETS[label]
    if raw.decode(codec) != text:
        sys.exit("python decode mismatch for %r" % text)
    r = subprocess.run(["iconv", "-f", iconv_name, "-t", "UTF-8"],
                       input=raw, stdout=subprocess.PIPE)
    if r.returncode != 0 or r.stdout.decode("utf-8") != text:
        sys.exit("iconv decode mismatch for %r (%s)" % (text, iconv_name))


def q_encode(raw):
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and (c.isalnum() or c in "!*+-/"):
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


def encode_words(label, enc, text, maxlen=75):
    """Encoded words for text, each at most maxlen characters, split on
    character boundaries (so each word decodes on its own)."""
    codec = CHARSETS[label][0]
    words, chunk = [], ""

    def word(t):
        raw = t.encode(codec)
        check(label, raw, t)
        if enc.upper() == "B":
            body = base64.b64encode(raw).decode()
        else:
            body = q_encode(raw)
        return "=?%s?%s?%s?=" % (label, enc, body)
    for ch in text:
        if chunk and len(word(chunk + ch)) > maxlen:
            words.append(word(chunk))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(word(chunk))
    return words


def c_string(s):
    out = ['"']
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif 0x20 <= b < 0x7f:
            out.append(c)
        else:
            out.append("\\%03o" % b)
    out.append('"')
    return "".join(out)


def main():
    subjects = []
    for label, enc, text in SUBJECTS:
        subjects.append(("\n ".join(encode_words(label, enc, text)), text))
    for parts in MIXED_SUBJECTS:
        hdr, dec, prev_encoded = "", "", False
        for p in parts:
            if p[0] == "ascii":
                hdr += p[1]
                dec += p[1]
                prev_encoded = False
            else:
                w = encode_words(*p)
                hdr += ("\n " if prev_encoded else "") + "\n ".join(w)
                dec += p[2]
                prev_encoded = True
        subjects.append((hdr, dec))
    for s in ASCII_SPECIAL:
        if len(s) > 70:
            # Fold at a space: unfolding gives the same text back.
            i = s.rfind(" ", 0, 68)
            subjects.append((s[:i] + "\n" + s[i:], s))
        else:
            subjects.append((s, s))
    names = []
    for label, enc, text, addr in NAMES_ENCODED:
        w = encode_words(label, enc, text)
        names.append(("\n ".join(w) + " <" + addr + ">", text, addr))
    for tmpl, text, addr in NAMES_PLAIN:
        names.append((tmpl.format(addr=addr), text, addr))

    print("/* Generated by gen-seed-tables.py: do not edit. */")
    print('#include "seed.h"\n')
    print("const struct seed_text seed_subjects[] = {")
    for hdr, dec in subjects:
        print("\t{ %s,\n\t  %s }," % (c_string(hdr), c_string(dec)))
    print("};")
    print("const size_t seed_nsubjects = "
          "sizeof seed_subjects / sizeof seed_subjects[0];\n")
    print("const struct seed_name seed_names[] = {")
    for hdr, dec, addr in names:
        print("\t{ %s,\n\t  %s, %s }," % (c_string(hdr), c_string(dec),
                                         c_string(addr)))
    print("};")
    print("const size_t seed_nnames = "
          "sizeof seed_names / sizeof seed_names[0];")


if __name__ == "__main__":
    main()
