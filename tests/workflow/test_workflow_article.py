"""The article preset run by Snakemake with a FaceNet-shaped test graph; model files checked first."""

import json

import numpy as np
import pytest
import yaml
from conftest import PROJECT_ROOT, lfw_sample, read_tsv, run_snakemake
from facenet_graph import DIM, SIZE, prewhitened, reference_embeddings, save_facenet_models, sha256_of
from PIL import Image

pytestmark = pytest.mark.workflow

PEOPLE = ["Arnold_Schwarzenegger", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"]
FACE = (65, 55, 185, 195)  # where an LFW deep-funneled photo's face is: the crop the article used


@pytest.fixture(scope="module")
def facenet_pb(tmp_path_factory):
    return save_facenet_models(tmp_path_factory.mktemp("facenet"))[0]


def face_crops(folder):
    """The article's input: 10 face crops of each of 4 people, one folder per person."""
    for source, relpath in lfw_sample(PEOPLE, 10):
        target = folder / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.open(source).crop(FACE).save(target, quality=95)
    return folder


def article_config(work, crops, model_path, sha256):
    """presets/article.yaml with the test's photos and model; returns the config."""
    config = yaml.safe_load((PROJECT_ROOT / "presets" / "article.yaml").read_text())
    config["datasets"]["article"]["path"] = str(crops)
    config["models"]["facenet"]["embedder"].update(path=str(model_path), sha256=sha256)
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    return config


@pytest.fixture(scope="module")
def article_run(lfw_dir, facenet_pb, tmp_path_factory):
    work = tmp_path_factory.mktemp("article")
    crops = face_crops(work / "crops")
    article_config(work, crops, facenet_pb, sha256_of(facenet_pb))
    run_snakemake(work)
    return work, crops


def test_the_article_preset_embeds_every_crop_as_facenet_would(article_run):
    work, crops = article_run
    ledger = read_tsv(work / "results/article/facenet/ledger.tsv")
    faces = read_tsv(work / "results/article/facenet/faces.tsv")
    embeddings = np.load(work / "results/article/facenet/embeddings.npy")

    assert len(ledger) == 40 and {row["status"] for row in ledger} == {"embedded"}
    assert embeddings.shape == (40, DIM)
    # Each crop whole, resized to 160 and prewhitened, through the graph.
    resized = [Image.open(face["path"]).resize((SIZE, SIZE), Image.Resampling.BILINEAR) for face in faces]
    np.testing.assert_allclose(embeddings, reference_embeddings(prewhitened(resized)), atol=1e-5)


def test_the_article_preset_clusters_in_2d_with_k_4_and_draws_both_plots(article_run):
    work, _ = article_run
    folder = work / "results/experiments/article"
    summary = json.loads((folder / "metrics.json").read_text())

    assert summary["chosen_k"] == 4 and summary["n_faces"] == 40
    assert len(read_tsv(folder / "assignments.tsv")) == 40
    for plot in ("scatter", "thumbnails"):
        assert (folder / "plots" / f"{plot}.png").stat().st_size > 0


@pytest.mark.parametrize("problem", ["missing", "wrong sha256"])
def test_a_missing_or_wrong_model_file_stops_before_any_job(facenet_pb, tmp_path, problem):
    crops = tmp_path / "crops"
    (crops / "someone").mkdir(parents=True)
    if problem == "missing":
        article_config(tmp_path, crops, tmp_path / "models/20180402-114759.pb", sha256_of(facenet_pb))
        expected = ["is not there", "Download it and put it at that path", "models/README.md"]
    else:
        article_config(tmp_path, crops, facenet_pb, "ab" * 32)
        expected = [f"its sha256 is {sha256_of(facenet_pb)}, the config says {'ab' * 32}", "models/README.md"]

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert all(text in result.stderr for text in expected), result.stderr[-3000:]
    assert not (tmp_path / "results").exists()


def test_models_nobody_uses_are_not_checked(lfw_dir, tmp_path):
    """A facenet model defined but not used (the default is dlib) does not stop a run."""
    crops = face_crops(tmp_path / "crops")
    config = article_config(tmp_path, crops, tmp_path / "absent.pb", "ab" * 32)
    config["models"]["dlib"] = {"detector": {"name": "none"}, "embedder": {"name": "dlib"}}
    config.update(default_model="dlib", experiments={})
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))

    result = run_snakemake(tmp_path, "-n", check=False)

    assert result.returncode == 0, result.stderr[-3000:]
