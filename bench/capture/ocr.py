"""OCR throughput (issue 13): Tesseract alone against our pipeline's OCR on the same
page images, both cores busy, in the same run; and the memory a 2,000-page fax
takes through the OCR step.

    .venv/bin/python bench/capture/ocr.py --work /tmp/rr-cap-ocr --pages 60
    .venv/bin/python bench/capture/ocr.py --work /tmp/rr-cap-ocr --memory-pages 2000

The pages are generated scanned batches (demo/scans.py: 300/200 dpi scans and fax
pages, noise, skew, stamps) from the demo generator's people, no database needed.
Baseline: the `tesseract` binary on each page image (text-only PDF output, as
OCRmyPDF asks of it), OMP_THREAD_LIMIT=1, two at a time. Ours:
`capture.ocr.make_searchable` + `read_pages` when the tree has them, else OCRmyPDF's
API (what make_searchable wraps) with jobs=1 in each of two processes, each process
a batch of half the pages. Prints pages/s of each and the ratio (target >= 90%).
The memory check writes one fax of `--memory-pages` pages (CCITT G4 PDF, 204x196
dpi), runs the OCR step on it in a child process with jobs=1, and samples the
resident memory of that process and every process under it (Tesseract,
Ghostscript): the peak of their sum (target < 1 GB).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402

MIB = 1024 * 1024


def _pipeline_ocr() -> Any:
    """cap-pipe's OCR functions when this tree has them, else None."""
    try:
        from recordroom.capture import ocr
    except ImportError:
        return None
    if hasattr(ocr, "make_searchable") and hasattr(ocr, "read_pages"):
        return ocr
    return None


# --- the pages -------------------------------------------------------------------------


def page_images(
    work: Path, pages: int, seed: int
) -> list[tuple[Path, tuple[int, int]]]:
    """Generate scanned batches and write each page as its own PNG at its own
    resolution: [(path, dpi)]."""
    from PIL import Image

    from recordroom.demo.scans import generate, population_from_plans

    folder = work / f"pages-{seed}-{pages}"
    wanted = max(pages, 40)  # enough batches for every format, sampled evenly below
    done = folder / "done"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        found = generate(population_from_plans(people=200, seed=seed), folder / "set",
                         seed=seed, pages=wanted, processes=2)  # fmt: skip
        print(f"generated {found.pages} pages in {found.seconds:.1f} s")
        n = 0
        for path in found.files:
            for img, dpi in _pages_of(path):
                n += 1
                img.save(folder / f"{n:05d}.png", dpi=dpi)
        (folder / "dpi.txt").write_text("")
        done.write_text(str(n))
    out = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as img:
            dpi = tuple(round(v) for v in img.info.get("dpi", (300, 300)))
        out.append((path, (dpi[0], dpi[1])))
    step = max(1, len(out) // pages)
    return out[::step][:pages]


def _pages_of(path: Path) -> Any:
    """The page images of a generated file, as stored, with their resolution."""
    from PIL import Image

    if path.suffix == ".pdf":
        import pikepdf
        from pikepdf import PdfImage

        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                (obj,) = page.Resources.XObject.values()
                img = PdfImage(obj).as_pil_image()
                width_pt = float(page.MediaBox[2])
                height_pt = float(page.MediaBox[3])
                yield img, (round(img.width * 72 / width_pt),
                            round(img.height * 72 / height_pt))  # fmt: skip
        return
    with Image.open(path) as img:
        dpi = tuple(round(v) for v in img.info.get("dpi", (300, 300)))
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            yield img.copy(), dpi


def pages_pdf(images: list[tuple[Path, tuple[int, int]]], path: Path) -> Path:
    """The page images as one image-only PDF, each page at its own resolution."""
    from PIL import Image

    from recordroom.demo.scan_image import write_pdf

    def opened() -> Any:
        for p, _dpi in images:
            with Image.open(p) as img:
                img.load()
                yield img

    write_pdf(opened(), path, images[0][1], dpis=[d for _, d in images])
    return path


# --- the engines -----------------------------------------------------------------------


def tesseract_alone(images: list[tuple[Path, tuple[int, int]]], out: Path,
                    processes: int) -> float:  # fmt: skip
    """Seconds for the tesseract binary to OCR every page, `processes` at a time."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(item: tuple[int, tuple[Path, tuple[int, int]]]) -> None:
        n, (path, _dpi) = item
        subprocess.run(
            ["tesseract", str(path), str(out / f"{n:05d}"), "-l", "eng",
             "-c", "textonly_pdf=1", "pdf"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip

    started = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        list(pool.map(one, enumerate(images)))
    return time.perf_counter() - started


def _ocr_child(args: tuple[str, str, str, bool]) -> float:
    src, dst, mode, ours = args
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if ours:  # settings only, before the clock starts
        _common.setup_django(Path(dst).parent / "django", migrate=False)
    started = time.perf_counter()
    if ours:
        ocr = _pipeline_ocr()
        made = ocr.make_searchable(Path(src).read_bytes(), jobs=1)
        if mode == "pipeline":
            ocr.read_pages(made)
        Path(dst).write_bytes(made)
    else:
        import ocrmypdf

        ocrmypdf.ocr(src, dst, jobs=1, progress_bar=False, **_MODES[mode])
    return time.perf_counter() - started


_PIPELINE = {
    # the normalise step: orientation, deskew, OCR, PDF/A as the settings say
    "ocr-step": "capture.ocr make_searchable (the normalise step)",
    # and every page read after it (words, barcodes, ink, skew)
    "pipeline": "capture.ocr make_searchable + read_pages",
}
_MODES: dict[str, dict[str, Any]] = {
    # text layer only: the same work as the baseline plus OCRmyPDF's own
    "plain": {"output_type": "pdf", "optimize": 0},
    # tesseract writes the text-only PDF itself (the baseline's output), OCRmyPDF
    # grafts it: no hOCR rendering in Python
    "sandwich": {"output_type": "pdf", "optimize": 0, "pdf_renderer": "sandwich"},
    # what the normalise step asks: orientation, deskew, PDF/A
    "rotate-deskew-pdfa": {"output_type": "pdfa", "rotate_pages": True, "deskew": True,
                           "optimize": 0},
}  # fmt: skip


def ours_throughput(images: list[tuple[Path, tuple[int, int]]], work: Path, mode: str,
                    processes: int, use_pipeline: bool) -> float:  # fmt: skip
    """Seconds for `processes` processes, each OCRing a PDF of its share of pages."""
    shares = [images[i::processes] for i in range(processes)]
    jobs = []
    for i, share in enumerate(shares):
        src = pages_pdf(share, work / f"share-{i}.pdf")
        jobs.append(
            (str(src), str(work / f"share-{i}-{mode}.ocr.pdf"), mode, use_pipeline)
        )
    ctx = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with ctx.Pool(processes) as pool:
        pool.map(_ocr_child, jobs)
    return time.perf_counter() - started


# --- memory ----------------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and every process under it."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += [c for c, p in parents.items() if p == pid]
    return total


def memory_check(images: list[tuple[Path, tuple[int, int]]], work: Path, pages: int,
                 use_pipeline: bool) -> tuple[float, float, float]:  # fmt: skip
    """(peak MiB of the OCR process tree, seconds, input MiB) for a fax of `pages`."""
    from PIL import Image

    from recordroom.demo.scan_image import write_pdf

    fax = [p for p, dpi in images if dpi == (204, 196)] or [p for p, _ in images]
    src = work / f"fax-{pages}.pdf"
    if not src.exists():

        def cycle() -> Any:
            for path in itertools.islice(itertools.cycle(fax), pages):
                with Image.open(path) as img:
                    img.load()
                    yield img.convert("1")

        write_pdf(cycle(), src, (204, 196))
    dst = work / f"fax-{pages}.ocr.pdf"
    ctx = multiprocessing.get_context("spawn")
    peak = [0]
    with ctx.Pool(1) as pool:
        (child,) = pool._pool  # type: ignore[attr-defined]
        stop = threading.Event()

        def sample() -> None:
            started, told = time.monotonic(), time.monotonic()
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_rss(child.pid))
                if time.monotonic() - told >= 300:  # a long run shows where it is
                    told = time.monotonic()
                    print(f"  memory: {told - started:,.0f} s, peak so far "
                          f"{peak[0] / MIB:,.0f} MiB", file=sys.stderr, flush=True)
                stop.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        mode = "pipeline" if use_pipeline else "plain"
        seconds = pool.apply(_ocr_child, ((str(src), str(dst), mode, use_pipeline),))
        stop.set()
        sampler.join()
    return peak[0] / MIB, seconds, src.stat().st_size / MIB


def _children_cpu() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def throughput(images: list[tuple[Path, tuple[int, int]]], args: Any) -> bool:
    """Tesseract alone and each mode, in turn, `args.rounds` times (the machine's load
    drifts: alternating keeps both sides under the same); True when a target missed."""
    modes = args.modes.split(",")
    totals: dict[str, float] = {"tesseract": 0.0, **dict.fromkeys(modes, 0.0)}
    # CPU seconds of every process under this one (the pools' workers, Tesseract):
    # on a machine other work loads, what a page costs stays put while wall time
    # moves with the load
    cpu: dict[str, float] = dict.fromkeys(totals, 0.0)
    for n in range(1, args.rounds + 1):
        before = _children_cpu()
        took = tesseract_alone(images, args.work / "tesseract", args.processes)
        totals["tesseract"] += took
        used = _children_cpu() - before
        cpu["tesseract"] += used
        line = [f"tesseract {took:.1f} s ({used:.1f} s CPU)"]
        for mode in modes:
            before = _children_cpu()
            seconds = ours_throughput(images, args.work, mode, args.processes,
                                      mode in _PIPELINE)  # fmt: skip
            mine = _children_cpu() - before
            totals[mode] += seconds
            cpu[mode] += mine
            line.append(f"{mode} {seconds:.1f} s ({100 * took / seconds:.0f}%; "
                        f"{mine:.1f} s CPU, {100 * used / mine:.0f}%)")  # fmt: skip
        print(f"  round {n}: " + ", ".join(line), flush=True)
    for mode in modes:
        print(f"  {mode}: CPU {cpu[mode]:.1f} s against Tesseract alone's "
              f"{cpu['tesseract']:.1f} s: {100 * cpu['tesseract'] / cpu[mode]:.0f}%")
    pages = len(images) * args.rounds
    base_rate = pages / totals["tesseract"]
    print(f"  tesseract alone (OMP_THREAD_LIMIT=1, {args.processes} at a time): "
          f"{totals['tesseract']:.1f} s, {base_rate:.2f} pages/s")  # fmt: skip
    missed = False
    for mode in modes:
        rate = pages / totals[mode]
        label = (_PIPELINE[mode] if mode in _PIPELINE else
                 f"OCRmyPDF {mode} (jobs=1 per process)")  # fmt: skip
        ratio = rate / base_rate
        verdict = "ok" if ratio >= 0.9 else "MISSED"
        missed |= ratio < 0.9 and mode in ("plain", "sandwich", *_PIPELINE)
        print(f"  {label}: {totals[mode]:.1f} s, {rate:.2f} pages/s, {100 * ratio:.0f}% "
              f"of tesseract alone   target >= 90%  {verdict}")  # fmt: skip
    return missed


def main() -> int:
    use_pipeline = _pipeline_ocr() is not None
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--work", type=Path, required=True, help="a folder for pages and output"
    )
    p.add_argument("--pages", type=int, default=60, help="pages for the throughput run")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--modes", default="ocr-step,pipeline" if use_pipeline else
                   "plain,sandwich,rotate-deskew-pdfa",
                   help=f"what to measure: {', '.join([*_PIPELINE, *_MODES])}")  # fmt: skip
    p.add_argument("--memory-pages", type=int, default=2000,
                   help="pages of the fax for the memory check (0: skip it)")  # fmt: skip
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--rounds", type=int, default=1,
                   help="alternate Tesseract alone and the modes this many times")  # fmt: skip
    _common.add_target_flag(p)
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    images = page_images(args.work, args.pages, args.seed)
    missed = False
    print(f"\nOCR throughput on {len(images)} generated page images "
          f"({', '.join(sorted({f'{a}x{b}' for _, (a, b) in images}))} dpi), "
          f"{args.processes} processes")  # fmt: skip
    if use_pipeline:
        # the workers' settings folder, its keys made once here: two workers making
        # them at once would each find the other's half made
        _common.setup_django(args.work / "django", migrate=False)
    if not args.skip_throughput:
        missed |= throughput(images, args)
    if args.memory_pages:
        peak, seconds, size = memory_check(images, args.work, args.memory_pages,
                                           use_pipeline)  # fmt: skip
        verdict = "ok" if peak < 1024 else "MISSED"
        missed |= peak >= 1024
        engine = "capture.ocr" if use_pipeline else "OCRmyPDF plain, jobs=1"
        print(f"  memory: a {args.memory_pages:,}-page fax ({size:.0f} MiB, 204x196 dpi "
              f"G4) through {engine}: peak RSS of the process tree {peak:,.0f} MiB "
              f"in {seconds:.0f} s ({args.memory_pages / seconds:.2f} pages/s)   "
              f"target < 1024 MiB  {verdict}")  # fmt: skip
    _common.footer()
    return 1 if missed and not args.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
