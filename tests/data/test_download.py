"""The downloader against a local HTTP server: checksums, fallback, corrupted and cut-off files."""
from __future__ import annotations

import functools
import hashlib
import http.server
import importlib
import threading
from pathlib import Path

import pytest

from matgrad.data import MNIST, DownloadError, download
from tests.conftest import REAL_DATA_ROOTS, find_real_dataset, official_files
from tests.data.conftest import tiny_split

dl = importlib.import_module("matgrad.data.download")  # the module; `download` is the function


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; under /cut/ it promises more bytes than it sends, then hangs up."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/cut/"):
            body = b"\x1f\x8b" + b"x" * 100
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(folder) -> base URL of an HTTP server on 127.0.0.1 serving that folder."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.requests = []
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_site(tmp_path, monkeypatch):
    """A served folder with a tiny MNIST (train + test) in good/mnist/ and a corrupted copy in bad/mnist/;
    the checksum table patched to the tiny files' MD5s."""
    site = tmp_path / "site"
    good = site / "good" / "mnist"
    tiny_split(good, n=4, train=True)
    tiny_split(good, n=3, train=False)
    bad = site / "bad" / "mnist"
    bad.mkdir(parents=True)
    for f in good.iterdir():
        data = bytearray(f.read_bytes())
        data[-5] ^= 0xFF
        (bad / f.name).write_bytes(bytes(data))
    monkeypatch.setitem(dl.CHECKSUMS, "mnist", {f.name: _md5(f) for f in sorted(good.iterdir())})
    return site


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_checksum_table_matches_official_files(name):
    folder = find_real_dataset(name, REAL_DATA_ROOTS)
    if folder is None:
        pytest.skip(f"real {name} not found")
    assert {f.name: _md5(f) for f in official_files(folder, name)} == dl.CHECKSUMS[name]


def test_download_real_mnist(tmp_path, serve, mnist_dir):
    official_files(mnist_dir, "mnist")
    base = serve(mnist_dir)
    calls = []
    folder = download("mnist", root=tmp_path, mirrors=[base],
                      progress=lambda f, done, total: calls.append((f, done, total)))
    assert folder == tmp_path / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(dl.CHECKSUMS["mnist"])
    last = {f: (done, total) for f, done, total in calls}
    assert last["train-images-idx3-ubyte.gz"] == (9912422, 9912422)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 10000 and ds.labels[0] == 7


def test_download_tiny_and_load_from_cache(tiny_site, serve, monkeypatch):
    base = serve(tiny_site)
    monkeypatch.setenv("MATGRAD_MIRRORS", base + "good/{name}")  # no trailing slash: added
    folder = download("mnist")
    assert folder == dl.cache_dir() / "mnist"
    assert {f.name: _md5(f) for f in folder.iterdir()} == dl.CHECKSUMS["mnist"]
    assert len(MNIST()) == 4 and len(MNIST(train=False)) == 3  # found in the cache


def test_good_files_are_kept_and_bad_ones_replaced(tiny_site, serve, tmp_path):
    base = serve(tiny_site)
    folder = download("mnist", root=tmp_path / "root", mirrors=base + "good/{name}/")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    calls = []
    download("mnist", root=tmp_path / "root", mirrors=base + "good/{name}/",
             progress=lambda f, *_: calls.append(f))
    assert set(calls) == {"t10k-labels-idx1-ubyte.gz"}  # only the damaged file was fetched again
    assert _md5(folder / "t10k-labels-idx1-ubyte.gz") == dl.CHECKSUMS["mnist"]["t10k-labels-idx1-ubyte.gz"]


def test_corrupted_download_rejected_and_nothing_left(tiny_site, serve, tmp_path):
    base = serve(tiny_site)
    root = tmp_path / "root"
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        download("mnist", root=root, mirrors=[base + "bad/{name}/"])
    assert "bad/mnist/t10k-images-idx3-ubyte.gz" in str(e.value)  # the first file asked for
    assert _leftovers(root) == []  # no file, no .part, not even the empty mnist/ folder


def test_fallback_to_second_mirror(tiny_site, serve, tmp_path):
    base = serve(tiny_site)
    mirrors = [base + "missing/{name}/", base + "bad/{name}/", base + "cut/", base + "good/{name}/"]
    folder = download("mnist", root=tmp_path, mirrors=mirrors)
    assert {f.name: _md5(f) for f in folder.iterdir()} == dl.CHECKSUMS["mnist"]  # no .part files either


def test_all_mirrors_fail_lists_each(tiny_site, serve, tmp_path):
    base = serve(tiny_site)
    with pytest.raises(DownloadError) as e:
        download("mnist", root=tmp_path, mirrors=[base + "missing/", base + "cut/"], timeout=5)
    msg = str(e.value)
    assert "missing/t10k-images-idx3-ubyte.gz: HTTP 404" in msg
    assert "cut/t10k-images-idx3-ubyte.gz: the transfer stopped after 102 of 1102 bytes" in msg
    assert "--data DIR" in msg
    assert _leftovers(tmp_path / "mnist") == []


def test_unreachable_mirror_then_good(tiny_site, serve, tmp_path):
    base = serve(tiny_site)
    mirrors = ["http://127.0.0.1:9/", base + "good/{name}/"]  # port 9 (discard): connection refused
    folder = download("mnist", root=tmp_path, mirrors=mirrors, timeout=2)
    assert len(list(folder.iterdir())) == 4


def test_mirror_lists():
    assert dl.mirrors_for("mnist")[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert dl.mirrors_for("fashion-mnist", "http://a/{name}, http://b") == ["http://a/fashion-mnist/", "http://b/"]
    with pytest.raises(ValueError, match="unknown dataset"):
        download("cifar10")
    assert (download("digits") / "digits.csv.gz").is_file()  # packaged: nothing to fetch
