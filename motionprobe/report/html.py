"""report.html: one self-contained page (inline CSS, no script, relative links only) from results.json,
the figures and the pictures. Every string that comes from the data goes through `markup.esc`.

Sections, top to bottom: a warning when the model is weak, the headline (both bounds), how the bounds
are made, the Figure-3 table, per planted kind, diagnostics, figures, temporal probes, pictures,
feature inversion, per class, agreement with the full-clip prediction (when both targets ran),
skipped clips, provenance. What each shows: docs/report.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..analysis.results_type import Results
from .card import card_table, robustness_table, stride_table
from .markup import bullets, esc, href, paragraph, table
from .pictures import Picture
from .plotting import Figure
from .tables import (
    class_summary_table,
    extras_list,
    figure3_table,
    per_class_table,
    per_kind_table,
    planted_truth_table,
    probe_table,
)
from .view import class_word, estimate_text, headline_k, scored
from .words import (
    analysable_note,
    bound_sentences,
    diagnostics_lines,
    fallback_lines,
    headline,
    probe_sentences,
    temporal_sentences,
    weak_warning,
)

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1250px;
       padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #555; margin-top: 0; }
.headline { font-size: 1.25em; font-weight: 600; background: #fff4e5; border-left: 5px solid #D55E00;
            padding: 0.6em 0.9em; }
.warning { font-weight: 600; background: #fdecea; border-left: 5px solid #b71c1c; color: #7f1010; padding: 0.6em 0.9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
td:not(.name):not(.wide) { white-space: nowrap; }
th { background: #f4f4f4; } td.name, th.name { text-align: left; }
th.group { background: #e9eef5; text-align: center; font-weight: 600; }
table.compact { font-size: 0.82em; } table.compact th { font-weight: 500; max-width: 7em; padding: 0.2em 0.4em; }
table.compact td { padding: 0.2em 0.4em; } table.compact td:not(.name) { text-align: center; }
td.wide { text-align: left; color: #7a4b00; font-style: italic; }
.ci { color: #666; font-size: 0.85em; } .small { font-size: 0.88em; color: #444; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; max-width: 900px; }
.note { color: #7a4b00; } .skipped { color: #777; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""
PROBE_FIGURES = ("probes_per_kind", "probe_vs_bound", "graded_probes", "stride_curve")


@dataclass
class Inputs:
    """Everything the page shows besides results.json: paths are relative to the page's folder."""

    figures: list[Figure] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    probe_pictures: list[Picture] = field(default_factory=list)
    picture_links: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (png, gif)
    figure_links: dict[str, str] = field(default_factory=dict)  # name → png
    notes: list[str] = field(default_factory=list)  # plain text shown near the pictures
    probe_notes: list[str] = field(default_factory=list)  # why a probe has no strip
    files: dict[str, str] = field(default_factory=dict)  # label → link (results.json, CSVs)
    inversion: dict | None = None  # inversion.json's content plus "png"/"gif" links
    pictures_from: dict[str, str] = field(default_factory=dict)  # "model"/"generator k=1" → folder


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


def _skipped_html(results: Results) -> str:
    skipped = results.skipped
    if not skipped.count:
        return "<p>No clip was skipped.</p>"
    items = skipped.items
    rows = [[i["id"], i["reason"]] for i in items[:50]]
    more = f"<p>… and {len(items) - 50} more (listed in results.json).</p>" if len(items) > 50 else ""
    intro = f"<p>{esc(skipped.count)} clip(s) failed to load and were skipped:</p>"
    return intro + table(["clip", "reason"], rows) + more


def _provenance_html(results: Results, inputs: Inputs) -> str:
    prov = results.provenance
    versions = prov.versions()
    rows = [[key, versions[key]] for key in ("code_version", "torch", "numpy", "python", "seed", "fingerprint")
            if key in versions]
    rows += [[f"analysis {key}", value] for key, value in results.timestamps.items()]
    model = prov.model
    if model:
        rows.append(["model", f"{model.get('path', '')} (sha256 {model.get('sha256', '')[:16]}…)"])
    for label, pixel in (("generator", False), ("pixel generator", True)):
        for k, gen in prov.generators(pixel).items():
            rows.append([f"{label} k={k}", f"{gen.get('path', '')} ({gen.get('loss', '')} loss, "
                                           f"sha256 {gen.get('sha256', '')[:16]}…"
                                           + ("; replicates: did not beat replication on held-out clips"
                                              if gen.get("replicates") else "") + ")"])
    dataset = prov.dataset
    if dataset:
        rows.append(["dataset", ", ".join(f"{k}={v}" for k, v in dataset.items())])
    for label, folder in inputs.pictures_from.items():
        rows.append([f"pictures: {label}", folder])
    html = table(["", "value"], [[str(a), str(b)] for a, b in rows], name_columns=2)
    if results.config:
        html += ("<details><summary>resolved configuration</summary><pre>"
                 f"{esc(json.dumps(results.config, indent=2, sort_keys=True))}</pre></details>")
    return html


def _inversion_html(inv: dict) -> str:
    return (f'<figure id="inversion"><img src="{href(inv["png"])}" alt="feature inversion">'
            f'<div><img src="{href(inv["gif"])}" alt="feature inversion (animated)"></div>'
            f"<figcaption><b>Feature inversion at {esc(inv.get('layer'))}.</b> A clip optimised so that the model's "
            f"features at this layer match those of the real clip (relative feature loss "
            f"{esc(format(inv.get('feature_loss_initial', float('nan')), '.4f'))} → "
            f"{esc(format(inv.get('feature_loss_final', float('nan')), '.4f'))}): the motion it shows is the motion the "
            "layer keeps.</figcaption></figure>")


def _scroll(html: str) -> str:
    return f"<div class=scroll>{html}</div>"


def _figure3_section(results: Results) -> list[str]:
    """The Figure-3 table with what it is made of, the class shares, the analysable note and the extras."""
    note = analysable_note(results)
    return [f"<p>Original (all {esc(results.num_frames)} frames): {esc(estimate_text(results.accuracy.original))}"
            f" — {esc(scored(results))} in %, 95% intervals in brackets.</p>",
            _scroll(figure3_table(results)), class_summary_table(results),
            paragraph(note, "note") if note else "", bullets(extras_list(results))]


def _diagnostics_section(results: Results) -> list[str]:
    lines = diagnostics_lines(results)
    if not lines:
        parts = [paragraph("No analysable class where the generator falls below replicating the frames, or the bound's "
                           "method below the uniform subset, at any k (paired 95% interval entirely below zero).")]
    else:
        parts = [paragraph("Where completing or choosing the frames hurts an analysable class: the generator below "
                           "replication, or the method the motion bound chose below the fixed uniform subset, with a "
                           "paired 95% interval entirely below zero. Such a class's bound is looser than it need be "
                           "there."), bullets(lines)]
    replicating = sorted(int(k) for k, gen in results.provenance.generators().items() if gen.get("replicates"))
    if replicating:
        parts.append(paragraph(f"At k = {', '.join(map(str, replicating))} the trained generator did not beat "
                               "replication on its held-out training clips (a paired sign-flip test over its training "
                               "states), so the analysis replicated the kept frames there: its generator rows equal "
                               "the uniform ones."))
    fallback = fallback_lines(results)
    if fallback:
        parts += [paragraph("Fallback classes: without motion the model gives some classes to many clips of other "
                            "classes. Their own accuracy is then inflated (and their bound by accuracy too small), "
                            "while the classes that lost clips to them look worse; the F1 bound in the per-class "
                            "table counts both sides."), bullets(fallback)]
    return parts


def _per_class_section(results: Results, open_k: int | None) -> list[str]:
    parts = []
    for i, table_k in enumerate(results.ks):
        open_attr = " open" if (table_k == open_k or (open_k is None and i == 0)) else ""
        parts.append(f"<details{open_attr}><summary>k = {esc(table_k)}</summary>"
                     f"{_scroll(per_class_table(results, table_k))}</details>")
    return parts


def _probes_section(results: Results, inputs: Inputs) -> list[str]:
    parts = ["<h2 id='probes'>Temporal probes</h2>",
             paragraph(f"The same {results.num_frames} frames shown in another temporal order, without any generator: "
                       f"{scored(results)} under each probe and its drop from the original clip (paired, in points)."),
             _scroll(probe_table(results)), bullets(probe_sentences(results))]
    figures = {f.name: f for f in inputs.figures}
    parts += [_figure_html(figures[name], inputs.figure_links.get(name)) for name in PROBE_FIGURES[:2] if name in figures]
    if results.graded or results.sampling:
        parts += ["<h3 id='graded'>Graded probes, stride and coverage</h3>", bullets(temporal_sentences(results)),
                  _scroll(robustness_table(results))]
        parts += [_figure_html(figures[name], inputs.figure_links.get(name)) for name in PROBE_FIGURES[2:]
                  if name in figures]
        if results.sampling and results.sampling.per_class:
            parts.append(f"<details><summary>per {esc(class_word(results))}: {esc(scored(results))} at each stride and the "
                         f"temporal demand</summary>{_scroll(stride_table(results))}</details>")
    parts += [paragraph(n, "note") for n in inputs.probe_notes]
    parts += [_picture_html(p, inputs.picture_links[p.name])
              for p in inputs.probe_pictures if p.name in inputs.picture_links]
    return parts


def _agreement_section(results: Results) -> list[str]:
    """The same analysis scored against the model's own full-clip predictions (no label needed)."""
    view = results.agreement
    parts = ["<h2 id='agreement'>Agreement with the full-clip prediction</h2>",
             paragraph("The same clips scored against the model's own prediction on the full clip instead of the label: "
                       "how often the model still says what it said with every frame. Every percentage in this section "
                       "is agreement with the full-clip prediction, and the per-class rows group clips by the class the "
                       "model predicted on the full clip."),
             f'<p class="headline">{esc(headline(view))}</p>'] + _figure3_section(view)
    if view.per_kind:
        parts.append(_scroll(per_kind_table(view)))
    parts += ["<h3>Diagnostics</h3>"] + _diagnostics_section(view)
    if view.probes and view.probes.accuracy:
        parts += ["<h3>Temporal probes</h3>", _scroll(probe_table(view)), bullets(probe_sentences(view))]
    parts += [f"<h3>Per {class_word(view)}</h3>"] + _per_class_section(view, headline_k(view))
    return parts


def render_report(results: Results, inputs: Inputs) -> str:
    """The whole page as a string (pure: no file is read or written)."""
    dataset = results.provenance.dataset.get("name") or "dataset"
    k = headline_k(results)
    warning = weak_warning(results)
    prediction = results.by_prediction
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>motionprobe report — {esc(dataset)}</title><style>{CSS}</style></head><body>",
        "<h1>How much does this video model use motion?</h1>",
        f'<p class="sub">{esc(results.num_clips)} test clips of {esc(dataset)}, {esc(len(results.classes))} '
        f"classes, {esc(results.num_frames)}-frame clips; {esc(int(100 * results.ci_level))}% percentile-bootstrap "
        f"intervals over clips ({esc(results.bootstrap)} resamples). Percentages are {esc(scored(results))}"
        + (" (no labels: the model's own prediction on the full clip is the target)" if prediction else "") + ".</p>",
        f'<p id="weak-model" class="warning">{esc(warning)}</p>' if warning else "",
        f'<p id="headline" class="headline">{esc(headline(results))}</p>',
        *(paragraph(line) for line in bound_sentences(results)),
        *(["<h2 id='card'>The run on one card</h2>", card_table(results.card)] if results.card else []),
        f"<h2 id='table'>{esc(scored(results)[:1].upper() + scored(results)[1:])} by number of frames kept (Figure 3)</h2>",
        *_figure3_section(results),
    ]
    if results.per_kind:
        parts += ["<h2 id='kinds'>Per planted kind of class</h2>", _scroll(per_kind_table(results)),
                  planted_truth_table(results)]
    parts += ["<h2 id='diagnostics'>Diagnostics</h2>", *_diagnostics_section(results), "<h2 id='figures'>Figures</h2>"]
    parts += [_figure_html(f, inputs.figure_links.get(f.name)) for f in inputs.figures if f.name not in PROBE_FIGURES]
    if results.probes and results.probes.accuracy:
        parts += _probes_section(results, inputs)
    parts.append("<h2 id='pictures'>What the model was shown</h2>")
    parts += [paragraph(n, "note") for n in inputs.notes]
    parts += [_picture_html(p, inputs.picture_links[p.name]) for p in inputs.pictures if p.name in inputs.picture_links]
    if inputs.inversion:
        parts += ["<h2 id='inversion-section'>Feature inversion (Figure 1)</h2>", _inversion_html(inputs.inversion)]
    parts.append(f"<h2 id='classes'>Per {esc(class_word(results))}</h2>")
    if prediction:
        parts.append(paragraph("Rows group clips by the class the model predicted on the full clip (there are no labels)."))
    parts += _per_class_section(results, k)
    if results.agreement:
        parts += _agreement_section(results)
    parts += ["<h2 id='skipped'>Skipped clips</h2>", _skipped_html(results),
              "<h2 id='provenance'>Provenance</h2>", _provenance_html(results, inputs)]
    if inputs.files:
        parts.append("<p>Files: " + ", ".join(f'<a href="{href(link)}">{esc(label)}</a>'
                                             for label, link in inputs.files.items()) + "</p>")
    parts.append("</body></html>")
    return "\n".join(str(p) for p in parts if p)

