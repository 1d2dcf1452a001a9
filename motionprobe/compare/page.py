"""compare.html, compare.json, ranking.csv and differences.csv: what `motionprobe compare` writes.

The page is self-contained like report.html (inline CSS, relative links, every string from the data
escaped): the runs, the runs shown apart and why, their cards side by side, the ranking, the differences
(paired or unpaired, said on every row), and the figures.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..analysis.results_type import Card
from ..io import atomic_write_text
from ..report.card import card_rows, cards_table
from ..report.html import CSS
from ..report.markup import Html, bullets, esc, href, paragraph, table
from ..report.plotting import Figure

RANKED = ("motion_bound", "bound_area", "shuffle_drop", "temporal_demand", "robustness")
# the cards side by side: values wrap (a card lists class names), the line names do not
CARDS_CSS = ("table.cards td:not(.name) { white-space: normal; min-width: 11em; } "
             "table.cards td.name { white-space: nowrap; }")


def _ratio(est: dict | None) -> str:
    if not est or est.get("value") is None:
        return "—"
    return f"{est['value']:+.2f} [{est['ci'][0]:+.2f}, {est['ci'][1]:+.2f}]"


def _points(est: dict | None) -> str:
    if not est or est.get("value") is None:
        return "—"
    return f"{100 * est['value']:+.1f} [{100 * est['ci'][0]:+.1f}, {100 * est['ci'][1]:+.1f}]"


def ranking_rows(summary: dict) -> list[list[str]]:
    """One row per comparable run, most motion (largest motion bound at the headline k) first."""
    rows = []
    for rank, name in enumerate(summary["ranking"], 1):
        card = next(r["card"] for r in summary["runs"] if r["name"] == name)
        rows.append([str(rank), name] + [text for _, text in card_rows(Card.from_json(card))[:5]])
    return rows


def difference_rows(summary: dict) -> list[list[str]]:
    rows = []
    for d in summary["differences"]:
        k = str(summary["k"])
        how = f"paired on {d['clips']} clips" if d["paired"] else f"unpaired: {d['why_unpaired']}"
        rows.append([f"{d['a']} − {d['b']}", how, _points(d["motion_bound"].get(k)), _points(d["bound_area"]),
                     _points((d["probe_drop"] or {}).get("shuffle")), _points(d["temporal_demand"]),
                     _ratio(d["robustness"])])
    return rows


def _figure_html(fig: Figure, page_dir: Path) -> str:
    if fig.path is None:
        return f'<p class="skipped">{esc(fig.title)}: not drawn — {esc(fig.skipped or "no file")}.</p>'
    link = Path(os.path.relpath(fig.path, page_dir)).as_posix()
    return (f'<figure id="{esc(fig.name)}"><img src="{href(link)}" alt="{esc(fig.title)}">'
            f"<figcaption><b>{esc(fig.title)}.</b> {esc(fig.caption)}</figcaption></figure>")


def render(summary: dict, figures: list[Figure], page_dir: Path) -> str:
    runs = summary["runs"]
    k = summary["k"]
    rows = [[r["name"], f"{r['dataset'] or '—'} ({r['split'] or '—'})", r["model"] or "—", r["target"],
             r["num_frames"], ", ".join(map(str, r["frames"])), r["num_clips"]] for r in runs]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>motionprobe compare — {esc(len(runs))} runs</title><style>{CSS}{CARDS_CSS}</style></head><body>",
        "<h1>Which of these uses motion more?</h1>",
        paragraph(f"{len(runs)} analyses side by side; 95% percentile-bootstrap intervals ({summary['bootstrap']} "
                  "resamples). Differences between runs that analysed the same clips are paired (one bootstrap over "
                  "those clips); the others are unpaired, and every row says which.", "sub"),
        "<h2 id='runs'>Runs</h2>",
        table(["run", "dataset (split)", "model", "target", "frames", "k's", "clips"], rows),
    ]
    if summary["apart"]:
        parts += ["<h2 id='apart'>Shown apart</h2>",
                  bullets(f"{a['name']}: {a['reason']}" for a in summary["apart"]),
                  paragraph("Their cards are below; they take no part in the ranking or the differences.")]
    parts += ["<h2 id='cards'>The runs on one card each</h2>",
              Html(f"<div class=scroll>{cards_table([(r['name'], Card.from_json(r['card'])) for r in runs])}</div>")]
    if summary["ranking"]:
        parts += [f"<h2 id='ranking'>Ranking: most motion first (motion bound at k = {esc(k)})</h2>",
                  Html("<div class=scroll>" + table(["#", "run"] + [label for label, _ in card_rows(
                      Card.from_json(next(r["card"] for r in runs if r["name"] == summary["ranking"][0])))[:5]],
                      ranking_rows(summary)) + "</div>")]
    if summary["differences"]:
        parts += ["<h2 id='differences'>Differences (first − second)</h2>",
                  paragraph("In points (robustness as a ratio), with 95% intervals. An interval that excludes 0 says the "
                            "two runs differ beyond the noise of their clips."),
                  Html("<div class=scroll>" + table(
                      ["runs", "how", f"motion bound at k = {k}", "area over k", "shuffle drop", "temporal demand",
                       "robustness"], difference_rows(summary), name_columns=2) + "</div>")]
        for d in summary["differences"]:
            more = [[f"motion bound at k = {kk}", _points(e)] for kk, e in d["motion_bound"].items()]
            more += [[f"{probe} drop", _points(e)] for probe, e in (d["probe_drop"] or {}).items()]
            parts.append(f"<details><summary>{esc(d['a'])} − {esc(d['b'])}: every k and probe</summary>"
                         f"{table(['', 'difference [95% CI]'], more)}</details>")
    parts += ["<h2 id='figures'>Figures</h2>"] + [_figure_html(f, page_dir) for f in figures]
    parts += ["<h2 id='files'>Files</h2>", paragraph("compare.json holds every number on this page; ranking.csv and "
                                                     "differences.csv the two tables, with intervals."),
              "</body></html>"]
    return "\n".join(str(p) for p in parts if p)


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_tables(summary: dict, out: Path) -> None:
    """ranking.csv (one row per run: each card number with its interval) and differences.csv (one row per pair
    and statistic), atomically."""
    header = ["run", "rank", "apart"] + [c for name in RANKED for c in (name, f"{name}_lo", f"{name}_hi")]
    rows = []
    for r in summary["runs"]:
        rank = summary["ranking"].index(r["name"]) + 1 if r["name"] in summary["ranking"] else ""
        row = [r["name"], rank, int(r["name"] in {a["name"] for a in summary["apart"]})]
        card = Card.from_json(r["card"])
        for name in RANKED:
            est = getattr(card, name)
            row += [est.value, *est.ci] if est else [None, None, None]
        rows.append(["" if v is None else v for v in row])
    atomic_write_text(out / "ranking.csv", _csv(header, rows))
    rows = []
    for d in summary["differences"]:
        stats = [(f"motion_bound@{k}", e) for k, e in d["motion_bound"].items()] + [("bound_area", d["bound_area"])]
        stats += [(f"drop:{p}", e) for p, e in (d["probe_drop"] or {}).items()]
        stats += [("temporal_demand", d["temporal_demand"]), ("robustness", d["robustness"])]
        for name, est in stats:
            if est:
                rows.append([d["a"], d["b"], int(d["paired"]), name, est["value"], *est["ci"], est["n"]])
    atomic_write_text(out / "differences.csv", _csv(["a", "b", "paired", "statistic", "difference", "lo", "hi", "n"],
                                                    rows))

