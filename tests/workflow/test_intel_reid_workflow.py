"""A model of intel_reid run by the workflow on real photos."""

import numpy as np
import pytest
from conftest import copy_photos, lfw_sample, read_tsv, run_snakemake, write_config

from facecluster.photos.embedders.five_point import LOCATED


@pytest.mark.workflow
def test_a_model_of_intel_reid_runs_on_real_photos(lfw_dir, tmp_path):
    sample = lfw_sample(["Colin_Powell", "George_W_Bush", "Ariel_Sharon"], 3)
    copy_photos(sample, tmp_path / "photos")
    models = {
        "reid": {"detector": {"name": "dlib_hog", "keep": "center"}, "embedder": {"name": "intel_reid"}},
    }
    write_config(tmp_path, {"few": {"path": "photos", "labels": "folders"}}, models=models, default_model="reid")

    run_snakemake(tmp_path)

    ledger = read_tsv(tmp_path / "results/few/reid/ledger.tsv")
    assert [row["status"] for row in ledger] == ["embedded"] * 9
    assert {row["reason"] for row in ledger} == {LOCATED}
    assert (tmp_path / "models/intel_reid").is_dir()
    embeddings = np.load(tmp_path / "results/few/reid/embeddings.npy")
    assert embeddings.shape == (9, 256)
