"""`margin keys init` for production: creates the keyring once, never overwrites it, and a
production server never creates one silently."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from service.app import create_app
from service.cli import main
from service.privacy.keys import KeyError_, load_keyring
from service.settings import Settings


@pytest.fixture
def prod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key_file = tmp_path / "etc" / "margin" / "keys.json"
    monkeypatch.setenv("MARGIN_ENV", "production")
    monkeypatch.setenv("MARGIN_DATABASE_URL", f"sqlite:///{tmp_path / 'margin.db'}")
    monkeypatch.setenv("MARGIN_KEY_FILE", str(key_file))
    return key_file


def test_keys_init_creates_once_and_refuses_to_overwrite(
    prod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """P-*: the keyring is created mode 0600 in a 0700 directory and never replaced."""
    assert main(["keys", "init"]) == 0
    assert "Back it up" in capsys.readouterr().err
    assert stat.S_IMODE(prod.stat().st_mode) == 0o600
    assert stat.S_IMODE(prod.parent.stat().st_mode) == 0o700
    first = prod.read_bytes()
    keyring = load_keyring(prod)
    assert len(keyring.signing_key) == 32
    assert main(["keys", "init"]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert prod.read_bytes() == first


def test_production_refuses_to_start_without_the_key_file(
    prod: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped MARGIN_KEY_FILE stops the server with a message naming `margin keys init`;
    no new keyring appears (it could not decrypt the stored emails)."""
    assert main(["serve", "--no-migrate"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "margin keys init" in err
    assert not prod.exists()
    with pytest.raises(KeyError_, match="margin keys init"):
        create_app(Settings())
    assert not prod.exists()
    for command in (["keys", "status"], ["subject", "erase", "--email", "a@b.org", "--yes"]):
        assert main(command) == 2, command
        assert not prod.exists()
    assert main(["keys", "init"]) == 0
    app = create_app(Settings())
    app.state.margin.db.dispose()
