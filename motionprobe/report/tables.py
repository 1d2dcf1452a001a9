"""The report's tables as HTML, from results.json (or its `agreement` part, same structure).

Figure 3's table comes from `motionprobe.analysis.results.figure3`, the builder the terminal uses too;
here it shows every method that ran (the terminal a subset), grouped by how the k frames become a clip.
"""

from __future__ import annotations

from ..analysis.methods import BEST, BOUND, BOUNDS, LEGEND, SHORT
from ..analysis.results import figure3
from ..analysis.results_type import Results
from ..analysis.stats import Estimate
from .markup import Html, Wide, esc, table
from .view import (
    CLASS_METHODS,
    TABLE_COLUMNS,
    ClassRow,
    chosen_text,
    class_rows,
    class_word,
    column_group,
    estimate_text,
    headline_k,
    most_motion_first,
    not_analysable_text,
    percent,
    score_word,
)
from .words import PROBE_WORDS


def _cell(est: Estimate | None) -> Html:
    """An estimate as its value over its interval (two short lines keep a wide table readable)."""
    if est is None or est.value is None:
        return Html("—")
    lo, hi = est.ci
    return Html(f"{percent(est.value)}<br><span class=ci>[{percent(lo)}, {percent(hi)}]</span>")


def _groups(columns: list[str]) -> list[tuple[str, int]]:
    groups: list[tuple[str, int]] = [("", 1)]  # above the k column
    for column in columns:
        label = column_group(column)
        if groups[-1][0] == label and len(groups) > 1:
            groups[-1] = (label, groups[-1][1] + 1)
        else:
            groups.append((label, 1))
    return groups


def figure3_table(results: Results) -> Html:
    """Per method and k: % [95% CI] of what is scored; then the motion bound and the paper's bound in points."""
    fig = figure3(results, TABLE_COLUMNS)
    ran = [c for c in fig.columns if c not in BOUNDS]
    columns = ran + [b for b in BOUNDS if b in fig.columns]  # the tool's bound first
    where = {c: i for i, c in enumerate(fig.columns)}
    rows = [[k] + [_cell(ests[where[c]]) for c in columns] for k, ests in fig.rows]
    html = table(["k"] + [SHORT[c] for c in columns], rows, groups=_groups(columns), css="compact")
    chosen = [f"k = {k}: {chosen_text(results, int(k))}" for k, _ in fig.rows if k in results.bound_method]
    if chosen:
        html += Html(f"<p class=small>{esc(LEGEND[BEST])}: the label-free method each half of the clips was scored "
                     f"with, chosen on the other half ({esc('; '.join(chosen))}). {esc(BOUND['motion_bound'].sentence)} "
                     f"and {esc(BOUND['paper_bound'].sentence)}, in points.</p>")
    return html


def _bound_cell(row: ClassRow, name: str) -> str:
    value, ci = row.bound(name)
    return percent(value) + (f" [{percent(ci[0])}, {percent(ci[1])}]" if ci and value is not None else "")


def per_class_table(results: Results, k: int) -> Html:
    """Per class at k: the methods, both bounds with their intervals, most motion first; not analysable last."""
    rows = most_motion_first(class_rows(results, k))
    kinds = any(r.kind for r in rows)
    methods = [m for m in CLASS_METHODS if any(r.methods.get(m) is not None for r in rows)]
    bounds = [b for b in BOUNDS if any(getattr(r, b) is not None for r in rows)]
    header = [class_word(results)] + (["kind"] if kinds else []) + ["clips", f"original {score_word(results)} %"]
    header += [f"{LEGEND[m]} %" for m in methods]
    header += [f"{LEGEND[b]} [95% CI]" for b in bounds] + (["F1 motion bound"] if bounds else []) + ["original − uniform"]
    body = []
    for r in rows:
        name = f"{r.name} (fallback)" if r.fallback else r.name
        row: list[object] = [name] + ([r.kind or ""] if kinds else []) + [str(r.n), percent(r.original)]
        if not r.analysable:
            row.append(Wide(not_analysable_text(r.original), len(header) - len(row)))
        else:
            row += [percent(r.methods.get(m)) for m in methods]
            row += [_bound_cell(r, b) for b in bounds] + ([percent(r.motion_bound_f1)] if bounds else [])
            row.append(percent(r.uniform_gap))
        body.append(row)
    return table(header, body, name_columns=2 if kinds else 1, css="compact")


def per_kind_table(results: Results) -> Html:
    """Per planted kind at the headline k: the methods, both bounds and the gains over uniform."""
    kinds = results.per_kind
    k = headline_k(results)
    if not kinds or k is None:
        return Html("")
    fields = ["uniform", "full", BEST, "motion_bound", "paper_bound", "best_minus_uniform", "full_minus_uniform"]
    names = {"uniform": "uniform", "full": "full analysis", BEST: "best", "best_minus_uniform": "best − uniform",
             "full_minus_uniform": "full − uniform"}
    header = ["kind", "classes", "clips", "original %"] + [names.get(f, LEGEND.get(f, f)) for f in fields]
    rows = []
    for kind, entry in kinds.items():
        original = entry.accuracy.original if entry.accuracy else None
        rows.append([kind, ", ".join(entry.classes), str(entry.n), _cell(original)]
                    + [_cell(entry.at(name, k)) for name in fields])
    groups = [("", 4), (f"k = {k} (%; bounds and gains in points)", len(fields))]
    return table(header, rows, name_columns=2, css="compact", groups=groups)


AUROCS = {"motion_bound_auroc": "motion bound", "paper_bound_auroc": "the paper's bound",
          "motion_bound_f1_auroc": "F1 motion bound", "uniform_gap_auroc": "original − uniform (no generator)"}


CHECK_KINDS = {"keyframe": "key-frame classes", "implied": "implied-motion classes"}
CHECK_FIELDS = {"full_minus_uniform": "full − uniform", "best_minus_uniform": "best − uniform",
                "motion_bound": "motion bound", "paper_bound": "the paper's bound"}


def _check_name(name: str) -> str:
    """"keyframe_best_minus_uniform" → "key-frame classes: best − uniform"."""
    kind, _, what = name.partition("_")
    return f"{CHECK_KINDS.get(kind, kind)}: {CHECK_FIELDS.get(what, what.replace('_', ' '))}"


def planted_truth_table(results: Results) -> Html:
    """How well each per-class statistic finds the planted motion classes (AUROC), and the planted checks."""
    truth = results.planted_truth
    if not truth:
        return Html("")
    ks = [str(k) for k in results.frames]

    def auroc(values: dict, k: str) -> str:
        v = values.get(k)
        return "—" if v is None else f"{v:.2f}"

    rows = [[label] + [auroc(truth.aurocs[name], k) for k in ks] for name, label in AUROCS.items()
            if name in truth.aurocs]
    html = Html(f"<p>How well each per-class statistic separates the planted <b>{esc(truth.positive_kind)}</b> "
                f"classes from the rest (AUROC, 1 = perfectly, 0.5 = chance), over the {len(truth.classes_scored)} "
                "analysable classes:</p>") + table(["statistic", *(f"k = {k}" for k in ks)], rows)
    checks = [(name, values) for name, values in truth.checks.items() if any(values.values())]
    if checks:
        rows = [[_check_name(name)] + [estimate_text(values.get(k)) for k in ks] for name, values in checks]
        html += Html("<p>Planted checks (points, paired intervals): key-frame classes should gain from choosing frames, "
                     "implied-motion classes from the generator.</p>") + table(["check", *(f"k = {k}" for k in ks)], rows)
    return html


def class_summary_table(results: Results) -> Html:
    """Shares of analysable classes within 1 point of the original per method and k (Figure 5), and improved
    by the generator over uniform (Figure 8)."""
    summary = results.class_summary
    within = summary.within_1_point
    improves, ties = summary.generator_improves, summary.generator_ties
    ks = [str(k) for k in results.frames]
    rows = [[f"{LEGEND.get(m, m)}: within 1 point of the original"] + [percent(per_k.get(k), 0) for k in ks]
            for m, per_k in within.items() if per_k]
    if improves:
        rows.append(["generator better than uniform (ties)"] +
                     [f"{percent(improves.get(k), 0)} ({percent(ties.get(k), 0)})" if k in improves else "—" for k in ks])
    if not rows:
        return Html("")
    left_out = len(results.model_check.not_analysable) if results.model_check else 0
    out_of = f"out of the {summary.num_classes} analysable {class_word(results)}(es)"
    if results.by_prediction:
        out_of += ", grouped by the full-clip prediction"
    if left_out:
        out_of += f" ({left_out} not analysable left out)"
    return Html(f"<p>Share of classes (%), {esc(out_of)}:</p>") + table(["", *(f"k = {k}" for k in ks)], rows)


def probe_table(results: Results) -> Html:
    """Per temporal probe: what the model sees, its accuracy and drop with intervals, and the rank agreement
    of the per-class drop with the per-class motion bound."""
    probes = results.probes
    if probes is None or not probes.accuracy:
        return Html("")
    agreement = probes.bound_agreement
    k = agreement.get("k")
    word = score_word(results)
    header = ["probe", "what the model sees", f"{word} % [95% CI]", "drop (original − probe, points)"]
    header += [f"Spearman ρ with the motion bound at k = {k}"] if k is not None else []
    rows = [["original", f"all {results.num_frames} frames in order",
             estimate_text(results.accuracy.original), "—"] + (["—"] if k is not None else [])]
    for name, est in probes.accuracy.items():
        rho = agreement.get(f"{name}_spearman")
        if est is None or est.value is None:  # `fast` where no video had a window twice the clip's length
            rows.append([name, PROBE_WORDS.get(name, name), Wide("not run: no clip could be shown this way", 2)]
                        + (["—"] if k is not None else []))
            continue
        row = [name, PROBE_WORDS.get(name, name), estimate_text(est), estimate_text(probes.drop.get(name))]
        rows.append(row + ([("—" if rho is None else f"{rho:.2f}")] if k is not None else []))
    return table(header, rows, name_columns=2)


VIDEO_METHODS = ("uniform", "full", "best")


def extras_list(results: Results) -> list[str]:
    """The candidate-pool gap and video-level accuracy, when the analysis has them, as sentences."""
    items = []
    for k, gap in results.candidate_gap.items():
        items.append(f"k = {k}: full analysis over all subsets {percent(gap.all)}% vs over {gap.n_sampled} "
                     f"sampled {percent(gap.sampled)}% (gap {estimate_text(gap.gap)})")
    video = results.video
    if video:
        acc = video.accuracy
        # the headline methods only: every method at every k made one unreadable sentence
        per_method = "; ".join(f"{LEGEND.get(m, m)} k = {k}: {estimate_text(e)}"
                               for m in VIDEO_METHODS for k, e in acc.of(m).items())
        items.append(f"video-level {score_word(results)} ({video.num_videos} videos, majority vote of their clips): "
                     f"original {estimate_text(acc.original)}" + (f"; {per_method}" if per_method else ""))
    return items
