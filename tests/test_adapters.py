"""Which base an adapter belongs to: the one check generation and training share (read from the files)."""

from __future__ import annotations

import json

import pytest

from ktokit.console import KitError
from ktokit.generate.adapters import check_adapter_base, same_base


def _adapter(folder, base):
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    return folder


def test_same_base_reads_tiny_and_folders(tmp_path):
    assert same_base("tiny", "tiny:en", "en")
    assert not same_base("tiny:en", "tiny:ja")
    assert not same_base("tiny:en", "org/model")
    assert same_base(str(tmp_path), str(tmp_path / ".") + "/")
    assert same_base("org/model", "org/model")
    assert not same_base("org/model", "org/other")


def test_an_adapter_on_another_base_is_refused_naming_both(tmp_path):
    adapter = _adapter(tmp_path / "a", "org/base-one")
    assert check_adapter_base(adapter, "org/base-one").base_model == "org/base-one"
    with pytest.raises(KitError) as err:
        check_adapter_base(adapter, "org/base-two")
    line = str(err.value)
    assert "org/base-one" in line and "org/base-two" in line and "\n" not in line


def test_the_base_train_kto_recorded_wins_over_adapter_config(tmp_path):
    adapter = _adapter(tmp_path / "a", "/some/cache/path")
    (adapter / "metrics.json").write_text(json.dumps({"base_model": "tiny:en"}))
    assert check_adapter_base(adapter, "tiny", "en").base_model == "tiny:en"
    with pytest.raises(KitError):
        check_adapter_base(adapter, "org/model", "en")
