"""The installed product: the wheel in a fresh virtual environment, used as a new user would.

The wheel is built from this checkout and installed into a new venv; the commands then run from a
directory that holds its own `model.py` and `analysis/`, with a stand-in top-level `agents`
package installed beside Matryoshka (as the OpenAI Agents SDK installs one). All three stand-ins
raise when imported, so any command that picks up one of them fails. The scenario of the README's
"A new scenario" example is installed as a third-party package with its entry point and run.

To spare downloading every dependency again, the new venv sees the test environment's
site-packages through a `.pth` line (after its own); Matryoshka itself comes only from the wheel,
which the test checks.
"""

import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "population=10", "--set", "generations=2", "--set", "episode_steps=6",
        "--set", "deploy_episodes=1"]
SHADOW = "raise ImportError('the stand-in {} was imported instead of matryoshka')\n"


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *args],
                   check=True, capture_output=True, text=True)


def _readme_block(heading: str, language: str) -> str:
    """The first fenced block of a language after a README heading."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(heading):]
    return re.search(rf"```{language}\n(.*?)```", section, flags=re.S).group(1)


def _plugin(root: Path) -> Path:
    """A package holding the README's example scenario and its entry point, as the README shows."""
    package = root / "beacon-plugin"
    (package / "beacon").mkdir(parents=True)
    heading = "### A new scenario: one file plus its entry point"
    (package / "beacon" / "__init__.py").write_text(_readme_block(heading, "python"))
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "beacon"\nversion = "0.1"\n\n' + _readme_block(heading, "toml"))
    return package


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    # Built from a copy, so that the build leaves nothing in the checkout and finds nothing stale.
    source = shutil.copytree(ROOT, root / "source", ignore=shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "out", "__pycache__"))
    _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(source),
         str(_plugin(root)))
    wheel = next(dist.glob("matryoshka-*.whl"))
    env = root / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _pip("--python", str(python), "install", "--no-deps", *map(str, dist.glob("*.whl")))
    (site / "agents").mkdir()  # a stand-in top-level `agents`, as another package installs one
    (site / "agents" / "__init__.py").write_text(SHADOW.format("agents package"))
    (site / "agents" / "tool.py").write_text(SHADOW.format("agents.tool module"))
    work = root / "work"  # where the user stands: their own model.py and analysis/
    (work / "analysis").mkdir(parents=True)
    (work / "analysis" / "__init__.py").write_text(SHADOW.format("analysis folder"))
    (work / "model.py").write_text(SHADOW.format("model.py"))
    return {"wheel": wheel, "bin": env / "bin", "site": site, "work": work}


def run(installed: dict, *command: str, code: int = 0) -> str:
    """Run a command of the new venv from the user's directory; return what it printed."""
    exe = str(installed["bin"] / command[0])
    done = subprocess.run([exe, *command[1:]], cwd=installed["work"], capture_output=True, text=True,
                          env={"PATH": f"{installed['bin']}:/usr/bin:/bin", "HOME": str(installed["work"])})
    assert done.returncode == code, done.stderr[-2000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_the_wheel_holds_one_namespace_and_the_whole_product(installed: dict) -> None:
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    assert {name.split("/")[0] for name in names} == {"matryoshka", "matryoshka-0.1.0.dist-info"}
    for needed in ("matryoshka/runs/app.py", "matryoshka/runs/default.toml", "matryoshka/model/contract.py",
                   "matryoshka/model/scenarios/maze.py", "matryoshka-0.1.0.dist-info/licenses/LICENSE"):
        assert needed in names
    site = installed["site"]
    assert not any((site / name).exists() for name in ("model", "runs", "analysis"))
    assert sorted(p.name for p in (site / "agents").iterdir()) == ["__init__.py", "tool.py"]  # ours
    where = run(installed, "python", "-c", "import matryoshka, matryoshka.model.model as m; "
                "import matryoshka.runs.app; print(m.__file__)")
    assert where.strip().startswith(str(site / "matryoshka" / "model"))


@pytest.mark.slow
def test_the_commands_work_from_a_directory_that_shadows_the_old_names(installed: dict) -> None:
    assert run(installed, "matryoshka", "--version").strip() == "matryoshka 0.1.0"
    assert "--port" in run(installed, "matryoshka", "viz", "--help")
    assert "interventions" in run(installed, "matryoshka", "experiments")
    out = run(installed, "matryoshka", "run", "--out", "one", "--quiet", *TINY)
    assert "outputs: one" in out and (installed["work"] / "one" / "manifest.json").is_file()
    # A shipped experiment by name, read from the package: the run limit stops it before any work.
    refused = run(installed, "matryoshka", "sweep", "default", "--out", "big", "--max-runs", "1", code=2)
    assert "18 runs" in refused and not (installed["work"] / "big").exists()
    tiny = installed["work"] / "tiny.toml"
    tiny.write_text('scenario = "maze-v2"\n[params]\npopulation = 10\ngenerations = 2\nepisode_steps = 6\n'
                    'deploy_episodes = 1\n[sweep]\ntool_policy = ["free", "oversight"]\n')
    out = run(installed, "matryoshka", "sweep", "tiny.toml", "--out", "sweep", "--workers", "2", "--quiet")
    assert "2 of 2 runs complete" in out
    assert "report:" in run(installed, "matryoshka", "analyze", "sweep")


@pytest.mark.slow
def test_a_third_party_scenario_plugs_in_through_its_entry_point(installed: dict) -> None:
    assert "beacon_reward" in run(installed, "matryoshka", "params", "--scenario", "beacon-v1")
    out = run(installed, "matryoshka", "run", "--scenario", "beacon-v1", "--out", "b", "--quiet",
              "--set", "beacon_reward=2", "--set", "width=9", "--set", "height=9", *TINY)
    assert "seen_beacon" in out  # the scenario's own metric, printed with the summary
