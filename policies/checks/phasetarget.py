"""Phase targets judged against the baseline: "reduce image size by N %" relative to the phase before.

A phase may set `imageSizeReductionPercent` (3.4.4: 20). Its target is
(100 - N) % of the image size recorded when the *previous* phase started
(`phaseStarts.<phase>.imageSizeBytes` in policies/baseline.json, written by
`make baseline MEASUREMENTS=...` and carried forward by every later refresh).

- Once the target's phase is in force (or any later one), an image above the
  target is a `pipeline.phase-target` failure, enforced as the phase says.
- While the target's phase is the next one, the same comparison is a warning
  that shows progress, so the team sees how far it has to go.
- Without a recorded start figure or a current image size the target is
  unknown: said so, with the command that records it (a failure once the
  target is in force, since an unknown figure cannot prove the target met).

The image size judged is CI's figure from `--measurements`, else the latest
one in the baseline.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from policies.core.docpath import dig, mapping_at
from policies.core.findings import Finding, failure, warning
from policies.core.outcome import Measurement
from policies.core.ruledecl import Rule, declare
from policies.inputs.budget import Budget

RULES = declare(
    Rule("pipeline.phase-target", "image size at most (100 - imageSizeReductionPercent) % of the image recorded when "
                                  "the previous phase started (warning while that phase is the next one)",
         spec="Budget Evolution / Phase 3.4.4 (Future)"),
)
RECORD_COMMAND = "make baseline MEASUREMENTS=<CI measurements file with imageSizeBytes>"
MB = 1_000_000


def _mb(value: Fraction | float) -> str:
    return f"{float(value) / MB:.3f}".rstrip("0").rstrip(".") + " MB"


def phase_order(budget: Budget) -> list[str]:
    """Phases in the order budget.yaml lists them (the order they happen in)."""
    return list(budget["phase"]["phases"])


def image_targets(budget: Budget) -> list[tuple[str, str, float]]:
    """(phase with the target, phase whose start figure it is relative to, reduction %) in phase order."""
    order = phase_order(budget)
    return [(phase, order[i - 1], float(spec["imageSizeReductionPercent"]))
            for i, (phase, spec) in enumerate(budget["phase"]["phases"].items())
            if i > 0 and "imageSizeReductionPercent" in spec]


def start_figure(baseline: dict[str, Any], phase: str) -> float | None:
    value = dig(baseline, ("phaseStarts", phase, "imageSizeBytes"))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def record_phase_start(previous: dict[str, Any] | None, phase: str, figures: dict[str, float]
                       ) -> dict[str, dict[str, float]]:
    """The baseline's phaseStarts: what it held, plus this phase's image size if not yet recorded."""
    starts = {name: dict(entry) for name, entry in mapping_at(previous, "phaseStarts").items()}
    if phase not in starts and "imageSizeBytes" in figures:
        starts[phase] = {"imageSizeBytes": figures["imageSizeBytes"]}
    return dict(sorted(starts.items()))


def judge_image_targets(budget: Budget, baseline: dict[str, Any], measured: dict[str, float],
                        baseline_path: str | Path) -> tuple[list[Measurement], list[Finding]]:
    """A row and, where due, a `pipeline.phase-target` finding for each target in force or next."""
    order = phase_order(budget)
    current = order.index(budget.phase)
    image = measured.get("imageSizeBytes", dig(baseline, "figures.imageSizeBytes"))
    rows: list[Measurement] = []
    findings: list[Finding] = []
    for phase, reference, percent in image_targets(budget):
        position = order.index(phase)
        if position > current + 1:
            continue  # two phases or more away: not yet worth a line
        in_force = position <= current
        make = failure if in_force else warning
        start = start_figure(baseline, reference)
        common = {"field": f"phaseStarts.{reference}.imageSizeBytes", "file": str(baseline_path)}
        if start is None or image is None:
            missing = (f"the baseline records no image size for the start of phase {reference}" if start is None
                       else "no image size was measured (--measurements imageSizeBytes)")
            findings.append(make("pipeline.phase-target",
                                 f"phase {phase} image target unknown: {missing}; record it with `{RECORD_COMMAND}`",
                                 expected=f"<= {100 - percent:g} % of the phase {reference} image size",
                                 actual="unknown", **common))
            continue
        target = Fraction(start) * (100 - Fraction(percent)) / 100
        to_go = Fraction(image) - target
        status = "ok" if to_go <= 0 else ("failure" if in_force else "warning")
        rows.append(Measurement(f"image vs {phase} target", "MB", round(image / MB, 3), round(float(target) / MB, 3),
                                status, rule="pipeline.phase-target"))
        if to_go <= 0:
            continue
        findings.append(make(
            "pipeline.phase-target",
            f"image {_mb(image)}; {phase} target {_mb(target)}, {100 - percent:g} % of the {reference} baseline "
            f"{_mb(start)}: {_mb(to_go)} to go",
            expected=f"<= {_mb(target)} ({100 - percent:g} % of {_mb(start)})", actual=_mb(image), **common))
    return rows, findings
