"""Faces not worth sorting, set aside on real photos: blurred beyond use, too small, stray detections."""

import json

import numpy as np
import pytest
from conftest import a_face
from PIL import Image, ImageFilter

from facecluster.clustering.set_aside import BLURRED, LOW_SCORE, TOO_SMALL, set_aside_reason, sharpness
from facecluster.workflow.config import validate_config
from facecluster.workflow.specs import resolve

MODEL = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "dlib"}}


@pytest.fixture(scope="module")
def defaults():
    """An experiment's set_aside as the config fills it in for the default detector."""
    experiments = {"e": {"dataset": "any"}}
    config = validate_config(
        {"datasets": {"any": {"path": "."}}, "models": {"m": MODEL}, "default_model": "m", "experiments": experiments}
    )
    return resolve(config).experiments["e"].job_settings()["set_aside"]


@pytest.fixture(scope="module")
def reasons_of(make_processor, tmp_path_factory, defaults):
    """Process photos (PIL images), keeping the faces `keep` says, and give each face's set-aside
    reason: {name: [reason per face]}."""

    def reasons(images, keep):
        model = {**MODEL, "detector": {**MODEL["detector"], "keep": keep}}
        processor = make_processor(model, tmp_path_factory.mktemp("cache"))
        folder = tmp_path_factory.mktemp("photos")
        members = []
        for i, (name, image) in enumerate(images.items()):
            image.save(folder / f"{i}.png")
            members.append({"id": f"p{i}", "path": str(folder / f"{i}.png"), "label": name, "hidden": False})
        out = tmp_path_factory.mktemp("out")
        found = {}
        for row in processor.process(members, out):
            faces = json.loads((out / f"{row.id}.json").read_text())["faces"] if row.status == "embedded" else []
            chips = np.load(out / f"{row.id}.chips.npy") if faces else []
            found[row.label] = [
                set_aside_reason(_as_row(face), lambda chip=chip: sharpness(chip), defaults)
                for face, chip in zip(faces, chips)
            ]
        return found

    return reasons


def _as_row(face):
    left, top, right, bottom = face["box"]
    return a_face(left=left, top=top, right=right, bottom=bottom, score=face["score"])


def test_sharp_faces_are_kept_and_blurred_tiny_or_doubtful_ones_set_aside(datasets, reasons_of):
    photos = {}
    for person in ("Hans_Blix", "Hugo_Chavez", "Jennifer_Capriati", "Vladimir_Putin"):
        photo = Image.open(sorted((datasets / "lfw-dev" / person).iterdir())[0]).convert("RGB")
        photos[f"{person} sharp"] = photo
        photos[f"{person} blurred"] = photo.filter(ImageFilter.GaussianBlur(6))  # a face of 90 px, as a smudge
        photos[f"{person} tiny"] = photo.resize((62, 62))  # a face of about 24 px
    # The face of a cat (a reduced photo of kittens): YuNet scores it 0.73, real faces 0.87 and more.
    cat = Image.open(datasets / "negatives/no_face/cat.jpg").convert("RGB")
    photos["cat"] = cat.resize((240, round(240 * cat.height / cat.width)))

    found = reasons_of(photos, keep="center")  # LFW's photos show others in the background

    for name, reasons in found.items():
        if name.endswith("sharp"):
            assert reasons == [""], name
        elif name.endswith("blurred"):
            assert reasons == [BLURRED], name
        elif name.endswith("tiny"):
            assert reasons == [TOO_SMALL], name
    assert found["cat"] == [LOW_SCORE]


def test_no_face_is_sorted_on_the_no_face_photos_whatever_their_size(datasets, reasons_of):
    photos = {}
    for path in sorted((datasets / "negatives/no_face").iterdir()):
        photo = Image.open(path).convert("RGB")
        # At its own size and reduced: each under 1,280 px, so searched at twice its size too.
        for side in (max(photo.size), 480, 320, 240, 160):
            scale = side / max(photo.size)
            photos[f"{path.name} {side}"] = photo.resize((round(photo.width * scale), round(photo.height * scale)))

    found = reasons_of(photos, keep="all")

    assert len(found) == len(photos)
    assert all(all(reasons) for reasons in found.values()), found
