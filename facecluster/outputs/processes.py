"""Drawing many faces in several processes: a first build of a library's people folders or review
pages draws every face (50,000 at 20,000 photos), a later run the few that changed."""

# Faces to draw from which the work is split over processes: spawning them costs about a second.
PARALLEL_FROM = 2000


def in_processes(work, items, workers, weight=lambda item: 1):
    """work(items), split over `workers` processes where the items weigh PARALLEL_FROM or more
    (work: a function of a list of items); else in this process."""
    if workers <= 1 or sum(map(weight, items)) < PARALLEL_FROM:
        work(items)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    parts = [items[i :: workers * 4] for i in range(workers * 4)]  # interleaved: large pages spread out
    # Forked where the system can: a spawned process imports the parent's main module again, and
    # a Snakemake script's is the script itself, which must not run twice. The jobs that call this
    # start no threads of their own (no model is loaded) and the children only encode images.
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=get_context(method)) as pool:
        for _ in pool.map(work, parts):
            pass
