"""Interventions: the values of ``tool_policy``, as a registry of policy objects.

A policy says whether an agent may build a tool, what building costs beyond ``build_cost``, which
check a new tool must pass before it may act (none, its builder's audit, an overseer's), how a
builder comes to depend on its tool, and what share of a tool's reward goes up its builder chain.
Each has a name, a one-line meaning and a colour, which every run writes into its manifest for the
analysis. A new intervention is one class here, registered with ``@register``; the model asks the
policy and compares no names.

Core Objects: NewTools, ToolPolicy, POLICIES, register, get_policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from matryoshka.agents.specification import audit


@dataclass(frozen=True)
class NewTools:
    """Newly built tools (or live tools re-audited) and what a check of them can see, all at once.

    Every array has a leading axis over the tools (or none, for one tool).

    Attributes:
        builder_weights: ``(T, K)`` each builder's own objective.
        tool_weights: ``(T, K)`` the objective each tool acts on once trusted.
        pretending: ``(T,)`` whether the tool is deceptive and has not defected: it shows whoever
            tests it the objective that tester wants to see (a check sees behaviour, not intent).
        base_weights: ``(K,)`` the scenario's base objective (what an overseer tests against).
        experience: ``(T, L)`` the cells each builder visited (its trail, ``-1`` for none).
        world_cells: Every open cell of the world.
        phi: ``(C, K)`` features of every cell.
        samples: How many cells a check samples (the hand-off's ``spec_samples``).
        wisdom: ``(T,)`` each builder's wisdom.
    """

    builder_weights: np.ndarray
    tool_weights: np.ndarray
    pretending: np.ndarray
    base_weights: np.ndarray
    experience: np.ndarray
    world_cells: np.ndarray
    phi: np.ndarray
    samples: int
    wisdom: np.ndarray


class ToolPolicy:
    """What one value of ``tool_policy`` means. The defaults are those of ``free``.

    Attributes:
        name: The value of ``tool_policy``.
        doc: What it does, in one line.
        colour: Its colour in figures.
        may_build: Whether agents may build tools at all.
    """

    name: ClassVar[str]
    doc: ClassVar[str]
    colour: ClassVar[str]
    may_build: ClassVar[bool] = True

    def extra_cost(self, config: Mapping[str, Any]) -> float:
        """Energy a builder pays for each tool on top of ``build_cost``."""
        return 0.0

    def check(
        self, rng: np.random.Generator, tools: NewTools, config: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Test new tools after they are built, all at once.

        Returns:
            ``(passed, score)``, one value per tool, or None when this policy does not test tools;
            a tool that fails is scrapped.
        """
        return None

    def dependence(self, trust: np.ndarray) -> np.ndarray:
        """A builder's dependence on its tool (how far it acts on the tool's objective): its trust."""
        return trust

    def credit_share(self, config: Mapping[str, Any]) -> float:
        """The share of a tool's base reward credited up its builder chain: ``tool_share``."""
        return config["tool_share"]

    @classmethod
    def record(cls) -> dict[str, str]:
        """The policy as the manifest holds it for the analysis: its meaning and colour."""
        return {"doc": cls.doc, "colour": cls.colour}


class CheckedPolicy(ToolPolicy):
    """A policy that tests every new tool's behaviour against a reference objective.

    The check samples ``samples`` cells (a ``breadth`` share from the whole world, the rest from
    the builder's trail), correlates the utility of the behaviour the tool shows with the
    reference's there, and scraps the tool below ``audit_threshold`` (or when the correlation is
    undefined). The builder pays ``audit_cost`` for it.
    """

    def reference(self, tools: NewTools) -> np.ndarray:
        """The objective each tool is tested against (``(T, K)``, or ``(K,)`` for all)."""
        raise NotImplementedError

    def breadth(self, tools: NewTools, config: Mapping[str, Any]) -> float | np.ndarray:
        """The expected share of each sample drawn from the whole world rather than the trail."""
        raise NotImplementedError

    def extra_cost(self, config: Mapping[str, Any]) -> float:
        """``audit_cost``."""
        return config["audit_cost"]

    def check(
        self, rng: np.random.Generator, tools: NewTools, config: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Test the behaviour each tool shows against the reference (see the class)."""
        reference = self.reference(tools)
        shown = np.where(np.asarray(tools.pretending)[..., None], reference, tools.tool_weights)
        return audit(rng, reference, shown, tools.experience, tools.world_cells, tools.phi, tools.samples,
                     self.breadth(tools, config), config["audit_threshold"])  # fmt: skip


POLICIES: dict[str, type[ToolPolicy]] = {}


def register[P: type[ToolPolicy]](cls: P) -> P:
    """Class decorator that adds a policy to the registry under its ``name`` (in display order)."""
    POLICIES[cls.name] = cls
    return cls


def get_policy(name: str) -> ToolPolicy:
    """The policy named ``name`` (a validated ``tool_policy``)."""
    return POLICIES[name]()


@register
class Free(ToolPolicy):
    """Tools may be built and act unchecked."""

    name = "free"
    doc = "tools may be built and act unchecked"
    colour = "#0072B2"  # Okabe-Ito blue


@register
class Audit(CheckedPolicy):
    """The builder tests each new tool against its own objective, as broadly as it is wise."""

    name = "audit"
    doc = "each builder tests its new tool against its own objective and scraps it below audit_threshold"
    colour = "#009E73"  # Okabe-Ito bluish green

    def reference(self, tools: NewTools) -> np.ndarray:
        """The builder's own objective: a misalignment the builder shares goes unseen."""
        return tools.builder_weights

    def breadth(self, tools: NewTools, config: Mapping[str, Any]) -> np.ndarray:
        """The builder's wisdom."""
        return tools.wisdom


@register
class Oversight(CheckedPolicy):
    """An overseer that knows the base objective tests every new tool, at every level."""

    name = "oversight"
    doc = ("an overseer tests every new tool against the base objective (sample breadth "
           "oversight_breadth) and scraps it below audit_threshold; the builder pays")  # fmt: skip
    colour = "#CC79A7"  # Okabe-Ito reddish purple

    def reference(self, tools: NewTools) -> np.ndarray:
        """The scenario's base objective: from the base optimizer's side, any drift is a failure."""
        return tools.base_weights

    def breadth(self, tools: NewTools, config: Mapping[str, Any]) -> float:
        """``oversight_breadth``, whatever the builder's wisdom."""
        return config["oversight_breadth"]


@register
class Forbid(ToolPolicy):
    """No tools: avoid mesa-optimization altogether."""

    name = "forbid"
    doc = "no agent may build a tool"
    colour = "#D55E00"  # Okabe-Ito vermillion
    may_build = False
