"""Import-time disk check: read the VMDK as a stream the way ESXi's NFC stream reader does
(formats.md §3.1-3.5), then `qemu-img check -f vmdk`.  check(path) returns None if the disk
imports, else the reason (one line)."""
import struct
import subprocess
import zlib

SECTOR = 512
GD_AT_END = 0xFFFFFFFFFFFFFFFF
MARKER_EOS, MARKER_GT, MARKER_GD, MARKER_FOOTER = 0, 1, 2, 3
HDR = struct.Struct("<4sIIQQQQIQQQB4sH")


def _header(buf):
    (magic, version, flags, capacity, grain, desc_off, desc_size, gtes, rgd, gd, overhead,
     unclean, nl, algo) = HDR.unpack_from(buf, 0)
    return dict(magic=magic, version=version, flags=flags, capacity=capacity, grain=grain,
                desc_off=desc_off, desc_size=desc_size, gtes=gtes, rgd=rgd, gd=gd, overhead=overhead,
                nl=nl, algo=algo)


def stream_check(path):
    with open(path, "rb") as f:
        head = f.read(SECTOR)
        if len(head) < SECTOR:
            return "invalid sparse VMDK header (file shorter than one sector)"
        h = _header(head)
        if h["magic"] != b"KDMV":
            return "Not a supported disk format (invalid sparse VMDK header)"
        if h["version"] < 3:
            return "Not a supported disk format (sparse VMDK version too old)"
        if h["version"] > 3:
            return "Not a supported disk format (sparse VMDK version %d)" % h["version"]
        if not h["flags"] & (1 << 16) or not h["flags"] & (1 << 17):
            return "Not a supported disk format (not stream optimized: grains not compressed with markers)"
        if h["algo"] != 1:
            return "Not a supported disk format (compressAlgorithm %d)" % h["algo"]
        if h["nl"] != b"\n \r\n":
            return "invalid sparse VMDK header (newline detector corrupt)"
        g = h["grain"]
        if g < 1 or g & (g - 1) or g > 128:
            return "invalid sparse VMDK header (grainSize %d)" % g
        if h["gtes"] != 512:
            return "invalid sparse VMDK header (numGTEsPerGT %d)" % h["gtes"]
        if h["capacity"] == 0 or h["capacity"] % g:
            return "invalid sparse VMDK header (capacity %d not a multiple of the grain)" % h["capacity"]
        if not h["desc_off"] or not h["desc_size"] or h["desc_size"] > 2048:
            return "no embedded descriptor"
        f.seek(h["desc_off"] * SECTOR)
        desc = f.read(h["desc_size"] * SECTOR).split(b"\0", 1)[0].decode("utf-8", "replace")
        ctype = [l for l in desc.splitlines() if l.strip().startswith("createType")]
        if not ctype or "streamOptimized" not in ctype[0]:
            return "embedded descriptor createType is not streamOptimized (%s)" % (
                ctype[0].strip() if ctype else "missing")
        if h["overhead"] < h["desc_off"] + h["desc_size"]:
            return "invalid sparse VMDK header (overHead %d inside the descriptor)" % h["overhead"]
        # --- the stream: markers from overHead on, in order, until the end-of-stream marker
        grain_bytes = g * SECTOR
        pos = h["overhead"]
        last_lba = -1
        records = {}          # sector -> lba of each grain record
        footer = gd_sector = None
        f.seek(pos * SECTOR)
        while True:
            m = f.read(SECTOR)
            if len(m) < 16:
                return "end of file at sector %d before the end-of-stream marker" % pos
            lba, size = struct.unpack_from("<QI", m, 0)
            if size:
                if lba % g or lba >= h["capacity"]:
                    return "grain marker at sector %d: LBA %d out of range or unaligned" % (pos, lba)
                if lba <= last_lba:
                    return "grain marker at sector %d: LBA %d not after %d" % (pos, lba, last_lba)
                if size > 2 * grain_bytes:
                    return "grain marker at sector %d: compressed size %d too large" % (pos, size)
                n = (12 + size + SECTOR - 1) // SECTOR
                rest = f.read((n - 1) * SECTOR)
                data = (m + rest)[12:12 + size]
                if len(data) < size:
                    return "grain at sector %d truncated" % pos
                try:
                    d = zlib.decompressobj()
                    out = d.decompress(data, grain_bytes + 1)
                    if len(out) > grain_bytes or d.unconsumed_tail:
                        return "grain at sector %d inflates to more than the grain size" % pos
                    if not d.eof:
                        return "grain at sector %d: incomplete zlib stream" % pos
                except zlib.error as e:
                    return "grain at sector %d: corrupt compressed data (%s)" % (pos, e)
                records[pos] = lba
                last_lba = lba
                pos += n
                continue
            mtype = struct.unpack_from("<I", m, 12)[0]
            if lba == 0 and mtype == MARKER_EOS:
                if any(m):
                    return "end-of-stream marker at sector %d is not all zeros" % pos
                break
            if mtype == MARKER_FOOTER:
                footer = f.read(SECTOR)
                if len(footer) < SECTOR or footer[:4] != b"KDMV":
                    return "footer at sector %d is not a copy of the header" % (pos + 1)
            elif mtype == MARKER_GD:
                gd_sector = pos + 1
                f.seek((pos + 1 + lba) * SECTOR)
            else:
                f.seek((pos + 1 + lba) * SECTOR)
            pos += 1 + lba
            if mtype == MARKER_FOOTER:
                pos = pos  # footer length is numSectors (1)
        eos = pos
        # nothing but zeros may follow the end-of-stream marker: an all-zero sector before the
        # real end reads as EOS and the rest of the disk would be lost (qemu gitlab #1357)
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            if chunk.strip(b"\0"):
                return ("an all-zero sector at %d ends the stream before the end of the data "
                        "(data follows the end-of-stream marker)" % eos)
        # --- grain directory consistency
        if h["gd"] == GD_AT_END:
            if footer is None:
                return "header says GD_AT_END but the stream has no footer"
            fh = _header(footer)
            if fh["gd"] == GD_AT_END or fh["capacity"] != h["capacity"] or fh["grain"] != g:
                return "footer does not match the header"
            gd = fh["gd"]
        else:
            gd = h["gd"]
        if gd and gd != GD_AT_END:
            ngt = (h["capacity"] // g + 511) // 512
            f.seek(gd * SECTOR)
            raw = f.read(4 * ngt)
            if len(raw) < 4 * ngt:
                return "grain directory at sector %d beyond the end of the file" % gd
            for i, gt in enumerate(struct.unpack("<%dI" % ngt, raw)):
                if not gt:
                    continue
                f.seek(gt * SECTOR)
                tbl = f.read(2048)
                if len(tbl) < 2048:
                    return "grain table %d beyond the end of the file" % i
                for j, gte in enumerate(struct.unpack("<512I", tbl)):
                    if not gte:
                        continue
                    lba = (i * 512 + j) * g
                    if records.get(gte) != lba:
                        return "grain table %d entry %d points at sector %d, not a grain record of LBA %d" % (
                            i, j, gte, lba)
    return None


def check(path):
    try:
        why = stream_check(path)
    except OSError as e:
        return "cannot read the disk: %s" % e
    if why:
        return why
    p = subprocess.run(["qemu-img", "check", "-f", "vmdk", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        return "qemu-img check failed: " + " ".join(p.stdout.split())[:300]
    return None
