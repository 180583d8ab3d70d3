"""Download public datasets into a local cache and say where they are (``complement fetch``).

Datasets: ``movielens-100k``, ``movielens-1m``, ``movielens-latest-small`` (GroupLens zips, extracted)
and ``amazon-2023:CATEGORY`` (the reviews and meta JSON Lines files of one Amazon Reviews 2023
category, kept gzipped: the ``amazon2023`` loader reads ``.jsonl.gz``).

Cache: ``--cache-dir``, else ``$COMPLEMENT_CACHE``, else ``~/.cache/complement/datasets``.

Integrity (fail closed): every file of a built-in dataset needs a pinned sha256 in
:data:`KNOWN_SHA256`; a dataset without one is refused before any request unless ``verify=False``
(``--no-verify``), which falls back to trust on first use. A download's size is checked against its
``Content-Length`` (and capped at :data:`MAX_DOWNLOAD_BYTES` whether or not there is one), its sha256
against the pin, and the sha256 is written beside it as ``NAME.sha256`` (``sha256sum`` format); every
later call re-hashes the cached file. Redirects that leave https or change host are refused unless
``allow_redirect``; ``--base-url`` must be http(s). A zip is checked member by member before anything
is extracted (no absolute paths or ``..``, at most :data:`MAX_MEMBERS` files and
:data:`MAX_EXTRACT_BYTES` bytes or :data:`MAX_RATIO` times its own size by the declared sizes, and
the bytes are counted again while writing),
and the extracted files' sha256 are recorded in ``FOLDER.manifest.json`` beside the extraction and
re-checked whenever the cache is reused.

Atomicity: a download streams into a ``.part`` file beside its final name and is renamed only after
it is complete and verified; a zip is extracted into a temporary folder beside its target folder
and renamed into place. An interrupted call leaves nothing under a final name.
Only the standard library's ``urllib`` touches the network.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ..atomic import atomic_path, write_text
from ..catalog import file_digest
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
    "All_Beauty",
    "Amazon_Fashion",
    "Appliances",
    "Arts_Crafts_and_Sewing",
    "Automotive",
    "Baby_Products",
    "Beauty_and_Personal_Care",
    "Books",
    "CDs_and_Vinyl",
    "Cell_Phones_and_Accessories",
    "Clothing_Shoes_and_Jewelry",
    "Digital_Music",
    "Electronics",
    "Gift_Cards",
    "Grocery_and_Gourmet_Food",
    "Handmade_Products",
    "Health_and_Household",
    "Health_and_Personal_Care",
    "Home_and_Kitchen",
    "Industrial_and_Scientific",
    "Kindle_Store",
    "Magazine_Subscriptions",
    "Movies_and_TV",
    "Musical_Instruments",
    "Office_Products",
    "Patio_Lawn_and_Garden",
    "Pet_Supplies",
    "Software",
    "Sports_and_Outdoors",
    "Subscription_Boxes",
    "Tools_and_Home_Improvement",
    "Toys_and_Games",
    "Unknown",
    "Video_Games",
)

#: Pinned sha256 per downloaded file name. A file must be pinned here to be fetched with verification
#: on (the default). None are pinned yet: no authoritative sha256 of these archives could be obtained
#: (GroupLens publishes MD5 only), and a pin we have not checked against the real file is worse than
#: none. Until one is added, ``complement fetch`` refuses these datasets unless --no-verify is given.
KNOWN_SHA256: dict[str, str] = {}

#: Caps on what one fetch may download and unpack (a 300 KB zip can expand to gigabytes).
MAX_DOWNLOAD_BYTES = 1 << 30  # per MovieLens archive; Amazon categories use MAX_AMAZON_BYTES
MAX_AMAZON_BYTES = 64 << 30
MAX_EXTRACT_BYTES = 256 << 20  # ml-1m, the largest built-in zip, unpacks to about 25 MB
MAX_MEMBERS = 1000
MAX_RATIO = 100  # unpacked / packed: text compresses 3-5x; a zip bomb 1000x and more


class DownloadError(DataError):
    """A download failed (HTTP error, no network, truncated or corrupted file)."""


@dataclass(frozen=True)
class Remote:
    """One file to download: its path on the host and its name in the cache."""

    url_path: str
    filename: str
    sha256: str | None  # the pinned checksum; None: not pinned, so only --no-verify fetches it
    max_bytes: int = MAX_DOWNLOAD_BYTES


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
        remote = Remote(
            f"/datasets/movielens/{stem}.zip", f"{stem}.zip", KNOWN_SHA256.get(f"{stem}.zip"), MAX_DOWNLOAD_BYTES
        )
        return DatasetSpec(key.lower(), "movielens", GROUPLENS, key.lower(), (remote,), extract=stem)
    if key.lower().startswith(AMAZON_PREFIX):
        category = _amazon_category(key[len(AMAZON_PREFIX) :])
        raw = "/mcauley_group/data/amazon_2023/raw"
        names = (f"review_categories/{category}.jsonl.gz", f"meta_categories/meta_{category}.jsonl.gz")
        remotes = tuple(
            Remote(f"{raw}/{name}", name.split("/")[1], KNOWN_SHA256.get(name.split("/")[1]), MAX_AMAZON_BYTES)
            for name in names
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


def fetch(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    force: bool = False,
    timeout: float = TIMEOUT_S,
    verify: bool = True,
    allow_redirect: bool = False,
) -> Fetched:
    """Download (or find in the cache) dataset ``name`` and return the path to ingest.

    ``base_url`` replaces the scheme and host (``http://127.0.0.1:8000`` or a mirror with a path
    prefix); the file paths on the host stay those of the original. ``force`` downloads and
    extracts again even when the cache holds a verified copy. ``verify=False`` fetches files that
    have no pinned sha256 (trust on first use); ``allow_redirect`` follows redirects to another host
    or from https to http.
    """
    spec = resolve(name)
    host = check_base_url(base_url) if base_url else spec.host
    unpinned = [r.filename for r in spec.remotes if not r.sha256]
    if verify and unpinned:
        raise DownloadError(
            f"dataset '{spec.name}' has no pinned sha256 for {', '.join(unpinned)}: refusing to download unverified "
            "data; pass --no-verify to fetch it anyway "
            "(its sha256 is then recorded on first download and checked after)"
        )
    folder = (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()).absolute() / spec.folder
    made = _first_missing(folder)  # the folders this call makes, removed again if a download fails
    folder.mkdir(parents=True, exist_ok=True)
    downloaded = []
    try:
        for remote in spec.remotes:
            path = folder / remote.filename
            if force or not cached_copy_ok(path, remote.sha256):
                download(
                    host + remote.url_path,
                    path,
                    expected_sha256=remote.sha256,
                    timeout=timeout,
                    max_bytes=remote.max_bytes,
                    allow_redirect=allow_redirect,
                )
                downloaded.append(path)
    except BaseException:  # no network, an HTTP error, a bad checksum, Ctrl-C: leave no folder behind that we made
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    if spec.extract is None:
        return Fetched(spec.name, spec.kind, folder, downloaded)
    target = folder / spec.extract
    if downloaded or not target.is_dir() or not manifest_path(target).is_file():
        extract_zip(folder / spec.remotes[0].filename, target)
        write_manifest(target)
    else:
        check_manifest(target)
    return Fetched(spec.name, spec.kind, _dataset_root(target), downloaded)


def _first_missing(path: Path) -> Path | None:
    """The outermost of ``path`` and its parents that does not exist yet (None when ``path`` exists)."""
    missing = None
    while not path.exists() and path != path.parent:
        missing, path = path, path.parent
    return missing


def check_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash, when it is an http(s) URL with a host."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"--base-url must be an http:// or https:// URL with a host, not '{base_url}'")
    return base_url.rstrip("/")


# ---- download and verify ----------------------------------------------------------------------
def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def cached_copy_ok(path: Path, pinned: str | None = None) -> bool:
    """True when ``path`` and its ``.sha256`` sidecar exist and agree (and agree with ``pinned``). A
    file that disagrees is removed and raises :class:`DownloadError`; a file without a sidecar counts
    as absent."""
    check = sidecar(path)
    if not (path.is_file() and check.is_file()):
        return False
    recorded = check.read_text(encoding="utf-8").split()
    expected = (pinned or (recorded[0] if recorded else "")).lower()
    actual = file_digest(path)
    if actual != expected:
        path.unlink()
        check.unlink()
        raise DownloadError(
            f"checksum mismatch for cached {path}: sha256 {actual}, expected {expected or '(empty sidecar)'}; "
            "the file was removed, run the command again to download it"
        )
    return True


class _RedirectGuard(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only on the same host and never from https to anything else (nor ever to a
    scheme other than http(s)), unless ``allow`` — then any http(s) target is followed."""

    def __init__(self, allow: bool):
        self.allow = allow

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if new.scheme not in ("http", "https"):
            raise DownloadError(f"refusing redirect from {req.full_url} to {newurl}: not http(s)")
        leaves = (old.scheme == "https" and new.scheme != "https") or new.hostname != old.hostname
        if leaves and not self.allow:
            raise DownloadError(
                f"refusing redirect from {req.full_url} to {newurl} (it leaves https or changes host); "
                "pass --allow-redirect to follow it"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open(request: urllib.request.Request, timeout: float, allow_redirect: bool):
    return urllib.request.build_opener(_RedirectGuard(allow_redirect)).open(request, timeout=timeout)


def download(
    url: str,
    path: Path,
    *,
    expected_sha256: str | None = None,
    timeout: float = TIMEOUT_S,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    allow_redirect: bool = False,
) -> str:
    """Stream ``url`` into ``path`` (via a ``.part`` file beside it) and write the sha256 sidecar.

    Checks the byte count against ``Content-Length`` and ``max_bytes`` (stopping as soon as either is
    exceeded, so a server that sends no length cannot fill the disk) and, when given, the sha256
    against ``expected_sha256``. Returns the sha256. Any failure leaves no file under ``path``."""
    from ..progress import progress

    digest = hashlib.sha256()
    received = 0
    try:
        with atomic_path(path, suffix=".part") as part:  # renamed onto path only if every check passes
            with open(part, "wb") as out:
                request = urllib.request.Request(url, headers={"User-Agent": "complement-fetch"})
                with _open(request, timeout, allow_redirect) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    if total is not None and total > max_bytes:
                        raise DownloadError(
                            f"refusing to download {url}: it announces {total:,} bytes, over the cap of {max_bytes:,}"
                        )
                    limit = max_bytes if total is None else total
                    with progress(*_download_columns()) as bar:
                        task = bar.add_task(f"download {path.name}", total=total)
                        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                            received += len(chunk)
                            if received > limit:
                                raise DownloadError(
                                    f"could not download {url}: more than the {limit:,} bytes "
                                    + ("it announced" if total is not None else "allowed without a Content-Length")
                                )
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(task, advance=len(chunk))
            if total is not None and received != total:
                raise DownloadError(f"could not download {url}: got {received} of {total} bytes (connection cut?)")
            actual = digest.hexdigest()
            if expected_sha256 and actual != expected_sha256.lower():
                raise DownloadError(
                    f"checksum mismatch for {url}: sha256 {actual}, expected {expected_sha256}; "
                    "the download was removed"
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
def extract_zip(archive: Path, target: Path, *, max_bytes: int | None = None, max_members: int | None = None) -> Path:
    """Extract ``archive`` so that ``target`` holds its content, atomically.

    A zip whose members all sit in one top folder (GroupLens: ``ml-100k/...``) has that folder
    renamed to ``target``; otherwise the whole extraction is. Members with absolute paths or ``..``
    are refused, and so is a zip of more than ``max_members`` files or ``max_bytes`` bytes unpacked
    (declared sizes are checked first; the bytes written are counted too, in case a zip reader
    ever trusts a lying header less strictly than CPython's does). An existing ``target`` is replaced only once the
    new one is complete."""
    max_bytes = MAX_EXTRACT_BYTES if max_bytes is None else max_bytes
    max_members = MAX_MEMBERS if max_members is None else max_members
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extract", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zipped:
                members = zipped.infolist()
                for member in members:
                    name = member.filename
                    parts = PurePosixPath(name.replace("\\", "/")).parts
                    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                        raise DataError(f"{archive}: refusing unsafe member path '{name}'")
                files = [m for m in members if not m.is_dir()]
                if len(files) > max_members:
                    raise DataError(f"{archive}: refusing a zip of {len(files):,} files (at most {max_members:,})")
                declared = sum(m.file_size for m in files)
                if declared > max_bytes:
                    raise DataError(
                        f"{archive}: refusing a zip that unpacks to {declared:,} bytes (at most {max_bytes:,})"
                    )
                packed = max(1, archive.stat().st_size)
                if declared > MAX_RATIO * packed:
                    raise DataError(
                        f"{archive}: refusing a zip that unpacks {declared / packed:,.0f} times its size "
                        f"({declared:,} bytes from {packed:,}; at most {MAX_RATIO}x): a zip bomb?"
                    )
                _extract_capped(zipped, members, staging, archive, max_bytes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
            raise DataError(
                f"{archive}: not a valid zip ({exc}); run again with --force to download it again"
            ) from None
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


def _extract_capped(zipped: zipfile.ZipFile, members, staging: Path, archive: Path, max_bytes: int) -> None:
    written = 0
    for member in members:
        destination = staging.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zipped.open(member) as source, open(destination, "wb") as out:
            for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
                written += len(chunk)
                if written > max_bytes:
                    raise DataError(f"{archive}: refusing a zip that unpacks to more than {max_bytes:,} bytes")
                out.write(chunk)


# ---- the manifest of an extraction ------------------------------------------------------------
def manifest_path(target: Path) -> Path:
    """``FOLDER.manifest.json`` beside the extracted folder (outside it, so the dataset stays as shipped)."""
    return target.with_name(target.name + ".manifest.json")


def _hash_tree(target: Path) -> dict[str, str]:
    return {str(p.relative_to(target).as_posix()): file_digest(p) for p in sorted(target.rglob("*")) if p.is_file()}


def write_manifest(target: Path) -> None:
    """Record the sha256 of every extracted file."""
    write_text(json.dumps({"files": _hash_tree(target)}, indent=1, sort_keys=True) + "\n", manifest_path(target))


def check_manifest(target: Path) -> None:
    """Re-hash the extracted files; a changed, missing or added file is one clear error."""
    try:
        recorded = json.loads(manifest_path(target).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise DownloadError(
            f"{manifest_path(target)} is unreadable; run with --force to fetch the dataset again"
        ) from None
    actual = _hash_tree(target)
    changed = sorted(n for n in set(recorded) & set(actual) if recorded[n] != actual[n])
    missing = sorted(set(recorded) - set(actual))
    added = sorted(set(actual) - set(recorded))
    for what, names in (("changed", changed), ("missing", missing), ("added", added)):
        if names:
            raise DownloadError(
                f"cached dataset {target} was modified since it was extracted ({what}: {', '.join(names[:3])}"
                f"{' …' if len(names) > 3 else ''}); run with --force to fetch it again"
            )


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
    "check_manifest",
    "dataset_names",
    "default_cache_dir",
    "download",
    "extract_zip",
    "fetch",
    "resolve",
]
