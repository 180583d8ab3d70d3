"""Download public datasets into a local cache and say where they are (``complement fetch``).

Datasets: ``movielens-100k``, ``movielens-1m``, ``movielens-latest-small`` (GroupLens zips, extracted)
and ``amazon-2023:CATEGORY`` (the reviews and meta JSON Lines files of one Amazon Reviews 2023
category, kept gzipped: the ``amazon2023`` loader reads ``.jsonl.gz``).

Cache: ``--cache-dir``, else ``$COMPLEMENT_CACHE``, else ``~/.cache/complement/datasets``.

Integrity (trust on first use): no published checksum is built in. Each download's size is checked
against its ``Content-Length``; its sha256 is written beside it as ``NAME.sha256`` (``sha256sum``
format, so ``sha256sum -c`` works) and every later call re-hashes the cached file and compares. A
mismatch removes the file and fails. :data:`KNOWN_SHA256` can pin a checksum for a file name; then a
fresh download must match it too.

Atomicity: a download streams into a ``.part`` file beside its final name and is renamed only after
it is complete and verified; a zip is extracted into a temporary folder beside its target folder
and renamed into place. An interrupted call leaves nothing under a final name.
Only the standard library's ``urllib`` touches the network.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..atomic import atomic_path, write_text
from ..errors import DataError, unknown_name

ENV_VAR = "COMPLEMENT_CACHE"
DEFAULT_CACHE = Path("~/.cache/complement/datasets")
GROUPLENS = "https://files.grouplens.org"
AMAZON_2023 = "https://datarepo.eng.ucsd.edu"
AMAZON_PREFIX = "amazon-2023:"
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0

#: GroupLens zips: dataset name -> archive stem (``ml-100k.zip`` holds the folder ``ml-100k/``).
MOVIELENS = {"movielens-100k": "ml-100k", "movielens-1m": "ml-1m", "movielens-latest-small": "ml-latest-small"}

#: The Amazon Reviews 2023 categories (amazon-reviews-2023.github.io).
AMAZON_CATEGORIES = (
    "All_Beauty", "Amazon_Fashion", "Appliances", "Arts_Crafts_and_Sewing", "Automotive", "Baby_Products",
    "Beauty_and_Personal_Care", "Books", "CDs_and_Vinyl", "Cell_Phones_and_Accessories",
    "Clothing_Shoes_and_Jewelry", "Digital_Music", "Electronics", "Gift_Cards", "Grocery_and_Gourmet_Food",
    "Handmade_Products", "Health_and_Household", "Health_and_Personal_Care", "Home_and_Kitchen",
    "Industrial_and_Scientific", "Kindle_Store", "Magazine_Subscriptions", "Movies_and_TV",
    "Musical_Instruments", "Office_Products", "Patio_Lawn_and_Garden", "Pet_Supplies", "Software",
    "Sports_and_Outdoors", "Subscription_Boxes", "Tools_and_Home_Improvement", "Toys_and_Games",
    "Unknown", "Video_Games",
)

#: Pinned sha256 per downloaded file name. Empty: we pin nothing we have not verified ourselves.
KNOWN_SHA256: dict[str, str] = {}


class DownloadError(DataError):
    """A download failed (HTTP error, no network, truncated or corrupted file)."""


@dataclass(frozen=True)
class Remote:
    """One file to download: its path on the host and its name in the cache."""

    url_path: str
    filename: str


@dataclass(frozen=True)
class DatasetSpec:
    """A fetchable dataset: where it comes from, where it goes, and how ``complement init`` reads it."""

    name: str
    kind: str  # the ``complement init --dataset`` kind
    host: str
    folder: str  # cache sub-folder
    remotes: tuple[Remote, ...]
    extract: str | None = None  # for a zip: the folder name it is extracted to


@dataclass
class Fetched:
    """Result of :func:`fetch`: the path for ``complement init --path`` and what was downloaded."""

    name: str
    kind: str
    path: Path
    downloaded: list[Path] = field(default_factory=list)

    @property
    def from_cache(self) -> bool:
        return not self.downloaded


def dataset_names() -> list[str]:
    """Every name :func:`resolve` accepts (Amazon as ``amazon-2023:CATEGORY``)."""
    return [*MOVIELENS, f"{AMAZON_PREFIX}CATEGORY"]


def resolve(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` of a dataset name, or a :class:`DataError` listing the names."""
    key = (name or "").strip()
    if key.lower() in MOVIELENS:
        stem = MOVIELENS[key.lower()]
        remote = Remote(f"/datasets/movielens/{stem}.zip", f"{stem}.zip")
        return DatasetSpec(key.lower(), "movielens", GROUPLENS, key.lower(), (remote,), extract=stem)
    if key.lower().startswith(AMAZON_PREFIX):
        category = _amazon_category(key[len(AMAZON_PREFIX):])
        raw = "/mcauley_group/data/amazon_2023/raw"
        remotes = (
            Remote(f"{raw}/review_categories/{category}.jsonl.gz", f"{category}.jsonl.gz"),
            Remote(f"{raw}/meta_categories/meta_{category}.jsonl.gz", f"meta_{category}.jsonl.gz"),
        )
        return DatasetSpec(f"{AMAZON_PREFIX}{category}", "amazon2023", AMAZON_2023, f"amazon-2023/{category}", remotes)
    raise DataError(unknown_name("dataset", key, [*MOVIELENS, AMAZON_PREFIX + "CATEGORY"]))


def _amazon_category(text: str) -> str:
    by_lower = {c.lower(): c for c in AMAZON_CATEGORIES}
    category = by_lower.get(text.strip().lower())
    if category is None:
        raise DataError(unknown_name("Amazon Reviews 2023 category", text, AMAZON_CATEGORIES))
    return category


def default_cache_dir() -> Path:
    """``$COMPLEMENT_CACHE`` or ``~/.cache/complement/datasets``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_CACHE).expanduser()


def fetch(name: str, *, cache_dir: str | os.PathLike | None = None, base_url: str | None = None,
          force: bool = False, timeout: float = TIMEOUT_S) -> Fetched:
    """Download (or find in the cache) dataset ``name`` and return the path to ingest.

    ``base_url`` replaces the scheme and host (``http://127.0.0.1:8000`` or a mirror with a path
    prefix); the file paths on the host stay those of the original. ``force`` downloads and
    extracts again even when the cache holds a verified copy.
    """
    spec = resolve(name)
    folder = (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()).absolute() / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    host = (base_url or spec.host).rstrip("/")
    downloaded = []
    for remote in spec.remotes:
        path = folder / remote.filename
        if force or not cached_copy_ok(path):
            download(host + remote.url_path, path, expected_sha256=KNOWN_SHA256.get(remote.filename), timeout=timeout)
            downloaded.append(path)
    if spec.extract is None:
        return Fetched(spec.name, spec.kind, folder, downloaded)
    target = folder / spec.extract
    if downloaded or not target.is_dir():
        extract_zip(folder / spec.remotes[0].filename, target)
    return Fetched(spec.name, spec.kind, _dataset_root(target), downloaded)


# ---- download and verify ----------------------------------------------------------------------
def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_copy_ok(path: Path) -> bool:
    """True when ``path`` and its ``.sha256`` sidecar exist and agree. A file that disagrees with its
    sidecar is removed and raises :class:`DownloadError`; a file without a sidecar counts as absent."""
    check = sidecar(path)
    if not (path.is_file() and check.is_file()):
        return False
    recorded = check.read_text(encoding="utf-8").split()
    expected = recorded[0].lower() if recorded else ""
    actual = sha256_of(path)
    if actual != expected:
        path.unlink()
        check.unlink()
        raise DownloadError(
            f"checksum mismatch for cached {path}: sha256 {actual}, expected {expected or '(empty sidecar)'}; "
            "the file was removed, run the command again to download it"
        )
    return True


def download(url: str, path: Path, *, expected_sha256: str | None = None, timeout: float = TIMEOUT_S) -> str:
    """Stream ``url`` into ``path`` (via a ``.part`` file beside it) and write the sha256 sidecar.

    Checks the byte count against ``Content-Length`` and, when given, the sha256 against
    ``expected_sha256``. Returns the sha256. Any failure leaves no file under ``path``."""
    from ..progress import progress

    digest = hashlib.sha256()
    received = 0
    try:
        with atomic_path(path, suffix=".part") as part:  # renamed onto path only if every check passes
            with open(part, "wb") as out:
                request = urllib.request.Request(url, headers={"User-Agent": "complement-fetch"})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    with progress(*_download_columns()) as bar:
                        task = bar.add_task(f"download {path.name}", total=total)
                        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            received += len(chunk)
                            bar.update(task, advance=len(chunk))
            if total is not None and received != total:
                raise DownloadError(f"could not download {url}: got {received} of {total} bytes (connection cut?)")
            actual = digest.hexdigest()
            if expected_sha256 and actual != expected_sha256.lower():
                raise DownloadError(
                    f"checksum mismatch for {url}: sha256 {actual}, expected {expected_sha256}; the download was removed"
                )
        write_text(f"{actual}  {path.name}\n", sidecar(path))
        return actual
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"could not download {url}: {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, truncated chunked bodies
        raise DownloadError(f"could not download {url}: {exc or type(exc).__name__}") from None


def _download_columns():
    from rich.progress import DownloadColumn, TransferSpeedColumn

    return DownloadColumn(), TransferSpeedColumn()


# ---- extract ----------------------------------------------------------------------------------
def extract_zip(archive: Path, target: Path) -> Path:
    """Extract ``archive`` so that ``target`` holds its content, atomically.

    A zip whose members all sit in one top folder (GroupLens: ``ml-100k/...``) has that folder
    renamed to ``target``; otherwise the whole extraction is. Members with absolute paths or ``..``
    are refused. An existing ``target`` is replaced only once the new one is complete."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extract", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zipped:
                for member in zipped.namelist():
                    parts = PurePosixPath(member.replace("\\", "/")).parts
                    if member.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", member):
                        raise DataError(f"{archive}: refusing unsafe member path '{member}'")
                zipped.extractall(staging)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{archive}: not a valid zip ({exc}); run again with --force to download it again") from None
        entries = [p for p in staging.iterdir() if p.name != "__MACOSX"]
        content = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(content, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _dataset_root(target: Path) -> Path:
    """``target``, or its only sub-folder when it holds nothing else (a zip nested one level deeper)."""
    entries = list(target.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target


__all__ = [
    "AMAZON_CATEGORIES",
    "KNOWN_SHA256",
    "MOVIELENS",
    "DatasetSpec",
    "DownloadError",
    "Fetched",
    "Remote",
    "cached_copy_ok",
    "dataset_names",
    "default_cache_dir",
    "download",
    "extract_zip",
    "fetch",
    "resolve",
]
