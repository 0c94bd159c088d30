"""Where the workflow writes each result, defined once for the rules, the planner and the reports.

Every method takes names (a dataset, a model, an experiment); given Snakemake wildcards such as
"{dataset}" it gives the rules' patterns.
"""

# The figures every experiment draws (see facecluster.workflow.experiment.plot_experiment).
PLOTS = ("scatter", "thumbnails", "metrics_vs_k", "confusion", "contact_sheet")


class ResultPaths:
    """The files and folders of a run under its results folder (`root`)."""

    def __init__(self, root="results"):
        self.root = root

    # A dataset's listing and download, then its photos processed by a model.
    def downloaded(self, dataset):
        """The download's record of a downloaded dataset."""
        return f"{self.root}/{dataset}/downloaded.tsv"

    def listing(self, dataset):
        """photos.tsv: each photo's id, its path inside the folder, its batch."""
        return f"{self.root}/{dataset}/photos.tsv"

    def tags(self, dataset):
        """tags.tsv: the face tags read from a dataset's photos and sidecars (facecluster.photos.tags)."""
        return f"{self.root}/{dataset}/tags.tsv"

    def dates(self, dataset):
        """dates.tsv: when each of a dataset's photos was taken, and where that was read (facecluster.photos.dates)."""
        return f"{self.root}/{dataset}/dates.tsv"

    def batch(self, dataset, model, batch):
        """One batch's per-photo faces, chips and embeddings."""
        return f"{self.root}/{dataset}/{model}/batches/{batch}"

    def processed(self, dataset, model):
        """{"ledger", "embeddings", "faces"}: the gathered per-photo outputs of a dataset and model."""
        base = f"{self.root}/{dataset}/{model}"
        return {"ledger": f"{base}/ledger.tsv", "embeddings": f"{base}/embeddings.npy", "faces": f"{base}/faces.tsv"}

    def cache(self, model, fingerprint):
        """The per-photo cache of a model's settings (`fingerprint`), shared by every dataset."""
        return f"{self.root}/cache/{model}-{fingerprint}"

    # An experiment's outputs, in results/experiments/<name>/.
    def experiment(self, experiment, name):
        """A file or folder of an experiment's outputs."""
        return f"{self.root}/experiments/{experiment}/{name}"

    def clusters(self, experiment):
        """clusters.tsv: each face's cluster and set-aside reason, before any name (Clustering)."""
        return self.experiment(experiment, "clusters.tsv")

    def clustering(self, experiment):
        """clustering.json: what sorting found (metrics.json without the naming and the people)."""
        return self.experiment(experiment, "clustering.json")

    def assignments(self, experiment):
        return self.experiment(experiment, "assignments.tsv")

    def metrics(self, experiment):
        """metrics.json: the recipe, the chosen K, every score, the naming."""
        return self.experiment(experiment, "metrics.json")

    def metrics_table(self, experiment):
        return self.experiment(experiment, "metrics.tsv")

    def experiment_tags(self, experiment):
        """tags.tsv: every face tag read for the experiment's photos, the face it went on, and why not."""
        return self.experiment(experiment, "tags.tsv")

    def coords(self, experiment):
        return self.experiment(experiment, "coords.npy")

    def report(self, experiment):
        return self.experiment(experiment, "report.md")

    def people(self, experiment):
        return self.experiment(experiment, "people")

    def people_index(self, experiment):
        """people.tsv: the rule's output (its folder is kept between runs and updated)."""
        return self.experiment(experiment, "people/people.tsv")

    def review(self, experiment):
        return self.experiment(experiment, "review")

    def review_data(self, experiment):
        """data.js: the rule's output (its folder is kept between runs and updated)."""
        return self.experiment(experiment, "review/data.js")

    def xmp(self, experiment):
        return self.experiment(experiment, "xmp")

    def xmp_index(self, experiment):
        """sidecars.tsv: the rule's output (its folder is kept between runs and updated)."""
        return self.experiment(experiment, "xmp/sidecars.tsv")

    def find(self, experiment):
        return self.experiment(experiment, "find")

    def figures(self, experiment):
        """{figure name: PNG path} of the figures every experiment draws."""
        return {name: self.experiment(experiment, f"plots/{name}.png") for name in PLOTS}

    def outputs(self, experiment):
        """What every experiment makes (its figures and coordinates come with them)."""
        return [
            self.report(experiment),
            self.assignments(experiment),
            self.metrics(experiment),
            self.metrics_table(experiment),
            self.people_index(experiment),
            self.review_data(experiment),
            self.xmp_index(experiment),
        ]

    def state(self, state_name):
        """Where an experiment keeps its names between runs: outside its outputs, which
        Snakemake deletes before the job that makes them runs. state_name: the experiment's
        ExperimentSpec.state_name (its name, or for a photos=PATH run one keyed by the folder)."""
        return f"{self.root}/state/{state_name}"

    def corrections(self, state_name):
        """The corrections file of an experiment whose config names none (read when it exists)."""
        return f"{self.state(state_name)}/corrections.yaml"

    # Each job's log and benchmark: by rule, then by the job's wildcards.
    def log(self, rule, *wildcards):
        return "/".join([self.root, "logs", rule, *wildcards]) + ".log"

    def benchmark(self, rule, *wildcards):
        return "/".join([self.root, "benchmarks", rule, *wildcards]) + ".tsv"
