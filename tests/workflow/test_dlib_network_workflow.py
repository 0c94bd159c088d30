"""dlib's face ResNet converted by the workflow's prepare_model rule, and embedding like dlib in a real run."""

import numpy as np
import pytest
from conftest import TEN_PEOPLE, copy_photos, dlib_model, lfw_sample, read_tsv, run_snakemake, write_config


@pytest.mark.workflow
def test_the_workflow_converts_once_and_embeds_like_dlib(datasets, tmp_path):
    """Rule prepare_model makes the model for process_batch; the embeddings equal the dlib model's."""
    photos = copy_photos(lfw_sample(TEN_PEOPLE[:3], 3), tmp_path / "photos")
    tf_model = {**dlib_model(), "embedder": {"name": "dlib_tf", "batch_size": 4}, "threads": 2}
    write_config(tmp_path, {"lfw": {"path": str(photos)}}, models={"dlib": dlib_model(), "dlib_tf": tf_model})
    run_snakemake(tmp_path, "results/lfw/dlib/embeddings.npy", "results/lfw/dlib_tf/embeddings.npy")

    assert (tmp_path / "models/dlib_tf/dlib_face_recognition_resnet_model_v1.keras").is_file()
    assert "converted" in (tmp_path / "results/logs/prepare_model/dlib_tf.log").read_text()
    ledgers = [read_tsv(tmp_path / f"results/lfw/{model}/ledger.tsv") for model in ("dlib", "dlib_tf")]
    assert [row["n_faces"] for row in ledgers[0]] == [row["n_faces"] for row in ledgers[1]]
    dlib, tf = (np.load(tmp_path / f"results/lfw/{model}/embeddings.npy") for model in ("dlib", "dlib_tf"))
    assert dlib.shape == tf.shape == (9, 128)
    assert np.abs(dlib - tf).max() < 1e-4
    again = run_snakemake(tmp_path, "results/lfw/dlib_tf/embeddings.npy", "-n")
    assert "prepare_model" not in again.stdout
