"""Tests for facecluster.workflow.download against a local copy of the LFW photos."""

from pathlib import Path

import pytest
from conftest import DEMO_MANIFEST, one_photo_manifest, refused_url, write_manifest

from facecluster.workflow.download import ChecksumError, DownloadError, fetch_photos, read_manifest, sha256_file

GOOD_HASH = "0" * 64


def test_demo_manifest_is_4_people_x_10_photos():
    entries = read_manifest(DEMO_MANIFEST)
    people = {path.split("/")[0] for path, _ in entries}
    assert len(entries) == 40
    assert people == {"Hugo_Chavez", "Vladimir_Putin", "Jennifer_Capriati", "Arnold_Schwarzenegger"}


def test_http_download_fetches_every_photo_with_the_right_hash(lfw_server, tmp_path):
    entries = read_manifest(DEMO_MANIFEST)

    paths = fetch_photos(DEMO_MANIFEST, lfw_server.url, tmp_path)

    assert paths == [tmp_path / path for path, _ in entries]
    assert [sha256_file(path) for path in paths] == [sha256 for _, sha256 in entries]
    assert len(lfw_server.requested_paths) == 40


def test_second_call_downloads_nothing(lfw_server, tmp_path):
    first = fetch_photos(DEMO_MANIFEST, lfw_server.url, tmp_path)
    requests_after_first = len(lfw_server.requested_paths)

    second = fetch_photos(DEMO_MANIFEST, lfw_server.url, tmp_path)

    assert second == first
    assert len(lfw_server.requested_paths) == requests_after_first


def test_corrupt_local_file_is_fetched_again(lfw_server, tmp_path):
    path, sha256 = read_manifest(DEMO_MANIFEST)[0]
    manifest = write_manifest(tmp_path / "one.tsv", [f"{path}\t{sha256}"])
    dest = tmp_path / "photos"
    (dest / path).parent.mkdir(parents=True)
    (dest / path).write_bytes(b"not a photo")

    fetch_photos(manifest, lfw_server.url, dest)

    assert sha256_file(dest / path) == sha256
    assert len(lfw_server.requested_paths) == 1


def test_hash_mismatch_names_file_and_both_hashes_and_leaves_nothing(lfw_server, tmp_path):
    path, actual_sha256 = read_manifest(DEMO_MANIFEST)[0]
    wrong_sha256 = "f" * 64
    manifest = write_manifest(tmp_path / "wrong.tsv", [f"{path}\t{wrong_sha256}"])
    dest = tmp_path / "photos"

    with pytest.raises(ChecksumError) as error:
        fetch_photos(manifest, lfw_server.url, dest)

    message = str(error.value)
    assert path in message and wrong_sha256 in message and actual_sha256 in message
    assert lfw_server.url.rstrip("/") in message
    assert not (dest / path).exists()
    assert [p for p in dest.rglob("*") if p.is_file()] == []  # no temp file left either


@pytest.mark.parametrize("as_base", [Path.as_uri, str], ids=["file-url", "plain-folder"])
def test_local_sources(lfw_dir, tmp_path, as_base):
    entries = read_manifest(DEMO_MANIFEST)

    paths = fetch_photos(DEMO_MANIFEST, as_base(lfw_dir), tmp_path)

    assert [sha256_file(path) for path in paths] == [sha256 for _, sha256 in entries]


@pytest.mark.parametrize(
    "bad_row, problem",
    [
        (f"/etc/passwd\t{GOOD_HASH}", "relative"),
        (f"Hugo_Chavez/../../secret.jpg\t{GOOD_HASH}", "'..'"),
        ("Hugo_Chavez/Hugo_Chavez_0001.jpg\tnot-a-hash", "64 hex digits"),
        ("Hugo_Chavez/Hugo_Chavez_0001.jpg", "2 tab-separated columns"),
    ],
    ids=["absolute", "dot-dot", "bad-hash", "one-column"],
)
def test_bad_manifest_line_is_named(tmp_path, bad_row, problem):
    manifest = write_manifest(tmp_path / "bad.tsv", [f"Hugo_Chavez/ok.jpg\t{GOOD_HASH}", bad_row])

    with pytest.raises(ValueError, match=f"line 3: .*{problem}"):
        read_manifest(manifest)


def test_manifest_without_header_is_rejected(tmp_path):
    manifest = tmp_path / "no-header.tsv"
    manifest.write_text(f"Hugo_Chavez/ok.jpg\t{GOOD_HASH}\n", encoding="utf-8")

    with pytest.raises(ValueError, match="line 1: expected the header"):
        read_manifest(manifest)


def test_a_refused_connection_says_what_where_and_how_to_fix_it(tmp_path):
    path, manifest = one_photo_manifest(tmp_path)
    url = refused_url()

    with pytest.raises(DownloadError) as error:
        fetch_photos(manifest, url, tmp_path / "photos", setting="datasets.demo.download.base_url")

    lines = str(error.value).splitlines()
    assert lines[:3] == [
        f"download failed: {path} could not be fetched into {tmp_path / 'photos'}",
        f"  from: {url}/{path}",
        "  why:  the connection was refused (nothing listens at that address)",
    ]
    assert "set datasets.demo.download.base_url to a mirror's URL or to a local" in lines[3]
    assert len(lines) <= 6
    assert not (tmp_path / "photos" / path).exists()


def test_a_missing_file_says_so(lfw_server, lfw_dir, tmp_path):
    manifest = write_manifest(tmp_path / "missing.tsv", [f"Nobody/Nobody_0001.jpg\t{GOOD_HASH}"])

    with pytest.raises(DownloadError, match="why:  the server answered HTTP 404 File not found"):
        fetch_photos(manifest, lfw_server.url, tmp_path / "photos")
    with pytest.raises(DownloadError, match="why:  no such file in the local folder"):
        fetch_photos(manifest, lfw_dir, tmp_path / "photos")
    assert lfw_server.requested_paths == ["/Nobody/Nobody_0001.jpg"]  # a 404 is not tried again
