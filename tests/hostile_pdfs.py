"""Hostile inputs the tests build themselves: damaged, malicious and odd PDFs, plus good ones.

Raw PDFs are written byte by byte (a handful of objects and an xref table), good papers
with reportlab. Run it as a script to build a batch for a manual check from the CLI:

    python tests/hostile_pdfs.py OUT_DIR
"""

from __future__ import annotations

import io
import os
import random
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
PAGE_TREE_SIZE = 3  # objects 1-3: catalog, pages, font; pages follow


def raw_pdf(objects: Sequence[bytes]) -> bytes:
    """A PDF whose objects are numbered 1.. in order; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def stream(data: bytes, *, compress: bool = False) -> bytes:
    """A stream object body (FlateDecode when `compress`)."""
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + (
            b"\nendstream")
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")


def text_content(lines: Sequence[str]) -> bytes:
    """A content stream drawing `lines` top-down in Helvetica 10."""
    ops = [b"BT /F1 10 Tf 12 TL 72 740 Td"]
    ops += [b"(" + _escape(line) + b") '" for line in lines]
    ops.append(b"ET")
    return b"\n".join(ops)


def pages_pdf(contents: Sequence[bytes], *, compress: bool = False) -> bytes:
    """A PDF with one page per content stream."""
    first = PAGE_TREE_SIZE + 1
    kids = " ".join(f"{first + 2 * i} 0 R" for i in range(len(contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(contents)} >>".encode(),
        FONT,
    ]
    for index, content in enumerate(contents):
        page = first + 2 * index
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page + 1} 0 R >>"
                       .encode())
        objects.append(stream(content, compress=compress))
    return raw_pdf(objects)


def good_paper(index: int) -> bytes:
    """A small, distinct paper (reportlab) stating its own model's size."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1)
    size = 1 + index
    name = f"Wren-{size}B"
    lines = [
        f"{name}: A Small Language Model for Test Number {index}",
        "Abstract",
        f"We introduce {name}, a decoder-only transformer language model with {size} billion",
        "parameters trained on two trillion tokens of public text. It matches much larger",
        "models on reading comprehension while being cheaper to serve on one accelerator.",
        "1 Introduction",
        f"Our model, {name}, has {size}B parameters. We describe the data, the training",
        "recipe and the evaluation, and we release the weights under an open license.",
    ]
    y = 720
    for line in lines:
        canvas.drawString(72, y, line)
        y -= 16
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def cyclic_page_tree() -> bytes:
    """A page tree whose /Kids point back at the tree itself."""
    content = text_content(["A paper whose page tree is a cycle."] * 20)
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R 4 0 R] /Count 2 >>",
        FONT,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 5 0 R] /Count 2 >>",
        stream(content),
    ])


def inflating_streams(pages: int = 20, inflated_mb: int = 70) -> bytes:
    """A 'zip bomb' of ~1.4 MB: each page has its own content stream inflating from ~70 KB to
    `inflated_mb` MB (a comment, which pypdf scans byte by byte and keeps): seconds and
    +70 MB per page, 1.4 GB for the whole file."""
    data = b"% " + b"x" * (inflated_mb << 20) + b"\nBT /F1 10 Tf 72 700 Td (inflated) Tj ET"
    packed = zlib.compress(data, 6)
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + (
        b"\nendstream")
    first = PAGE_TREE_SIZE + 1
    kids = " ".join(f"{first + 2 * i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        FONT,
    ]
    for index in range(pages):
        page = first + 2 * index
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page + 1} 0 R >>"
                       .encode())
        objects.append(body)
    return raw_pdf(objects)


SLOW_SIZES = 60_000  # a list this long takes a worker well over ten seconds to extract


def long_size_list(count: int = 8000) -> bytes:
    """A one-page PDF whose text is one sentence listing `count` model sizes (8,000: ~23 KB,
    which took minutes while extraction was quadratic; SLOW_SIZES: ~170 KB, a long job)."""
    sizes = ", ".join(f"a {1 + i % 997}.{i % 10}B-parameter model" for i in range(count))
    words = f"We train {sizes} and a 7B-parameter model."
    lines = [words[i:i + 90] for i in range(0, len(words), 90)]
    return pages_pdf([text_content(lines)], compress=True)


def encrypted(good: bytes) -> bytes:
    """`good` encrypted with a user password (RC4-128: no optional dependency needed)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def textless() -> bytes:
    """Two pages with vector shapes and no text."""
    return pages_pdf([b"0 0 m 300 300 l S 10 10 200 200 re f"] * 2)


HOSTILE_REASONS = {
    "empty.pdf": "empty file (0 bytes)",
    "not-a-pdf.pdf": "not a PDF (no %PDF- header)",
    "encrypted.pdf": "encrypted PDF (needs a password)",
    "textless.pdf": "no text layer (scanned or image-only PDF; OCR it first)",
    "fifo.pdf": "not a regular file: a FIFO (named pipe)",
}
"""Inputs whose reason is fixed word for word (the others: see `build_hostile_batch`)."""


def build_hostile_batch(
    folder: Path, *, good: int = 6, bomb: bool = True, slow: bool = True, fifo: bool = True
) -> dict[str, Path]:
    """Write a mixed batch into `folder`; keys are file names.

    good-NN.pdf (distinct papers), twin-of-good-00.pdf (same bytes as good-00.pdf), empty,
    not-a-pdf, truncated, corrupt (garbage after the header), encrypted, textless,
    cyclic (page tree cycle), and optionally bomb (inflating streams), sizes (a very long
    list of sizes) and a FIFO named fifo.pdf.
    """
    folder.mkdir(parents=True, exist_ok=True)
    papers = [good_paper(i) for i in range(good)]
    files: dict[str, bytes] = {f"good-{i:02d}.pdf": data for i, data in enumerate(papers)}
    files["twin-of-good-00.pdf"] = papers[0]
    files["empty.pdf"] = b""
    files["not-a-pdf.pdf"] = b"Just some text with a .pdf name.\n"
    files["truncated.pdf"] = papers[1][: len(papers[1]) * 2 // 5]
    files["corrupt.pdf"] = b"%PDF-1.7\n" + random.Random(1729).randbytes(6000)
    files["encrypted.pdf"] = encrypted(papers[2])
    files["textless.pdf"] = textless()
    files["cyclic.pdf"] = cyclic_page_tree()
    if bomb:
        files["bomb.pdf"] = inflating_streams()
    if slow:
        files["sizes.pdf"] = long_size_list(SLOW_SIZES)
    paths = {}
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    if fifo:
        path = folder / "fifo.pdf"
        os.mkfifo(path)
        paths["fifo.pdf"] = path
    return paths


if __name__ == "__main__":
    for built in build_hostile_batch(Path(sys.argv[1])).values():
        print(built)
