"""Every claim the README makes about results: the experiment behind it and what it compares.

Each is a `Claim`: a shipped experiment (of which only the conditions the claim reads are run) or
an inline one, the two quantities it compares, and which is expected to be larger. Whether it
holds is what `matryoshka claims` finds (``runs/claims.py``).

Core Objects: claims.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matryoshka.analysis.claim import Claim, Measure

GEN_FREE = {"tool_policy": "free", "selection": "generational"}
NEUTRAL_FREE = {"tool_policy": "free", "selection": "neutral"}
#: Conditions of runs/telephone.toml: a hand-off (method, label noise) at a wisdom.
RIDGE = {"spec_method": "ridge", "label_noise": 0.0}
NOISY_RIDGE = {"spec_method": "ridge", "label_noise": 1.0}
NOISY_EVOLVE = {"spec_method": "evolve", "label_noise": 1.0}
IMITATE = {"spec_method": "imitate", "label_noise": 0.0}
NOISY_IMITATE = {"spec_method": "imitate", "label_noise": 1.0}
#: Tool policies of runs/fidelity.toml: free, audited when built, audited when built and every 5 steps.
FREE_TOOLS = {"tool_policy": "free", "audit_every": 0}
AUDIT_AT_BUILD = {"tool_policy": "audit", "audit_every": 0}
REAUDIT = {"tool_policy": "audit", "audit_every": 5}
#: Conditions of runs/layouts.toml: one or 256 training layouts, with or without position features.
ONE_LAYOUT = {"train_layouts": 1, "position_features": False}
MANY_LAYOUTS = {"train_layouts": 256, "position_features": False}
ONE_LAYOUT_POSITIONS = {"train_layouts": 1, "position_features": True}
MANY_LAYOUTS_POSITIONS = {"train_layouts": 256, "position_features": True}
#: Builders of one power and two wisdoms, tools free: the power x wisdom question at power 0.2.
WISDOM = {"name": "wisdom", "description": "maze: wisdom 0.2 and 0.8 at power 0.2, tools free",
          "scenario": "maze-v2", "params": {"tool_policy": "free", "power": 0.2, "gene_spread": 0.05},
          "sweep": {"wisdom": [0.2, 0.8]}, "seeds": {"root": 2027}}


@functools.cache
def claims() -> tuple[Claim, ...]:
    """Every claim the README makes about results, in the order claims.md lists them.

    A function, so that the command line loads the analysis only when it runs the claims.
    """
    from matryoshka.analysis.claim import Claim, Gap, Measure

    def _at(metric: str, **where: Any) -> Measure:
        return Measure(metric, where)

    def _exit_gap(**where: Any) -> Gap:
        """What reached_exit drops from the last training episode to deployment."""
        return Gap(_at("train/L1/reached_exit", **where), _at("deploy/L1/reached_exit", **where))

    return (
        Claim("selection-beats-neutral",
              "In the maze, generational selection earns organisms more base reward per step in the "
              "last training episode than neutral selection (parents drawn regardless of fitness).",
              "default", _at("train/L1/base_return", **GEN_FREE),
              _at("train/L1/base_return", **NEUTRAL_FREE)),
        Claim("shift-collapses-exit",
              "In the maze, the share of organisms that reach the exit falls from the last training "
              "episode to the deployment episode, where the exit has moved.",
              "default", _at("train/L1/reached_exit", **GEN_FREE), _at("deploy/L1/reached_exit", **GEN_FREE)),
        Claim("shift-raises-proxy",
              "In the maze's deployment episode more organisms go to the training exit's cell (the "
              "landmark) than to the moved exit.",
              "default", _at("deploy/L1/reached_proxy", **GEN_FREE),
              _at("deploy/L1/reached_exit", **GEN_FREE)),
        Claim("level1-misgeneralizes",
              "Organisms agree with the base objective more on training cells at the end of training "
              "than on deployment cells in deployment.",
              "default", _at("train/L1/align_base_train", **GEN_FREE),
              _at("deploy/L1/align_base_deploy", **GEN_FREE)),
        Claim("tools-agree-on-training-cells",
              "Level-2 tools agree with their builders more on training cells than on deployment "
              "cells.",
              "default", _at("train/L2/align_parent_train", **GEN_FREE),
              _at("deploy/L2/align_parent_deploy", **GEN_FREE)),
        Claim("tools-closer-to-base-after-shift",
              "In deployment, Level-2 tools agree with the base objective more than the organisms "
              "that built them do.",
              "default", _at("deploy/L2/align_base_deploy", **GEN_FREE),
              _at("deploy/L1/align_base_deploy", **GEN_FREE)),
        Claim("level3-copies-level2",
              "On deployment cells Level 3 agrees with its builder, a Level-2 tool, more than Level 2 "
              "agrees with its builder, an organism.",
              "default", _at("deploy/L3/align_parent_deploy", **GEN_FREE),
              _at("deploy/L2/align_parent_deploy", **GEN_FREE)),
        Claim("selection-drives-misgeneralization",
              "What organisms lose of their alignment with the base objective from training to "
              "deployment is larger under generational selection than under neutral selection.",
              "default",
              Gap(_at("train/L1/align_base_train", **GEN_FREE),
                  _at("deploy/L1/align_base_deploy", **GEN_FREE)),
              Gap(_at("train/L1/align_base_train", **NEUTRAL_FREE),
                  _at("deploy/L1/align_base_deploy", **NEUTRAL_FREE))),
        Claim("random-exits-restore-exit",
              "Training with a random exit in half the episodes (random_exit_share 0.5) raises the "
              "share of organisms that reach the moved exit in deployment above training with the "
              "exit always at (10, 10).",
              "shift", _at("deploy/L1/reached_exit", random_exit_share=0.5),
              _at("deploy/L1/reached_exit", random_exit_share=0.0)),
        Claim("selection-settles-on-the-landmark",
              "In the maze, organisms end training weighting the landmark (easy to perceive) more "
              "than the exit signal (noisy).",
              "default", _at("train/L1/w_landmark", **GEN_FREE), _at("train/L1/w_exit_signal", **GEN_FREE)),
        Claim("wisdom-specifies-better",
              "At power 0.2, wise builders (wisdom 0.8) build a smaller share of Level-2 tools that "
              "disagree with them (alignment < 0.5) on training cells than unwise builders (0.2).",
              WISDOM, _at("share_misaligned_train", wisdom=0.2), _at("share_misaligned_train", wisdom=0.8)),
        Claim("wise-tools-still-fail-the-shift",
              "Even the tools of wise builders (power 0.2, wisdom 0.8) disagree with them on "
              "deployment cells more often than on training cells.",
              WISDOM, _at("share_misaligned", wisdom=0.8), _at("share_misaligned_train", wisdom=0.8)),
        Claim("evolution-sweetness-rises",
              "In evolution-v1, the organisms' weight on sweetness rises over training, from the "
              "first training episode to the last.",
              "evolution", _at("train/L1/w_sweetness", tool_policy="free"),
              Measure("train/L1/w_sweetness", {"tool_policy": "free"}, first=True)),
        Claim("evolution-tools-less-aligned",
              "In evolution-v1, Level-2 tools (AI) agree less with the base objective (nutrition) on "
              "training cells than the organisms (humans) that build them.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("train/L2/align_base_train", tool_policy="free")),
        Claim("evolution-tools-of-tools-less-aligned",
              "In evolution-v1, Level-3 tools (AI built by AI) agree less with the base objective on "
              "training cells than the organisms do.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("train/L3/align_base_train", tool_policy="free")),
        Claim("evolution-deployment-less-aligned",
              "In evolution-v1, organisms agree less with the base objective on deployment cells, "
              "where candy appears, than on training cells.",
              "evolution", _at("train/L1/align_base_train", tool_policy="free"),
              _at("deploy/L1/align_base_deploy", tool_policy="free")),
        Claim("approval-defections-rise-with-deception",
              "In approval-v1, more deceptive describers defect per step in the last training "
              "episode at deception_share 0.6 than at 0.3.",
              "approval", _at("train/L2/defected", deception_share=0.6, tool_policy="free"),
              _at("train/L2/defected", deception_share=0.3, tool_policy="free")),
        Claim("first-hand-off-loses-the-base-objective",
              "In the telephone experiment (ridge, no label noise, wisdom 0.8), Level-2 tools agree "
              "with the base objective on training cells less than the organisms that built them.",
              "telephone", _at("train/L1/align_base_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_base_train", **RIDGE, wisdom=0.8)),
        Claim("same-perception-hand-off-copies",
              "Without label noise (ridge, wisdom 0.8), a Level-3 tool, which perceives what its "
              "builder perceives, agrees with its builder on training cells more than a Level-2 tool "
              "agrees with its builder, an organism that perceives more.",
              "telephone", _at("train/L3/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_parent_train", **RIDGE, wisdom=0.8)),
        Claim("label-noise-loses-at-every-hand-off",
              "Label noise makes the same-perception hand-off lossy: Level-3 ridge tools (wisdom 0.8) "
              "agree with their builders on training cells less with label noise 1 than without.",
              "telephone", _at("train/L3/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L3/align_parent_train", **NOISY_RIDGE, wisdom=0.8)),
        Claim("label-noise-loses-when-imitating",
              "Label noise on the weights a builder states makes imitation lossy too: Level-3 imitated "
              "tools (wisdom 0.8) agree with their builders on training cells less with label noise 1 "
              "than without.",
              "telephone", _at("train/L3/align_parent_train", **IMITATE, wisdom=0.8),
              _at("train/L3/align_parent_train", **NOISY_IMITATE, wisdom=0.8)),
        Claim("label-noise-decays-level-by-level",
              "With label noise (evolve, wisdom 0.8), cumulative alignment with Level 1 on training "
              "cells is lower at Level 3 than at Level 2.",
              "telephone", _at("train/L2/align_root_train", **NOISY_EVOLVE, wisdom=0.8),
              _at("train/L3/align_root_train", **NOISY_EVOLVE, wisdom=0.8)),
        Claim("wisdom-helps-the-lossy-hand-off",
              "Level-2 ridge tools agree with their builders on training cells more at wisdom 0.8 "
              "than at wisdom 0.2.",
              "telephone", _at("train/L2/align_parent_train", **RIDGE, wisdom=0.8),
              _at("train/L2/align_parent_train", **RIDGE, wisdom=0.2)),
        Claim("even-copies-beat-organisms-after-the-shift",
              "In deployment even imitated Level-2 tools (wisdom 0.2) agree with the base objective "
              "more than the organisms do.",
              "telephone", _at("deploy/L2/align_base_deploy", **IMITATE, wisdom=0.2),
              _at("deploy/L1/align_base_deploy", **IMITATE, wisdom=0.2)),
        Claim("level-one-lost-after-the-shift",
              "Level-3 tools (ridge, wisdom 0.8) agree with the organism atop their builder chain "
              "less on deployment cells, in deployment, than on training cells at the end of training.",
              "telephone", _at("train/L3/align_root_train", **RIDGE, wisdom=0.8),
              _at("deploy/L3/align_root_deploy", **RIDGE, wisdom=0.8)),
        Claim("build-power-gates-tools",
              "With competence genes frozen, organisms build more Level-2 tools at competence 0.4 than "
              "at 0.2, where power rarely reaches build_power (0.3).",
              "competence", _at("tools_per_organism", competence=0.4, wisdom_lag=0.0),
              _at("tools_per_organism", competence=0.2, wisdom_lag=0.0)),
        Claim("competence-aligns-tools-with-base",
              "At wisdom level with power, a smaller share of Level-2 tools disagrees with the base "
              "objective (alignment < 0.5) on training cells at competence 1 than at 0.4.",
              "competence", _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.0),
              _at("share_misaligned_base_train", competence=1.0, wisdom_lag=0.0)),
        Claim("lagging-wisdom-misaligns-with-builder",
              "At competence 0.4, wisdom trailing power by 0.4 leaves a larger share of Level-2 tools "
              "disagreeing with their builders on training cells than wisdom level with power.",
              "competence", _at("share_misaligned_train", competence=0.4, wisdom_lag=0.4),
              _at("share_misaligned_train", competence=0.4, wisdom_lag=0.0)),
        Claim("lagging-wisdom-misaligns-with-base",
              "At competence 0.4, wisdom trailing power by 0.4 leaves a larger share of Level-2 tools "
              "disagreeing with the base objective on training cells than wisdom level with power.",
              "competence", _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.4),
              _at("share_misaligned_base_train", competence=0.4, wisdom_lag=0.0)),
        Claim("competence-fails-the-shift",
              "Even at competence 1 (wisdom level), Level-2 tools disagree with their builders on "
              "deployment cells more often than on training cells.",
              "competence", _at("share_misaligned", competence=1.0, wisdom_lag=0.0),
              _at("share_misaligned_train", competence=1.0, wisdom_lag=0.0)),
        Claim("competence-raises-system-return",
              "The whole system (organisms and tools) earns more base reward per organism and step "
              "in the last training episode at competence 1 than at 0.4 (wisdom level).",
              "competence", _at("system_return_train", competence=1.0, wisdom_lag=0.0),
              _at("system_return_train", competence=0.4, wisdom_lag=0.0)),
        Claim("horizon-brings-tools-to-the-moved-exit",
              "Deployed with a 4-step horizon, more Level-2 tools reach the moved exit than with a "
              "1-step horizon, in the same trained population.",
              "horizon", _at("deploy/L2/reached_exit", deploy_horizon=4),
              _at("deploy/L2/reached_exit", deploy_horizon=1)),
        Claim("horizon-leaves-organisms-with-the-proxy",
              "Deployed with a 10-step horizon, more organisms still go to the training exit's cell "
              "than to the moved exit.",
              "horizon", _at("deploy/L1/reached_proxy", deploy_horizon=10),
              _at("deploy/L1/reached_exit", deploy_horizon=10)),
        Claim("proxy-selection-loses-the-true-objective",
              "In approval-v1 (deception_share 0.3, tools free), organisms selected on a base objective "
              "that correlates 0.5 with the true one agree with the true objective on training cells "
              "less than organisms selected on the true objective itself (base_fidelity 1).",
              "fidelity",
              _at("train/L1/align_true_train", base_fidelity=1.0, deception_share=0.3, **FREE_TOOLS),
              _at("train/L1/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("proxy-selection-earns-less-of-what-is-wanted",
              "In approval-v1 (deception_share 0.3, tools free), organisms earn less true reward per "
              "step in the last training episode at base_fidelity 0.5 than at 1.",
              "fidelity",
              _at("train/L1/true_return", base_fidelity=1.0, deception_share=0.3, **FREE_TOOLS),
              _at("train/L1/true_return", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("organisms-agree-with-what-is-wanted-more-than-their-base-objective",
              "In approval-v1 at base_fidelity 0.5 (deception_share 0.3, tools free), organisms "
              "selected on the base objective agree with the true objective on training cells more "
              "than the base objective itself does (Level 0, 0.5 by construction).",
              "fidelity",
              _at("train/L1/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS),
              _at("train/L0/align_true_train", base_fidelity=0.5, deception_share=0.3, **FREE_TOOLS)),
        Claim("reaudits-scrap-defected-tools",
              "In approval-v1 (deception_share 0.6, base_fidelity 1), audits that re-test every live "
              "tool's behaviour every 5 steps scrap more Level-2 tools per step in the last training "
              "episode than audits at build time only.",
              "fidelity",
              _at("train/L2/scrapped", base_fidelity=1.0, deception_share=0.6, **REAUDIT),
              _at("train/L2/scrapped", base_fidelity=1.0, deception_share=0.6, **AUDIT_AT_BUILD)),
        Claim("reaudits-cut-defections",
              "In approval-v1 (deception_share 0.6, base_fidelity 1), fewer deceptive Level-2 tools "
              "defect per step in the last training episode under re-audits every 5 steps than under "
              "audits at build time only.",
              "fidelity",
              _at("train/L2/defected", base_fidelity=1.0, deception_share=0.6, **AUDIT_AT_BUILD),
              _at("train/L2/defected", base_fidelity=1.0, deception_share=0.6, **REAUDIT)),
        Claim("deception-selects-slow-trust",
              "In approval-v1 (base_fidelity 1, tools free), organisms end training with a lower "
              "tool_trust_rate gene when 60% of tools are deceptive than when none are.",
              "fidelity",
              _at("train/L1/tool_trust_rate", base_fidelity=1.0, deception_share=0.0, **FREE_TOOLS),
              _at("train/L1/tool_trust_rate", base_fidelity=1.0, deception_share=0.6, **FREE_TOOLS)),
        Claim("one-layout-fails-to-generalize",
              "In maze-procgen-v1 trained on one layout (no position features), fewer organisms reach "
              "the exit in deployment, on a layout never seen, than in the last training episode.",
              "layouts", _at("train/L1/reached_exit", **ONE_LAYOUT),
              _at("deploy/L1/reached_exit", **ONE_LAYOUT)),
        Claim("many-layouts-close-the-gap",
              "The drop in reached_exit from the last training episode to deployment is larger after "
              "training on one layout than on 256 (no position features).",
              "layouts", _exit_gap(**ONE_LAYOUT), _exit_gap(**MANY_LAYOUTS)),
        Claim("many-layouts-reach-unseen-exits",
              "More organisms reach the exit of an unseen deployment layout after training on 256 "
              "layouts than after training on one (no position features).",
              "layouts", _at("deploy/L1/reached_exit", **MANY_LAYOUTS),
              _at("deploy/L1/reached_exit", **ONE_LAYOUT)),
        Claim("position-features-widen-the-gap",
              "Trained on one layout, organisms that can weight coarse position features lose more "
              "reached_exit from the last training episode to deployment than organisms that cannot.",
              "layouts", _exit_gap(**ONE_LAYOUT_POSITIONS), _exit_gap(**ONE_LAYOUT)),
        Claim("many-layouts-close-the-position-gap",
              "With coarse position features, organisms lose more reached_exit from the last training "
              "episode to deployment after training on one layout than on 256.",
              "layouts", _exit_gap(**ONE_LAYOUT_POSITIONS), _exit_gap(**MANY_LAYOUTS_POSITIONS)),
    )
