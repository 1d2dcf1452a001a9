"""The report's sentences, computed from results.json: the headline, warnings, diagnostics, what the probes say.

Plain text (the page escapes it). No sentence states a finding the numbers did not produce: each one
is built from the values it quotes, and says something else when they say something else.
"""

from __future__ import annotations

import numpy as np

from ..analysis.methods import BEST
from ..probes import LOCAL_WINDOW
from .view import BOUND_NAMES, bound_ks, chosen_text, class_rows, class_word, estimate_text, headline_k, percent, scored

# What each temporal probe shows the model (motionprobe/probes.py).
PROBE_WORDS = {
    "shuffle": "the frames in a random order",
    "reverse": "the frames in reverse order",
    "freeze": "the first frame held for the whole clip",
    "slow": "the first half of the clip at half speed (every frame twice)",
    "fast": "every other frame of a window twice as long (double speed)",
    "local_shuffle": f"the frames shuffled inside each window of {LOCAL_WINDOW}",
}
SMALL_BOUND = 0.10  # "needs little motion": a per-class motion bound below 10 points
ARTIFACT_FLOOR = 0.02  # a mean shuffle drop below 2 points is no artifact worth a sentence


def _sentence(text: str) -> str:
    """`text` with its first letter capitalised (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:]


def _interval(est: dict) -> str:
    return f"{percent(est['value'])} points [{percent(est['ci'][0])}, {percent(est['ci'][1])}]"


def headline(results: dict) -> str:
    """The one-sentence finding: the motion bound at the headline k with its interval, then the paper's bound.

    Without a `full` analysis at that k (no generator) the paper's bound is named as not measured there
    (with its value at the k's that have it).
    """
    acc = results["accuracy"]
    original = (acc.get("original") or {}).get("value")
    k = headline_k(results)
    if k is None:
        return f"Original {scored(results)} {percent(original)}%; no k was analysed."
    key = str(k)
    best = (acc.get(BEST) or {}).get(key) or {}
    text = (f"Motion upper bound at k = {k}: {_interval(results['motion_bound'][key])} of {scored(results)} — "
            f"original {percent(original)}% − best motion-free method {percent(best.get('value'))}% "
            f"({chosen_text(results, k)}), chosen without the test labels.")
    if k != 1:
        text = f"k = 1 was not analysed. {text}"
    paper = (results.get("paper_bound") or {}).get(key)
    if paper:
        full = (acc.get("full") or {}).get(key) or {}
        return text + (f" The paper's bound (original − full analysis {percent(full.get('value'))}%): "
                       f"{_interval(paper)}.")
    others = bound_ks(results, "paper_bound")
    if others:
        return text + (f" The paper's bound (original − full analysis) needs a generator at k = {k}; at k = "
                       f"{others[0]} it is {_interval(results['paper_bound'][str(others[0])])}.")
    return text + " The paper's bound (original − full analysis) was not measured: no generator was given."


def weak_warning(results: dict) -> str | None:
    """A warning when the model's own accuracy on full clips is below the analysable floor."""
    check = results.get("model_check") or {}
    if not check.get("weak"):
        return None
    missing = check.get("not_analysable") or []
    with_clips = sum(1 for e in results["per_class"].values() if e.get("n"))
    return (f"Warning: the model recognises only {percent(check.get('original'))}% of the full test clips, below "
            f"the floor of {percent(check.get('class_floor'), 0)}%. A bound says how much of the accuracy needs "
            f"motion, and there is little accuracy here: read every number below as describing a model that "
            f"mostly fails. {len(missing)} of {with_clips} classes are not analysable.")


def analysable_note(results: dict) -> str | None:
    """Which classes are not analysable, and what that changes on the page."""
    check = results.get("model_check") or {}
    missing = check.get("not_analysable") or []
    if not missing:
        return None
    return (f"{len(missing)} {class_word(results)}(es) not analysable (the model recognises fewer than "
            f"{percent(check.get('class_floor'), 0)}% of their full clips): {', '.join(missing)}. They are shown as "
            "such in the per-class tables and figures, and left out of the least/most-motion pictures, the class "
            "shares and the AUROCs: a small bound there means nothing was recognised to lose, not that no motion "
            "is needed.")


def bound_sentences(results: dict) -> list[str]:
    """How the two bounds are made, and which method the motion bound chose per k."""
    chosen = "; ".join(f"k = {k}: {chosen_text(results, k)}" for k in bound_ks(results))
    lines = [f"The {BOUND_NAMES['motion_bound']} is the {scored(results)} the model loses when it sees only k of its "
             f"{results['num_frames']} frames, completed into a clip (replicated, or regenerated by the temporal "
             "generator) and chosen by the best of the label-free methods: at most that much of it can come from "
             f"motion. {_sentence(results.get('bound_rule', ''))}." + (f" Chosen: {chosen}." if chosen else "")]
    if results.get("paper_bound"):
        lines.append(f"{_sentence(BOUND_NAMES['paper_bound'])} fixes the method in advance: the generator with the "
                     "max-response choice of frames, as in Huang et al. (CVPR 2018). The motion bound keeps it unless "
                     "another method beat it on the other half of the clips by more than noise, so it is never looser "
                     "beyond noise, and tighter where another method clearly recovers more.")
    return lines


def diagnostics_lines(results: dict) -> list[str]:
    """Each diagnostic of the analysis as a sentence with its paired interval."""
    lines = []
    for d in sorted(results.get("diagnostics") or [], key=lambda d: (d["class"], d["k"], d["kind"])):
        text = _sentence(d["text"])
        lines.append(f"{text} (difference {estimate_text(d['difference'])} points).")
    return lines


FALLBACK_WORDS = {"uniform": "replicating the uniform subset", "full": "the full analysis", BEST: "the bound's method"}


def fallback_lines(results: dict) -> list[str]:
    """One sentence per class a motion-free method falls back to (results.json `fallback`), at each k."""
    lines = []
    for method, by_k in (results.get("fallback") or {}).items():
        for k, entries in by_k.items():
            for e in entries:
                sources = ", ".join(f"{name} {count}" for name, count in list(e["from"].items())[:4])
                lines.append(f"At k = {k}, {FALLBACK_WORDS.get(method, method)} gives {e['class']} to {e['received']} "
                             f"clips of other classes ({sources}), more than its own {e['clips']}: its accuracy there "
                             f"({percent(e['recall'])}%) counts clips it would have been given whatever they showed "
                             f"(precision {percent(e['precision'])}%).")
    return lines


def probe_sentences(results: dict) -> list[str]:
    """What the probes say beyond their table: how the shuffle drop ranks classes against the motion bound,
    how much of it is the probe's own artifact, and which kinds each probe hurts most."""
    probes = results.get("probes") or {}
    if not probes.get("accuracy"):
        return []
    lines = []
    agreement = probes.get("bound_agreement") or {}
    k = agreement.get("k")
    if "shuffle" in probes["accuracy"] and k is not None:
        lines += _shuffle_against_bound(results, probes, k, agreement)
    for name in ("shuffle", "reverse"):
        by_kind = sorted(((entry[name]["drop"]["value"], kind) for kind, entry in (probes.get("per_kind") or {}).items()
                          if name in entry and entry[name]["drop"].get("value") is not None), reverse=True)
        if len(by_kind) >= 2:
            (top, top_kind), (low, low_kind) = by_kind[0], by_kind[-1]
            lines.append(f"The {name} probe costs the {top_kind} classes most ({percent(top)} points) and the "
                         f"{low_kind} classes least ({percent(low)} points).")
    return lines


def _shuffle_against_bound(results: dict, probes: dict, k: int, agreement: dict) -> list[str]:
    rho = agreement.get("shuffle_spearman")
    n = agreement.get("classes", 0)
    lines = [(f"Across the {n} analysable classes, the shuffle drop ranks the classes like the motion bound at k = {k} "
              f"with Spearman ρ = {rho:.2f}." if rho is not None else
              f"Too few analysable classes ({n}) to rank the shuffle drop against the motion bound (3 needed).")]
    rows = [r for r in class_rows(results, k) if r.analysable and r.motion_bound is not None
            and r.motion_bound < SMALL_BOUND and r.name in probes.get("per_class", {})]
    drops = [probes["per_class"][r.name].get("shuffle", {}).get("drop", {}).get("value") for r in rows]
    pairs = [(r, d) for r, d in zip(rows, drops, strict=True) if d is not None]
    if not pairs:
        return lines
    mean_drop = float(np.mean([d for _, d in pairs]))
    mean_bound = float(np.mean([max(0.0, r.motion_bound) for r, _ in pairs]))
    names = ", ".join(r.name for r, _ in pairs)
    intro = (f"The {len(pairs)} analysable class(es) whose motion bound at k = {k} is below "
             f"{percent(SMALL_BOUND, 0)} points ({names})  need little motion; shuffling their frames costs them "
             f"{percent(mean_drop)} points on average")
    if mean_drop - mean_bound >= ARTIFACT_FLOOR:
        lines.append(f"{intro}, {percent(mean_drop - mean_bound)} more than their mean motion bound "
                     f"({percent(mean_bound)}, negative bounds counted as 0), which motion cannot explain. That excess "
                     "is the probe's own artifact — a shuffled clip makes moving objects jump, which the model never "
                     "saw — so read a class's shuffle drop beside its motion bound, not as the motion it needs.")
    else:
        lines.append(f"{intro}, no more than their mean motion bound ({percent(mean_bound)}): here the shuffle "
                     "probe adds little artifact of its own.")
    return lines
