"""Bad study inputs found when the study is loaded, each a one-line SpecError naming it."""

import textwrap

import pytest

from automl.search import SpecError, load_spec
from tests.search.runner_helpers import tiny


def one_line_error(match, *args, **kwargs) -> str:
    with pytest.raises(SpecError, match=match) as info:
        load_spec(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_output_naming_an_existing_file(tmp_path):
    (tmp_path / "taken").write_text("")
    message = one_line_error("key 'output'", tiny(tmp_path, output=str(tmp_path / "taken")))
    assert f"'{tmp_path / 'taken'}' is an existing file; expected a directory path" in message


def test_storage_naming_a_directory(tmp_path):
    message = one_line_error("key 'storage'", tiny(tmp_path, storage=str(tmp_path)))
    assert f"'{tmp_path}' is a directory; expected a journal file path" in message


def test_duplicate_keys_name_both_lines(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent("""\
        dataset: iris
        epochs: 5
        space:
          parameters:
            batch_size: 16
        epochs: 50
    """))
    message = one_line_error("duplicate key 'epochs' at lines 2 and 6", path)
    assert message.startswith(str(path))


def test_duplicate_keys_in_nested_mappings_and_space_files(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("dataset: iris\nspace:\n  parameters:\n    batch_size: 16\n    batch_size: 32\n")
    one_line_error("duplicate key 'batch_size' at lines 4 and 5", path)
    (tmp_path / "space.yaml").write_text("parameters:\n  dropout: 0.1\n  dropout: 0.2\n")
    path.write_text("dataset: iris\nspace: space.yaml\n")
    one_line_error(r"space.yaml: .*duplicate key 'dropout' at lines 2 and 3", path)


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent("""\
        defaults: &defaults {n_trials: 5, epochs: 2}
        budget: &budget {<<: *defaults, epochs: 3}
    """))
    from automl.search._yaml import load_yaml  # the loader alone: these are not study keys

    assert load_yaml(path.read_text())["budget"] == {"n_trials": 5, "epochs": 3}


@pytest.mark.parametrize("name, value, what", [
    ("optimizer", "adamm", "optimizer"),
    ("activation", "rleu", "activation"),
    ("loss", "msee", "loss"),
    ("lr_schedule", "cosin", "learning-rate schedule"),
    ("kernel_initializer", "he_nromal", "initializer"),
])
def test_choices_naming_no_registry_object_fail_at_load(tmp_path, name, value, what):
    space = {"parameters": {name: {"type": "categorical", "choices": [value, None]
                                   if name in ("loss", "lr_schedule") else [value]}}}
    message = one_line_error(f"parameter '{name}': the choice '{value}' is not a known {what}",
                             tiny(tmp_path, space=space))
    assert "expected one of" in message.lower()


def test_valid_registry_choices_load(tmp_path):
    space = {"parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "SGD", "rmsprop"]},
        "activation": {"type": "categorical", "choices": ["relu", "tanh"]},
        "lr_schedule": {"type": "categorical", "choices": [None, "cosine"]},
    }}
    assert load_spec(tiny(tmp_path, space=space)).space.names
