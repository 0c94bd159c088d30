"""Names people gave already, end to end: face tags exiftool wrote into photos and sidecars, and a
Picasa file, are read by rule read_tags, put on the right faces, name the untagged faces of the same
person, a disagreement is listed in the report and the review pages; a sidecar edited reruns no
detection; `facecluster xmp write --into-sidecars` writes the names back, and the next run reads the
user's tags alone."""

import json
import shutil
import subprocess
import sys

import pytest
from conftest import (
    LFW_DIR,
    copy_photos,
    exiftool_write,
    lfw_sample,
    mwg_regions,
    read_tsv,
    run_snakemake,
    write_config,
)
from PIL import Image

pytestmark = pytest.mark.workflow

MODEL = {"detector": {"name": "yunet", "keep": "all", "min_size": 16}, "embedder": {"name": "dlib"}}
HEAD = (60, 40, 190, 205)  # a head drawn by hand on a 250 x 250 lfw photo
HUGO, VLADIMIR = "Hugo Chávez", "Vladimir"


def region(name, box=HEAD, width=250, height=250):
    return {"XMP-mwg-rs:RegionInfo": mwg_regions(width, height, [(name, box)])}


@pytest.fixture(scope="module")
def tagged(lfw_dir, tmp_path_factory):
    """Five photos of Hugo Chavez and five of Vladimir Putin, and a photo of them with Colin Powell:
    Hugo tagged in a sidecar, Vladimir in his photo's own XMP, both in the group photo's sidecar (Colin
    not), and one photo of Vladimir wrongly tagged Hugo; sorted once."""
    work = tmp_path_factory.mktemp("tags")
    photos = copy_photos(lfw_sample(["Hugo_Chavez", "Vladimir_Putin"], 5), work / "photos")
    group = Image.new("RGB", (750, 250))
    for i, person in enumerate(["Hugo_Chavez", "Vladimir_Putin", "Colin_Powell"]):
        group.paste(Image.open(sorted((LFW_DIR / person).iterdir())[8]), (250 * i, 0))
    group.save(photos / "three.jpg", quality=95)
    hugo = sorted((photos / "Hugo_Chavez").iterdir())
    vladimir = sorted((photos / "Vladimir_Putin").iterdir())
    exiftool_write(hugo[0].with_name(hugo[0].name + ".xmp"), region(HUGO), photo=hugo[0])
    exiftool_write(vladimir[0], region(VLADIMIR))
    heads = [(HUGO, (50 + 0, 35, 195, 210)), (VLADIMIR, (250 + 55, 35, 250 + 195, 210))]
    exiftool_write(photos / "three.jpg.xmp", {"XMP-mwg-rs:RegionInfo": mwg_regions(750, 250, heads)})
    exiftool_write(vladimir[1].with_name(vladimir[1].name + ".xmp"), region(HUGO))
    # Picasa's file of Hugo's folder: his third photo named there (HEAD as rect64: four 16-bit
    # fractions, left, top, right and bottom), a face Picasa left unnamed on his fourth.
    head = "rect64(3d7028f6c28fd1eb)"  # (0.24, 0.16, 0.76, 0.82)
    (hugo[0].parent / ".picasa.ini").write_text(
        f"[Contacts2]\n6b1c2d3e4f5a6b7c={HUGO};;\n[{hugo[2].name}]\nfaces={head},6b1c2d3e4f5a6b7c\n"
        f"[{hugo[3].name}]\nfaces={head},ffffffffffffffff\n",
        encoding="utf-8",
    )
    write_config(
        work,
        {"mine": {"path": str(photos), "labels": "none"}},
        models={"dlib": MODEL},
        experiments={"mine": {"dataset": "mine", "cluster": {"method": "agglomerative"}}},
    )
    run_snakemake(work)
    return work


def persons(work):
    return {(row["path"].split("/photos/")[1], int(row["face_index"])): row for row in assignments(work)}


def assignments(work):
    return read_tsv(work / "results/experiments/mine/assignments.tsv")


def test_each_name_is_read_onto_its_face_and_names_the_untagged_faces_of_that_person(tagged):
    faces = persons(tagged)
    hugo = [row for key, row in faces.items() if key[0].startswith("Hugo_Chavez/")]
    # (Vladimir_Putin_0005.jpg shows two small faces behind him, set aside: not his.)
    vladimir = [
        row for key, row in sorted(faces.items()) if key[0].startswith("Vladimir_Putin/") and not row["set_aside"]
    ]
    assert len(hugo) == 5 and {row["person"] for row in hugo} == {HUGO}
    # The wrong tag wins over the clustering for its face; the other four are Vladimir.
    assert [row["person"] for row in vladimir] == [VLADIMIR, HUGO, VLADIMIR, VLADIMIR, VLADIMIR]
    group = sorted((row for key, row in faces.items() if key[0] == "three.jpg"), key=lambda row: float(row["left"]))
    assert [row["person"] for row in group[:2]] == [HUGO, VLADIMIR]
    assert group[2]["person"] not in (HUGO, VLADIMIR)  # Colin, untagged, named by nobody's tag

    table = read_tsv(tagged / "results/experiments/mine/tags.tsv")
    assert sorted((row["photo"].split("/photos/")[1], row["name"], row["status"]) for row in table) == sorted(
        [
            (f"Hugo_Chavez/{sorted((tagged / 'photos/Hugo_Chavez').glob('*.jpg'))[0].name}", HUGO, "used"),
            (f"Hugo_Chavez/{sorted((tagged / 'photos/Hugo_Chavez').glob('*.jpg'))[2].name}", HUGO, "used"),
            (f"Vladimir_Putin/{sorted((tagged / 'photos/Vladimir_Putin').glob('*.jpg'))[0].name}", VLADIMIR, "used"),
            (f"Vladimir_Putin/{sorted((tagged / 'photos/Vladimir_Putin').glob('*.jpg'))[1].name}", HUGO, "used"),
            ("three.jpg", HUGO, "used"),
            ("three.jpg", VLADIMIR, "used"),
        ]
    )
    sources = {row["source"] for row in table}
    assert "embedded" in sources and "three.jpg.xmp" in sources and "Hugo_Chavez/.picasa.ini" in sources


def test_the_disagreement_is_in_the_report_and_first_in_the_review_pages(tagged):
    report = (tagged / "results/experiments/mine/report.md").read_text()
    assert "face tags in the photos, sidecars and Picasa files: 6 read, 6 used, 1 disputed" in report
    assert "**tags disputed**" in report and f"{VLADIMIR} (2 faces), {HUGO} (1 face)" in report
    data = (tagged / "results/experiments/mine/review/data.js").read_text()
    found = json.loads(data[data.index("{") : data.rindex("}") + 1])
    names = {found["persons"][i]["name"] for dispute in found["tags"] for i in dispute["persons"]}
    assert names == {HUGO, VLADIMIR}
    ledger = read_tsv(tagged / "results/mine/dlib/ledger.tsv")
    sidecars = [row for row in ledger if row["path"].endswith(".xmp")]
    assert len(sidecars) == 3 and all("XMP sidecar" in row["reason"] for row in sidecars)
    (picasa,) = [row for row in ledger if row["path"].endswith(".picasa.ini")]
    assert picasa["status"] == "rejected" and "Picasa's face file" in picasa["reason"]


def test_a_sidecar_edited_is_read_again_without_detecting_a_face_again(tagged):
    vladimir = sorted((tagged / "photos/Vladimir_Putin").glob("*.jpg"))[1]
    sidecar = vladimir.with_name(vladimir.name + ".xmp")
    sidecar.unlink()
    exiftool_write(sidecar, region(VLADIMIR), photo=vladimir)

    rerun = run_snakemake(tagged).stderr

    assert "rule read_tags:" in rerun and "rule name_experiment:" in rerun and "rule cluster_experiment:" not in rerun
    assert "rule process_batch:" not in rerun and "rule list_dataset:" not in rerun
    vladimir_faces = [
        row for key, row in persons(tagged).items() if key[0].startswith("Vladimir_Putin/") and not row["set_aside"]
    ]
    assert {row["person"] for row in vladimir_faces} == {VLADIMIR}
    assert "0 disputed" in (tagged / "results/experiments/mine/report.md").read_text()


def test_names_written_back_into_the_sidecars_are_not_read_as_the_users_tags(tagged):
    before = {key: row["person"] for key, row in persons(tagged).items()}
    command = [str(shutil.which("facecluster", path=str(sys.prefix + "/bin")) or "facecluster")]
    written = subprocess.run(
        [*command, "xmp", "write", "mine", "--into-sidecars"], cwd=tagged, capture_output=True, text=True, check=True
    )
    assert "were created" in written.stdout
    assert (tagged / "photos/three.jpg.xmp.bak").exists()

    run_snakemake(tagged)

    table = read_tsv(tagged / "results/experiments/mine/tags.tsv")
    assert len(table) == 6 and {row["status"] for row in table} == {"used"}
    assert {key: row["person"] for key, row in persons(tagged).items()} == before


def test_corrections_applied_in_place_as_the_review_app_does_keep_the_tags(tagged, monkeypatch):
    import yaml

    from facecluster.workflow.config import validate_config
    from facecluster.workflow.experiment import rename_experiment
    from facecluster.workflow.paths import ResultPaths
    from facecluster.workflow.specs import resolve

    monkeypatch.chdir(tagged)
    spec = resolve(validate_config(yaml.safe_load((tagged / "config.yaml").read_text())))
    fixes = tagged / "fixes.yaml"
    fixes.write_text(yaml.safe_dump({"rename": {VLADIMIR: "Vladimir Putin"}}))

    changed = rename_experiment(spec.experiments["mine"], ResultPaths("results"), corrections_path=fixes)

    assert changed == {VLADIMIR, "Vladimir Putin"}
    named = {row["person"] for row in assignments(tagged) if "Hugo_Chavez/" in row["path"]}
    assert named == {HUGO}  # the tags still name Hugo's faces
    table = read_tsv(tagged / "results/experiments/mine/tags.tsv")
    assert {row["person"] for row in table if row["name"] == VLADIMIR} == {"Vladimir Putin"}
