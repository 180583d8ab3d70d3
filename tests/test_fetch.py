"""``complement fetch`` against a local HTTP server on 127.0.0.1 serving archives built here.
No test touches the network."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import run_cli

from complement.cli import app as cli_app
from complement.cli import fetch as fetch_cli
from complement.cli.app import main
from complement.data import fetch as fetch_lib
from complement.workspace import Workspace

if not any(command.name == "fetch" for command in cli_app.app.registered_commands):
    fetch_cli.register(cli_app.app)  # until the integrator wires cli/fetch.py into cli/app.py

ML100K_PATH = "/datasets/movielens/ml-100k.zip"
AMAZON_RAW = "/mcauley_group/data/amazon_2023/raw"


class FixtureServer:
    """Serves ``files`` (URL path -> bytes); counts requests per path; ``truncate`` paths announce
    more bytes than they send."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.no_length: set[str] = set()  # paths sent without Content-Length (the body ends at close)
        self.redirects: dict[str, str] = {}  # path -> Location of a 302
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path not in server.no_length:
                    self.send_header("Content-Length", str(len(body) + (100 if self.path in server.truncate else 0)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def ml100k_zip() -> bytes:
    """An ml-100k-shaped zip: 4 users x 5 items, every user rated every item (u.data + u.item)."""
    data = "".join(f"{u}\t{i}\t{1 + (u + i) % 5}\t{880000000 + 10 * u + i}\n" for u in range(1, 5) for i in range(1, 6))
    flags = "|".join(["0"] * 18 + ["1"])  # 19 genre flags: Western
    item = "".join(f"{i}|Movie {i} (1995)|01-Jan-1995||http://x/{i}|{flags}\n" for i in range(1, 6))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-100k/u.data", data)
        archive.writestr("ml-100k/u.item", item.encode("latin-1"))
    return buffer.getvalue()


@pytest.fixture
def server(monkeypatch):
    """The fixture server with ml-100k.zip, whose sha256 is pinned for the test."""
    with FixtureServer() as running:
        running.files[ML100K_PATH] = ml100k_zip()
        monkeypatch.setitem(
            fetch_lib.KNOWN_SHA256, "ml-100k.zip", hashlib.sha256(running.files[ML100K_PATH]).hexdigest()
        )
        yield running


def fetch(capsys, *args):
    """Run ``complement fetch`` and return (exit status, stdout, stderr)."""
    return run_cli(capsys, "fetch", *args)


def test_fetch_downloads_extracts_and_prints_a_path_init_can_read(server, tmp_path, capsys):
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path / "cache"), "--base-url", server.url)
    assert status == 0, err
    path = Path(out.strip())
    assert path == tmp_path / "cache" / "movielens-100k" / "ml-100k"
    assert sorted(p.name for p in path.iterdir()) == ["u.data", "u.item"]
    archive = tmp_path / "cache" / "movielens-100k" / "ml-100k.zip"
    digest = hashlib.sha256(server.files[ML100K_PATH]).hexdigest()
    assert (archive.parent / "ml-100k.zip.sha256").read_text() == f"{digest}  ml-100k.zip\n"
    assert not list(archive.parent.glob(".*"))  # no .part or staging folder left behind
    main(["init", str(tmp_path / "ws"), "--dataset", "movielens", "--path", str(path)])
    capsys.readouterr()
    workspace = Workspace(tmp_path / "ws")
    assert workspace.read_table("items").num_rows == 5
    assert workspace.read_table("interactions").num_rows == 20


def test_second_fetch_uses_the_cache_without_a_request(server, tmp_path, capsys):
    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    first = fetch(capsys, *args)
    second = fetch(capsys, *args)
    assert server.requests == [ML100K_PATH]
    assert second[:2] == first[:2] == (0, first[1])


def test_force_downloads_again(server, tmp_path, capsys):
    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    fetch(capsys, *args)
    status, _, _ = fetch(capsys, *args, "--force")
    assert status == 0
    assert server.requests == [ML100K_PATH, ML100K_PATH]


def test_cache_dir_defaults_to_the_environment_variable(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_CACHE", str(tmp_path / "env-cache"))
    status, out, _ = fetch(capsys, "movielens-100k", "--base-url", server.url)
    assert status == 0
    assert Path(out.strip()) == tmp_path / "env-cache" / "movielens-100k" / "ml-100k"


def test_printed_path_is_absolute_for_a_relative_cache_dir(server, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = fetch(capsys, "movielens-100k", "--cache-dir", "cache", "--base-url", server.url)
    assert status == 0
    assert out == f"{tmp_path / 'cache' / 'movielens-100k' / 'ml-100k'}\n"


def test_corrupted_cached_archive_is_removed_with_one_clear_line(server, tmp_path, capsys):
    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    fetch(capsys, *args)
    archive = tmp_path / "movielens-100k" / "ml-100k.zip"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    status, out, err = fetch(capsys, *args)
    assert (status, out) == (1, "")
    assert err.startswith(f"Error: checksum mismatch for cached {archive}: sha256 ")
    assert err.endswith("the file was removed, run the command again to download it\n")
    assert err.count("\n") == 1
    assert not archive.exists()
    assert fetch(capsys, *args)[0] == 0  # and the next call downloads it again
    assert server.requests == [ML100K_PATH, ML100K_PATH]


def test_download_not_matching_a_pinned_checksum_leaves_no_file(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(fetch_lib.KNOWN_SHA256, "ml-100k.zip", "0" * 64)
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert (status, out) == (1, "")
    assert err.startswith(f"Error: checksum mismatch for {server.url}{ML100K_PATH}: sha256 ")
    assert err.endswith(f"expected {'0' * 64}; the download was removed\n")
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too


def test_http_404_is_one_line_and_leaves_nothing(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(fetch_lib.KNOWN_SHA256, "ml-1m.zip", "0" * 64)
    status, out, err = fetch(capsys, "movielens-1m", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert (status, out) == (1, "")
    assert err == f"Error: could not download {server.url}/datasets/movielens/ml-1m.zip: HTTP 404 Not Found\n"
    assert not (tmp_path / "movielens-1m").exists()  # the dataset folder this fetch made is removed too


def test_truncated_download_is_refused_and_leaves_no_partial_file(server, tmp_path, capsys):
    server.truncate.add(ML100K_PATH)
    size = len(server.files[ML100K_PATH])
    status, _, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert status == 1
    assert err == (
        f"Error: could not download {server.url}{ML100K_PATH}: got {size} of {size + 100} bytes (connection cut?)\n"
    )
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too


def test_no_server_is_one_line(tmp_path, capsys):
    with FixtureServer() as stopped:
        url = stopped.url
    status, _, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", url, "--no-verify")
    assert status == 1
    assert err.startswith(f"Error: could not download {url}{ML100K_PATH}: ")
    assert err.count("\n") == 1


def test_unknown_dataset_name_suggests_the_closest(tmp_path, capsys):
    status, _, err = fetch(capsys, "movielens-100", "--cache-dir", str(tmp_path))
    assert status == 1
    assert err == (
        "Error: unknown dataset 'movielens-100' — did you mean 'movielens-100k'? (choose from: "
        "amazon-2023:CATEGORY, movielens-100k, movielens-1m, movielens-latest-small)\n"
    )


def test_unknown_amazon_category_suggests_the_closest(tmp_path, capsys):
    status, _, err = fetch(capsys, "amazon-2023:Video_Game", "--cache-dir", str(tmp_path))
    assert status == 1
    assert err.startswith("Error: unknown Amazon Reviews 2023 category 'Video_Game' — did you mean 'Video_Games'?")


def test_amazon_category_fetches_reviews_and_meta_into_one_folder_init_can_read(tmp_path, capsys):
    reviews = "".join(
        json.dumps({"user_id": f"U{u}", "parent_asin": f"B{i}", "rating": 5.0, "timestamp": 1600000000000 + u * 10 + i})
        + "\n"
        for u in range(4)
        for i in range(5)
    )
    meta = "".join(json.dumps({"parent_asin": f"B{i}", "title": f"Game {i}"}) + "\n" for i in range(5))
    with FixtureServer() as server:
        server.files[f"{AMAZON_RAW}/review_categories/Video_Games.jsonl.gz"] = gzip.compress(reviews.encode())
        server.files[f"{AMAZON_RAW}/meta_categories/meta_Video_Games.jsonl.gz"] = gzip.compress(meta.encode())
        status, out, err = fetch(
            capsys, "amazon-2023:video_games", "--cache-dir", str(tmp_path), "--base-url", server.url, "--no-verify"
        )
    assert status == 0, err
    path = Path(out.strip())
    assert path == tmp_path / "amazon-2023" / "Video_Games"
    main(["init", str(tmp_path / "ws"), "--dataset", "amazon2023", "--path", str(path)])
    capsys.readouterr()
    items = Workspace(tmp_path / "ws").read_table("items")
    assert sorted(items["title"].to_pylist()) == [f"Game {i}" for i in range(5)]


def test_zip_with_a_parent_directory_member_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escape.txt", "x")
    with pytest.raises(fetch_lib.DataError, match=r"refusing unsafe member path '\.\./escape\.txt'"):
        fetch_lib.extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path.parent / "escape.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]


def test_stderr_says_how_to_ingest_and_stdout_holds_only_the_path(server, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COMPLEMENT_QUIET")
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    path = tmp_path / "movielens-100k" / "ml-100k"
    assert (status, out) == (0, f"{path}\n")
    assert f"next: complement init DIR --dataset movielens --path {path}" in err


def test_interrupted_download_leaves_no_file_under_any_name(server, tmp_path, monkeypatch):
    real_open = fetch_lib._open

    class InterruptedResponse:
        def __init__(self, response):
            self.response, self.headers, self.reads = response, response.headers, 0

        def read(self, size):
            self.reads += 1
            if self.reads > 1:
                raise KeyboardInterrupt
            return self.response.read(10)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

    monkeypatch.setattr(fetch_lib, "_open", lambda *a, **k: InterruptedResponse(real_open(*a, **k)))
    with pytest.raises(KeyboardInterrupt):
        fetch_lib.fetch("movielens-100k", cache_dir=tmp_path, base_url=server.url)
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too


# ---- integrity: pins, redirects, size caps, unpacking limits, the extraction manifest ---------------
def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_dataset_without_a_pinned_sha256_is_refused_before_any_request(server, tmp_path, capsys, monkeypatch):
    monkeypatch.delitem(fetch_lib.KNOWN_SHA256, "ml-100k.zip")
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path / "cache"), "--base-url", server.url)
    assert (status, out) == (1, "")
    assert err == (
        "Error: dataset 'movielens-100k' has no pinned sha256 for ml-100k.zip: refusing to download unverified data; "
        "pass --no-verify to fetch it anyway (its sha256 is then recorded on first download and checked after)\n"
    )
    assert server.requests == [] and not (tmp_path / "cache").exists()


def test_every_built_in_dataset_fails_closed_while_it_has_no_pin(tmp_path):
    for name in [*fetch_lib.MOVIELENS, "amazon-2023:Video_Games"]:
        spec = fetch_lib.resolve(name)
        if all(remote.sha256 for remote in spec.remotes):
            continue  # pinned: verified on download instead
        with pytest.raises(fetch_lib.DownloadError, match="has no pinned sha256"):
            fetch_lib.fetch(name, cache_dir=tmp_path, base_url="http://127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def test_no_verify_fetches_an_unpinned_dataset_and_records_its_checksum(server, tmp_path, capsys, monkeypatch):
    monkeypatch.delitem(fetch_lib.KNOWN_SHA256, "ml-100k.zip")
    status, _, err = fetch(
        capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url, "--no-verify"
    )
    assert status == 0, err
    digest = hashlib.sha256(server.files[ML100K_PATH]).hexdigest()
    assert (tmp_path / "movielens-100k" / "ml-100k.zip.sha256").read_text() == f"{digest}  ml-100k.zip\n"


@pytest.mark.parametrize("base_url", ["file:///etc", "ftp://127.0.0.1/x", "127.0.0.1:8000", "http://"])
def test_base_url_must_be_http_with_a_host(base_url, tmp_path, capsys):
    status, out, err = fetch(
        capsys, "movielens-100k", "--cache-dir", str(tmp_path / "c"), "--base-url", base_url, "--no-verify"
    )
    assert (status, out) == (1, "")
    assert err == f"Error: --base-url must be an http:// or https:// URL with a host, not '{base_url}'\n"
    assert not (tmp_path / "c").exists()


def test_a_redirect_to_another_host_is_refused_unless_allowed(server, tmp_path, capsys):
    port = server.url.rsplit(":", 1)[1]
    server.files["/elsewhere.zip"] = server.files[ML100K_PATH]
    server.redirects[ML100K_PATH] = f"http://localhost:{port}/elsewhere.zip"
    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    status, out, err = fetch(capsys, *args)
    assert (status, out) == (1, "")
    assert err == (
        f"Error: refusing redirect from {server.url}{ML100K_PATH} to http://localhost:{port}/elsewhere.zip "
        "(it leaves https or changes host); pass --allow-redirect to follow it\n"
    )
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too
    status, out, err = fetch(capsys, *args, "--allow-redirect")
    assert status == 0, err
    assert server.requests == [ML100K_PATH, ML100K_PATH, "/elsewhere.zip"]


def test_a_redirect_on_the_same_host_is_followed(server, tmp_path, capsys):
    server.files["/moved.zip"] = server.files[ML100K_PATH]
    server.redirects[ML100K_PATH] = f"{server.url}/moved.zip"
    status, _, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert status == 0, err


@pytest.mark.parametrize(
    ("old", "new", "allow", "refused"),
    [
        ("https://a.org/x.zip", "http://a.org/x.zip", False, True),  # leaves https
        ("https://a.org/x.zip", "https://b.org/x.zip", False, True),  # changes host
        ("https://a.org/x.zip", "https://a.org/y.zip", False, False),
        ("https://a.org/x.zip", "http://b.org/x.zip", True, False),
        ("https://a.org/x.zip", "file:///etc/passwd", True, True),  # never a non-http scheme
    ],
)
def test_redirect_rules(old, new, allow, refused):
    import urllib.request

    guard = fetch_lib._RedirectGuard(allow)
    request = urllib.request.Request(old)
    if refused:
        with pytest.raises(fetch_lib.DownloadError, match="refusing redirect"):
            guard.redirect_request(request, None, 302, "Found", {}, new)
    else:
        assert guard.redirect_request(request, None, 302, "Found", {}, new).full_url == new


def test_a_download_without_content_length_is_capped(server, tmp_path, capsys, monkeypatch):
    server.no_length.add(ML100K_PATH)
    size = len(server.files[ML100K_PATH])
    monkeypatch.setattr(fetch_lib, "MAX_DOWNLOAD_BYTES", size - 1)
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert (status, out) == (1, "")
    assert err == (
        f"Error: could not download {server.url}{ML100K_PATH}: more than the {size - 1:,} bytes allowed "
        "without a Content-Length\n"
    )
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too
    monkeypatch.setattr(fetch_lib, "MAX_DOWNLOAD_BYTES", size)  # exactly the cap is fine
    assert fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)[0] == 0


def test_an_announced_length_over_the_cap_is_refused_before_reading(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fetch_lib, "MAX_DOWNLOAD_BYTES", 100)
    size = len(server.files[ML100K_PATH])
    status, _, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert status == 1
    assert (
        err
        == f"Error: refusing to download {server.url}{ML100K_PATH}: it announces {size:,} bytes, over the cap of 100\n"
    )
    assert not (tmp_path / "movielens-100k").exists()  # the dataset folder this fetch made is removed too


def test_a_zip_bomb_is_refused_and_leaves_no_extraction(server, tmp_path, capsys, monkeypatch):
    bomb = _zip({"ml-100k/u.data": b"\0" * (3 << 20)})  # 3 MiB of zeros: a few KB zipped
    assert len(bomb) < 50_000
    server.files[ML100K_PATH] = bomb
    monkeypatch.setitem(fetch_lib.KNOWN_SHA256, "ml-100k.zip", hashlib.sha256(bomb).hexdigest())
    monkeypatch.setattr(fetch_lib, "MAX_EXTRACT_BYTES", 1 << 20)
    status, out, err = fetch(capsys, "movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert (status, out) == (1, "")
    assert (
        err.startswith("Error: ") and f"refusing a zip that unpacks to {3 << 20:,} bytes (at most {1 << 20:,})" in err
    )
    assert err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "movielens-100k").iterdir()) == ["ml-100k.zip", "ml-100k.zip.sha256"]


def test_a_zip_that_unpacks_to_a_hundred_times_its_size_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(_zip({"d/zeros": b"\0" * (3 << 20)}))
    with pytest.raises(fetch_lib.DataError, match=r"refusing a zip that unpacks [\d,]+ times its size .*at most 100x"):
        fetch_lib.extract_zip(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]


def test_a_zip_of_too_many_files_is_refused(tmp_path):
    archive = tmp_path / "many.zip"
    archive.write_bytes(_zip({f"d/f{i}": b"x" for i in range(5)}))
    with pytest.raises(fetch_lib.DataError, match="refusing a zip of 5 files \\(at most 3\\)"):
        fetch_lib.extract_zip(archive, tmp_path / "out", max_members=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.zip"]


@pytest.mark.parametrize("member", ["/etc/evil", "d/../../evil", "C:/evil", "\\\\server\\evil"])
def test_zip_members_with_absolute_paths_or_parent_steps_are_refused(tmp_path, member):
    archive = tmp_path / "evil.zip"
    archive.write_bytes(_zip({"d/ok": b"x", member: b"x"}))
    with pytest.raises(fetch_lib.DataError, match="refusing unsafe member path"):
        fetch_lib.extract_zip(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]


def test_a_changed_extracted_file_is_caught_when_the_cache_is_reused_and_force_refetches(server, tmp_path, capsys):
    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    status, out, _ = fetch(capsys, *args)
    path = Path(out.strip())
    manifest = json.loads((path.parent / "ml-100k.manifest.json").read_text())["files"]
    assert manifest == {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in ("u.data", "u.item")}
    original = (path / "u.data").read_bytes()
    (path / "u.data").write_bytes(original.replace(b"\t5\t", b"\t1\t", 1))
    status, out, err = fetch(capsys, *args)
    assert (status, out) == (1, "")
    assert err == (
        f"Error: cached dataset {path} was modified since it was extracted (changed: u.data); "
        "run with --force to fetch it again\n"
    )
    (path / "extra.txt").write_text("x")
    (path / "u.data").write_bytes(original)
    assert "(added: extra.txt)" in fetch(capsys, *args)[2]
    status, out, err = fetch(capsys, *args, "--force")
    assert status == 0, err
    assert (path / "u.data").read_bytes() == original and not (path / "extra.txt").exists()
    assert fetch(capsys, *args)[0] == 0


def test_cache_checks_hash_with_the_catalogs_file_digest(server, tmp_path, capsys, monkeypatch):
    """One SHA-256 helper for the whole package: the cache checks go through ``catalog.file_digest``."""
    from complement import catalog

    assert not hasattr(fetch_lib, "sha256_of")
    hashed: list[str] = []

    def recording_digest(path: Path) -> str:
        hashed.append(Path(path).name)
        return catalog.file_digest(path)

    args = ("movielens-100k", "--cache-dir", str(tmp_path), "--base-url", server.url)
    assert fetch(capsys, *args)[0] == 0
    monkeypatch.setattr(fetch_lib, "file_digest", recording_digest)
    assert fetch(capsys, *args)[0] == 0  # the reuse re-hashes the archive and the extracted files
    assert sorted(hashed) == ["ml-100k.zip", "u.data", "u.item"]
