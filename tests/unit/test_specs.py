"""The run resolved from a validated config (facecluster.workflow.specs), and where its results go
(facecluster.workflow.paths)."""

import copy
import hashlib
from pathlib import Path

import yaml
from conftest import PROJECT_ROOT
from PIL import Image

from facecluster.naming.state import NamingState
from facecluster.photos.embedders import EMBEDDERS
from facecluster.photos.embedders.fitted import CutRule
from facecluster.workflow.config import validate_config
from facecluster.workflow.paths import ResultPaths
from facecluster.workflow.plan import Plan
from facecluster.workflow.specs import DatasetSpec, resolve, state_folder_name

SHIPPED = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
NAMING = {"path": "/home/me/Pictures", "known": "/home/me/known", "find": "/home/me/queries"}


def test_the_validated_config_keeps_what_the_user_wrote_and_the_schemas_defaults():
    config = validate_config({**SHIPPED, "photos": NAMING})

    assert list(config["datasets"]) == ["photos"]
    experiment = config["experiments"]["photos"]
    assert experiment["naming_threshold"] == "auto" and experiment["set_aside"]["min_score"] == "auto"
    assert not {"naming_pairs", "choose_k_by", "choose_k_threshold"} & set(experiment)
    assert not {"threshold", "cut_rule"} & set(experiment["cluster"])


def test_an_experiment_resolves_into_typed_fields_without_changing_the_config():
    config = validate_config({**SHIPPED, "photos": NAMING})
    before = copy.deepcopy(config)
    spec = resolve(config)
    assert config == before

    experiment = spec.experiments["photos"]
    embedder = EMBEDDERS[experiment.model.embedder["name"]]
    assert isinstance(experiment.cut_rule, CutRule) and experiment.cut_rule == embedder.cut_rule
    assert experiment.naming_rule == embedder.naming_rule and experiment.naming_pairs == embedder.naming_rule.pairs
    assert experiment.threshold == embedder.thresholds["euclidean"]
    known = {"path": "/home/me/known", "labels": "folders"}
    assert experiment.known == DatasetSpec("photos-known", "/home/me/known", "folders", None, known)
    assert experiment.find.name == "photos-find" and experiment.find.labels == "folders"
    assert list(spec.datasets) == ["photos", "photos-known", "photos-find"]
    assert spec.naming_dataset_names == {"photos-known", "photos-find"}
    assert experiment.dataset is spec.datasets["photos"] and experiment.model is spec.models[spec.default_model]


def test_the_clustering_jobs_settings_are_the_validated_ones_with_the_resolved_values():
    experiment = resolve(validate_config({**SHIPPED, "photos": NAMING})).experiments["photos"]

    settings = experiment.job_settings()
    assert settings["cluster"]["threshold"] == experiment.threshold
    assert settings["cluster"]["cut_rule"] == experiment.cut_rule.settings()
    assert settings["naming_pairs"] == experiment.naming_pairs
    assert settings["naming_threshold"] == experiment.naming_threshold
    assert settings["set_aside"]["min_score"] == experiment.min_score
    assert (settings["choose_k_by"], "choose_k_threshold" in settings) == ("silhouette", False)
    settings["cluster"]["method"] = "changed"
    assert experiment.job_settings()["cluster"]["method"] != "changed"  # each job gets its own copy


def test_results_keep_their_places():
    paths = ResultPaths("results")

    assert paths.listing("demo") == "results/demo/photos.tsv"
    assert paths.downloaded("demo") == "results/demo/downloaded.tsv"
    assert paths.batch("demo", "m", "b0") == "results/demo/m/batches/b0"
    assert paths.processed("demo", "m") == {
        "ledger": "results/demo/m/ledger.tsv",
        "embeddings": "results/demo/m/embeddings.npy",
        "faces": "results/demo/m/faces.tsv",
    }
    assert paths.cache("m", "f00") == "results/cache/m-f00"
    assert paths.outputs("e") == [
        f"results/experiments/e/{name}"
        for name in (
            "report.md",
            "assignments.tsv",
            "metrics.json",
            "metrics.tsv",
            "people/people.tsv",
            "review/data.js",
            "xmp/sidecars.tsv",
        )
    ]
    assert paths.figures("e")["scatter"] == "results/experiments/e/plots/scatter.png"
    assert paths.state("e") == "results/state/e"
    assert paths.corrections("e") == "results/state/e/corrections.yaml"
    assert paths.log("process_batch", "{dataset}", "{batch}") == "results/logs/process_batch/{dataset}/{batch}.log"
    assert paths.benchmark("list_dataset", "{dataset}") == "results/benchmarks/list_dataset/{dataset}.tsv"


def test_a_photos_run_keeps_its_names_in_a_state_folder_of_its_own_folder_and_corrections_there(tmp_path):
    paths = ResultPaths("results")
    one, other = tmp_path / "2019", tmp_path / "trip" / "2019"
    specs = [
        resolve(validate_config({**SHIPPED, "photos": str(folder)})).experiments["photos"] for folder in (one, other)
    ]
    digest = hashlib.sha256(str(one.resolve()).encode()).hexdigest()[:8]

    assert specs[0].state_name == state_folder_name("photos", one) == f"photos-2019-{digest}"
    assert specs[0].state_name != specs[1].state_name  # the same folder name elsewhere: another state
    assert specs[0].corrections is None
    assert specs[0].corrections_path(paths) == f"results/state/photos-2019-{digest}/corrections.yaml"
    config = validate_config({**SHIPPED, "photos": {"path": str(one), "corrections": "fix.yaml"}})
    assert resolve(config).experiments["photos"].corrections_path(paths) == "fix.yaml"
    # A config's experiment keeps its name.
    experiment = {"dataset": "d", "cluster": {"method": "agglomerative"}}
    config = validate_config({**SHIPPED, "datasets": {"d": {"path": "x"}}, "experiments": {"e": experiment}})
    assert resolve(config).experiments["e"].state_name == "e"
    assert resolve(config).experiments["e"].corrections_path(paths) == "results/state/e/corrections.yaml"


def test_the_state_of_older_versions_goes_to_the_photos_folder_whose_photos_it_names(tmp_path):
    mine, other = tmp_path / "mine", tmp_path / "other"
    old = tmp_path / "results/state/photos"
    NamingState({(str(mine / "a.jpg"), 0): "person_0001"}).write(old)

    def check(folder):
        plan = Plan(resolve(validate_config({**SHIPPED, "photos": str(folder)})), results=str(tmp_path / "results"))
        plan.check_naming()
        return Path(plan.state_folder("photos"))

    assert not check(other).exists() and old.is_dir()  # another folder's run leaves it alone
    keyed = check(mine)
    assert not old.exists() and NamingState.read(keyed).faces == {(str(mine / "a.jpg"), 0): "person_0001"}


def test_the_batches_left_to_compute_share_the_cores(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(6):
        Image.new("RGB", (64, 48), (40 * i, 0, 0)).save(folder / f"{i}.jpg")
    config = resolve(validate_config({**SHIPPED, "photos": str(folder), "batch_size": 2}))
    model = config.default_model

    def threads(cores):
        plan = Plan(config, results=str(tmp_path / "results"), cores=cores)
        return [plan.batch_threads("photos", model, batch) for batch in plan.batches("photos")]

    first = threads(4)
    assert len(first) >= 2 and first == [1] * len(first)  # a first run: a batch a core
    plan = Plan(config, results=str(tmp_path / "results"), cores=4)
    for batch, members in plan.batches("photos").items():  # each photo's record, as a job writes it
        batch_folder = Path(plan.paths.batch("photos", model, batch))
        batch_folder.mkdir(parents=True)
        for entry in members:
            (batch_folder / f"{entry.id}.json").write_text("{}")
    assert threads(4) == [1] * len(first)  # nothing new: the model's threads
    (batch_folder / f"{entry.id}.json").unlink()  # a photo new in the last batch (a day's photos)
    # The one batch left takes the cores; those done keep the model's threads.
    assert threads(4) == [1] * (len(first) - 1) + [4]
    assert set(threads(1)) == {1}  # on a cluster (cores 1), the model's threads


def test_a_job_drawing_every_face_takes_two_threads_for_a_first_build_and_one_after(tmp_path):
    config = resolve(validate_config({**SHIPPED, "photos": str(tmp_path / "photos")}))
    plan = Plan(config, results=str(tmp_path / "results"), cores=2)
    index = Path(plan.paths.people_index("photos"))
    assert plan.drawing_threads(index) == 2  # a first build
    index.parent.mkdir(parents=True)
    index.write_text("")
    assert plan.drawing_threads(index) == 1  # a later run: the faces that changed, beside other jobs
    on_a_cluster = Plan(config, results=str(tmp_path / "results"), cores=1)
    assert on_a_cluster.drawing_threads(index) == 2  # what the main process asked, on every node
