"""XMP sidecars, read back by exiftool: every face of a person, with the person's name and box."""

import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import DATASETS, copy_photos, lfw_sample, read_tsv, run_snakemake, write_config
from PIL import Image, ImageOps

pytestmark = pytest.mark.workflow

PEOPLE = ["Hugo_Chavez", "Vladimir_Putin"]
MODEL = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "dlib"}}
RENAMED = "Hugo Chávez"
ROTATED = "phone/on its side.jpg"


def exiftool():
    path = shutil.which("exiftool")
    if path is None:
        pytest.skip("exiftool is absent: install Debian's libimage-exiftool-perl (.ci/run does) to read sidecars back")
    return path


def on_its_side(source, target):
    """A photo as a phone stores one held upright: pixels on their side, EXIF orientation 6 ("rotate
    90 degrees clockwise to display"). Displayed, it is 500 x 300, the face in its left half."""
    upright = Image.new("RGB", (500, 300), (128, 128, 128))
    upright.paste(Image.open(source).convert("RGB"), (0, 25))
    exif = Image.Exif()
    exif[0x0112] = 6
    target.parent.mkdir(parents=True, exist_ok=True)
    upright.transpose(Image.Transpose.ROTATE_90).save(target, exif=exif.tobytes(), quality=95)


@pytest.fixture(scope="module")
def sidecars(lfw_dir, tmp_path_factory):
    """A folder of two people (in sub-folders), a group photo, a photo with no face and one stored on
    its side; run, one person renamed, run again."""
    exiftool()
    work = tmp_path_factory.mktemp("xmp")
    sources = lfw_sample(PEOPLE, 5)
    sources += [(DATASETS / "negatives/multi_face/couple.jpg", "friends/couple.jpg")]
    sources += [(DATASETS / "negatives/no_face/park.jpg", "park.jpg")]
    photos = copy_photos(sources, work / "photos")
    on_its_side(lfw_dir / "Hugo_Chavez" / sorted(os.listdir(lfw_dir / "Hugo_Chavez"))[6], photos / ROTATED)
    before = sorted(p.relative_to(photos) for p in photos.rglob("*"))
    experiment = {"dataset": "mine", "cluster": {"method": "agglomerative"}, "corrections": str(work / "fix.yaml")}
    write_config(
        work,
        {"mine": {"path": str(photos), "labels": "none"}},
        models={"dlib": MODEL},
        experiments={"mine": experiment},
    )
    run_snakemake(work)
    rows = read_tsv(work / "results/experiments/mine/assignments.tsv")
    hugo = next(row["person"] for row in rows if "Hugo_Chavez" in row["path"])
    (work / "fix.yaml").write_text(yaml.safe_dump({"rename": {hugo: RENAMED}}, allow_unicode=True))
    run_snakemake(work)
    assert sorted(p.relative_to(photos) for p in photos.rglob("*")) == before  # nothing written beside the photos
    return work


def read_back(folder):
    """{sidecar's path inside folder: exiftool's RegionInfo}."""
    command = [exiftool(), "-json", "-struct", "-RegionInfo", "-recurse", "-ext", "xmp", str(folder)]
    found = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return {str(Path(item["SourceFile"]).relative_to(folder)): item["RegionInfo"] for item in found}


def of_a_person(face):
    """Whether a face of assignments.tsv is a person's: not others' (nor unknown), not set aside, not hidden."""
    return face["person"] not in ("unknown", "others") and not face.get("set_aside") and not face.get("hidden")


def test_exiftool_reads_every_persons_face_back_with_its_name_and_box(sidecars):
    experiment = sidecars / "results/experiments/mine"
    listing = {row["id"]: row["relpath"] for row in read_tsv(sidecars / "results/mine/photos.tsv")}
    expected = defaultdict(list)
    for face in read_tsv(experiment / "assignments.tsv"):
        if not of_a_person(face):
            continue
        record = json.loads((sidecars / Path(face["chips"]).parent / f"{face['photo_id']}.json").read_text())
        box = [float(face[side]) for side in ("left", "top", "right", "bottom")]
        assert record["faces"][int(face["face_index"])]["box"] == box  # the per-photo detection's box
        width, height = record["image_size"]
        left, top, right, bottom = max(box[0], 0), max(box[1], 0), min(box[2], width), min(box[3], height)
        area = {"X": (left + right) / 2 / width, "Y": (top + bottom) / 2 / height}
        area.update(W=(right - left) / width, H=(bottom - top) / height)
        expected[f"{listing[face['photo_id']]}.xmp"].append((face["person"], area, (width, height)))

    found = read_back(experiment / "xmp")

    assert sorted(found) == sorted(expected)
    for sidecar, regions in found.items():
        assert regions["AppliedToDimensions"]["Unit"] == "pixel"
        dimensions = (regions["AppliedToDimensions"]["W"], regions["AppliedToDimensions"]["H"])
        for region in regions["RegionList"]:
            assert region["Type"] == "Face" and region["Area"].pop("Unit") == "normalized"
        read = sorted((region["Name"], region["Area"]) for region in regions["RegionList"])
        want = sorted((name, area) for name, area, _ in expected[sidecar])
        assert [name for name, _ in read] == [name for name, _ in want], sidecar
        for (_, got), (_, area) in zip(read, want):
            assert got == pytest.approx(area, abs=1e-6), sidecar
        assert {size for _, _, size in expected[sidecar]} == {dimensions}
    names = {region["Name"] for regions in found.values() for region in regions["RegionList"]}
    assert RENAMED in names and any(name.startswith("person_") for name in names)
    assert f"{ROTATED}.xmp" in found and "park.jpg.xmp" not in found


def test_the_regions_of_a_photo_stored_on_its_side_are_those_of_the_photo_as_displayed(sidecars):
    regions = read_back(sidecars / "results/experiments/mine/xmp")[f"{ROTATED}.xmp"]
    displayed = ImageOps.exif_transpose(Image.open(sidecars / "photos" / ROTATED)).size
    rows = read_tsv(sidecars / "results/experiments/mine/assignments.tsv")

    assert (regions["AppliedToDimensions"]["W"], regions["AppliedToDimensions"]["H"]) == displayed == (500, 300)
    assert sorted(face["Name"] for face in regions["RegionList"]) == sorted(
        row["person"] for row in rows if row["path"].endswith(ROTATED) and of_a_person(row)
    )
    biggest = max(regions["RegionList"], key=lambda face: face["Area"]["W"] * face["Area"]["H"])
    assert biggest["Area"]["X"] < 0.4 and 0.3 < biggest["Area"]["Y"] < 0.7  # in the left half, as pasted
