"""A dataset downloaded by the workflow: a failed download ends the run with clear lines."""

import pytest
from conftest import one_photo_manifest, refused_url, run_snakemake, write_config


@pytest.mark.workflow
def test_a_failed_download_ends_the_run_with_a_few_clear_lines_and_no_traceback(tmp_path):
    path, manifest = one_photo_manifest(tmp_path)
    url = refused_url()
    download = {"manifest": str(manifest), "base_url": url}
    write_config(tmp_path, {"faces": {"path": "photos", "labels": "folders", "download": download}})

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    log = (tmp_path / "results/logs/download_dataset/faces.log").read_text()
    assert "Traceback" not in log
    for text in (f"download failed: {path}", f"from: {url}/{path}", "set datasets.faces.download.base_url"):
        assert text in result.stderr and text in log
