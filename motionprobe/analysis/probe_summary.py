"""The temporal probes' figures: accuracy and drop overall, per class and per kind, their confusions, and
how the drops rank the classes against the motion bound."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .estimates import rounded
from .outcomes import Outcomes
from .stats import estimate_means, spearman


def probe_figures(outcomes: Outcomes, classes: Sequence[str], kinds: dict[str, str] | None, per_class: dict,
            n_boot: int, seed: int, level: float) -> dict:
    """Per probe: accuracy (the mean over its draws) overall, per class and per kind; the drops of the
    shuffle (temporal sensitivity) and reverse (arrow of time) probes per class, and how they rank the
    classes against the motion bound."""
    original = outcomes.correct(("original", None))
    out: dict = {"accuracy": {}, "drop": {}, "per_class": {}, "per_kind": {}, "confusion": {}}
    for j, (name, correct) in enumerate(outcomes.probe_correct.items()):
        ran = np.flatnonzero(np.isfinite(correct))
        est = estimate_means(np.stack([correct[ran], original[ran] - correct[ran]]), n_boot, [seed, 4, j], level)
        out["accuracy"][name], out["drop"][name] = est[0].to_dict(), est[1].to_dict()
        for c, cname in enumerate(classes):
            rows = ran[outcomes.labels[ran] == c]
            if not len(rows):
                continue
            e = estimate_means(np.stack([correct[rows], original[rows] - correct[rows]]), n_boot, [seed, 5, j, c], level)
            out["per_class"].setdefault(cname, {})[name] = {"accuracy": rounded(e[0].value), "drop": e[1].to_dict()}
            pred = outcomes.probe_pred[name][rows]
            counts = np.bincount(pred[pred >= 0], minlength=len(classes))
            out["confusion"].setdefault(name, {})[cname] = {classes[i]: int(n) for i in np.flatnonzero(counts)
                                                            for n in [counts[i]]}
        for kind in sorted(set((kinds or {}).values())):
            members = [c for c, cname in enumerate(classes) if (kinds or {}).get(cname) == kind]
            rows = ran[np.isin(outcomes.labels[ran], members)]
            if len(rows):
                e = estimate_means(np.stack([correct[rows], original[rows] - correct[rows]]), n_boot, [seed, 6, j], level)
                out["per_kind"].setdefault(kind, {})[name] = {"accuracy": e[0].to_dict(), "drop": e[1].to_dict()}
    analysable = [c for c, e in per_class.items() if e.get("analysable") and c in out["per_class"]]
    bound_ks = sorted(int(k) for k in (per_class[analysable[0]]["motion_bound"] if analysable else {}))
    k = None if not bound_ks else (1 if 1 in bound_ks else bound_ks[0])  # the headline k
    out["bound_agreement"] = {"k": k, "classes": len(analysable)}
    for name in outcomes.probe_correct if k is not None else ():
        pairs = [(per_class[c]["motion_bound"][str(k)], out["per_class"][c].get(name, {}).get("drop", {}).get("value"))
                 for c in analysable]
        pairs = [(b, d) for b, d in pairs if b is not None and d is not None]
        bound, drop = np.array([b for b, _ in pairs]), np.array([d for _, d in pairs])
        out["bound_agreement"][f"{name}_spearman"] = rounded(spearman(bound, drop)) if len(pairs) >= 3 else None
    return out
