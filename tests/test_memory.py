"""Memory: a finished model is freed, a long sweep holds its memory flat, tools cost no memory per cell."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref

import pytest

from matryoshka.model.model import MatryoshkaModel


@pytest.mark.parametrize("scenario", ["maze-v2", "evolution-v1", "approval-v1"])
def test_a_finished_model_is_freed(scenario):
    # tools on, so that organisms, tools and their builders all refer to one another
    model = MatryoshkaModel(scenario, rng=1, population=12, generations=2, episode_steps=6,
                            deploy_episodes=1, total_steps=12, shift_at=6, build_rate=1.0,
                            build_power=0.0, build_cost=0.0)  # fmt: skip
    while model.running:
        model.step()
    model.finish()
    assert any(level >= 2 for level in model.summary) or scenario == "evolution-v1"
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None, "the model is still referenced after it was dropped"


SWEEP_PEAKS = """
import resource, sys, tempfile
from pathlib import Path
from matryoshka.runs.sweep import run_sweep

EXPERIMENT = '''
[params]
population = 20
generations = 2
episode_steps = 4
deploy_episodes = 1
[seeds]
count = {count}
'''

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

with tempfile.TemporaryDirectory() as tmp:
    for count in (20, 180):
        exp = Path(tmp) / f"e{count}.toml"
        exp.write_text(EXPERIMENT.format(count=count))
        run_sweep(exp, Path(tmp) / f"out{count}", workers=1, progress=False)
        print(peak_mb())
"""


@pytest.mark.slow
def test_a_long_sweep_on_one_worker_holds_its_memory_flat():
    # 20 runs, then 180 more in the same process: before models were freed, each tiny run kept
    # about 3 MB for the process's life (some 600 MB after 200 runs against 200 MB after 20).
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SWEEP_PEAKS)], capture_output=True,
                          text=True, timeout=900, check=True)  # fmt: skip
    after_20, after_200 = map(float, done.stdout.split())
    assert after_200 <= 1.5 * after_20, (after_20, after_200)


RUN_PEAK = """
import resource, sys, tempfile
from pathlib import Path
from matryoshka.runs.single import run_simulation

steps = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    run_simulation("evolution-v1", {"total_steps": steps, "shift_at": steps // 2}, 3, Path(tmp) / "run",
                   progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_peak(steps: int) -> float:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(RUN_PEAK), str(steps)], capture_output=True,
                          text=True, timeout=1200, check=True)  # fmt: skip
    return float(done.stdout.split()[-1])


@pytest.mark.slow
def test_a_long_run_peaks_no_higher_than_a_short_one():
    # Before the tables were streamed to disk, memory grew by about 8 MB per 1,000 steps: a
    # 20,000-step run peaked at well over 1.3 times a 2,000-step one, writing included.
    short, long = run_peak(2_000), run_peak(20_000)
    assert long <= 1.3 * short, (short, long)


WIDE_PEAK = """
import resource, sys
from matryoshka.model.model import MatryoshkaModel

model = MatryoshkaModel("maze-v2", rng=1, collect=False, width=512, height=512, population=300, generations=1,
                        episode_steps=8, deploy_episodes=0, tool_policy=sys.argv[1], build_rate=1.0,
                        build_power=0.0, build_cost=0.0)
while model.running:
    model.step()
tools = int((model.pop["level"][model.pop.slots] >= 2).sum())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, tools)
"""


def wide_peak(policy: str) -> tuple[float, int]:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(WIDE_PEAK), policy], capture_output=True,
                          text=True, timeout=600, check=True)  # fmt: skip
    peak, tools = done.stdout.split()
    return float(peak), int(tools)


@pytest.mark.slow
def test_tools_in_a_512_wide_world_take_no_memory_per_cell():
    # 300 organisms who all build at once, then their tools too (600 tools), on 512 x 512
    # (262,144 cells). Trust and specification once held builders x cells matrices: the run
    # peaked some 1.3 GB above the same run without tools (1.75 GB against 0.46 GB); in blocks
    # the two peak alike (0.46 GB each when measured), so 150 MB is a wide margin.
    without, none = wide_peak("forbid")
    with_tools, tools = wide_peak("free")
    assert none == 0 and tools == 600
    assert with_tools <= without + 150, (without, with_tools)
