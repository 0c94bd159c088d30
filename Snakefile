# facecluster: sort a folder of photos by the person in them, and measure how well it did.
# The stages live in rules/; rules/common.smk turns the config into file lists.

from snakemake.utils import min_version

min_version("9.0")


# A --configfile given on the command line replaces config.yaml (Snakemake
# would merge the two, mixing the demo into every other configuration).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/exit.smk"
include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/models.smk"
include: "rules/photos.smk"
include: "rules/tags.smk"
include: "rules/dates.smk"
include: "rules/experiments.smk"
include: "rules/review.smk"
include: "rules/xmp.smk"


rule all:
    default_target: True
    input:
        all_targets(),
