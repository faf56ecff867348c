"""Delegation: building tools, crediting their reward, trust, dependence and defection.

The kernels (``acting_weights``, ``credit_chain``, ``trust_targets``) are array code over all
agents; ``build_tools`` loops only over this step's builders and ``reaudit_tools`` over the tools
due for a re-audit this step, rare events.

Core Objects: hand_offs, acting_weights, credit_chain, trust_targets, build_tools, update_trust,
reaudit_tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from matryoshka.agents.evolve import EvolveSettings
from matryoshka.agents.genome import GENES, Genome
from matryoshka.agents.specification import HandOff, specify
from matryoshka.model.policies import NewTool

if TYPE_CHECKING:
    from matryoshka.model.model import MatryoshkaModel


def hand_offs(config: dict[str, Any], perceives: dict[int, np.ndarray]) -> dict[int, HandOff]:
    """The hand-off into each tool level, from the parameters and each level's perception.

    A builder at level L samples ``max(2, round(spec_samples * spec_samples_decay ** (L - 1)))``
    states: organisms ``spec_samples``, each level below a fraction of the one above.

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
    return {
        level: HandOff(
            perceives=mask,
            samples=max(2, round(config["spec_samples"] * config["spec_samples_decay"] ** (level - 2))),
            method=config["spec_method"], ridge=config["ridge"], label_noise=config["label_noise"],
            capacity=config["tool_capacity"], imitate_noise=config["imitate_noise"], evolve=evolve,
        )  # fmt: skip
        for level, mask in perceives.items()
    }


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


def trust_targets(builder_w: np.ndarray, tool_phi: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """How well each tool delivers: the share of cells its builder values less than the tool's cell.

    Args:
        builder_w: ``(T, K)`` the builders' effective weights.
        tool_phi: ``(T, K)`` features of the cells the tools stand on.
        phi: ``(R, K)`` features of the world's open cells.

    Returns:
        ``(T,)`` values in [0, 1]: 1 when the tool stands where its builder most wants to be.
    """
    here = (builder_w * tool_phi).sum(axis=1)
    return ((builder_w @ phi.T) < here[:, None] - 1e-12).mean(axis=1)


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
    phi = model.world.phi
    delivered = trust_targets(
        pop["weights"][pop["builder_slot"][tools]], phi[pop["pos"][tools]], phi[model.world.open_cells]
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
    for slot in turning:
        model.recorder.event(model.steps, "defected", pop, int(slot), f"trust {pop['trust'][slot]:.3f}")
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
    world_cells = model.world.open_cells
    phi = model.world.phi
    chosen = able & (coins < cfg["build_rate"])
    built, scrapped = [], []
    for builder, deceptive in zip(slots[chosen], deceive[chosen] < cfg["deception_share"], strict=True):
        builder, deceptive = int(builder), bool(deceptive)
        handoff = model.handoffs[int(pop["level"][builder]) + 1]
        perceives = handoff.perceives
        own = pop["weights"][builder]
        experience = pop["trail"][builder][pop["trail"][builder] >= 0]
        weights = specify(
            model.streams.at("specification", model.steps), handoff, model.preset.approval(own),
            experience, world_cells, phi, pop["wisdom"][builder], model.noise,
        )  # fmt: skip
        if deceptive:
            weights = model.preset.hidden_objective(model.streams.at("deception", model.steps), perceives)
        genome = Genome(weights, perceives, *(pop[name][builder] for name in GENES))
        cost = price[pop["level"][builder]]
        pop["energy"][builder] -= cost
        pop["fitness"][builder] -= cost
        tool = model.spawn_tool(genome, builder, deceptive)
        built.append(tool)
        new = NewTool(own, weights, deceptive, model.base_weights, experience, world_cells, phi,
                      handoff.samples, float(pop["wisdom"][builder]))  # fmt: skip
        verdict = policy.check(model.streams.at("audit", model.steps), new, cfg)
        if verdict is not None and not verdict[0]:
            pop["scrapped"][tool] = True
            model.recorder.event(model.steps, "scrapped", pop, tool, f"{policy.name} score {verdict[1]:.3f}")
            scrapped.append(tool)
    built_slots = np.array(built, dtype=np.int64)
    model.measure(built_slots, has_parent=True)
    np.add.at(counts["built"], pop["level"][built_slots], 1)
    np.add.at(counts["scrapped"], pop["level"][np.array(scrapped, dtype=np.int64)], 1)
    model.retire(np.array(scrapped, dtype=np.int64))
    return counts


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
    world_cells, phi = model.world.open_cells, model.world.phi
    failed = []
    for row in due:
        tool = int(slots[row])
        builder = int(pop["builder_slot"][tool])
        experience = pop["trail"][builder][pop["trail"][builder] >= 0]
        pretending = bool(pop["deceptive"][tool] and pop["defected_step"][tool] < 0)
        now = NewTool(pop["weights"][builder], acting[row], pretending, model.base_weights, experience,
                      world_cells, phi, model.handoffs[int(pop["level"][tool])].samples,
                      float(pop["wisdom"][builder]))  # fmt: skip
        verdict = policy.check(rng, now, cfg)
        if verdict is None:  # a policy that checks no tools
            return scrapped
        cost = policy.extra_cost(cfg)
        pop["energy"][builder] -= cost
        pop["fitness"][builder] -= cost
        model.recorder.event(model.steps, "audited", pop, tool, f"{policy.name} score {verdict[1]:.3f}")
        if not verdict[0]:
            pop["scrapped"][tool] = True
            detail = f"{policy.name} re-audit score {verdict[1]:.3f}"
            model.recorder.event(model.steps, "scrapped", pop, tool, detail)
            failed.append(tool)
    gone = np.array(failed, dtype=np.int64)
    np.add.at(scrapped, pop["level"][gone], 1)
    model.retire(gone)
    return scrapped
