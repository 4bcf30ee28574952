#!/usr/bin/env python3
"""png_check.py FILE WIDTH HEIGHT [RRGGBB...] - check a screenshot.

Decodes the PNG with the standard library only (zlib + struct: 8-bit RGB or
RGBA, non-interlaced, as Chromium writes them), then checks that it is
WIDTH x HEIGHT, that it is not blank (at least 50 distinct colours), and
that each RRGGBB colour given covers at least 300 pixels (within 6 per
channel, for anti-aliasing and colour management).  Prints what it found;
exits 1 with the reason when a check fails.
"""
import struct
import sys
import zlib


def fail(msg):
    print("png_check: %s: %s" % (sys.argv[1], msg))
    sys.exit(1)


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG file")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if not ihdr:
        fail("no IHDR chunk")
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("unsupported PNG (depth %d, colour type %d, interlace %d)"
             % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
            elif f != 0:
                fail("bad filter type %d in row %d" % (f, y))
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        sys.exit(2)
    want_w, want_h = int(sys.argv[2]), int(sys.argv[3])
    width, height, bpp, rows = decode(sys.argv[1])
    if (width, height) != (want_w, want_h):
        fail("size %dx%d, expected %dx%d" % (width, height, want_w, want_h))
    counts = {}
    for row in rows:
        for i in range(0, len(row), bpp):
            px = row[i:i + 3]
            counts[px] = counts.get(px, 0) + 1
    print("png_check: %dx%d, %d distinct colours" % (width, height, len(counts)))
    if len(counts) < 50:
        fail("only %d distinct colours: blank or nearly" % len(counts))
    for hexcol in sys.argv[4:]:
        want = bytes.fromhex(hexcol)
        n = sum(c for px, c in counts.items()
                if all(abs(px[k] - want[k]) <= 6 for k in range(3)))
        print("png_check: #%s: %d pixels" % (hexcol, n))
        if n < 300:
            fail("colour #%s covers %d pixels, expected at least 300" % (hexcol, n))


main()
