"""The README documents what exists: every parameter, every scenario, the pictures it shows.

And its numbers about results come from claims.md: each is a link to the claim it is copied from.
"""

import re
from pathlib import Path

from matryoshka.model.params import PARAMS
from matryoshka.model.scenarios import REGISTRY
from matryoshka.runs.claims import DEFAULT_SEEDS, claims

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
CLAIMS_MD = (ROOT / "analysis" / "claims.md").read_text()
#: A number copied from claims.md: `[0.85](analysis/claims.md#random-exits-restore-exit)`.
CITATION = re.compile(r"\[([^\]]*)\]\(analysis/claims\.md#([a-z0-9-]+)\)")
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+")
#: Where the README speaks of results: every decimal number there is a citation or `code`.
RESULT_SECTIONS = ("## Scenarios", "## Analysis: figures and tables")


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
        assert (root / path.split("#")[0]).exists(), path


def _claim_sections() -> dict[str, str]:
    """claims.md's section of each claim, by name."""
    parts = re.split(r"^## ", CLAIMS_MD, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].strip(): part for part in parts}


def test_claims_md_holds_every_claim_over_at_least_ten_seeds():
    sections = _claim_sections()
    assert set(sections) == {claim.name for claim in claims()}
    for name, text in sections.items():
        seeds = int(re.search(r"over n = (\d+) seeds", text).group(1))
        assert seeds >= DEFAULT_SEEDS, name
    assert re.search(r"from commit `[0-9a-f]{12}` \((clean|with uncommitted changes)\)", CLAIMS_MD)


def test_readme_numbers_about_results_are_copied_from_claims_md():
    sections = _claim_sections()
    citations = CITATION.findall(README)
    assert citations
    for text, name in citations:
        assert name in sections, f"README cites {name!r}, which claims.md does not have"
        numbers = set(DECIMAL.findall(sections[name]))
        for number in DECIMAL.findall(text):
            assert number in numbers, f"README says {number} for {name}; claims.md: {sorted(numbers)}"


def test_results_sections_state_no_number_that_is_not_from_claims_md():
    for title in RESULT_SECTIONS:
        body = README.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]
        body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)  # commands
        body = re.sub(r"`[^`]*`", "", CITATION.sub("", body))  # citations, code and parameters
        assert not DECIMAL.findall(body), (title, DECIMAL.findall(body))
