"""Composite photos with known faces: lfw-dev (and fgnet-dev) faces pasted onto canvases
(bench/detection.py's composites and bench/library.py's libraries), and matching found boxes to the
pasted ones."""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

IOU = 0.4
# The face's box in an lfw-dev photo (deep-funneled: faces aligned in the 250 px
# frame). Between the boxes of dlib's HOG (67, 80)-(175, 187) and YuNet
# (77, 65)-(171, 188), medians over 150 photos: IoU 0.89 and 0.86 with each.
LFW_FACE = (70.0, 72.0, 174.0, 188.0)
# YuNet's median box in those photos: a YuNet box of another photo's face becomes its LFW_FACE-like box.
LFW_YUNET_FACE = (77.0, 65.0, 171.0, 188.0)
# The pasted oval's half-axes, in face box sides: the face and its hair, not the photo's frame.
OVAL = 0.85
# How far from the face's centre a pasted oval and its soft edge reach, in face box sides (an
# lfw-dev photo has that room around its face).
OVAL_REACH = 1.0


def face_size(box):
    """A face's size: the geometric mean of its box's sides (pixels)."""
    return math.sqrt((box[2] - box[0]) * (box[3] - box[1]))


def iou(a, b):
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(truth, found, ignored=()):
    """({truth index: found index}, count of false boxes): greedy, best IoU first, pairs of IoU >=
    IOU. A found box matching no truth box is false unless its centre lies in an `ignored` box."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    matched = {}
    for overlap, i, j in pairs:
        if overlap < IOU:
            break
        if i not in matched and j not in matched.values():
            matched[i] = j
    used = set(matched.values())
    false = [box for j, box in enumerate(found) if j not in used and not any(inside(box, zone) for zone in ignored)]
    return matched, len(false)


def inside(box, zone):
    """Whether the box's centre lies in `zone`."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return zone[0] <= x <= zone[2] and zone[1] <= y <= zone[3]


def background(rng, size, no_face_photos):
    """A canvas: a no-face photo stretched over it (half the time, when there are some), or a
    smooth gradient between four random corner colours with noise (sd 12)."""
    width, height = size
    if no_face_photos and rng.random() < 0.5:
        photo = Image.open(rng.choice(no_face_photos)).convert("RGB")
        return photo.resize(size, Image.Resampling.BILINEAR)
    corners = np.array([[rng.randrange(256) for _ in range(3)] for _ in range(4)], np.float32)
    # Rows and columns broadcast, rather than two full grids: the same values, a third of the time.
    y = (np.arange(height, dtype=np.float32) / height)[:, None, None]
    x = (np.arange(width, dtype=np.float32) / width)[None, :, None]
    top = corners[0] * (1 - x) + corners[1] * x
    bottom = corners[2] * (1 - x) + corners[3] * x
    image = top * (1 - y) + bottom * y
    image += np.random.default_rng(rng.randrange(2**32)).normal(0, 12, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class Look:
    """How one appearance sees its lfw-dev photo: mirrored or not, white balance and exposure (a
    gain per channel), gamma and saturation; the part shown (the oval's half-axes and its centre's
    shift, in face box sides); and the face's width against its height (another lens, the head
    turned a little), its size kept. Look() is the photo as it is."""

    mirrored: bool = False
    gains: tuple = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    saturation: float = 1.0
    oval: tuple = (OVAL, OVAL)
    oval_shift: tuple = (0.0, 0.0)
    aspect: float = 1.0


AS_IT_IS = Look()


def seen_as(source, look, face=LFW_FACE):
    """(the photo as `look` colours and mirrors it, its face's box); `face`: the face's box in the
    photo (an lfw-dev photo's is LFW_FACE)."""
    photo, face = with_room(Image.open(source).convert("RGB"), face)
    if look.mirrored:
        photo = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        face = (photo.width - face[2], face[1], photo.width - face[0], face[3])
    if (look.gains, look.gamma, look.saturation) != ((1.0, 1.0, 1.0), 1.0, 1.0):
        pixels = (np.asarray(photo, np.float32) / 255) ** look.gamma * np.array(look.gains, np.float32)
        grey = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
        pixels = grey[..., None] + look.saturation * (pixels - grey[..., None])
        photo = Image.fromarray(np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8))
    return photo, face


def with_room(photo, face):
    """(the photo, its face's box) with OVAL_REACH of room around the face: a photo cropped closer
    (a scan of a portrait) is widened with its edge pixels (not mirrored: that would mirror the face
    too), so that the pasted oval shows no frame's edge."""
    width, height = face[2] - face[0], face[3] - face[1]
    centre_x, centre_y = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    left = max(0, math.ceil(OVAL_REACH * width - centre_x))
    top = max(0, math.ceil(OVAL_REACH * height - centre_y))
    right = max(0, math.ceil(centre_x + OVAL_REACH * width - photo.width))
    bottom = max(0, math.ceil(centre_y + OVAL_REACH * height - photo.height))
    if not (left or top or right or bottom):
        return photo, face
    pixels = np.pad(np.asarray(photo), ((top, bottom), (left, right), (0, 0)), mode="edge")
    return Image.fromarray(pixels), (face[0] + left, face[1] + top, face[2] + left, face[3] + top)


def paste_face(canvas, source, size, angle, blur, centre):
    """Paste the face of an lfw-dev photo as it is, `size` px, turned `angle` degrees, blurred
    (Gaussian radius `blur` px, at its pasted size), at `centre`: (its box, the pasted oval's box)."""
    return paste_photo(canvas, *seen_as(source, AS_IT_IS), AS_IT_IS, size, angle, blur, centre)


def paste_photo(canvas, photo, face, look, size, angle, blur, centre):
    """paste_face's pasting of a photo already seen_as `look` (`face`: its face's box)."""
    scale = size / face_size(face)
    # The aspect stretches one way and squeezes the other: the face keeps its size.
    scale_x, scale_y = scale * math.sqrt(look.aspect), scale / math.sqrt(look.aspect)
    resized = (max(1, round(photo.width * scale_x)), max(1, round(photo.height * scale_y)))
    photo = photo.resize(resized, Image.Resampling.LANCZOS)
    width, height = (face[2] - face[0]) * scale_x, (face[3] - face[1]) * scale_y
    face_centre = ((face[0] + face[2]) / 2 * scale_x, (face[1] + face[3]) / 2 * scale_y)
    photo = photo.rotate(angle, resample=Image.Resampling.BICUBIC, center=face_centre)
    if blur:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    # A soft oval around the face and its hair, so that the photo's frame does not show.
    mask = Image.new("L", photo.size, 0)
    half_w, half_h = width * look.oval[0], height * look.oval[1]
    oval_x, oval_y = face_centre[0] + width * look.oval_shift[0], face_centre[1] + height * look.oval_shift[1]
    ImageDraw.Draw(mask).ellipse((oval_x - half_w, oval_y - half_h, oval_x + half_w, oval_y + half_h), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1.0, size / 12)))
    offset = (round(centre[0] - face_centre[0]), round(centre[1] - face_centre[1]))
    canvas.paste(photo, offset, mask)
    # The face turns about its centre and keeps its size: an upright box of the same sides.
    cx, cy = face_centre[0] + offset[0], face_centre[1] + offset[1]
    ox, oy = oval_x + offset[0], oval_y + offset[1]
    pasted = (ox - half_w, oy - half_h, ox + half_w, oy + half_h)
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2), pasted


def shows_another_face(source):
    """Whether the oval pasted from an lfw-dev photo would carry a face besides its own (someone
    beside the person), as yuface finds faces."""
    return another_face_in_oval(LFW_FACE, yuface_boxes(source))


def yuface_boxes(source):
    """[(left, top, right, bottom)] of the faces in a photo, found by libfacedetection's own build
    (yuface)."""
    import yuface

    bgr = np.ascontiguousarray(np.asarray(Image.open(source).convert("RGB"))[:, :, ::-1])
    _, boxes, _ = yuface.detect(bgr, conf=0.5)
    return [(left, top, left + width, top + height) for left, top, width, height in boxes.astype(float)]


def another_face_in_oval(face, boxes):
    """Whether a box of `boxes` other than the face's (IoU under IOU) has its centre in the oval
    pasted around `face`."""
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    half_w, half_h = (face[2] - face[0]) * OVAL, (face[3] - face[1]) * OVAL
    for box in boxes:
        x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if iou(box, face) < IOU and ((x - cx) / half_w) ** 2 + ((y - cy) / half_h) ** 2 <= 1:
            return True
    return False


def as_lfw_face(box):
    """A YuNet box of a face as LFW_FACE boxes one: each side where LFW_FACE's lies against
    LFW_YUNET_FACE."""
    left, top, right, bottom = LFW_YUNET_FACE
    across = [(side - left) / (right - left) for side in LFW_FACE[::2]]
    down = [(side - top) / (bottom - top) for side in LFW_FACE[1::2]]
    width, height = box[2] - box[0], box[3] - box[1]
    return (
        box[0] + across[0] * width,
        box[1] + down[0] * height,
        box[0] + across[1] * width,
        box[1] + down[1] * height,
    )


def free_place(rng, size, side, boxes, attempts=50):
    """A centre for a face of `side` px on a canvas of `size`, away from the faces in `boxes`
    (none within half a face of another's box), or None after `attempts` tries."""
    for _attempt in range(attempts):
        centre = (rng.uniform(side, size[0] - side), rng.uniform(side, size[1] - side))
        box = (centre[0] - side, centre[1] - side, centre[0] + side, centre[1] + side)
        if all(iou(box, grown(other)) == 0 for other in boxes):
            return centre
    return None


def grown(box):
    """The box grown by half its size on each side."""
    width, height = box[2] - box[0], box[3] - box[1]
    return (box[0] - width / 2, box[1] - height / 2, box[2] + width / 2, box[3] + height / 2)
