"""The per-photo stage's library on real photos: decode, detect, align, embed, cache."""

import io
import json

import numpy as np
import pytest
from conftest import PROJECT_ROOT, dlib_model
from PIL import Image

from facecluster.photos.decoding import RejectedPhoto, decode_bytes
from facecluster.photos.detectors import Detection, downscale, make_detector, select_faces
from facecluster.workflow.config import validated_model


def members_for(paths):
    return [{"id": f"p{i}", "path": str(p), "label": p.parent.name, "hidden": False} for i, p in enumerate(paths)]


@pytest.fixture(scope="module")
def all_faces_processor(tmp_path_factory, make_processor):
    return make_processor(dlib_model(keep="all"), tmp_path_factory.mktemp("cache"))


def test_negatives_have_no_face_and_group_photos_several(datasets, all_faces_processor, tmp_path):
    no_face = sorted((datasets / "negatives" / "no_face").iterdir())
    multi = sorted((datasets / "negatives" / "multi_face").iterdir())

    rows = all_faces_processor.process(members_for(no_face + multi), tmp_path)

    statuses = {r.path.split("/")[-1]: (r.status, r.n_faces) for r in rows}
    assert {statuses[p.name] for p in no_face} == {("no_face", 0)}
    assert statuses["couple.jpg"] == ("embedded", 2)
    assert statuses["multiface.jpg"][1] >= 5
    assert statuses["group 2.jpg"][1] >= 2
    multiface = next(r for r in rows if r.path.endswith("multiface.jpg"))
    embeddings = np.load(tmp_path / f"{multiface.id}.npy", allow_pickle=False)
    chips = np.load(tmp_path / f"{multiface.id}.chips.npy", allow_pickle=False)
    record = json.loads((tmp_path / f"{multiface.id}.json").read_text())
    assert embeddings.shape == (multiface.n_faces, 128) and embeddings.dtype == np.float32
    assert chips.shape == (multiface.n_faces, 150, 150, 3) and chips.dtype == np.uint8
    assert len(record["faces"]) == multiface.n_faces
    assert all(len(face["landmarks"]) == 5 for face in record["faces"])


def test_the_saved_hog_detector_finds_what_dlibs_own_copy_finds(datasets, tmp_path):
    import dlib

    from facecluster.workflow.plan import prepare_model

    prepare_model("dlib_hog", tmp_path / "dlib_hog")
    settings = validated_model(dlib_model())["detector"]
    saved = make_detector({**settings, "threshold": 0.0}, [tmp_path / "dlib_hog"])
    photos = [datasets / "negatives" / "multi_face" / name for name in ("couple.jpg", "multiface.jpg")]
    photos += sorted((datasets / "lfw-dev" / "Hans_Blix").iterdir())[:3]

    detections = []
    for photo in photos:
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        small, factor = downscale(rgb, settings["max_side"])
        rects, scores, _ = dlib.get_frontal_face_detector().run(small, settings["upsample"], 0.0)
        own = [
            Detection((r.left(), r.top(), r.right(), r.bottom()), float(s)).scaled(1 / factor)
            for r, s in zip(rects, scores)
        ]
        detections.append((saved.detect(rgb), own))
    assert all(ours == own for ours, own in detections)
    assert sum(len(ours) for ours, _ in detections) >= 2 + 5 + 3


def test_a_missing_model_file_names_the_rule_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="rule prepare_model"):
        make_detector(validated_model(dlib_model())["detector"], [tmp_path / "dlib_hog"])


# The default model's job takes the cores where it alone is left to compute (Plan.batch_threads).
DEFAULT_MODEL = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "intel_reid"}}


@pytest.mark.parametrize("model", [dlib_model(keep="all"), DEFAULT_MODEL], ids=["dlib_hog", "default"])
def test_a_job_of_two_threads_gives_what_one_thread_gives(datasets, lfw_dir, tmp_path, make_processor, model):
    # dlib's HOG detector keeps the image it scans in itself: threads sharing
    # one find each other's faces (about half the photos went wrong so) or crash.
    paths = sorted((datasets / "negatives" / "multi_face").iterdir())
    paths += sorted((datasets / "negatives" / "no_face").iterdir())[:2]
    paths += [path for person in ("Hans_Blix", "Hugo_Chavez") for path in sorted((lfw_dir / person).iterdir())[:6]]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo")
    members = members_for(paths + [broken])
    members[1]["hidden"] = True

    runs = {
        threads: make_processor(model, tmp_path / f"cache{threads}", threads=threads).process(
            members, tmp_path / f"out{threads}"
        )
        for threads in (1, 2)
    }

    assert [(r.id, r.status, r.reason, r.n_faces) for r in runs[2]] == [
        (r.id, r.status, r.reason, r.n_faces) for r in runs[1]
    ]
    assert {r.status for r in runs[1]} == {"embedded", "no_face", "rejected"}
    for row in runs[1]:
        record = json.loads((tmp_path / "out1" / f"{row.id}.json").read_text())
        assert json.loads((tmp_path / "out2" / f"{row.id}.json").read_text()) == record
        if row.status == "embedded":
            for suffix in (".npy", ".chips.npy"):
                np.testing.assert_allclose(
                    np.load(tmp_path / "out2" / f"{row.id}{suffix}"),
                    np.load(tmp_path / "out1" / f"{row.id}{suffix}"),
                    atol=1e-6,
                )


def test_same_person_is_closer_than_different_people(lfw_dir, tmp_path, make_processor):
    paths = [lfw_dir / "Hans_Blix" / f"Hans_Blix_000{i}.jpg" for i in (1, 2)]
    paths += [lfw_dir / "Hugo_Chavez" / f"Hugo_Chavez_000{i}.jpg" for i in (1, 2)]
    processor = make_processor(dlib_model(), tmp_path / "cache")

    rows = processor.process(members_for(paths), tmp_path / "out")

    assert [r.status for r in rows] == ["embedded"] * 4
    blix1, blix2, chavez1, chavez2 = (np.load(tmp_path / "out" / f"{r.id}.npy")[0] for r in rows)
    same = max(np.linalg.norm(blix1 - blix2), np.linalg.norm(chavez1 - chavez2))
    different = min(np.linalg.norm(a - b) for a in (blix1, blix2) for b in (chavez1, chavez2))
    assert same < 0.6 < different


def test_yale_faces_without_extension_are_photos(datasets, tmp_path, make_processor):
    paths = sorted((datasets / "yalefaces" / "subject02").iterdir())[:3]
    processor = make_processor(dlib_model(), tmp_path / "cache")

    rows = processor.process(members_for(paths), tmp_path / "out")

    assert [r.status for r in rows] == ["embedded"] * 3


def test_unchanged_photos_come_from_the_cache(lfw_dir, tmp_path, make_processor):
    paths = sorted((lfw_dir / "Hans_Blix").iterdir())[:3]
    processor = make_processor(dlib_model(), tmp_path / "cache")
    first = processor.process(members_for(paths), tmp_path / "a")
    processor.detector = processor.embedder = None  # any recomputation would fail

    second = processor.process(members_for(paths), tmp_path / "b")

    assert [(r.sha256, r.status, r.n_faces) for r in first] == [(r.sha256, r.status, r.n_faces) for r in second]
    for row in first:
        assert (tmp_path / "a" / f"{row.id}.npy").read_bytes() == (tmp_path / "b" / f"{row.id}.npy").read_bytes()


def test_whole_image_detector_embeds_face_crops(lfw_dir, tmp_path, make_processor):
    crop = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").crop((60, 60, 190, 190))
    path = tmp_path / "crop.png"
    crop.save(path)
    model = {"detector": {"name": "none"}, "embedder": {"name": "dlib"}}

    rows = make_processor(model, tmp_path / "cache").process(members_for([path]), tmp_path / "out")

    assert (rows[0].status, rows[0].n_faces) == ("embedded", 1)


def test_exif_orientation_is_applied_before_detection(lfw_dir):
    upright = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg")
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": stored rotated the other way
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", exif=exif)

    decoded = decode_bytes(buffer.getvalue(), max_side=1600)

    assert decoded.rgb.shape == (250, 250, 3)
    difference = np.abs(decoded.rgb.astype(int) - np.asarray(upright.convert("RGB"), int)).mean()
    assert difference < 10


def test_large_photos_are_decoded_reduced_and_boxes_kept_in_original_pixels(lfw_dir, tmp_path, make_processor):
    big = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").resize((2500, 2500))
    path = tmp_path / "big.jpg"
    big.save(path, quality=95)
    processor = make_processor(dlib_model(), tmp_path / "cache", photo_max_side=800)

    rows = processor.process(members_for([path]), tmp_path / "out")

    record = json.loads((tmp_path / "out" / f"{rows[0].id}.json").read_text())
    assert record["image_size"] == [2500, 2500]
    left, top, right, bottom = record["faces"][0]["box"]
    # The face of the 250 px photo sits near (67, 68)-(175, 175); x10 here.
    assert abs(left - 670) < 150 and abs(right - 1750) < 150 and abs(top - 680) < 150


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"hello, I am text", "not an image"),
    ],
)
def test_unreadable_content_is_rejected_with_a_reason(data, reason):
    with pytest.raises(RejectedPhoto, match=reason):
        decode_bytes(data, max_side=1600)


def test_keep_center_picks_the_face_nearest_the_centre_and_min_size_filters():
    faces = [
        Detection((0, 0, 30, 30), 1.0),
        Detection((90, 90, 160, 160), 0.5),
        Detection((200, 10, 240, 50), 2.0),
    ]

    assert select_faces(faces, (250, 250), keep="center", min_size=0) == [faces[1]]
    assert select_faces(faces, (250, 250), keep="all", min_size=35) == [faces[2], faces[1]][::-1]


def test_yunet_finds_every_face_of_the_group_photos_and_none_elsewhere(datasets, make_model):
    detector, _ = make_model({"detector": {"name": "yunet"}, "embedder": {"name": "dlib"}})
    counts = {}
    for path in sorted((datasets / "negatives").glob("*/*")):
        faces = detector.detect(np.asarray(Image.open(path).convert("RGB")))
        counts[path.name] = len(faces)
        for face in faces:
            left, top, right, bottom = face.box
            assert len(face.landmarks) == 5 and 0.5 <= face.score <= 1
            assert all(left <= x <= right and top <= y <= bottom for x, y in face.landmarks)
    # Counted by eye (bench/detection.py); the couple's faces are ~600 px, found in a reduced copy.
    assert counts == {
        "couple.jpg": 2,
        "group 2.jpg": 5,
        "multiface.jpg": 6,
        "cat.jpg": 0,
        "noise_1.jpg": 0,
        "park.jpg": 0,
    }


def test_a_phone_photo_is_searched_reduced_and_its_chips_cut_at_full_size(lfw_dir, tmp_path, make_processor):
    # A 4032x3024 photo holding one lfw-dev face of about 60 px.
    canvas = Image.new("RGB", (4032, 3024), (120, 130, 140))
    face = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").crop((40, 40, 210, 220))  # no one behind
    canvas.paste(face.resize((100, 106)), (2000, 1400))
    path = tmp_path / "phone.jpg"
    canvas.save(path, quality=90)
    assert decode_bytes(path.read_bytes(), max_side=2048).rgb.shape == (1512, 2016, 3)  # JPEG draft: halved
    yunet = {"detector": {"name": "yunet"}, "embedder": {"name": "dlib"}}
    searched_whole = {"detector": {"name": "yunet", "search_side": 0}, "embedder": {"name": "dlib"}}

    def process(model, photo_max_side, name):
        processor = make_processor(model, tmp_path / f"cache-{name}", photo_max_side=photo_max_side)
        (row,) = processor.process(members_for([path]), tmp_path / name)
        record = json.loads((tmp_path / name / f"{row.id}.json").read_text())
        return record["faces"], np.load(tmp_path / name / f"{row.id}.npy")

    faces, embedding = process(yunet, 4096, "half")
    whole_faces, whole_embedding = process(searched_whole, 4096, "whole")
    _, small_chip_embedding = process(yunet, 2048, "small-chips")  # chips cut from a halved photo

    assert len(faces) == len(whole_faces) == 1
    (left, top, right, bottom), (wl, wt, wr, wb) = faces[0]["box"], whole_faces[0]["box"]
    assert max(abs(left - wl), abs(top - wt), abs(right - wr), abs(bottom - wb)) < 6
    # Cut from the photo at full size: nearer the whole search's chip than a chip cut from a halved photo.
    assert np.linalg.norm(embedding - whole_embedding) < np.linalg.norm(small_chip_embedding - whole_embedding)


def test_a_small_face_a_phone_photos_reduced_copy_barely_shows_is_found_at_full_size(lfw_dir, tmp_path, make_processor):
    # A 4032x3024 photo with a face of about 24 px and one of about 290 px. Searched in its
    # 2016x1512 copy, where the small face is 12 px and scores under the threshold, then again at
    # full size in a part around where the copy showed it faintly.
    canvas = Image.new("RGB", (4032, 3024), (120, 130, 140))
    face = Image.open(lfw_dir / "Hans_Blix" / "Hans_Blix_0001.jpg").crop((40, 40, 210, 220))
    canvas.paste(face.resize((40, 42)), (1000, 800))
    canvas.paste(face.resize((480, 508)), (2500, 1500))
    detector = make_processor({"detector": {"name": "yunet"}, "embedder": {"name": "dlib"}}, tmp_path).detector

    in_copy = detector.detect(np.asarray(canvas.reduce(2)))
    found = sorted(detector.find([canvas], 3072)[0], key=lambda d: d.box[0])
    whole = sorted(detector.find([canvas], 4096)[0], key=lambda d: d.box[0])  # the photo searched whole

    assert len(in_copy) == 1 and in_copy[0].box[0] > 1000  # the large face alone
    assert len(found) == len(whole) == 2
    small, large = found
    assert small.box[2] < 1100 and large.box[0] > 2500
    # Found at full size, where a search of the whole photo finds it (within what the runtimes differ
    # by: the part is run by onnxruntime, the whole photo by the faster runtime); the large face from the copy.
    assert np.abs(np.subtract(small.box, whole[0].box)).max() < 2
    assert np.abs(np.subtract(large.box, whole[1].box)).max() < 8


def test_a_copy_a_whole_number_of_times_smaller_is_the_mean_of_each_block():
    photo = Image.open(PROJECT_ROOT / "data/demo/Hugo_Chavez/Hugo_Chavez_0001.jpg").convert("RGB")
    rgb = np.asarray(photo.resize((1000, 752)))
    small, factor = downscale(rgb, 250)  # 4 x 4 blocks: Image.reduce
    boxed = np.asarray(Image.fromarray(rgb).resize((250, 188), Image.Resampling.BOX))
    assert small.shape == (188, 250, 3) and factor == 0.25
    assert np.abs(small.astype(int) - boxed).max() <= 1
    blocks = rgb.reshape(188, 4, 250, 4, 3).mean(axis=(1, 3))
    assert np.abs(small - blocks).max() <= 0.5 + 1e-9  # each block's mean, rounded
    other, factor = downscale(rgb, 300)  # not a whole number of times: the box resize
    assert other.shape == (226, 300, 3) and factor == 0.3
