"""Documents benchmark: encrypt-and-store and fetch-and-decrypt throughput, and memory.

Measures, in one run:

- the baseline: ``openssl speed -evp aes-256-gcm`` on 64 KiB blocks, one core (Python's
  ``cryptography`` AESGCM on 64 KiB blocks instead when there is no openssl command), and
  that library's own AES-GCM, which is what the portal actually calls;
- the crypto layer alone (``vault.crypto.encrypt`` / ``decrypt`` in memory, the same
  random 1 MiB chunk repeated) at 16, 64, 256 and 1024 KiB segments;
- end to end on local storage (a temporary folder under .local, the portal's own disk):
  ``versions.version_create`` fed by a generator (never the whole file in memory), then
  ``versions.version_read`` consumed and discarded (a second, untimed fetch checks its
  SHA-256 against the input's), for 1 MiB, 100 MiB and 1 GiB; small sizes repeated, medians
  shown; MB/s by wall clock (and by CPU time, which other processes disturb less); ratios to
  the baseline. Before each large size a file of that size is written and deleted, so the
  page cache recycles pages (a VM's first touch of memory is slower than the code: the line
  "page cache primed" shows how much; --no-prime measures with it);
- RSS growth while each size is stored and fetched (VmRSS sampled every 50 ms, peak less
  the value just before), against the 64 MB target, and the getrusage peak;
- the parts alone (SHA-256, the crypto layer, the blob store's writes and reads, a one-byte
  version for the fixed cost of keys and database) and minor page faults per MiB, to say
  where the time goes.

Targets (the issue): end to end at least 0.5x one core's AES-GCM speed; RSS grows less than
64 MB while a 1 GB file streams. MB/s are 10^6 bytes a second, as openssl's figures; sizes
are binary (1 GiB = 2^30 bytes). Runs on a throw-away database (created as the owner role,
used as the app role, dropped at the end); the temporary folder is removed at the end.

    make bench-documents    (or: .venv/bin/python bench/documents_bench.py --quick)
    .venv/bin/python bench/documents_bench.py --sizes 1M,100M --cold
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import hashlib
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

KIB, MIB, GIB = 1024, 1024**2, 1024**3
MB = 1_000_000  # throughput unit, as openssl's "1000s of bytes"
CHUNK = MIB  # what the generators yield: one random MiB, repeated
TARGET_RATIO = 0.5
TARGET_RSS_MB = 64
SEGMENT_SIZES = (16 * KIB, 64 * KIB, 256 * KIB, 1024 * KIB)


# --- Small helpers ---------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """'1M', '100M', '1G', '512K' (binary); a bare number is MiB."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)i?B?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1M, 100M, 1G)")
    unit = {"K": KIB, "M": MIB, "G": GIB, "": MIB}[match.group(2).upper()]
    return int(match.group(1)) * unit


def label(size: int) -> str:
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} B"


def rate(nbytes: int, seconds: float) -> float:
    """MB/s."""
    return nbytes / seconds / MB if seconds > 0 else float("inf")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def source(chunk: bytes, total: int) -> Iterator[bytes]:
    """``total`` bytes as ``chunk`` repeated: a file that is never whole in memory."""
    left = total
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        left -= len(piece)
        yield piece


def drain(chunks: Iterable[bytes]) -> int:
    size = 0
    for piece in chunks:
        size += len(piece)
    return size


def expected_sha256(chunk: bytes, total: int) -> str:
    digest = hashlib.sha256()
    for piece in source(chunk, total):
        digest.update(piece)
    return digest.hexdigest()


def rss_mb() -> float | None:
    """VmRSS now (Linux /proc); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def trim_heap() -> None:
    """Hand freed heap back to the system (glibc), so RSS growth measured next counts the
    memory the block really uses, not memory earlier work freed and the heap kept."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL(None).malloc_trim(0)


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class RssSampler:
    """Highest VmRSS seen (every ``interval`` s, in a background thread) while the block
    runs, less VmRSS just before it (taken after a garbage collection and a heap trim)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.before: float | None = None
        self.peak: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        now = rss_mb()
        if now is not None and (self.peak is None or now > self.peak):
            self.peak = now

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> RssSampler:
        gc.collect()
        trim_heap()
        self.before = self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def growth(self) -> float | None:
        if self.before is None or self.peak is None:
            return None
        return self.peak - self.before


# --- Baselines -------------------------------------------------------------------------------


def _parse_openssl_speed(output: str, block: int) -> float | None:
    """Bytes/s of AES-256-GCM for ``block``-byte blocks from ``openssl speed``'s table."""
    header: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("type"):
            header = re.findall(r"(\d+) bytes", line)
        elif header and line.upper().startswith("AES-256-GCM"):
            values = re.findall(r"([\d.]+)k", line)
            if len(values) == len(header) and str(block) in header:
                return float(values[header.index(str(block))]) * 1000
    return None


def openssl_baseline(seconds: int) -> tuple[float, str] | None:
    """(bytes/s, description) of one core's AES-256-GCM per ``openssl speed``; None when
    there is no openssl command or its output cannot be read."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    version = (
        subprocess.run(  # noqa: S603 (fixed argv, openssl from PATH)
            [exe, "version"], capture_output=True, text=True, check=False
        )
        .stdout.strip()
        .split(" (Library")[0]
    )
    evp = [exe, "speed", "-evp", "aes-256-gcm"]
    attempts = (
        ([*evp, "-seconds", str(seconds), "-bytes", "65536"], 65536),
        ([*evp, "-seconds", "1"], 16384),  # no -bytes: the default table's largest column
        (evp, 16384),
    )
    for argv, block in attempts:
        try:
            result = subprocess.run(  # noqa: S603 (fixed argv)
                argv, capture_output=True, text=True, check=False, timeout=180
            )
        except subprocess.TimeoutExpired:
            continue
        if result.returncode != 0:
            continue
        speed = _parse_openssl_speed(result.stdout, block)
        if speed:
            how = " ".join(["openssl", *argv[1:]])
            return speed, f"`{how}` ({version}), {block // 1024} KiB blocks, one core"
    return None


def python_aesgcm(seconds: float = 1.0, block: int = 64 * KIB) -> float:
    """Bytes/s of ``cryptography``'s AESGCM sealing ``block``-byte blocks, one thread."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    data, nonce = os.urandom(block), os.urandom(12)
    for _ in range(50):
        cipher.encrypt(nonce, data, b"aad")
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(64):
            cipher.encrypt(nonce, data, b"aad")
        done += 64 * block
    return done / elapsed


# --- The crypto layer alone --------------------------------------------------------------------


def crypto_alone(
    chunk: bytes, segments: Iterable[int], enc_total: int, dec_total: int, rounds: int
) -> dict[int, tuple[float, float]]:
    """{segment size: (median encrypt s, median decrypt s)} of vault.crypto in memory.
    The segment sizes take turns round after round, so a busy machine skews them alike; one
    ciphertext of ``dec_total`` bytes is in memory at a time."""
    from vault import crypto

    key = crypto.new_data_key()
    aad = crypto.associated_data(agency_id=1, document_id=str(uuid.uuid4()), version=1)
    enc: dict[int, list[float]] = {segment: [] for segment in segments}
    dec: dict[int, list[float]] = {segment: [] for segment in segments}
    for _ in range(rounds):
        for segment in enc:
            start = time.perf_counter()
            drain(crypto.encrypt(key, aad, source(chunk, enc_total), segment))
            enc[segment].append(time.perf_counter() - start)
            ciphertext = list(crypto.encrypt(key, aad, source(chunk, dec_total), segment))
            start = time.perf_counter()
            size = drain(crypto.decrypt(key, aad, ciphertext))
            dec[segment].append(time.perf_counter() - start)
            assert size == dec_total, (size, dec_total)
            del ciphertext
    return {s: (statistics.median(enc[s]), statistics.median(dec[s])) for s in enc}


# --- Main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="1M,100M,1G",
        help="comma-separated file sizes (binary K/M/G; default 1M,100M,1G)",
    )
    parser.add_argument("--quick", action="store_true", help="1M and 100M only")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="flush each stored file and drop it from the page cache before fetching it",
    )
    parser.add_argument(
        "--no-segments", action="store_true", help="skip the segment-size sweep (64 KiB only)"
    )
    parser.add_argument(
        "--no-prime",
        action="store_true",
        help="do not write and delete a file of each large size before measuring it",
    )
    parser.add_argument("--openssl-seconds", type=int, default=2)
    args = parser.parse_args()
    sizes = sorted({parse_size(s) for s in ("1M,100M" if args.quick else args.sizes).split(",")})

    import django

    django.setup()
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from tests.db_helpers import connected_as_owner

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-documents-", dir=ROOT / ".local"))
    try:
        setup_test_environment()
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_documents_{os.getpid()}"
        with connected_as_owner():
            db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        try:
            with override_settings(
                DOCUMENTS_LOCAL_ROOT=workdir / "documents",
                KEYSTORE_LOCAL_ROOT=workdir / "keystore",
                DOCUMENTS_S3_BUCKET="",
                KEYSTORE_S3_BUCKET="",
                DOCUMENTS_KMS_KEY_ID="",
            ):
                from documents import keys
                from vault import storage

                storage.reset_cache()
                keys.forget_cached_keys()
                try:
                    run(args, sizes, workdir)
                finally:
                    storage.reset_cache()
                    keys.forget_cached_keys()
        finally:
            with connected_as_owner():
                teardown_databases(db_cfg, verbosity=0)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"Whole run, database set-up and tear-down included: {time.perf_counter() - started:.0f} s"
    )


def run(args, sizes: list[int], workdir: Path) -> None:
    from cryptography.hazmat.backends.openssl.backend import backend as ossl

    from accounts.models import Agency
    from accounts.tenancy import agency_context
    from documents import versions
    from documents.models import Document, DocumentStatus, VersionKind
    from requests_portal.services import submission as request_submission
    from vault import crypto
    from vault.locations import documents_store
    from vault.storage import LocalBlobStore

    chunk = os.urandom(CHUNK)
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        cpuinfo = []
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        "unknown CPU",
    )
    load = os.getloadavg()
    print(
        f"Documents benchmark: {os.cpu_count()} CPUs ({cpu}), load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start; sizes "
        f"{', '.join(label(s) for s in sizes)}; MB/s = 10^6 B/s"
    )

    # 1. Baselines ----------------------------------------------------------------------------
    library = python_aesgcm()
    found = openssl_baseline(args.openssl_seconds)
    print("Baselines (one core):")
    if found is None:
        base, base_name = library, "Python cryptography AESGCM, 64 KiB blocks"
        print("  openssl is missing or unreadable: the baseline is Python's AESGCM instead")
        print(f"  {base_name:<58} {rate(int(base), 1):8.0f} MB/s  (baseline)")
    else:
        base, base_name = found
        print(f"  {base_name}")
        print(f"  {'':<58} {rate(int(base), 1):8.0f} MB/s  (baseline)")
        print(
            f"  {'cryptography AESGCM, 64 KiB blocks (what the portal calls)':<58} "
            f"{rate(int(library), 1):8.0f} MB/s  {library / base:5.2f}x baseline"
        )
    print(f"  (cryptography is linked against {ossl.openssl_version_text()})")

    def ratios(mbps: float) -> str:
        return f"{mbps * MB / base:5.2f}x  {mbps * MB / library:5.2f}x lib"

    # 2. The crypto layer alone ----------------------------------------------------------------
    enc_total, dec_total, rounds = 128 * MIB, 64 * MIB, 5
    segments = (crypto.SEGMENT_SIZE,) if args.no_segments else SEGMENT_SIZES
    print(
        f"Crypto layer alone (vault.crypto in memory; encrypt {label(enc_total)}, decrypt "
        f"{label(dec_total)}, median of {rounds} interleaved rounds; x baseline, x library):"
    )
    crypto_rates: dict[int, tuple[float, float]] = {}
    for segment, (enc_s, dec_s) in crypto_alone(
        chunk, segments, enc_total, dec_total, rounds
    ).items():
        enc, dec = rate(enc_total, enc_s), rate(dec_total, dec_s)
        crypto_rates[segment] = (enc, dec)
        overhead = crypto.TAG_SIZE / segment * 100
        mark = "  (current)" if segment == crypto.SEGMENT_SIZE else ""
        print(
            f"  {label(segment):>8} segments  encrypt {enc:6.0f} MB/s {ratios(enc)}   "
            f"decrypt {dec:6.0f} MB/s {ratios(dec)}   +{overhead:.3f}% size{mark}"
        )

    # 3. Parts on their own, for "where the time goes" ------------------------------------------
    part_total = 256 * MIB
    raw_store = LocalBlobStore(workdir / "raw")

    def prime(size: int) -> float:
        """Write and delete ``size`` bytes: the page cache then recycles pages this VM has
        already touched (a first touch of memory the host handed back costs far more than
        the write). Returns the write's seconds."""
        start = time.perf_counter()
        raw_store.write("prime", source(chunk, size))
        seconds = time.perf_counter() - start
        raw_store.delete("prime")
        return seconds

    primed: dict[int, float] = {}
    if not args.no_prime:
        primed[part_total] = prime(part_total)
    sha_t, write_t, read_t = [], [], []
    for _ in range(3):
        start = time.perf_counter()
        expected_sha256(chunk, part_total)
        sha_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        raw_store.write("raw-blob", source(chunk, part_total))
        write_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        drain(raw_store.read("raw-blob"))
        read_t.append(time.perf_counter() - start)
        raw_store.delete("raw-blob")
    sha_s, write_s, read_s = (statistics.median(t) for t in (sha_t, write_t, read_t))

    # 4. End to end ------------------------------------------------------------------------------
    agency = Agency.objects.create(slug="bench-documents", name="Bench Documents City")
    with agency_context(agency):
        records_request = request_submission.request_submit(
            agency=agency,
            actor=None,
            title="Benchmark files",
            description="Large files for the documents benchmark.",
            contact=request_submission.Contact(name="Bench Requester"),
            channel="web",
        )
        document = Document.objects.create(
            agency=agency,
            request=records_request,
            filename="bench.bin",
            content_type="application/pdf",
            size=0,
            status=DocumentStatus.CLEAN,
        )
    root = Path(documents_store("default").root)

    def store(size: int):
        """(version, wall s, CPU s, minor page faults) of one encrypt-and-store, the commit
        included."""
        faults, wall, cpu, times = (
            minor_faults(),
            time.perf_counter(),
            time.process_time(),
            os.times(),
        )
        with agency_context(agency):
            version = versions.version_create(
                document=document,
                kind=VersionKind.ORIGINAL,
                chunks=source(chunk, size),
                actor=None,
            )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        kernel[version.size] = os.times().system - times.system
        return version, wall, cpu, minor_faults() - faults

    kernel: dict[int, float] = {}  # size: system CPU s of its last store (os.times, 10 ms)

    def fetch(version) -> tuple[float, float, int, int]:
        """(wall s, CPU s, minor page faults, bytes) of one fetch-and-decrypt, drained
        untouched."""
        faults, wall, cpu = minor_faults(), time.perf_counter(), time.process_time()
        with agency_context(agency):
            stream = versions.version_read(version)  # keys opened in the transaction
        size = drain(stream)  # the bytes flow without the database, as a streamed response
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return wall, cpu, minor_faults() - faults, size

    def fetched_sha256(version) -> str:
        """The check, untimed: SHA-256 of a second fetch."""
        digest = hashlib.sha256()
        with agency_context(agency):
            stream = versions.version_read(version)
        for piece in stream:
            digest.update(piece)
        return digest.hexdigest()

    def evict(version) -> None:
        fd = os.open(root / version.storage_name, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)

    # Warm-up: the agency's first key (escrow written, master key opened), connections.
    for _ in range(3):
        version, *_ = store(1)
        fetch(version)
        documents_store("default").delete(version.storage_name)
    tiny_store, tiny_fetch = [], []
    for _ in range(15):
        version, seconds, *_ = store(1)
        tiny_store.append(seconds)
        tiny_fetch.append(fetch(version)[0])
        documents_store("default").delete(version.storage_name)

    results = []
    for size in sizes:
        reps = 15 if size <= 4 * MIB else 3 if size <= 256 * MIB else 1
        expected = expected_sha256(chunk, size)
        if size >= 64 * MIB and not args.no_prime:
            primed[size] = prime(size)
        row: dict = {"size": size, "reps": reps}
        for part in ("store", "fetch"):
            for key in ("", "_cpu", "_rss", "_faults"):
                row[part + key] = []
        for _ in range(reps):
            with RssSampler() as memory:
                version, seconds, cpu, faults = store(size)
            row["store"].append(seconds)
            row["store_cpu"].append(cpu)
            row["store_faults"].append(faults)
            row["store_rss"].append(memory.growth)
            absolute = [(memory.before, memory.peak)]
            assert version.size == size, "stored a wrong size"
            assert version.stored_size == crypto.ciphertext_size(size), version.stored_size
            if args.cold:
                evict(version)
            with RssSampler() as memory:
                seconds, cpu, faults, fetched = fetch(version)
            row["fetch"].append(seconds)
            row["fetch_cpu"].append(cpu)
            row["fetch_faults"].append(faults)
            row["fetch_rss"].append(memory.growth)
            absolute.append((memory.before, memory.peak))
            assert fetched == size, (fetched, size)
            assert fetched_sha256(version) == expected, "fetched bytes differ from the input"
            documents_store("default").delete(version.storage_name)
        for key in ("store", "store_cpu", "store_faults", "fetch", "fetch_cpu", "fetch_faults"):
            row[key] = statistics.median(row[key])
        for key in ("store_rss", "fetch_rss"):
            row[key] = max((g for g in row[key] if g is not None), default=None)
        row["absolute"] = absolute  # (before, peak) MB of the last store and fetch
        results.append(row)

    cache = "cold page cache (flushed, dropped)" if args.cold else "warm page cache"
    print(
        f"End to end, local storage ({cache}; versions.version_create from a generator, "
        "version_read drained; medians; MB/s by wall clock, and by process CPU time):"
    )
    print(
        f"  {'size':>8} {'runs':>4}  {'store':>9} {'MB/s':>5} {'(CPU)':>6} {'x base':>6} "
        f"{'':>4}  {'fetch':>9} {'MB/s':>5} {'(CPU)':>6} {'x base':>6} {'':>4}  "
        f"{'RSS+ store':>10} {'RSS+ fetch':>10}"
    )

    def mb(value: float | None) -> str:
        return "   n/a" if value is None else f"{value:+6.1f} MB"

    for row in results:
        size = row["size"]
        s_rate, f_rate = rate(size, row["store"]), rate(size, row["fetch"])
        s_ratio, f_ratio = s_rate * MB / base, f_rate * MB / base
        print(
            f"  {label(size):>8} {row['reps']:>4}  {row['store'] * 1000:7.1f}ms {s_rate:5.0f} "
            f"({rate(size, row['store_cpu']):4.0f}) {s_ratio:5.2f}x "
            f"{verdict(s_ratio >= TARGET_RATIO)}  {row['fetch'] * 1000:7.1f}ms {f_rate:5.0f} "
            f"({rate(size, row['fetch_cpu']):4.0f}) {f_ratio:5.2f}x "
            f"{verdict(f_ratio >= TARGET_RATIO)}  {mb(row['store_rss']):>10} "
            f"{mb(row['fetch_rss']):>10}"
        )
    print(
        f"  target: >= {TARGET_RATIO} x baseline = {TARGET_RATIO * base / MB:.0f} MB/s; every "
        "fetch checked by an untimed second fetch's SHA-256 against the input's"
    )
    print(
        f"  fixed cost, 1-byte version (keys, HKDF, DB row, file create and rename), median "
        f"of 15: store {statistics.median(tiny_store) * 1000:.2f} ms, fetch "
        f"{statistics.median(tiny_fetch) * 1000:.2f} ms"
    )

    # 5. Memory ----------------------------------------------------------------------------------
    largest = results[-1]
    growths = [g for g in (largest["store_rss"], largest["fetch_rss"]) if g is not None]
    if growths:
        worst = max(growths)
        scope = "" if largest["size"] >= GIB else f" (1 GiB not run: {label(largest['size'])})"
        print(
            f"Memory while streaming {label(largest['size'])}{scope}: RSS grew "
            f"{largest['store_rss']:.1f} MB storing, {largest['fetch_rss']:.1f} MB fetching "
            f"(target < {TARGET_RSS_MB} MB): {verdict(worst < TARGET_RSS_MB)}"
        )
        (s_before, s_peak), (f_before, f_peak) = largest["absolute"]
        print(
            f"  VmRSS every 50 ms: storing {s_before:.1f} -> peak {s_peak:.1f} MB, fetching "
            f"{f_before:.1f} -> peak {f_peak:.1f} MB"
        )
    else:
        print("Memory: no /proc/self/status here, RSS growth not measured")
    print(
        f"  peak RSS of the process (getrusage, whole run incl. the in-memory crypto test "
        f"ciphertext of {label(dec_total)}): {peak_rss_mb():.0f} MB"
    )

    # 6. Where the time goes --------------------------------------------------------------------
    enc, dec = crypto_rates[crypto.SEGMENT_SIZE]
    per_gib = GIB / MB  # MB in a GiB: seconds per GiB = per_gib / (MB/s)
    sha = rate(part_total, sha_s)
    write, read = rate(part_total, write_s), rate(part_total, read_s)
    print(
        f"Where the time goes, seconds per GiB (parts measured alone on {label(part_total)}, "
        "median of 3):"
    )
    # SHA-256 is the scan's, not the store's (shown for scale); the blob store writes on a
    # thread of its own while the next segments are sealed, so the two overlap.
    parts_store = per_gib / enc + per_gib / write
    parts_fetch = per_gib / read + per_gib / dec
    measured = [r for r in results if r["size"] >= 64 * MIB] or results
    big = measured[-1]
    scale = GIB / big["size"]
    print(
        f"  store: encrypt {per_gib / enc:.2f} s + blob write {per_gib / write:.2f} s "
        f"({write:.0f} MB/s) = {parts_store:.2f} s in series (the writer thread overlaps "
        f"them); measured on {label(big['size'])}: {big['store'] * scale:.2f} s. "
        f"(SHA-256, done by the scan: {per_gib / sha:.2f} s, {sha:.0f} MB/s)"
    )
    print(
        f"  fetch: blob read {per_gib / read:.2f} s ({read:.0f} MB/s) + decrypt "
        f"{per_gib / dec:.2f} s = {parts_fetch:.2f} s; measured on {label(big['size'])}: "
        f"{big['fetch'] * scale:.2f} s"
    )
    faults = ", ".join(
        f"{label(r['size'])} store {r['store_faults'] / (r['size'] / MIB):.0f}, fetch "
        f"{r['fetch_faults'] / (r['size'] / MIB):.0f}"
        for r in measured
    )
    print(
        f"  of the {label(big['size'])} store's {big['store_cpu']:.2f} s CPU, "
        f"{kernel.get(big['size'], 0):.2f} s were the kernel's (page cache pages for the "
        "blob, file system)"
    )
    print(
        f"  minor page faults per MiB ({faults}): 256 would be every byte landing on a page "
        "the kernel had to hand over again (freed ~1 MiB buffers trimmed and re-faulted)"
    )
    print(
        f"  AES-GCM itself at the baseline's speed: {per_gib / (base / MB):.2f} s; at the "
        f"library's: {per_gib / (library / MB):.2f} s"
    )
    if primed:
        size, seconds = max(primed.items())
        print(
            f"  page cache primed before each large size: writing {label(size)} of fresh pages "
            f"ran at {rate(size, seconds):.0f} MB/s, first touch of memory included "
            "(--no-prime: measure with it)"
        )
    load = os.getloadavg()
    print(f"Load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
