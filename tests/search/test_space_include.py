"""Search spaces: ``include:`` merging, overrides, shipped names, cycles and errors."""

from pathlib import Path

import pytest
import yaml
from optuna.trial import FixedTrial

from automl.search import SpecError, compile_space, load_space
from automl.search._space import SPACES_DIR


def _write(path: Path, spec) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


BASE = {
    "description": "base",
    "parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "rmsprop", "sgd"]},
        "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "optimizer__rho": {"type": "float", "low": 0.8, "high": 0.99,
                           "when": {"optimizer": "rmsprop"}},
        "optimizer__momentum": {"type": "float", "low": 0.0, "high": 0.9,
                                "when": {"optimizer": "sgd"}},
    },
}


def test_included_parameters_come_first_and_overrides_keep_their_position(tmp_path):
    _write(tmp_path / "parts" / "base.yaml", BASE)
    top = _write(tmp_path / "top.yaml", {
        "include": ["parts/base.yaml"],
        "parameters": {
            "hidden_layer_sizes": {"type": "categorical", "choices": [[8], [16]]},
            "learning_rate": 0.01,  # overrides the included range, in its place
        },
    })
    space = load_space(top)
    assert space.names == ["optimizer", "learning_rate", "optimizer__rho",
                           "optimizer__momentum", "hidden_layer_sizes"]
    assert space.includes == (str(tmp_path / "parts" / "base.yaml"),)
    assert space.description == ""  # the including file's own description only
    drawn = space.suggest(FixedTrial({"optimizer": "sgd", "optimizer__momentum": 0.5,
                                      "hidden_layer_sizes": "[16]"}))
    assert drawn == {"optimizer": "sgd", "learning_rate": 0.01, "optimizer__momentum": 0.5,
                     "hidden_layer_sizes": (16,)}
    # Each parameter remembers the file it comes from.
    sources = {p.name: p.source for p in space.params}
    assert sources["optimizer"] == str(tmp_path / "parts" / "base.yaml")
    assert sources["learning_rate"] == str(top)


def test_nested_includes_in_order_and_later_includes_win(tmp_path):
    _write(tmp_path / "a.yaml", {"parameters": {"x": 1, "y": 1}})
    _write(tmp_path / "b.yaml", {"include": "a.yaml", "parameters": {"y": 2, "z": 2}})
    _write(tmp_path / "c.yaml", {"parameters": {"z": 3}})
    top = _write(tmp_path / "top.yaml", {"include": ["b", "c.yaml"]})  # no `parameters` needed
    space = load_space(top)
    assert space.names == ["x", "y", "z"]
    assert space.suggest(FixedTrial({})) == {"x": 1, "y": 2, "z": 3}
    assert [Path(f).name for f in space.includes] == ["b.yaml", "a.yaml", "c.yaml"]


def test_shipped_spaces_are_found_by_name(tmp_path):
    top = _write(tmp_path / "mine.yaml", {
        "include": ["optimizers", "lr_schedules.yaml"],
        "parameters": {"epochs": 3},
    })
    space = load_space(top)
    expected = load_space(SPACES_DIR / "optimizers.yaml").names
    expected += load_space(SPACES_DIR / "lr_schedules.yaml").names
    assert space.names == [*expected, "epochs"]
    inline = compile_space({"include": ["regularization"], "parameters": {"dropout": 0.1}})
    assert inline.suggest(FixedTrial({"l1": 0.0, "l2": 0.0, "batch_norm": False}))["dropout"] == 0.1


def test_narrowing_included_choices_disables_their_conditions(tmp_path):
    _write(tmp_path / "base.yaml", BASE)
    top = _write(tmp_path / "top.yaml", {
        "include": ["base.yaml"],
        "parameters": {
            "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
            "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "grid": [1e-3]},
            "optimizer__momentum": {"type": "float", "low": 0.0, "high": 0.9, "grid": [0.9],
                                    "when": {"optimizer": "sgd"}},
        },
    })
    space = load_space(top)
    assert "optimizer__rho" in space.names  # kept, but its condition can never hold
    assert space.to_param_grid() == [
        {"optimizer": ["adam"], "learning_rate": [1e-3]},
        {"optimizer": ["sgd"], "learning_rate": [1e-3], "optimizer__momentum": [0.9]},
    ]
    # A `when` value outside the choices of its own file is still an error.
    with pytest.raises(SpecError, match="'when' value 'nadam' is not one of the choices"):
        compile_space({"parameters": {
            "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
            "optimizer__beta_1": {"type": "float", "low": 0.8, "high": 0.9,
                                  "when": {"optimizer": "nadam"}}}})


def test_include_cycle_names_the_files(tmp_path):
    _write(tmp_path / "a.yaml", {"include": ["b.yaml"], "parameters": {"x": 1}})
    _write(tmp_path / "b.yaml", {"include": ["a.yaml"], "parameters": {"y": 1}})
    with pytest.raises(SpecError, match="include cycle") as info:
        load_space(tmp_path / "a.yaml")
    text = str(info.value)
    assert f"{tmp_path / 'a.yaml'} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'a.yaml'}" in text
    _write(tmp_path / "self.yaml", {"include": ["self.yaml"], "parameters": {"x": 1}})
    with pytest.raises(SpecError, match="include cycle"):
        load_space(tmp_path / "self.yaml")


def test_diamond_includes_are_not_cycles(tmp_path):
    _write(tmp_path / "common.yaml", {"parameters": {"x": 1}})
    _write(tmp_path / "left.yaml", {"include": ["common.yaml"], "parameters": {"l": 1}})
    _write(tmp_path / "right.yaml", {"include": ["common.yaml"], "parameters": {"r": 1}})
    top = _write(tmp_path / "top.yaml", {"include": ["left.yaml", "right.yaml"]})
    assert load_space(top).names == ["x", "l", "r"]


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"include": ["nope.yaml"]}, "include 'nope.yaml' not found (looked in: "),
        ({"include": [3]}, "'include' must be a file name or a list of file names, got [3]"),
        ({"include": {"a": 1}}, "'include' must be a file name or a list of file names"),
        ({"includes": ["a.yaml"], "parameters": {"x": 1}}, "unknown top-level key 'includes'"),
    ],
)
def test_include_errors_name_the_including_file(tmp_path, top, message):
    path = _write(tmp_path / "top.yaml", top)
    with pytest.raises(SpecError) as info:
        load_space(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_errors_in_an_included_file_name_that_file(tmp_path):
    bad = _write(tmp_path / "bad.yaml", {"parameters": {"lr": {"type": "float", "low": 1,
                                                               "high": 0}}})
    top = _write(tmp_path / "top.yaml", {"include": ["bad.yaml"], "parameters": {"x": 1}})
    with pytest.raises(SpecError, match=rf"^{bad}: parameter 'lr': 'low' \(1\)"):
        load_space(top)
    (tmp_path / "broken.yaml").write_text("parameters: {x: [1\n")
    top = _write(tmp_path / "top2.yaml", {"include": ["broken.yaml"]})
    with pytest.raises(SpecError, match=r"broken\.yaml: malformed YAML"):
        load_space(top)
    # An included condition on a parameter that only the including file defines (below it).
    part = _write(tmp_path / "part.yaml", {"parameters": {
        "optimizer__momentum": {"type": "float", "low": 0.0, "high": 0.9,
                                "when": {"optimizer": "sgd"}}}})
    top = _write(tmp_path / "top3.yaml", {"include": ["part.yaml"], "parameters": {
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]}}})
    with pytest.raises(SpecError) as info:
        load_space(top)
    assert str(info.value) == (
        f"{part}: parameter 'optimizer__momentum': 'when' refers to 'optimizer', which is "
        "defined below this parameter; conditions may only refer to parameters defined above them"
    )


def test_inline_space_includes_relative_to_base_dir(tmp_path):
    _write(tmp_path / "base.yaml", BASE)
    space = compile_space({"include": ["base.yaml"]}, source="study.yaml: space",
                          base_dir=tmp_path)
    assert space.names[0] == "optimizer"
    with pytest.raises(SpecError, match="^study.yaml: space: include 'base.yaml' not found"):
        compile_space({"include": ["base.yaml"]}, source="study.yaml: space",
                      base_dir=tmp_path / "elsewhere")
