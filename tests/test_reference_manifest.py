"""Assignment manifests load, add up, and reject malformed files by name."""

from pathlib import Path

import pytest

from reference.assignments import ManifestError, list_assignments, load_assignment, load_manifest

FALL_POINTS = {
    "1a": 4, "1b": 4, "2a": 4, "2b": 4, "2c": 4, "3a-1": 4, "3a-2": 4, "3b": 4, "3c": 4,
    "3d": 4, "4-arch": 5, "4-acc": 10, "4-curves": 5, "4-probs": 5, "4-comment": 5,
    "5-q1": 6, "5-q2": 6, "5-q3": 14, "5-q4": 4,
}  # fmt: skip
SPRING_IDS = [
    "1a", "1b", "1c", "2a", "2b", "2c", "2d", "3", "4-arch", "4-acc", "4-curves",
    "4-probs", "4-reported", "4-comment", "5-q1", "5-q2", "5-q3", "5-q4",
]  # fmt: skip
GOOD_PART = 'id = "1a"\nproblem = "relu_fit"\ntitle = "t"\npoints = 4\n'


def test_both_editions_are_listed():
    assert {"fall2023", "spring2023"} <= set(list_assignments())


def test_fall2023_has_the_course_points_and_totals_100():
    fall = load_assignment("fall2023")
    assert {p.id: p.points for p in fall.parts} == FALL_POINTS
    assert fall.total == 100
    assert {p.id for p in fall.parts if p.grading == "manual"} == {"2c", "4-comment"}
    assert fall.part("3a-2").problem == "relu_fit"


def test_spring2023_has_its_parts_and_totals_100():
    spring = load_assignment("spring2023")
    assert [p.id for p in spring.parts] == SPRING_IDS
    assert spring.total == 100
    assert {p.id for p in spring.parts if p.grading == "manual"} == {"1c", "2d", "4-comment"}
    assert spring.part("3").problem == "softmax_jacobian"


def test_every_part_names_an_importable_reference_module():
    import importlib

    for name in list_assignments():
        for part in load_assignment(name).parts:
            importlib.import_module(f"reference.{part.problem}")
            assert part.visibility == "visible"


def test_unknown_part_id_names_the_known_ones():
    with pytest.raises(KeyError, match="3a-1"):
        load_assignment("fall2023").part("9z")


def write(tmp_path: Path, parts: str, name: str = "demo") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'id = "{name}"\ntitle = "Demo"\n' + parts, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ("[[parts]]\n" + GOOD_PART + "colour = 1\n", "unknown keys"),
        ("[[parts]]\n" + GOOD_PART + "[[parts]]\n" + GOOD_PART, "duplicate part id"),
        ("[[parts]]\n" + GOOD_PART.replace("points = 4", "points = 0"), "must be positive"),
        ("[[parts]]\n" + GOOD_PART.replace("points = 4", "points = -2"), "must be positive"),
        (
            "[[parts]]\n" + GOOD_PART.replace("relu_fit", "no_such_problem"),
            "not a reference module",
        ),
        ("[[parts]]\n" + GOOD_PART + 'grading = "robot"\n', "grading"),
        ("[[parts]]\n" + GOOD_PART + 'visibility = "secret"\n', "visibility"),
        ("[[parts]]\n" + 'id = "1a"\n', "missing"),
        ("parts = []\n", "non-empty"),
        ("[[parts]\n", "cannot read"),
    ],
)
def test_bad_manifests_raise_manifest_error_naming_the_file(tmp_path, parts, message):
    path = write(tmp_path, parts)
    with pytest.raises(ManifestError, match=message) as raised:
        load_manifest(path)
    assert str(path) in str(raised.value)


def test_id_must_match_file_name_and_missing_files_list_known_ones(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('id = "b"\ntitle = "x"\n[[parts]]\n' + GOOD_PART, encoding="utf-8")
    with pytest.raises(ManifestError, match="must match the file name"):
        load_manifest(path)
    with pytest.raises(ManifestError, match="known assignments: a"):
        load_assignment("missing", directory=tmp_path)


def test_a_valid_custom_manifest_loads_with_defaults(tmp_path):
    path = write(tmp_path, "[[parts]]\n" + GOOD_PART)
    assignment = load_manifest(path)
    assert assignment.total == 4
    assert assignment.part("1a").grading == "auto"
    assert assignment.part("1a").visibility == "visible"


P5_PART = 'id = "5-q1"\nproblem = "numpy_backprop"\ntitle = "Q1"\npoints = 6\n'


def test_both_editions_give_full_credit_to_unseeded_draws_by_default():
    for name in ("fall2023", "spring2023"):
        part = load_assignment(name).part("5-q1")
        assert part.setting("unseeded_credit", 0.0) == 1.0


def test_a_part_setting_is_read_with_its_default_when_absent(tmp_path):
    path = write(tmp_path, "[[parts]]\n" + P5_PART + "settings = { unseeded_credit = 0.5 }\n")
    assert load_manifest(path).part("5-q1").setting("unseeded_credit", 1.0) == 0.5
    plain = load_manifest(write(tmp_path, "[[parts]]\n" + P5_PART, name="plain"))
    assert plain.part("5-q1").setting("unseeded_credit", 1.0) == 1.0
    with pytest.raises(KeyError, match="unknown part setting"):
        plain.part("5-q1").setting("colour", 1.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("settings = { unseeded_credit = 1.5 }", "number in \\[0, 1\\]"),
        ('settings = { unseeded_credit = "half" }', "number in \\[0, 1\\]"),
        ("settings = { unseeded_credit = true }", "number in \\[0, 1\\]"),
        ("settings = { colour = 1 }", "unknown setting 'colour'"),
        ("settings = 3", "use a table"),
    ],
)
def test_bad_part_settings_are_refused_by_name(tmp_path, settings, message):
    path = write(tmp_path, "[[parts]]\n" + P5_PART + settings + "\n")
    with pytest.raises(ManifestError, match=message):
        load_manifest(path)


def test_a_setting_belongs_to_its_problem(tmp_path):
    path = write(tmp_path, "[[parts]]\n" + GOOD_PART + "settings = { unseeded_credit = 1.0 }\n")
    with pytest.raises(ManifestError, match="only parts of problem 'numpy_backprop'"):
        load_manifest(path)


def test_loaded_weights_credit_is_taken_by_the_p4_and_p5_parts_only(tmp_path):
    for name in ("fall2023", "spring2023"):  # both editions: flag, keep the points
        for part in ("4-acc", "5-q4"):
            assert load_assignment(name).part(part).setting("loaded_weights_credit", 0.0) == 1.0
    p4 = 'id = "4-acc"\nproblem = "fashion_mlp"\ntitle = "acc"\npoints = 10\n'
    setting = "settings = { loaded_weights_credit = 0.25 }\n"
    path = write(tmp_path, "[[parts]]\n" + p4 + setting + "[[parts]]\n" + P5_PART + setting)
    loaded = load_manifest(path)
    assert loaded.part("4-acc").setting("loaded_weights_credit", 1.0) == 0.25
    assert loaded.part("5-q1").setting("loaded_weights_credit", 1.0) == 0.25
    elsewhere = write(tmp_path, "[[parts]]\n" + GOOD_PART + setting, name="elsewhere")
    with pytest.raises(ManifestError, match="'numpy_backprop' or 'fashion_mlp'"):
        load_manifest(elsewhere)
