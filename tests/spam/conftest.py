"""Fixtures for the spam model tests: a small model trained in seconds, and the shipped one."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.spam import evaluation
from service.spam.cli import DEFAULT_MODEL, SMS, YOUTUBE
from service.spam.data import Example, read_labelled
from service.spam.model import SpamModel, load_model


@pytest.fixture(scope="session")
def small_sources() -> list[list[Example]]:
    return [read_labelled(p)[:120] for p in YOUTUBE] + [read_labelled(SMS)[:400]]


@pytest.fixture(scope="session")
def small_model(small_sources: list[list[Example]]) -> SpamModel:
    return evaluation.fit(small_sources, seed=1, training={"epochs": 3})


@pytest.fixture(scope="session")
def shipped_model() -> SpamModel:
    return load_model(DEFAULT_MODEL)


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.csv"
    rows = [
        ("Check out my channel and subscribe http://spam.example.com", 1),
        ("Subscribe to my channel for free gift cards!!! www.free-gifts.tk", 1),
        ("Win a FREE prize now, text WIN to 80085", 1),
        ("I love this song, it reminds me of summer", 0),
        ("Thanks for the clear explanation of the tax changes.", 0),
        ("Great article, but the second chart is mislabeled.", 0),
    ]
    lines = ["COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS"]
    for i, (text, label) in enumerate(rows):
        lines.append(f'id{i},author{i},2024-01-01,"{text}",{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
