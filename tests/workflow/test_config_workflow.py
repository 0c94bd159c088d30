"""A bad config stops Snakemake before any job, naming every mistake at once."""

import pytest
from conftest import run_snakemake, write_config


@pytest.mark.workflow
def test_snakemake_stops_before_any_job_on_a_bad_key(tmp_path):
    write_config(tmp_path, {"x": {"path": str(tmp_path)}}, colour="blue")

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert "unknown key colour" in result.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_snakemake_stops_on_a_missing_dataset_folder_naming_the_dataset(tmp_path):
    write_config(tmp_path, {"holiday": {"path": str(tmp_path / "nowhere")}})

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    assert "datasets.holiday.path" in result.stderr and "does not exist" in result.stderr


@pytest.mark.workflow
def test_snakemake_reports_every_mistake_at_once_before_any_job(tmp_path):
    write_config(
        tmp_path,
        {"../x": {"path": str(tmp_path)}},
        colour="blue",
        batch_size="many",
        experiments={
            name: {"dataset": "x", "cluster": {"method": "kmeans", "k": k}} for name, k in (("empty", []), ("zero", 0))
        },
    )

    result = run_snakemake(tmp_path, check=False)

    assert result.returncode != 0
    for message in [
        "unknown key colour",
        "batch_size: 'many' is not of type 'integer'",
        "datasets: name '../x' is not allowed",
        "experiments.empty.cluster.k: [] should be non-empty (k must be",
        "experiments.zero.cluster.k: 0 is less than the minimum of 1 (k must be",
    ]:
        assert message in result.stderr
    assert not (tmp_path / "results").exists()
