"""The README documents what exists: every parameter, every scenario, the pictures it shows."""

import re
from pathlib import Path

from matryoshka.model.params import PARAMS
from matryoshka.model.scenarios import REGISTRY

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_parameter_is_in_the_parameter_table():
    documented = set(re.findall(r"^\| `(\w+)` \|", README, flags=re.MULTILINE))
    own = {name for cls in REGISTRY.values() for name in cls.params}
    assert set(PARAMS) | own <= documented, sorted(set(PARAMS) | own - documented)


def test_every_scenario_is_described():
    for key in REGISTRY:
        assert f"**`{key}`**" in README, key


def test_pictures_and_experiment_files_named_in_the_readme_exist():
    root = Path(__file__).parents[1]
    pictures = re.findall(r"\]\(((?:analysis|runs)/[^)]+)\)", README)
    experiments = re.findall(r"`(runs/\w+\.toml)`", README)
    assert pictures and experiments
    for path in pictures + experiments:
        assert (root / path).exists(), path
