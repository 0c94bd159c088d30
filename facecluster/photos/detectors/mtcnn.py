"""MTCNN (Zhang et al. 2016) from the `mtcnn` package, which ships its weights; run in TensorFlow."""

from collections import defaultdict

from facecluster.photos.detectors import DETECTORS, MAX_SIDE, Detection, Detector, downscale


@DETECTORS.register
class MtcnnDetector(Detector):
    """Boxes, scores and 5 landmarks (eyes, nose, mouth corners; of each pair the
    one on the photo's left first). Photos of the same size go through the
    network together; photos over `max_side` are detected on a downscaled copy.
    """

    name = "mtcnn"
    description = (
        "MTCNN in TensorFlow (the mtcnn package's weights): also finds turned and smaller faces, gives 5 landmarks"
    )
    settings = {
        "min_face_size": {
            "type": "number",
            "minimum": 12,
            "default": 20,
            "description": "smallest face searched for (pixels; smaller finds tinier faces, slower)",
        },
        "stage_thresholds": {
            "type": "array",
            "minItems": 3,
            "maxItems": 3,
            "items": {"type": "number", "minimum": 0, "maximum": 1},
            "default": [0.6, 0.7, 0.8],
            "description": "P-Net, R-Net, O-Net score thresholds (lower finds more)",
        },
        "batch_size": {
            "type": "integer",
            "minimum": 1,
            "default": 8,
            "description": "photos per network call; photos of the same size share a call",
        },
        **MAX_SIDE,
    }

    def __init__(self, settings, files, threads):
        from facecluster.photos.networks.tfruntime import import_tensorflow

        tf = import_tensorflow(threads)
        from mtcnn import MTCNN

        device = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
        self._mtcnn = MTCNN(device=device)
        pnet, rnet, onet = settings["stage_thresholds"]
        self._options = dict(
            min_face_size=settings["min_face_size"],
            threshold_pnet=pnet,
            threshold_rnet=rnet,
            threshold_onet=onet,
        )
        self.max_side = settings["max_side"]
        self.batch_size = settings["batch_size"]

    def detect(self, rgb):
        return self.detect_many([rgb])[0]

    def detect_many(self, images):
        copies = [downscale(rgb, self.max_side) for rgb in images]
        # mtcnn pads the photos of one call to the largest, and then misplaces
        # the boxes of the padded ones: only photos of one size share a call.
        by_size = defaultdict(list)
        for index, (small, _) in enumerate(copies):
            by_size[small.shape].append(index)
        found = [None] * len(images)
        for indices in by_size.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                rows = self._mtcnn.detect_faces(
                    [copies[i][0] for i in chunk], box_format="xyxy", output_type="numpy", **self._options
                )
                for position, index in enumerate(chunk):
                    factor = copies[index][1]
                    found[index] = [_detection(row).scaled(1 / factor) for row in rows[rows[:, 0] == position]]
        return found


def _detection(row):
    """A Detection from one row of mtcnn's numpy output:
    image, x1, y1, x2, y2, score, the 5 landmarks' x, then their y."""
    row = [float(v) for v in row]
    return Detection(box=tuple(row[1:5]), score=row[5], landmarks=list(zip(row[6:11], row[11:16])))
