from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from buddy_emotion.cli import main
from buddy_emotion.errors import ArgumentTypeError, ImageFileError, InvalidArgumentError
from buddy_emotion.evaluation import auroc, classification_report, load_labelled

CONTRACT_KEYS = {"n", "faces_found", "accuracy", "macro_f1", "per_class", "confusion", "sad_auroc", "latency_ms"}


def test_auroc_matches_definition() -> None:
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auroc([0.5, 0.5], [True, False]) == pytest.approx(0.5)
    assert auroc([0.1, 0.2], [True, True]) is None


def test_report_counts() -> None:
    true = [4, 4, 3, 6]
    probs = np.full((4, 7), 0.01)
    for i, k in enumerate([4, 6, 3, 6]):
        probs[i, k] = 0.94
    r = classification_report(true, probs)
    assert r["accuracy"] == 0.75 and r["n"] == 4 and r["faces_found"] == 1.0
    assert r["per_class"]["sadness"]["recall"] == 0.5 and r["per_class"]["sadness"]["n"] == 2
    assert r["confusion"][4][6] == 1 and len(r["confusion"]) == 7
    # neutral: 1 of the 2 faces called neutral is neutral, its only face is found
    assert r["per_class"]["neutral"]["precision"] == 0.5 and r["per_class"]["neutral"]["f1"] == 0.6667
    # macro F1 over the classes that have faces: sadness 2/3, happiness 1, neutral 2/3
    assert r["macro_f1"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3, abs=1e-4)


def test_report_takes_azure_labels_with_contempt() -> None:
    r = classification_report(["contempt", "sadness"], [{"contempt": 0.9, "neutral": 0.1}, {"sadness": 1.0}])
    assert r["accuracy"] == 1.0 and r["confusion_labels"][-1] == "contempt"


def test_evaluate_scores_the_largest_face() -> None:
    from buddy_emotion.backends.base import EmotionBackend
    from buddy_emotion.evaluation import LabelledImages, evaluate
    from buddy_emotion.types import FaceBox, FaceEmotion

    class _Two(EmotionBackend):
        name = "two"
        labels = ("happiness", "sadness")

        def analyze(self, frame: np.ndarray) -> list[FaceEmotion]:  # the small face first
            return [FaceEmotion(FaceBox(0, 0, 10, 10), {"happiness": 1.0}, "two"),
                    FaceEmotion(FaceBox(0, 0, 50, 50), {"sadness": 1.0}, "two")]

    data = LabelledImages(["sadness"], np.zeros((1, 64, 64), np.uint8))
    assert evaluate(_Two(), data)["accuracy"] == 1.0


def test_missing_faces_count_as_wrong() -> None:
    r = classification_report(["sadness", "happiness"], [None, {"happiness": 1.0}])
    assert r["accuracy"] == 0.5 and r["faces_found"] == 0.5


def _npz(tmp_path, n: int = 12):
    rng = np.random.default_rng(0)
    p = tmp_path / "faces.npz"
    np.savez(p, images=rng.integers(0, 255, (n, 48, 48), dtype=np.uint8), labels=np.arange(n) % 7,
             usage=np.array(["A", "B"] * (n // 2)))
    return p


def test_load_errors(tmp_path) -> None:
    with pytest.raises(ImageFileError, match="not found"):
        load_labelled(tmp_path / "none.npz")
    with pytest.raises(ImageFileError, match="split"):
        load_labelled(_npz(tmp_path), split="C")
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ImageFileError):
        load_labelled(tmp_path / "bad.npz")
    with pytest.raises(ImageFileError, match="labels.csv"):
        load_labelled(tmp_path)
    for bad_labels in (np.array([0, 7]), np.array([-1, 0]), np.array([0.5, 1.0])):  # FER-2013 has 0..6
        np.savez(tmp_path / "labels.npz", images=np.zeros((2, 48, 48), np.uint8), labels=bad_labels)
        with pytest.raises(ImageFileError, match="0..6"):
            load_labelled(tmp_path / "labels.npz")
    (tmp_path / "labels.csv").write_text("path,label\na.png,sad\n")
    with pytest.raises(ImageFileError, match="applies to .npz"):  # a folder has no splits
        load_labelled(tmp_path, split="PublicTest")


def test_cli_eval_json_contract(tmp_path, capsys) -> None:
    assert main(["eval", str(_npz(tmp_path)), "--split", "A", "--cropped", "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert CONTRACT_KEYS <= set(report) and report["n"] == 6
    assert set(report["latency_ms"]) == {"median", "p95"}


def test_cli_eval_folder_of_full_photos(tmp_path, capsys, astronaut_bgr) -> None:
    import cv2

    from buddy_emotion.testing import blank_frame

    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    cv2.imwrite(str(tmp_path / "empty.png"), blank_frame())
    (tmp_path / "labels.csv").write_text("path,label\nastronaut.png,happy\nempty.png,neutral\n")
    assert main(["eval", str(tmp_path), "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 2 and report["faces_found"] == 0.5


@pytest.mark.fer
def test_eval_publictest_default(fer_npz, capsys) -> None:
    assert main(["eval", str(fer_npz), "--split", "PublicTest", "--cropped", "--backend", "default",
                 "--limit", "400", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 400 and report["faces_found"] == 1.0
    assert report["accuracy"] > 0.45  # chance is ~0.25 for the majority class
    assert report["sad_auroc"] > 0.7


def test_sad_bias_figures_move_the_sad_decision_only() -> None:
    from buddy_emotion.evaluation import sad_bias_figures

    # two faces: a sad one read as neutral by a hair, a neutral one read as neutral clearly
    probs = np.zeros((2, 7))
    probs[0, 4], probs[0, 6] = 0.45, 0.55
    probs[1, 4], probs[1, 6] = 0.10, 0.90
    true = np.array([4, 6])
    assert sad_bias_figures(probs, true, 0.0) == {"accuracy": 0.5, "sad_recall": 0.0, "sad_precision": 0.0}
    assert sad_bias_figures(probs, true, 0.3) == {"accuracy": 1.0, "sad_recall": 1.0, "sad_precision": 1.0}
    assert sad_bias_figures(probs, true, 3.0) == {"accuracy": 0.5, "sad_recall": 1.0, "sad_precision": 0.5}


@pytest.mark.parametrize("scores,positive", [(None, None), ([0.1, 0.2, 0.3], [True, False]),
                                             ([float("nan"), 0.2, 0.3], [True, False, True]),
                                             (["a", "b"], [True, False]), ([0.1, 0.2], [2, 0]),
                                             (np.zeros((2, 2)), [True, False])])
def test_auroc_rejects_bad_input(scores, positive) -> None:
    with pytest.raises((ValueError, TypeError), match="scores|positive"):
        auroc(scores, positive)


@pytest.mark.parametrize("call,error", [
    # a wrong type (what the values are) is an ArgumentTypeError ...
    pytest.param(lambda: auroc(["a", "b"], [True, False]), ArgumentTypeError, id="scores=strings"),
    pytest.param(lambda: auroc(np.array([0.1, None], dtype=object), [True, False]), ArgumentTypeError,
                 id="scores=object array"),
    pytest.param(lambda: auroc(np.array([True, False]), [True, False]), ArgumentTypeError, id="scores=bools"),
    pytest.param(lambda: auroc(np.array([1j, 2j]), [True, False]), ArgumentTypeError, id="scores=complex"),
    pytest.param(lambda: auroc(0.5, [True]), ArgumentTypeError, id="scores=a number"),
    pytest.param(lambda: auroc({0.1, 0.2}, [True, False]), ArgumentTypeError, id="scores=a set"),
    pytest.param(lambda: auroc([0.1, 0.2], ["yes", "no"]), ArgumentTypeError, id="positive=strings"),
    pytest.param(lambda: _sad_bias(np.full((2, 7), "a"), [0, 4]), ArgumentTypeError, id="probs=strings"),
    pytest.param(lambda: _sad_bias(np.full((2, 7), None), [0, 4]), ArgumentTypeError, id="probs=object array"),
    pytest.param(lambda: _sad_bias(np.ones((2, 7), bool), [0, 4]), ArgumentTypeError, id="probs=bools"),
    pytest.param(lambda: _sad_bias(np.ones((2, 7), complex), [0, 4]), ArgumentTypeError, id="probs=complex"),
    pytest.param(lambda: _sad_bias({"sadness": 1.0}, [0, 4]), ArgumentTypeError, id="probs=a mapping"),
    pytest.param(lambda: _sad_bias(0.5, [0, 4]), ArgumentTypeError, id="probs=a number"),
    pytest.param(lambda: _sad_bias(np.eye(7)[:2], ["anger", "sadness"]), ArgumentTypeError, id="true=strings"),
    pytest.param(lambda: _sad_bias(np.eye(7)[:2], np.array([True, False])), ArgumentTypeError, id="true=bools"),
    pytest.param(lambda: classification_report([0], np.full((1, 7), "a")), ArgumentTypeError,
                 id="report scores=strings"),
    # ... a wrong value of the right type (NaN, a length, a shape, a range) an InvalidArgumentError only
    pytest.param(lambda: auroc([float("nan"), 0.2], [True, False]), InvalidArgumentError, id="scores=NaN"),
    pytest.param(lambda: auroc([0.1, 0.2, 0.3], [True, False]), InvalidArgumentError, id="lengths"),
    pytest.param(lambda: auroc(np.zeros((2, 2)), [True, False]), InvalidArgumentError, id="scores 2-D"),
    pytest.param(lambda: auroc([0.1, 0.2], [2, 0]), InvalidArgumentError, id="positive=2"),
    pytest.param(lambda: _sad_bias(np.full((2, 7), np.nan), [0, 4]), InvalidArgumentError, id="probs=NaN"),
    pytest.param(lambda: _sad_bias(np.ones((2, 6)), [0, 4]), InvalidArgumentError, id="probs (2, 6)"),
    pytest.param(lambda: _sad_bias(np.eye(7)[:2], [0, 7]), InvalidArgumentError, id="true=7"),
    pytest.param(lambda: _sad_bias(np.eye(7)[:2], [0]), InvalidArgumentError, id="true too short"),
    pytest.param(lambda: classification_report([0], np.ones((1, 6))), InvalidArgumentError, id="report (1, 6)"),
])
def test_a_wrong_type_of_scores_is_an_argument_type_error(call: Any, error: type) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert type(info.value) is error  # a wrong type is a TypeError too, a wrong value only a ValueError
    assert "[[" not in str(info.value) and "\n" not in str(info.value)


def _sad_bias(probs: Any, true: Any) -> Any:
    from buddy_emotion.evaluation import sad_bias_figures

    return sad_bias_figures(probs, true, 0.0)


def test_auroc_accepts_numpy_and_int_flags() -> None:
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8], np.float32), np.array([0, 0, 1, 1])) == pytest.approx(0.75)


@pytest.mark.parametrize("true,scores", [
    (None, None), ([0], None), (["sad"], [{"sadness": 1.0}]), ([7], [{"sadness": 1.0}]), ([-1], [{"sadness": 1.0}]),
    ([0], [{"foo": 1.0}]), ([0], np.array([[0.1, 0.2, 0.7]])), ([4], [{"sadness": float("nan"), "anger": 0.2}]),
    ([0], np.full((1, 7), np.nan)), ([0], ["x"]), ([0, 1], [None])])
def test_classification_report_rejects_bad_input(true, scores) -> None:
    with pytest.raises((ValueError, TypeError), match="true|scores|length"):
        classification_report(true, scores)


@pytest.mark.parametrize("probs,true,bias", [(np.ones(7) / 7, np.array([4]), 0.1), (None, np.array([4]), 0.1),
                                             (np.eye(7), np.arange(7), float("nan")), (np.eye(7), np.arange(3), 0.1),
                                             (np.eye(7), np.arange(7) + 1, 0.1), (np.eye(7), np.arange(7), "0.1")])
def test_sad_bias_figures_rejects_bad_input(probs, true, bias) -> None:
    from buddy_emotion.evaluation import sad_bias_figures

    with pytest.raises((ValueError, TypeError), match="probs|true|bias"):
        sad_bias_figures(probs, true, bias)


def test_evaluate_and_timing_check_their_arguments(tmp_path) -> None:
    from buddy_emotion.backends import create
    from buddy_emotion.evaluation import evaluate, time_per_face

    data = load_labelled(_npz(tmp_path))
    with pytest.raises(TypeError, match="backend"):
        evaluate(None, data)  # type: ignore[arg-type]
    with create("default") as backend:
        with pytest.raises(TypeError, match="data"):
            evaluate(backend, None)  # type: ignore[arg-type]
        for n in (0, -5, "x"):
            with pytest.raises(ValueError, match="n must"):
                time_per_face(backend, n=n, warmup=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [-1, 0, float("nan"), "x", 2.5])
def test_load_labelled_limit_must_be_positive(tmp_path, limit) -> None:
    (tmp_path / "labels.csv").write_text("path,label\na.png,sad\nb.png,happy\n")
    for data in (_npz(tmp_path), tmp_path):
        with pytest.raises(ValueError, match="limit"):
            load_labelled(data, limit=limit)
    assert len(load_labelled(tmp_path, limit=1)) == 1 and len(load_labelled(_npz(tmp_path), limit=np.int64(3))) == 3


def _write_npz(path, labels) -> None:
    np.savez(path, images=np.zeros((len(labels), 48, 48), np.uint8), labels=labels)


@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(_npz_bytes()[:200]),  # truncated
    lambda p: _write_npz(p, np.array(["sad", "hap"])),
    lambda p: _write_npz(p, np.array([4.0, np.nan])),
    lambda p: _write_npz(p, np.array([4.5, 1.0])),
    lambda p: _write_npz(p, np.array([[4], [1]])),
])
def test_corrupt_npz_gives_image_file_error(tmp_path, make) -> None:
    p = tmp_path / "bad.npz"
    make(p)
    with pytest.raises(ImageFileError, match="bad.npz"):
        load_labelled(p)


def _npz_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, images=np.zeros((6, 48, 48), np.uint8), labels=np.arange(6))
    return buf.getvalue()


@pytest.mark.parametrize("csv_bytes", [b"path,label\n\xff\xfe.png,sad\n", b"path,label\n,sad\n",
                                       b"label,path\nsad\n", b"path,label\nx.png\n"])
def test_bad_labels_csv_gives_image_file_error(tmp_path, csv_bytes: bytes) -> None:
    (tmp_path / "labels.csv").write_bytes(csv_bytes)
    with pytest.raises(ImageFileError, match="labels.csv"):
        load_labelled(tmp_path)


@pytest.mark.parametrize("data", [None, 123])
def test_load_labelled_rejects_non_paths(data) -> None:
    with pytest.raises(ImageFileError, match="data"):
        load_labelled(data)


def test_load_labelled_refuses_a_fifo(tmp_path) -> None:
    import os

    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(ImageFileError, match="pipe"):
        load_labelled(tmp_path / "fifo.npz")


@pytest.mark.parametrize("content", [b"garbage", b"not a face, just text\n" * 20, b"\x80\x04K\x01."])  # last: a pickle
def test_a_file_that_is_not_an_npz_is_named_so_without_pickle_advice(tmp_path, content: bytes) -> None:
    p = tmp_path / "photo.jpg"
    p.write_bytes(content)
    with pytest.raises(ImageFileError, match="is not an .npz file") as err:
        load_labelled(p)
    assert "pickle" not in str(err.value)


def test_unreadable_images_are_reported_with_their_files(tmp_path, capsys, astronaut_bgr) -> None:
    import cv2

    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "labels.csv").write_text("path,label\nastronaut.png,happy\ntext.jpg,sad\nmissing.png,sad\n")
    assert main(["eval", str(tmp_path), "--backend", "default"]) == 0
    out = capsys.readouterr().out
    assert "2 images could not be read" in out and "text.jpg" in out and "missing.png" in out
    assert main(["eval", str(tmp_path), "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["n"] == 3 and report["unreadable"] == 2 and len(report["unreadable_examples"]) == 2


def test_eval_with_no_readable_image_is_an_error(tmp_path, capsys) -> None:
    (tmp_path / "labels.csv").write_text("path,label\nmissing.png,sad\ntypo.png,happy\n")
    assert main(["eval", str(tmp_path), "--backend", "default"]) == 2
    err = capsys.readouterr().err
    assert "none of the 2 images could be read" in err and "missing.png" in err


def test_an_npz_without_arrays_is_named_an_npz_missing_its_arrays(tmp_path) -> None:
    p = tmp_path / "empty.npz"
    np.savez(p)  # an empty zip: its magic differs from a zip with members
    with pytest.raises(ImageFileError, match="must hold the arrays 'images' and 'labels'"):
        load_labelled(p)


def test_a_report_quotes_only_the_first_unreadable_images(tmp_path, capsys, astronaut_bgr) -> None:
    import cv2

    from buddy_emotion.evaluation import UNREADABLE_EXAMPLES

    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    missing = [f"missing{i:02d}.png" for i in range(UNREADABLE_EXAMPLES + 2)]
    (tmp_path / "labels.csv").write_text("path,label\nastronaut.png,happy\n" + "".join(f"{m},sad\n" for m in missing))
    assert main(["eval", str(tmp_path), "--backend", "default", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["unreadable"] == len(missing)
    assert len(report["unreadable_examples"]) == UNREADABLE_EXAMPLES and missing[0] in report["unreadable_examples"][0]


@pytest.mark.parametrize("arrays", [
    dict(images=np.zeros((2, 48, 48), np.uint8), labels=np.arange(5)),  # fewer images than labels
    dict(images=np.zeros((5, 48, 48), np.uint8), labels=np.array(3)),  # 0-d labels
    dict(images=np.array(3, np.uint8), labels=np.arange(5)),  # 0-d images
    dict(images=np.zeros((5, 48, 48), np.uint8), labels=np.arange(5), usage=np.array(["A"] * 9)),  # longer usage
    dict(images=np.zeros((5, 48, 48), np.uint8), labels=np.arange(5), usage=np.array([["A"] * 5] * 2)),
    dict(images=np.zeros((5, 48, 48), np.uint8), labels=np.arange(5), usage=np.array([["A"] * 2] * 5)),  # 2-D usage
])
def test_npz_arrays_of_mismatched_shapes_give_image_file_error(tmp_path, arrays) -> None:
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(ImageFileError, match="bad.npz: '(images|labels|usage)'"):
        load_labelled(p, split="A" if "usage" in arrays else None)


def test_npz_member_that_is_not_an_npy_and_a_path_too_long_give_image_file_error(tmp_path) -> None:
    import zipfile

    p = tmp_path / "bad.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("images.npy", b"hello")
        z.writestr("labels.npy", b"world")
    with pytest.raises(ImageFileError, match="not a numpy array"):
        load_labelled(p)
    with pytest.raises(ImageFileError, match="not a usable path"):
        load_labelled(tmp_path / ("y" * 5000))


def test_a_split_that_is_not_a_str_is_a_type_error(tmp_path) -> None:
    from buddy_emotion.errors import ArgumentTypeError
    from buddy_emotion.evaluation import load_labelled

    with pytest.raises(ArgumentTypeError, match="split must be a str or None, got 3"):
        load_labelled(tmp_path / "x.npz", split=3)  # type: ignore[arg-type]


def _kaggle_csv(path, images: np.ndarray, labels: np.ndarray, usage: list[str] | None = None,
                header: str = "emotion,pixels,Usage") -> Any:
    """A file in the layout of Kaggle's fer2013.csv (or, by ``header``, icml_face_data.csv)."""
    names = [h.strip().lower() for h in header.split(",")]
    lines = [header]
    for i, (image, label) in enumerate(zip(images, labels)):
        fields = {"emotion": str(int(label)), "pixels": " ".join(map(str, image.ravel().tolist())),
                  "usage": usage[i] if usage else ""}
        lines.append(",".join(fields[n] for n in names))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fer2013_csv_as_kaggle_gives_it_loads_like_the_npz(tmp_path) -> None:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    labels = np.array([4, 0, 6, 3, 4])
    usage = ["Training", "PrivateTest", "PublicTest", "PrivateTest", "PrivateTest"]
    data = _kaggle_csv(tmp_path / "fer2013.csv", images, labels, usage)
    every = load_labelled(data)
    assert every.labels == ["sadness", "anger", "neutral", "happiness", "sadness"]
    assert np.array_equal(np.stack([every.image(i) for i in range(5)]), images)
    private = load_labelled(data, split="PrivateTest", limit=2)
    assert private.labels == ["anger", "happiness"] and np.array_equal(private.image(1), images[3])
    # icml_face_data.csv: other column order, names with a leading space
    icml = _kaggle_csv(tmp_path / "icml_face_data.csv", images, labels, usage, header="emotion, Usage, pixels")
    assert load_labelled(icml, split="PrivateTest").labels == ["anger", "happiness", "sadness"]
    # no Usage column: every row, and no split
    plain = _kaggle_csv(tmp_path / "plain.csv", images[:2], labels[:2], header="emotion,pixels")
    assert len(load_labelled(plain)) == 2
    with pytest.raises(ImageFileError, match="no Usage column"):
        load_labelled(plain, split="PrivateTest")
    with pytest.raises(ImageFileError, match=r"no rows with split 'Test'.*'PrivateTest', 'PublicTest', 'Training'"):
        load_labelled(data, split="Test")


def test_cli_eval_reads_fer2013_csv(tmp_path, capsys, astronaut_bgr) -> None:
    import cv2

    face = cv2.resize(cv2.cvtColor(astronaut_bgr[40:240, 150:350], cv2.COLOR_BGR2GRAY), (48, 48))
    data = _kaggle_csv(tmp_path / "fer2013.csv", np.stack([face] * 3), np.array([3, 3, 4]),
                       ["PrivateTest", "PrivateTest", "Training"])
    assert main(["eval", str(data), "--split", "PrivateTest", "--cropped", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert CONTRACT_KEYS <= set(report) and report["n"] == 2


@pytest.mark.parametrize(("text", "says"), [
    ("label,path\n", "needs the columns emotion,pixels"),
    ("emotion,pixels,Usage\n", "has no faces"),
    ("emotion,pixels,Usage\n7," + " ".join(["0"] * 2304) + ",Training\n", r":2: emotion must be .* 0..6, got '7'"),
    ("emotion,pixels,Usage\nsad," + " ".join(["0"] * 2304) + ",Training\n", "emotion must be"),
    ("emotion,pixels,Usage\n4," + " ".join(["0"] * 2303) + ",Training\n", r":2: pixels must be a square grey image"),
    ("emotion,pixels,Usage\n4," + " ".join(["0"] * 2300 + ["x"] * 4) + ",Training\n", "pixels must be a square"),
    ("emotion,pixels,Usage\n4," + " ".join(["0"] * 2303 + ["256"]) + ",Training\n", "grey levels 0..255"),
    ("emotion,pixels,Usage\n4," + " ".join(["0"] * 2304) + ",Training\n3," + " ".join(["0"] * 2025)
     + ",Training\n", r":3: pixels must be 48x48 = 2304 values, as the rows before"),
    ("emotion,pixels,Usage\n4," + " ".join(["0"] * 2304) + "\n", r":2: 2 fields, the header has 3"),
])
def test_a_corrupt_fer2013_csv_is_an_image_file_error_naming_the_row(tmp_path, text: str, says: str) -> None:
    data = tmp_path / "fer2013.csv"
    data.write_text(text)
    with pytest.raises(ImageFileError, match=says) as err:
        load_labelled(data)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_a_fer2013_csv_that_is_not_text_is_an_image_file_error(tmp_path) -> None:
    data = tmp_path / "fer2013.csv"
    data.write_bytes(b"\xff\xfe\x00emotion")
    with pytest.raises(ImageFileError, match="not UTF-8"):
        load_labelled(data)


@pytest.mark.fer
def test_fer2013_csv_gives_the_same_report_as_the_npz(fer_npz, tmp_path) -> None:
    from buddy_emotion import backends
    from buddy_emotion.evaluation import evaluate

    with np.load(fer_npz) as d:  # the first 120 PublicTest faces, written as Kaggle's CSV (in tmp_path only)
        keep = np.flatnonzero(d["usage"] == "PublicTest")[:120]
        data = _kaggle_csv(tmp_path / "fer2013.csv", d["images"][keep], d["labels"][keep], ["PublicTest"] * 120)
    backend = backends.create("default")
    try:
        a = evaluate(backend, load_labelled(fer_npz, split="PublicTest", limit=120), cropped=True)
        b = evaluate(backend, load_labelled(data, split="PublicTest"), cropped=True)
    finally:
        backend.close()
    for key in ("n", "accuracy", "sad_auroc", "confusion", "per_class"):
        assert a[key] == b[key], key
