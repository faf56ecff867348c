"""evolution-v1: humans, the AI they build, and the AI that AI builds (Levels 0-3 of the essay).

The essay's evolution table. Level 0, natural selection, rewards nutrition (reproductive
fitness). Level 1, organisms ("humans") forage in a world where food that is sweet is also
nutritious; nutrition is hard to perceive and sweetness easy, so selection can settle on a taste
for sweetness. Level 2, tools ("AI") are fit by their builders on what the builders experienced,
over what tools perceive: sweetness and a brightness field that means nothing, but may happen to
line up with a builder's food on a small sample. Level 3, tools built by tools, one more hand-off.

Steady state: organisms breed when they have enough energy and die when they run out or grow old.
At ``shift_at`` the world switches to deployment, which adds candy: sweet food with no nutrition.
What a user should see: the weight on sweetness grows and the weight on nutrition shrinks over
training; after the shift, organisms and tools also spend their time on candy and the population
shrinks; alignment with the base objective is lower at Levels 2 and 3 than at Level 1, and lower
in deployment than in training at every level.

Changelog: evolution-v1, the first version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.model.scenarios import register
from matryoshka.model.scenarios.base import PopulationView, Preset, Update
from matryoshka.model.world import World, bumps

if TYPE_CHECKING:
    from matryoshka.agents.paths import Paths

REGROWTH = 0.15  # share of the missing food that grows back each step
FRUIT = (7, 11, 5)  # fruit stands where (7x + 11y) % 5 == 0: a fixed, even scatter of patches
CANDY = (3, 7, 4, 1)  # in deployment, candy stands where (3x + 7y) % 4 == 1 and no fruit does
BRIGHTNESS = ((0.2, 0.3, 0.25), (0.8, 0.7, 0.2), (0.5, 0.9, 0.15))  # bumps (x, y, width), fractions


@register
class Evolution(Preset):
    """Foraging with regrowing food; deployment adds sweet food with no nutrition."""

    key = "evolution-v1"
    features = ("sweetness", "nutrition", "brightness")
    noise = (0.02, 0.4, 0.02)
    base_weights = (0.0, 1.0, 0.0)
    fidelity_states = None  # the reward is food eaten as it regrows, not a field over states
    organism_features = features
    tool_features = ("sweetness", "brightness")
    defaults = {
        "width": 24, "height": 24, "selection": "steady_state", "population": 60,
        "max_population": 400, "total_steps": 1200, "shift_at": 800, "episode_steps": 50,
        "birth_energy": 10.0, "initial_energy": 5.0, "max_age": 150, "metabolism": 0.05,
        "power_cost": 0.04, "build_rate": 0.02,
    }  # fmt: skip
    constants = {"REGROWTH": REGROWTH, "FRUIT": FRUIT, "CANDY": CANDY, "BRIGHTNESS": BRIGHTNESS}

    def world(self, config: dict[str, Any], phase: str, paths: Paths) -> World:
        """Fruit patches everywhere; in deployment, candy patches as well."""
        shape = (config["width"], config["height"])
        x, y = np.indices(shape)
        a, b, m = FRUIT
        fruit = ((x * a + y * b) % m == 0).astype(float)
        a, b, m, r = CANDY
        candy = ((x * a + y * b) % m == r) & (fruit == 0) if phase == "deploy" else np.zeros(shape, bool)
        sweet = np.maximum(fruit, candy)
        nutrition = fruit
        brightness = bumps(shape, BRIGHTNESS)
        state = {"amount": sweet.copy(), "sweet": sweet, "nutrition": nutrition}
        features = np.stack([sweet, nutrition, brightness], axis=-1)
        return World(features, np.zeros(shape, bool), nutrition.copy(), {}, state)

    def reward(self, world: World, view: PopulationView) -> tuple[np.ndarray, Update]:
        """Agents eat what is on their cell (shared), the food regrows, the features follow."""
        pos = view.pos
        amount = world.state["amount"].reshape(-1)
        crowd = np.bincount(pos, minlength=amount.size)[pos]
        gained = (amount * world.state["nutrition"].reshape(-1))[pos] / crowd
        amount[pos] = 0.0
        amount += REGROWTH * (world.state["sweet"].reshape(-1) - amount)
        world.features[..., 0] = world.state["amount"] * world.state["sweet"]
        world.features[..., 1] = world.state["amount"] * world.state["nutrition"]
        world.reward[:] = world.features[..., 1]
        return gained, Update(world=world)
