"""The model file: deterministic training, and clear errors for bad files at load time."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from service.spam import evaluation
from service.spam.cli import DEFAULT_MODEL, train
from service.spam.data import Example
from service.spam.model import ModelError, _read_document, dump_model, load_model


def _write_sources(tmp_path: Path, sources: list[list[Example]]) -> list[Path]:
    paths = []
    for n, source in enumerate(sources):
        path = tmp_path / f"part{n}.tsv"
        lines = ["label\ttext"] + [
            f"{'spam' if e.is_spam else 'ham'}\t{e.text.replace(chr(9), ' ')}" for e in source
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_training_is_deterministic(tmp_path: Path, small_sources: list[list[Example]]) -> None:
    paths = _write_sources(tmp_path, [s[:60] for s in small_sources])
    train(paths, tmp_path / "a.json.gz", seed=7)
    train(paths, tmp_path / "b.json.gz", seed=7)
    train(paths, tmp_path / "c.json", seed=7)
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()
    assert (
        gzip.decompress((tmp_path / "a.json.gz").read_bytes()) == (tmp_path / "c.json").read_bytes()
    )
    train(paths, tmp_path / "d.json.gz", seed=8)
    assert (tmp_path / "d.json.gz").read_bytes() != (tmp_path / "a.json.gz").read_bytes()


def test_round_trip_keeps_scores(tmp_path: Path, small_model) -> None:
    path = tmp_path / "m.json"
    dump_model(small_model, path)
    loaded = load_model(path)
    text = "check out my channel http://x.example.com please subscribe"
    assert loaded.score(text).probability == pytest.approx(
        small_model.score(text).probability, abs=1e-4
    )
    doc = json.loads(path.read_text())
    assert doc["format"] == "margin-spam-model"
    assert doc["features"]["hash"] == "crc32-utf8"
    assert {"hold", "spam"} <= doc["thresholds"].keys()


def test_shipped_model_loads_and_describes_its_data() -> None:
    model = load_model(DEFAULT_MODEL)
    assert 0 < model.hold_threshold <= model.spam_threshold < 1
    files = {d["file"] for d in model.meta["data"]}
    assert "SMSSpamCollection.tsv" in files
    assert "Youtube01-Psy.csv" in files
    assert model.meta["metrics"]


@pytest.fixture
def good_doc(tmp_path: Path, small_model) -> dict:
    path = tmp_path / "good.json"
    dump_model(small_model, path)
    return json.loads(path.read_text())


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="file not found"):
        load_model(tmp_path / "nope.json")


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "garbage.json"
    path.write_bytes(b"\x00\xffnot a model")
    with pytest.raises(ModelError, match=r"not UTF-8|not valid JSON"):
        load_model(path)


def test_truncated_json(tmp_path: Path, small_model) -> None:
    path = tmp_path / "m.json"
    dump_model(small_model, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt or truncated"):
        load_model(path)


def test_truncated_gzip(tmp_path: Path, small_model) -> None:
    path = tmp_path / "m.json.gz"
    dump_model(small_model, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ModelError, match="gzip"):
        load_model(path)


def test_corrupt_gzip(tmp_path: Path, small_model) -> None:
    path = tmp_path / "m.json.gz"
    dump_model(small_model, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError):
        load_model(path)


def test_dropped_weight_rows_are_detected(tmp_path: Path, good_doc: dict) -> None:
    good_doc["weights"] = good_doc["weights"][:-3]
    with pytest.raises(ModelError, match="truncated"):
        load_model(_write(tmp_path, good_doc))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "format version 99 is not supported"),
        ({"format": "something-else"}, "not a Margin spam model"),
        ({"bias": "x"}, "bias must be a finite number"),
        ({"thresholds": {"hold": 0.9, "spam": 0.5}}, "thresholds must satisfy"),
        ({"features": {"hash": "md5"}}, "unsupported feature hash"),
    ],
)
def test_invalid_fields(tmp_path: Path, good_doc: dict, change: dict, message: str) -> None:
    good_doc.update(change)
    with pytest.raises(ModelError, match=message):
        load_model(_write(tmp_path, good_doc))


def test_weight_row_with_wrong_name(tmp_path: Path, good_doc: dict) -> None:
    slot, weight, _ = good_doc["weights"][0]
    good_doc["weights"][0] = [slot, weight, "w:definitely-not-this-slot"]
    with pytest.raises(ModelError, match="does not hash to slot"):
        load_model(_write(tmp_path, good_doc))


def test_weight_out_of_range(tmp_path: Path, good_doc: dict) -> None:
    good_doc["weights"][0] = [2**40, 1.0, ""]
    with pytest.raises(ModelError, match="outside"):
        load_model(_write(tmp_path, good_doc))


def test_fit_is_deterministic_in_memory(small_sources: list[list[Example]]) -> None:
    a = evaluation.fit([s[:40] for s in small_sources], seed=3, training={"epochs": 2})
    b = evaluation.fit([s[:40] for s in small_sources], seed=3, training={"epochs": 2})
    assert a.weights == b.weights
    assert a.bias == b.bias


def test_the_model_file_is_read_as_json_loads_reads_it() -> None:
    """The loader leaves the weight rows in the text and decodes them one at a time (a
    worker's memory peak was the ~100,000 rows as lists); it must read every document exactly
    as json.loads does, and refuse every document json.loads refuses."""
    text = gzip.decompress(DEFAULT_MODEL.read_bytes()).decode("utf-8")
    doc, rows = _read_document(text)
    expected = json.loads(text)
    assert rows is not None and len(rows) == len(expected["weights"])
    assert list(rows) == expected.pop("weights")
    assert doc == expected
    cases = [
        "{}",
        ' { "weights" : [ ] } ',
        '{"a": 1, "weights": [[1, 2.5, "x"]] , "b": [1]}',
        '{"weights": 5}',
        '{"weights": [[1, 2, "x"]], "weights": {"a": 1}}',
        '{"weights": {"a": 1}, "weights": [[3, 4, ""]]}',
        "[1, 2]",
        '{"a": 1,}',
        '{"a": 1',
        '{"weights": [1, 2',
        '{"weights": [1, 2]} x',
        '{"weights": [1 2]}',
        '{"weights": [[1, 2, "x"],]}',
        '{"weights": [,]}',
        "{a: 1}",
        "",
    ]
    rng = random.Random(5)
    sample = text[:3000]
    for _ in range(300):  # damaged copies of a real file's start and of a small document
        source = rng.choice([sample, '{"weights": [[1, 2, "x"], [3, 4, "y"]], "n": 2}'])
        at = rng.randrange(len(source))
        cases.append(
            source[:at] + rng.choice(["", ",", "]", "[", "}", '"', " "]) + source[at + 1 :]
        )
    for case in cases:
        try:
            wanted = json.loads(case)
        except json.JSONDecodeError:
            with pytest.raises(json.JSONDecodeError):
                _read_document(case)
            continue
        got, got_rows = _read_document(case)
        if got_rows is not None:
            got = {**got, "weights": list(got_rows)}
        assert got == wanted, case


def test_averaged_training_is_the_mean_of_the_iterates() -> None:
    """``average=True`` returns the mean of the weights before and after every step."""
    import math
    import random

    from service.spam.features import Features
    from service.spam.model import _sigmoid, train_weights

    examples = [
        (Features({1: 0.5, 2: 1.0}), True, 1.0),
        (Features({2: 0.7, 3: 0.2}), False, 2.0),
        (Features({1: 0.1, 3: 1.5}), True, 0.5),
    ]
    w, bias = train_weights(examples, seed=5, epochs=3, average=True)
    plain, plain_bias = train_weights(examples, seed=5, epochs=3)
    # reference: plain AdaGrad, keeping every iterate
    rng = random.Random(5)
    cur: dict[int, float] = {1: 0.0, 2: 0.0, 3: 0.0}
    g2 = dict.fromkeys(cur, 0.0)
    b = bg2 = 0.0
    iterates = [(dict(cur), b)]
    order = list(range(3))
    for _ in range(3):
        rng.shuffle(order)
        for i in order:
            feats, label, sw = examples[i]
            z = b + sum(cur[s] * v for s, v in feats.values.items())
            err = (_sigmoid(z) - label) * sw
            for s, v in feats.values.items():
                grad = err * v + 1e-4 * cur[s]
                g2[s] += grad * grad
                cur[s] -= 0.5 * grad / (math.sqrt(g2[s]) + 1e-8)
            bg2 += err * err
            b -= 0.5 * err / (math.sqrt(bg2) + 1e-8)
            iterates.append((dict(cur), b))
    assert plain == pytest.approx(cur, rel=1e-12)
    assert plain_bias == pytest.approx(b, rel=1e-12)
    n = len(iterates)
    assert w == pytest.approx({s: sum(it[0][s] for it in iterates) / n for s in cur}, rel=1e-9)
    assert bias == pytest.approx(sum(it[1] for it in iterates) / n, rel=1e-9)
