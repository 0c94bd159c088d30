"""Pre-cropped faces (detector none): the face and its landmarks found inside the crop."""

import numpy as np
from PIL import Image
from test_photos import members_for

from facecluster.photos.detectors.whole_image import FOUND, NOT_FOUND


def test_the_face_and_its_landmarks_are_found_inside_a_tight_crop(lfw_dir, make_model):
    photo = np.asarray(Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").convert("RGB"))
    crop = photo[70:185, 80:175]  # forehead to chin, cut at the cheeks: a tight crop
    detector, _ = make_model({"detector": {"name": "none"}, "embedder": {"name": "dlib"}})

    (face,) = detector.detect(crop)

    assert face.how == FOUND
    left, top, right, bottom = face.box
    assert left > -20 and top > -20 and right < crop.shape[1] + 20 and bottom < crop.shape[0] + 20
    (left_eye, right_eye, nose, *_) = face.landmarks
    assert left_eye[0] < nose[0] < right_eye[0]
    assert 0 < left_eye[1] < nose[1] < crop.shape[0]


def test_a_small_crop_is_searched_enlarged(lfw_dir, make_model):
    crop = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").crop((70, 60, 180, 190)).resize((28, 33))
    detector, _ = make_model({"detector": {"name": "none"}, "embedder": {"name": "dlib"}})

    (face,) = detector.detect(np.asarray(crop.convert("RGB")))

    assert face.how == FOUND
    assert face.box[2] - face.box[0] < 40  # in the small crop's own pixels


def test_without_a_face_the_crop_is_the_face_and_the_ledger_says_which(lfw_dir, tmp_path, make_processor):
    crop = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").crop((70, 60, 180, 190))
    crop.save(tmp_path / "face.png")
    Image.new("RGB", (120, 120), (90, 140, 60)).save(tmp_path / "lawn.png")
    paths = [tmp_path / "face.png", tmp_path / "lawn.png"]
    model = {"detector": {"name": "none"}, "embedder": {"name": "dlib"}}

    rows = make_processor(model, tmp_path / "cache").process(members_for(paths), tmp_path / "out")
    before = make_processor({**model, "detector": {"name": "none", "locate": False}}, tmp_path / "cache_before")
    rows_before = before.process(members_for(paths), tmp_path / "out_before")

    assert [(row.status, row.n_faces, row.reason) for row in rows] == [
        ("embedded", 1, FOUND),
        ("embedded", 1, NOT_FOUND),
    ]
    assert [row.reason for row in rows_before] == ["", ""]
