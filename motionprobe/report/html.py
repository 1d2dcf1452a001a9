"""report.html: one self-contained page (inline CSS, no script, relative links only) from results.json,
the figures and the pictures. Every string that comes from the data (class names, kinds, clip ids,
paths, config values) goes through `esc`, so a class called `<script>alert(1)</script>` is text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote

from .figures import Figure
from .pictures import Picture
from .view import LABELS, ClassRow, class_rows, estimate_text, headline_k, ks_with, methods_present, percent

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1250px;
       padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #555; margin-top: 0; }
.headline { font-size: 1.35em; font-weight: 600; background: #fff4e5; border-left: 5px solid #D55E00;
            padding: 0.6em 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
td:not(.name) { white-space: nowrap; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; max-width: 900px; }
.note { color: #7a4b00; } .skipped { color: #777; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def esc(value: object) -> str:
    """Any value as HTML text (quotes escaped too, so it is safe inside attributes)."""
    return escape(str(value), quote=True)


def href(path: str) -> str:
    """A relative link, percent-encoded (a folder name with spaces or '#' still resolves)."""
    return esc(quote(path.replace("\\", "/"), safe="/._-"))


@dataclass
class Inputs:
    """Everything the page shows besides results.json: paths are relative to the page's folder."""

    figures: list[Figure] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    picture_links: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (png, gif)
    figure_links: dict[str, str] = field(default_factory=dict)  # name → png
    notes: list[str] = field(default_factory=list)  # plain text shown near the pictures
    files: dict[str, str] = field(default_factory=dict)  # label → link (results.json, CSVs)
    inversion: dict | None = None  # inversion.json's content plus "png"/"gif" links
    pictures_from: dict[str, str] = field(default_factory=dict)  # "model"/"generator k=1" → folder


def headline(results: dict) -> str:
    """The one-sentence finding, plain text: the motion upper bound at k = 1 with its interval.

    Without a generator at k = 1 it names the k's where the bound exists; without any generator it
    reports the replicated-frame gap (original − uniform) instead, and says so.
    """
    acc = results["accuracy"]
    original = acc.get("original") or {}
    k = headline_k(results)
    if k is not None:
        bound = results["motion_bound"][str(k)]
        full = acc["full"].get(str(k))
        text = (f"Motion upper bound at k = {k}: {percent(bound['value'])} points "
                f"[{percent(bound['ci'][0])}, {percent(bound['ci'][1])}] "
                f"(original {percent(original.get('value'))}% − full analysis {percent(full['value'] if full else None)}%)")
        if k != 1:
            text = (f"No generator at k = 1; the bound is available at k = "
                    f"{', '.join(map(str, ks_with(results, 'full')))}. ") + text
        return text + "."
    gap_ks = sorted(int(key) for key in results.get("uniform_gap", {}))
    if not gap_ks:
        return f"Original clip accuracy {percent(original.get('value'))}%; no k was analysed."
    g = 1 if 1 in gap_ks else gap_ks[0]
    gap = results["uniform_gap"][str(g)]
    return (f"No generator was given, so the motion bound (original − full analysis) was not measured. "
            f"Original − replicated frame(s) at k = {g}: {percent(gap['value'])} points "
            f"[{percent(gap['ci'][0])}, {percent(gap['ci'][1])}].")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], name_columns: int = 1) -> str:
    """An HTML table; cells are escaped here, the first `name_columns` are left-aligned."""
    def cells(row: Sequence[str], tag: str) -> str:
        return "".join(f'<{tag}{" class=name" if i < name_columns else ""}>{esc(c)}</{tag}>' for i, c in enumerate(row))
    body = "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    return f"<table><thead><tr>{cells(header, 'th')}</tr></thead><tbody>{body}</tbody></table>"


def figure3_table(results: dict) -> str:
    """Clip accuracy % [95% CI] per method and k, and the motion bound (the verb's table, as HTML)."""
    methods = methods_present(results)
    columns = methods + (["motion_bound"] if results.get("motion_bound") else [])
    rows = []
    for k in map(str, results["frames"]):
        row = [k] + [estimate_text(results["accuracy"][m].get(k)) for m in methods]
        if "motion_bound" in columns:
            row.append(estimate_text(results["motion_bound"].get(k)))
        rows.append(row)
    return _table(["k"] + [LABELS[c] for c in columns], rows)


def per_class_table(results: dict, k: int) -> str:
    """Per class at k, sorted by the motion bound (or the replicated-frame gap without a generator)."""
    rows = class_rows(results, k)
    with_bound = any(r.motion_bound is not None for r in rows)
    kinds = any(r.kind for r in rows)

    def most_motion_first(r: ClassRow) -> tuple:
        value = r.motion_bound if with_bound else r.uniform_gap
        return (value is None, -(value or 0.0), r.name)

    rows.sort(key=most_motion_first)
    methods = [m for m in ("uniform", "generator", "full", "oracle", "pixel_generator")
               if any(getattr(r, m) is not None for r in rows)]
    header = ["class"] + (["kind"] if kinds else []) + ["clips", "original %"] + [f"{m} %" for m in methods]
    header += (["motion bound (points) [95% CI]", "F1 bound"] if with_bound else []) + ["original − uniform"]
    body = []
    for r in rows:
        row = [r.name] + ([r.kind or ""] if kinds else []) + [str(r.n), percent(r.original)]
        row += [percent(getattr(r, m)) for m in methods]
        if with_bound:
            ci = f" [{percent(r.motion_bound_ci[0])}, {percent(r.motion_bound_ci[1])}]" if r.motion_bound_ci else ""
            row += [percent(r.motion_bound) + ci, percent(r.motion_bound_f1)]
        row.append(percent(r.uniform_gap))
        body.append(row)
    return _table(header, body, name_columns=2 if kinds else 1)


def per_kind_table(results: dict) -> str:
    kinds = results.get("per_kind") or {}
    if not kinds:
        return ""
    k = headline_k(results) or min(results["frames"])
    key = str(k)
    header = ["kind", "classes", "clips", "original %", f"uniform k={k} %", f"full k={k} %",
              f"motion bound k={k}", f"full − uniform k={k}"]
    rows = []
    for kind, entry in kinds.items():
        acc = entry["accuracy"]
        rows.append([kind, ", ".join(entry["classes"]), str(entry["n"]), estimate_text(acc["original"]),
                     estimate_text(acc.get("uniform", {}).get(key)), estimate_text(acc.get("full", {}).get(key)),
                     estimate_text(entry.get("motion_bound", {}).get(key)),
                     estimate_text(entry.get("full_minus_uniform", {}).get(key))])
    html = _table(header, rows, name_columns=2)
    truth = results.get("planted_truth")
    if truth:
        lines = [[name.replace("_", " "), ", ".join(f"k={kk}: {v:.2f}" for kk, v in truth.get(name, {}).items())]
                 for name in ("motion_bound_auroc", "motion_bound_f1_auroc", "uniform_gap_auroc")]
        html += (f"<p>How well each per-class statistic separates the planted <b>{esc(truth['positive_kind'])}</b> "
                 "classes from the rest (AUROC, 1 = perfectly):</p>" + _table(["statistic", "AUROC"], lines))
    return html


def _figure_html(fig: Figure, link: str | None) -> str:
    if fig.path is None or link is None:
        return f'<p class="skipped">{esc(fig.title)}: not drawn — {esc(fig.skipped or "no file")}.</p>'
    return (f'<figure id="{esc(fig.name)}"><img src="{href(link)}" alt="{esc(fig.title)}">'
            f"<figcaption><b>{esc(fig.title)}.</b> {esc(fig.caption)}</figcaption></figure>")


def _picture_html(pic: Picture, links: tuple[str, str]) -> str:
    png, gif = links
    return (f'<figure id="{esc(pic.name)}"><img src="{href(png)}" alt="{esc(pic.title)}">'
            f'<div><img src="{href(gif)}" alt="{esc(pic.title)} (animated)"></div>'
            f"<figcaption><b>{esc(pic.title)}.</b> {esc(pic.caption)}</figcaption></figure>")


def class_summary_table(results: dict) -> str:
    """Shares of classes: within 1 point of the original per method and k (Figure 5), improved by the generator
    over uniform (Figure 8)."""
    summary = results.get("class_summary") or {}
    within = summary.get("within_1_point") or {}
    improves, ties = summary.get("generator_improves") or {}, summary.get("generator_ties") or {}
    ks = [str(k) for k in results["frames"]]
    rows = [[f"{LABELS.get(m, m)}: within 1 point of the original"] + [percent(per_k.get(k), 0) for k in ks]
            for m, per_k in within.items() if per_k]
    if improves:
        rows.append(["generator better than uniform (ties)"] +
                     [f"{percent(improves.get(k), 0)} ({percent(ties.get(k), 0)})" if k in improves else "—" for k in ks])
    if not rows:
        return ""
    return ("<p>Share of classes (%), out of " + esc(summary.get("num_classes", "?")) + " with clips:</p>"
            + _table(["", *(f"k = {k}" for k in ks)], rows))


def _extras_list(results: dict) -> str:
    items = []
    for k, gap in (results.get("candidate_gap") or {}).items():
        items.append(f"k = {k}: full analysis over all subsets {percent(gap['all'])}% vs over {gap['n_sampled']} "
                     f"sampled {percent(gap['sampled'])}% (gap {estimate_text(gap['gap'])})")
    video = results.get("video")
    if video:
        acc = video["accuracy"]
        per_method = "; ".join(f"{LABELS.get(m, m)} k = {k}: {estimate_text(e)}"
                               for m, per_k in acc.items() if m != "original" for k, e in per_k.items())
        items.append(f"video-level accuracy ({video['num_videos']} videos, majority vote of their clips): original "
                     f"{estimate_text(acc.get('original'))}" + (f"; {per_method}" if per_method else ""))
    if not items:
        return ""
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def _skipped_html(results: dict) -> str:
    skipped = results.get("skipped") or {}
    if not skipped.get("count"):
        return "<p>No clip was skipped.</p>"
    items = skipped.get("items", [])
    rows = [[i["id"], i["reason"]] for i in items[:50]]
    more = f"<p>… and {len(items) - 50} more (listed in results.json).</p>" if len(items) > 50 else ""
    intro = f"<p>{esc(skipped['count'])} clip(s) failed to load and were skipped:</p>"
    return intro + _table(["clip", "reason"], rows) + more


def _provenance_html(results: dict, inputs: Inputs) -> str:
    prov = results.get("provenance") or {}
    rows = [[key, prov[key]] for key in ("code_version", "torch", "numpy", "python", "seed", "fingerprint") if key in prov]
    stamps = results.get("timestamps") or {}
    rows += [[f"analysis {key}", value] for key, value in stamps.items()]
    model = prov.get("model") or {}
    if model:
        rows.append(["model", f"{model.get('path', '')} (sha256 {model.get('sha256', '')[:16]}…)"])
    for label, key in (("generator", "generators"), ("pixel generator", "pixel_generators")):
        for k, gen in (prov.get(key) or {}).items():
            rows.append([f"{label} k={k}", f"{gen.get('path', '')} ({gen.get('loss', '')} loss, "
                                           f"sha256 {gen.get('sha256', '')[:16]}…)"])
    dataset = prov.get("dataset") or {}
    if dataset:
        rows.append(["dataset", ", ".join(f"{k}={v}" for k, v in dataset.items())])
    for label, folder in inputs.pictures_from.items():
        rows.append([f"pictures: {label}", folder])
    html = _table(["", "value"], [[str(a), str(b)] for a, b in rows], name_columns=2)
    if results.get("config"):
        html += ("<details><summary>resolved configuration</summary><pre>"
                 f"{esc(json.dumps(results['config'], indent=2, sort_keys=True))}</pre></details>")
    return html


def _inversion_html(inv: dict) -> str:
    return (f'<figure id="inversion"><img src="{href(inv["png"])}" alt="feature inversion">'
            f'<div><img src="{href(inv["gif"])}" alt="feature inversion (animated)"></div>'
            f"<figcaption><b>Feature inversion at {esc(inv.get('layer'))}.</b> A clip optimised so that the model's "
            f"features at this layer match those of the real clip (relative feature loss "
            f"{esc(format(inv.get('feature_loss_initial', float('nan')), '.4f'))} → "
            f"{esc(format(inv.get('feature_loss_final', float('nan')), '.4f'))}): the motion it shows is the motion the "
            "layer keeps.</figcaption></figure>")


def render_report(results: dict, inputs: Inputs) -> str:
    """The whole page as a string (pure: no file is read or written)."""
    prov = results.get("provenance") or {}
    dataset = (prov.get("dataset") or {}).get("name") or "dataset"
    k = headline_k(results)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>motionprobe report — {esc(dataset)}</title><style>{CSS}</style></head><body>",
        "<h1>How much does this video model use motion?</h1>",
        f'<p class="sub">{esc(results["num_clips"])} test clips of {esc(dataset)}, {esc(len(results["classes"]))} '
        f"classes, {esc(results['num_frames'])}-frame clips; {esc(int(100 * results['ci_level']))}% percentile-bootstrap "
        f"intervals over clips ({esc(results['bootstrap'])} resamples). Accuracies in %.</p>",
        f'<p id="headline" class="headline">{esc(headline(results))}</p>',
        "<p>The motion upper bound is the accuracy the model loses when it sees only k frames, completed into a "
        "clip by a temporal generator and chosen by the model's own maximum response (the full analysis): at most "
        "that much of its accuracy can come from motion.</p>",
        "<h2 id='table'>Accuracy by number of frames kept (Figure 3)</h2>",
        f"<p>Original (all {esc(results['num_frames'])} frames): {esc(estimate_text(results['accuracy']['original']))}</p>",
        figure3_table(results), class_summary_table(results), _extras_list(results),
    ]
    if results.get("per_kind"):
        parts += ["<h2 id='kinds'>Per planted kind of class</h2>", per_kind_table(results)]
    parts.append("<h2 id='figures'>Figures</h2>")
    parts += [_figure_html(f, inputs.figure_links.get(f.name)) for f in inputs.figures]
    parts.append("<h2 id='pictures'>What the model was shown</h2>")
    parts += [f'<p class="note">{esc(n)}</p>' for n in inputs.notes]
    parts += [_picture_html(p, inputs.picture_links[p.name]) for p in inputs.pictures if p.name in inputs.picture_links]
    if inputs.inversion:
        parts += ["<h2 id='inversion-section'>Feature inversion (Figure 1)</h2>", _inversion_html(inputs.inversion)]
    parts.append("<h2 id='classes'>Per class</h2>")
    table_ks = ks_with(results, "full") or [int(key) for key in results["frames"]]
    for i, table_k in enumerate(table_ks):
        open_attr = " open" if (table_k == k or (k is None and i == 0)) else ""
        parts.append(f"<details{open_attr}><summary>k = {esc(table_k)}</summary>"
                     f"{per_class_table(results, table_k)}</details>")
    parts += ["<h2 id='skipped'>Skipped clips</h2>", _skipped_html(results),
              "<h2 id='provenance'>Provenance</h2>", _provenance_html(results, inputs)]
    if inputs.files:
        parts.append("<p>Files: " + ", ".join(f'<a href="{href(link)}">{esc(label)}</a>'
                                             for label, link in inputs.files.items()) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
