"""Delegation: building tools, crediting their reward, trust, dependence and defection.

The kernels (``acting_weights``, ``credit_chain``, ``trust_targets``) are array code over all
agents; ``build_tools`` specifies, checks and records all of a step's new tools at once, and
``reaudit_tools`` all the tools due for a re-audit (a loop over the distinct hand-offs, one
with the default parameters, and none over agents).

Core Objects: hand_offs, by_hand_off, acting_weights, credit_chain, trust_targets, build_tools, update_trust,
reaudit_tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.evolve import EvolveSettings
from matryoshka.agents.genome import GENES
from matryoshka.agents.specification import HandOff, specify
from matryoshka.model.cellcounts import FeatureCounts
from matryoshka.model.policies import NewTools

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


def hand_offs(config: dict[str, Any], perceives: dict[int, np.ndarray]) -> dict[int, HandOff]:
    """The hand-off into each tool level, from the parameters and each level's perception.

    A builder at level L samples ``max(2, round(spec_samples * spec_samples_decay ** (L - 1)))``
    states: organisms ``spec_samples``, each level below a fraction of the one above. Levels whose
    hand-offs are alike (same perception, same sample size) share one ``HandOff`` object, so that
    their builders specify and are checked together (``by_hand_off``).

    Args:
        config: The effective parameters.
        perceives: Tool level to the ``(K,)`` mask of what tools at that level perceive.

    Returns:
        Tool level to its HandOff.
    """
    evolve = EvolveSettings(
        config["spec_population"], config["spec_generations"], config["spec_mutation"],
        config["tournament_size"],
    )  # fmt: skip
    made: dict[tuple[bytes, int], HandOff] = {}
    handoffs: dict[int, HandOff] = {}
    for level, mask in perceives.items():
        samples = max(2, round(config["spec_samples"] * config["spec_samples_decay"] ** (level - 2)))
        key = (np.asarray(mask, dtype=bool).tobytes(), samples)
        if key not in made:
            made[key] = HandOff(
                perceives=mask, samples=samples,
                method=config["spec_method"], ridge=config["ridge"], label_noise=config["label_noise"],
                capacity=config["tool_capacity"], imitate_noise=config["imitate_noise"], evolve=evolve,
            )  # fmt: skip
        handoffs[level] = made[key]
    return handoffs


def by_hand_off(handoffs: dict[int, HandOff], levels: np.ndarray) -> list[tuple[HandOff, np.ndarray]]:
    """Group tools by the hand-off into their level: one group per distinct ``HandOff``.

    Args:
        handoffs: Tool level to its HandOff (``hand_offs``).
        levels: ``(n,)`` the tool level of each.

    Returns:
        ``(handoff, mask)`` pairs, ``mask`` the ``(n,)`` tools it concerns.
    """
    distinct = list({id(handoff): handoff for handoff in handoffs.values()}.values())
    code = np.full(max(handoffs, default=0) + 1, -1)
    for level, handoff in handoffs.items():
        code[level] = distinct.index(handoff)
    which = code[levels]
    groups = [(handoff, which == i) for i, handoff in enumerate(distinct)]
    return [(handoff, mask) for handoff, mask in groups if mask.any()]


def rows_of(capacity: int, slots: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Map slot references (``-1`` = none) to row numbers within ``slots`` (``-1`` = none)."""
    row = np.full(capacity + 1, -1, dtype=np.int64)
    row[slots] = np.arange(len(slots))
    return row[refs]  # refs of -1 read the last entry, which stays -1


def acting_weights(
    weights: np.ndarray,
    levels: np.ndarray,
    builder_row: np.ndarray,
    tool_row: np.ndarray,
    pretending: np.ndarray,
    dependence: np.ndarray,
    max_depth: int,
) -> np.ndarray:
    """The weights each agent acts on this step.

    A deceptive tool that has not defected acts on its builder's objective. A builder leans on its
    tool in proportion to its dependence: it acts on ``(1 - d) * own + d * tool's``.

    Args:
        weights: ``(N, K)`` each agent's own effective weights.
        levels: ``(N,)`` levels.
        builder_row: ``(N,)`` row of each agent's builder, -1 if none.
        tool_row: ``(N,)`` row of each agent's live tool, -1 if none.
        pretending: ``(N,)`` deceptive tools that have not defected yet.
        dependence: ``(N,)`` each builder's dependence on its tool, in [0, 1].
        max_depth: The deepest level.

    Returns:
        ``(N, K)`` acting weights.
    """
    act = weights.copy()
    mimic = pretending & (builder_row >= 0)
    act[mimic] = weights[builder_row[mimic]]
    for level in range(max_depth - 1, 0, -1):  # tools first, so a builder leans on what they do
        b = np.flatnonzero((levels == level) & (tool_row >= 0))
        d = dependence[b, None]
        act[b] = (1 - d) * act[b] + d * act[tool_row[b]]
    return act


def credit_chain(
    reward: np.ndarray, levels: np.ndarray, builder_row: np.ndarray, share: float, max_depth: int
) -> np.ndarray:
    """Pass a share of every tool's income up to its builder, deepest level first.

    Args:
        reward: ``(N,)`` base reward each agent earned itself.
        levels: ``(N,)`` levels.
        builder_row: ``(N,)`` row of each agent's builder, -1 if none (orphans keep everything).
        share: ``tool_share``.
        max_depth: The deepest level.

    Returns:
        ``(N,)`` what each agent keeps; it sums to ``reward.sum()``.
    """
    income = reward.astype(float).copy()
    for level in range(max_depth, 1, -1):
        t = np.flatnonzero((levels == level) & (builder_row >= 0))
        passed = share * income[t]
        income[t] -= passed
        np.add.at(income, builder_row[t], passed)
    return income


def trust_targets(builder_w: np.ndarray, tool_phi: np.ndarray, cells: FeatureCounts) -> np.ndarray:
    """How well each tool delivers: the share of cells its builder values less than the tool's cell.

    Args:
        builder_w: ``(T, K)`` the builders' effective weights.
        tool_phi: ``(T, K)`` features of the cells the tools stand on.
        cells: The world's open cells, as distinct feature rows with counts
            (``World.open_feature_counts``).

    Returns:
        ``(T,)`` values in [0, 1]: 1 when the tool stands where its builder most wants to be.
    """
    here = (builder_w * tool_phi).sum(axis=1)
    return cells.count_below(builder_w, here - 1e-12) / cells.total


def update_trust(model: MatryoshkaModel, slots: np.ndarray) -> np.ndarray:
    """Move each tool's trust toward how well it delivers; deceptive tools defect once trusted.

    Returns:
        ``(levels,)`` the number of defections this step per level.
    """
    pop, cfg = model.pop, model.config
    tools = slots[(pop["level"][slots] >= 2) & (pop["builder_slot"][slots] >= 0)]
    defections = np.zeros(model.recorder.n_levels, dtype=np.int64)
    if len(tools) == 0:
        return defections
    world = model.world
    delivered = trust_targets(
        pop["weights"][pop["builder_slot"][tools]], world.phi[pop["pos"][tools]], world.open_feature_counts()
    )
    rate = pop["tool_trust_rate"][pop["builder_slot"][tools]]  # the builder's gene
    pop["trust"][tools] += rate * (delivered - pop["trust"][tools])
    builders = pop["builder_slot"][tools]
    pop["dependence"][builders] = model.policy.dependence(pop["trust"][tools])
    turning = tools[
        pop["deceptive"][tools]
        & (pop["defected_step"][tools] < 0)
        & (pop["trust"][tools] >= cfg["defect_trust"])
    ]
    pop["defected_step"][turning] = model.steps
    detail = np.char.mod("trust %.3f", pop["trust"][turning])
    model.recorder.event(model.steps, "defected", pop, turning, detail)
    np.add.at(defections, pop["level"][turning], 1)
    return defections


def build_tools(model: MatryoshkaModel, slots: np.ndarray) -> dict[str, np.ndarray]:
    """Let able agents build a tool each: specify its objective, then let the policy check it.

    An agent may build when its tool policy allows tools, its level is below ``max_depth``, its
    power reaches ``build_power``, it can pay ``build_cost`` (plus what its policy adds, and
    ``spec_cost`` for each candidate an evolving builder judges), it has no live tool, and a
    ``build_rate`` coin comes up. A tool that fails the policy's check is scrapped at once.

    Returns:
        ``built`` and ``scrapped`` counts per level of the new tools.
    """
    pop, cfg = model.pop, model.config
    counts = {name: np.zeros(model.recorder.n_levels, dtype=np.int64) for name in ("built", "scrapped")}
    # Both coins for every live agent, whatever the policy: the draws never depend on parameters.
    coins, deceive = model.streams["building"].random((2, len(slots)))
    policy = model.policy
    if not policy.may_build or len(slots) == 0:
        return counts
    fixed = cfg["build_cost"] + policy.extra_cost(cfg)
    price = np.full(cfg["max_depth"] + 1, np.inf)  # by the builder's level; none at max_depth
    for level, handoff in model.handoffs.items():
        price[level - 1] = fixed + cfg["spec_cost"] * handoff.evaluations
    levels = pop["level"][slots]
    able = (
        (pop["power"][slots] >= cfg["build_power"])
        & (pop["energy"][slots] >= price[levels])
        & (pop["tool_slot"][slots] < 0)
    )
    chosen = able & (coins < cfg["build_rate"])
    builders, deceptive = slots[chosen], deceive[chosen] < cfg["deception_share"]
    built, scrapped = [], []
    for handoff, group in by_hand_off(model.handoffs, pop["level"][builders] + 1):
        tools, failed = _build(model, handoff, builders[group], deceptive[group], price)
        built.append(tools)
        scrapped.append(failed)
    built_slots = np.concatenate([np.zeros(0, dtype=np.int64), *built])
    gone = np.concatenate([np.zeros(0, dtype=np.int64), *scrapped])
    model.measure(built_slots, has_parent=True)
    np.add.at(counts["built"], pop["level"][built_slots], 1)
    np.add.at(counts["scrapped"], pop["level"][gone], 1)
    model.retire(gone)
    return counts


def _build(
    model: MatryoshkaModel, handoff: HandOff, builders: np.ndarray, deceptive: np.ndarray, price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Builders that share a hand-off each build a tool, all at once; return the tools and those scrapped."""
    pop, cfg, policy, steps = model.pop, model.config, model.policy, model.steps
    cost = price[pop["level"][builders]]
    own, trails, wisdom = pop["weights"][builders], pop["trail"][builders], pop["wisdom"][builders]
    world_cells, phi = model.world.open_cells, model.world.phi
    weights = specify(
        model.streams.at("specification", steps), handoff, model.preset.approval(own), trails,
        world_cells, phi, wisdom, model.noise,
    )  # fmt: skip
    if deceptive.any():
        perceives = np.broadcast_to(handoff.perceives, (int(deceptive.sum()), len(handoff.perceives)))
        weights[deceptive] = model.preset.hidden_objective(model.streams.at("deception", steps), perceives)
    pop["energy"][builders] -= cost
    pop["fitness"][builders] -= cost
    genes = np.column_stack([pop[name][builders] for name in GENES])
    tools = model.spawn_tools(builders, weights, handoff.perceives, genes, deceptive)
    new = NewTools(own, weights, deceptive, model.base_weights, trails, world_cells, phi, handoff.samples,
                   wisdom)  # fmt: skip
    verdict = policy.check(model.streams.at("audit", steps), new, cfg)
    if verdict is None:
        return tools, tools[:0]
    passed, score = verdict
    failed = tools[~passed]
    pop["scrapped"][failed] = True
    detail = np.char.mod(f"{policy.name} score %.3f", score[~passed])
    model.recorder.event(steps, "scrapped", pop, failed, detail)
    return tools, failed


def reaudit_tools(model: MatryoshkaModel, slots: np.ndarray) -> np.ndarray:
    """Test each live tool again every ``audit_every`` steps of its life, on what it acts on now.

    Under a policy that checks tools (``audit``, ``oversight``), a tool whose age is a multiple of
    ``audit_every`` is tested as a new tool is, but on its behaviour of the moment: a deceptive tool
    that still pretends shows the tester what it wants to see, one that has defected shows its
    hidden objective (mixed with its own tool's, as far as it depends on one). Its builder pays
    the policy's cost; a tool that fails is scrapped. Every re-audit is an ``audited`` event with
    its score. Tools without a builder are not re-audited.

    Returns:
        ``(levels,)`` the number of tools scrapped this step per level.
    """
    pop, cfg, policy = model.pop, model.config, model.policy
    scrapped = np.zeros(model.recorder.n_levels, dtype=np.int64)
    every = cfg["audit_every"]
    if every == 0 or len(slots) == 0:
        return scrapped
    age = pop["age"][slots]
    due = np.flatnonzero(
        (pop["level"][slots] >= 2) & (pop["builder_slot"][slots] >= 0) & (age > 0) & (age % every == 0)
    )
    if len(due) == 0:
        return scrapped
    acting = model.acting(slots)
    rng = model.streams.at("reaudit", model.steps)
    tools = slots[due]
    failed = []
    for handoff, group in by_hand_off(model.handoffs, pop["level"][tools]):  # it sets the sample size
        tool, builder = tools[group], pop["builder_slot"][tools[group]]
        pretending = pop["deceptive"][tool] & (pop["defected_step"][tool] < 0)
        now = NewTools(pop["weights"][builder], acting[due[group]], pretending, model.base_weights,
                       pop["trail"][builder], model.world.open_cells, model.world.phi,
                       handoff.samples, pop["wisdom"][builder])  # fmt: skip
        verdict = policy.check(rng, now, cfg)
        if verdict is None:  # a policy that checks no tools
            return scrapped
        passed, score = verdict
        cost = policy.extra_cost(cfg)
        np.subtract.at(pop["energy"], builder, cost)
        np.subtract.at(pop["fitness"], builder, cost)
        detail = np.char.mod(f"{policy.name} score %.3f", score)
        model.recorder.event(model.steps, "audited", pop, tool, detail)
        detail = np.char.mod(f"{policy.name} re-audit score %.3f", score[~passed])
        pop["scrapped"][tool[~passed]] = True
        model.recorder.event(model.steps, "scrapped", pop, tool[~passed], detail)
        failed.append(tool[~passed])
    gone = np.concatenate(failed)
    np.add.at(scrapped, pop["level"][gone], 1)
    model.retire(gone)
    return scrapped
