"""Sample files for the redaction tests, generated (nothing binary is checked in).

PDFs are written with pikepdf: real text in a standard font (Helvetica, so any reader
extracts it), plus the places data hides: invisible text (render mode 3), an annotation's
note, a visible annotation, an embedded image, Info and XMP metadata, an outline, an
attached file and JavaScript. Positions are known, so a test can draw a box over a value
without asking the engine where it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image, ImageDraw

SSN = "123-45-6789"
SECOND_SSN = "234-56-7890"
HIDDEN_SSN = "987-65-4321"  # only ever in invisible text
WHITE_SSN = "111-22-3333"  # white text on the white page
COVERED_SSN = "222-33-4444"  # text drawn before (under) the embedded image
HIDDEN_VALUES = [HIDDEN_SSN, WHITE_SSN, COVERED_SSN]
EMAIL = "alice.example@records.test"
NAME = "Alice Example"
COMMON_WORDS = ["quick", "brown", "jumps", "lazy", "office", "claim"]
LETTER = (612.0, 792.0)

# Helvetica advance widths (per 1000 em) for what the tests measure.
_WIDTHS = {**dict.fromkeys("0123456789", 556), "-": 333, " ": 278}


def text_width(text: str, size: float) -> float:
    return sum(_WIDTHS[c] for c in text) * size / 1000


@dataclass
class Run:
    x: float
    top: float  # baseline, in points from the top of the (unrotated) page
    text: str
    size: float = 12
    invisible: bool = False  # render mode 3, as an OCR layer is
    white: bool = False  # drawn white on the white page


@dataclass
class PageSpec:
    runs: list[Run]
    size: tuple[float, float] = LETTER
    rotate: int = 0
    image: tuple[float, float, float, float] | None = None  # x, top, width, height
    note: str | None = None  # a sticky-note annotation's text (not drawn)
    stamp: Run | None = None  # a visible annotation (FreeText with an appearance)
    extra: dict = field(default_factory=dict)


def photo(width: int = 160, height: int = 80) -> Image.Image:
    """A colourful picture with no text in it (the embedded image)."""
    image = Image.new("RGB", (width, height), (200, 220, 240))
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y = (i * 37) % width, (i * 53) % height
        colour = ((i * 70) % 256, (i * 130) % 256, (i * 200) % 256)
        draw.ellipse((x - 8, y - 8, x + 8, y + 8), fill=colour)
    return image


def _font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name.Helvetica,
            Encoding=Name.WinAnsiEncoding,
        )
    )


def _text_ops(runs: list[Run], height: float) -> str:
    ops = []
    for run in runs:
        escaped = run.text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        mode = 3 if run.invisible else 0
        colour = "1 g" if run.white else "0 g"
        ops.append(
            f"BT {colour} {mode} Tr /F1 {run.size} Tf 1 0 0 1 {run.x} {height - run.top} Tm "
            f"({escaped}) Tj ET"
        )
    return "\n".join(ops)


def build_pdf(
    pages: list[PageSpec],
    *,
    metadata: bool = False,
    extras: bool = False,
    encrypt_password: str | None = None,
) -> bytes:
    pdf = pikepdf.new()
    font = _font(pdf)
    image_bytes = None
    for spec in pages:
        width, height = spec.size
        resources = Dictionary(Font=Dictionary(F1=font))
        content = _text_ops(spec.runs, height)
        if spec.image is not None:
            x, top, w, h = spec.image
            picture = photo()
            image_bytes = picture.tobytes()
            resources.XObject = Dictionary(
                Photo=pikepdf.Stream(
                    pdf,
                    image_bytes,
                    Type=Name.XObject,
                    Subtype=Name.Image,
                    Width=picture.width,
                    Height=picture.height,
                    ColorSpace=Name.DeviceRGB,
                    BitsPerComponent=8,
                )
            )
            content += f"\nq {w} 0 0 {h} {x} {height - top - h} cm /Photo Do Q"
        page = Dictionary(
            Type=Name.Page,
            MediaBox=[0, 0, width, height],
            Resources=resources,
            Contents=pikepdf.Stream(pdf, content.encode("latin-1")),
        )
        if spec.rotate:
            page.Rotate = spec.rotate
        annots = []
        if spec.note is not None:
            annots.append(
                pdf.make_indirect(
                    Dictionary(
                        Type=Name.Annot,
                        Subtype=Name.Text,
                        Rect=[500, height - 80, 520, height - 60],
                        Contents=pikepdf.String(spec.note),
                        T=pikepdf.String("Reviewer"),
                    )
                )
            )
        if spec.stamp is not None:
            run = spec.stamp
            rect = [run.x - 4, height - run.top - 6, run.x + 260, height - run.top + run.size + 4]
            appearance = pikepdf.Stream(
                pdf,
                f"BT /F1 {run.size} Tf 4 6 Td ({run.text}) Tj ET".encode("latin-1"),
                Type=Name.XObject,
                Subtype=Name.Form,
                BBox=[0, 0, rect[2] - rect[0], rect[3] - rect[1]],
                Resources=Dictionary(Font=Dictionary(F1=font)),
            )
            annots.append(
                pdf.make_indirect(
                    Dictionary(
                        Type=Name.Annot,
                        Subtype=Name.FreeText,
                        Rect=rect,
                        Contents=pikepdf.String(run.text),
                        DA=pikepdf.String("/F1 12 Tf 0 g"),
                        F=4,  # print
                        AP=Dictionary(N=appearance),
                    )
                )
            )
        if annots:
            page.Annots = Array(annots)
        pdf.pages.append(pikepdf.Page(page))

    if metadata:
        pdf.docinfo[Name.Title] = f"Record of {SSN}"
        pdf.docinfo[Name.Author] = NAME
        pdf.docinfo[Name.Subject] = f"Contact {EMAIL}"
        pdf.docinfo[Name.Keywords] = f"{HIDDEN_SSN} {SECOND_SSN}"
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:title"] = f"XMP record of {SSN}"
            xmp["dc:description"] = f"Described for {NAME} {EMAIL}"
            xmp["dc:creator"] = [NAME]
    if extras:
        # An outline entry, an attached file and document JavaScript, all with the SSN.
        outline_item = pdf.make_indirect(
            Dictionary(Title=pikepdf.String(f"Bookmark {SSN}"), Dest=[pdf.pages[0].obj, Name.Fit])
        )
        outlines = pdf.make_indirect(
            Dictionary(Type=Name.Outlines, First=outline_item, Last=outline_item, Count=1)
        )
        outline_item.Parent = outlines
        pdf.Root.Outlines = outlines
        attachment = pikepdf.AttachedFileSpec(
            pdf, f"Attached copy of {SSN} for {NAME}".encode(), filename="notes.txt"
        )
        pdf.attachments["notes.txt"] = attachment
        script = pdf.make_stream(f"app.alert('{SSN}');".encode())
        pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=script)
    out = io.BytesIO()
    if encrypt_password is not None:
        pdf.save(out, encryption=pikepdf.Encryption(user=encrypt_password, owner="owner-pass"))
    else:
        pdf.save(out)
    return out.getvalue()


# Positions on the first page of ``rich_pdf``.
SSN_RUN = Run(x=230, top=140, text=SSN)
IMAGE_PLACE = (72, 330, 200, 100)  # x, top, width, height (points)


def ssn_box(page: int = 1, run: Run = SSN_RUN, pad: float = 3.0):
    """The box a person would draw over the SSN on page 1 (points from the top-left)."""
    from documents.redaction.boxes import Box

    width = text_width(run.text, run.size)
    return Box(page, run.x - pad, run.top - run.size - pad, run.x + width + pad, run.top + pad)


def image_box(page: int = 1):
    from documents.redaction.boxes import Box

    x, top, width, height = IMAGE_PLACE
    return Box(page, x - 1, top - 1, x + width + 1, top + height + 1)


def rich_pages() -> list[PageSpec]:
    first = PageSpec(
        runs=[
            Run(72, 72, f"Incident report prepared for {NAME}", size=14),
            Run(72, 110, "The quick brown fox jumps over the lazy dog."),
            Run(72, 140, "Social Security number:"),
            SSN_RUN,
            Run(72, 170, f"Contact {EMAIL} about the claim."),
            Run(72, 200, f"{NAME} visited the office on Monday."),
            Run(72, 230, f"Hidden note {HIDDEN_SSN} stays hidden", invisible=True),
            Run(72, 260, "Please keep this record with the claim file."),
            Run(72, 290, f"Whitewashed {WHITE_SSN}", white=True),
            Run(80, 380, f"Covered {COVERED_SSN}"),  # the image is drawn over it
        ],
        image=IMAGE_PLACE,
        note=f"Reviewer note: SSN {SSN}",
        stamp=Run(72, 480, f"Case officer {NAME}"),
    )
    second = PageSpec(
        runs=[
            Run(72, 72, f"{NAME} called again about the second claim."),
            Run(72, 100, f"Second number {SECOND_SSN} was also given."),
            Run(72, 128, "The quick brown fox jumps over the lazy dog again."),
            Run(72, 156, f"Reply sent to {NAME.upper()} by post."),
        ]
    )
    third = PageSpec(
        runs=[
            Run(72, 72, f"This rotated page mentions {NAME} once."),
            Run(72, 100, "Quick brown foxes are common in the office."),
        ],
        rotate=90,
    )
    return [first, second, third]


# Occurrences of NAME that are drawn (text and the visible annotation), page by page.
NAME_OCCURRENCES = {1: 3, 2: 2, 3: 1}


def rich_pdf(**options) -> bytes:
    """Three pages (the third rotated) with the SSN, an email, a name and everything else;
    Info, XMP, an outline, an attachment, JavaScript and a note carry the SSN too, and
    invisible, white and image-covered text carry other numbers (``HIDDEN_VALUES``)."""
    return build_pdf(rich_pages(), metadata=True, extras=True, **options)


def long_pdf(pages: int = 30) -> bytes:
    """A text document of many pages, each with an SSN-like number on it."""
    specs = []
    for number in range(1, pages + 1):
        runs = [Run(72, 72, f"Page {number} of the long report", size=14)]
        for line in range(40):
            runs.append(
                Run(72, 100 + line * 16, f"Line {line + 1}: the quick brown fox jumps over it.")
            )
        runs.append(Run(72, 760, f"Reference 400-{10 + number % 90:02d}-{1000 + number}"))
        specs.append(PageSpec(runs=runs))
    return build_pdf(specs)


def text_pdf(lines_per_page: list[list[str]], *, size: float = 12) -> bytes:
    """Simple pages of text lines."""
    return build_pdf(
        [
            PageSpec(
                runs=[Run(72, 72 + i * size * 1.5, line, size) for i, line in enumerate(lines)]
            )
            for lines in lines_per_page
        ]
    )


# --- Images ---------------------------------------------------------------------------------


def _exif(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SnoopCam"  # Make
    exif[0x010E] = f"Photo of {NAME} SSN {SSN}"  # ImageDescription
    exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}
    return exif


def picture(width: int = 240, height: int = 160) -> Image.Image:
    """A bright picture (nothing in it is near black)."""
    image = Image.new("RGB", (width, height), (240, 230, 200))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 20):
        draw.rectangle((i, 0, i + 9, height), fill=(120 + i % 100, 200, 150))
    return image


def jpeg_with_exif(orientation: int = 1) -> bytes:
    out = io.BytesIO()
    picture().save(out, "JPEG", quality=92, exif=_exif(orientation), comment=f"SSN {SSN}".encode())
    return out.getvalue()


def png_with_metadata() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"SSN {SSN}")
    info.add_itxt("Description", f"Photo of {NAME}")
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info, exif=_exif())
    return out.getvalue()


def tiff_pages() -> bytes:
    out = io.BytesIO()
    first, second = picture(), picture().transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    first.save(
        out,
        "TIFF",
        save_all=True,
        append_images=[second],
        exif=_exif(gps=False),
        description=f"SSN {SSN}",
    )
    return out.getvalue()
