"""The run's card (`Results.card`, motionprobe/analysis/card.py) and the graded-probe and stride tables, as HTML.

A card is one short table: the motion bound at the headline k and its area over k, the shuffle drop, the
temporal demand and the temporal robustness, each with its interval, and the classes that need motion
most. `motionprobe compare` puts several side by side (`cards_table`).

>>> est = Estimate(0.25, (0.2, 0.3), 10)
>>> [label for label, _ in card_rows(Card(k=1, motion_bound=est))][:2]
['motion bound at k = 1 (points)', 'its area over k (points)']
"""

from __future__ import annotations

from ..analysis.results_type import Card, Results
from ..analysis.stats import Estimate
from .markup import Html, table
from .view import class_word, estimate_text, percent

ROBUSTNESS_FAMILIES = ("shuffle", "reverse", "freeze", "speed", "overall")


def _ratio(est: Estimate | None) -> str:
    if est is None or est.value is None:
        return "—"
    return f"{est.value:.2f} [{est.ci[0]:.2f}, {est.ci[1]:.2f}]"


def card_rows(card: Card) -> list[tuple[str, str]]:
    """(label, text) per line of a card; "—" for what the run did not measure."""
    span = card.bound_area.ks if card.bound_area else ()
    demand = card.temporal_demand
    most = ", ".join(f"{c.class_name} {percent(c.motion_bound)}" for c in card.most_motion) or "—"
    return [
        (f"motion bound at k = {card.k} (points)", estimate_text(card.motion_bound)),
        ("its area over k (points)" + (f", k = {span[0]}–{span[-1]}" if len(span) > 1 else ""),
         estimate_text(card.bound_area)),
        ("shuffle drop (points)", estimate_text(card.shuffle_drop)),
        ("temporal demand (points)" + (f", stride 1 → {demand.to_stride}" if demand else ""), estimate_text(demand)),
        ("temporal robustness (probe / original)", _ratio(card.robustness)),
        ("classes needing motion most (bound, points)", most),
    ]


def card_table(card: Card) -> Html:
    return table(["", "value [95% CI]"], [[label, text] for label, text in card_rows(card)])


def cards_table(cards: list[tuple[str, Card]]) -> Html:
    """Several runs' cards as the columns of one table, lines as rows."""
    rows = [card_rows(card) for _, card in cards]
    labels = [label.split(" (")[0].split(",")[0] for label, _ in rows[0]] if rows else []
    return table([""] + [name for name, _ in cards], [[labels[i]] + [r[i][1] for r in rows] for i in range(len(labels))],
                 css="cards")


def robustness_table(results: Results) -> Html:
    """Relative robustness per probe family, overall and per planted kind, with intervals."""
    graded = results.graded
    if graded is None or not graded.robustness:
        return Html("")
    columns = [f for f in ROBUSTNESS_FAMILIES if f in graded.robustness]
    rows = [["all classes"] + [_ratio(graded.robustness.get(f)) for f in columns]]
    rows += [[kind] + [_ratio(entry.get(f)) for f in columns] for kind, entry in graded.per_kind.items()]
    return table(["relative robustness"] + columns, rows)


def stride_table(results: Results) -> Html:
    """Per class: accuracy at each stride, and the temporal demand with its interval, most demanding first."""
    sampling = results.sampling
    if sampling is None or not sampling.per_class:
        return Html("")
    strides = list(sampling.stride)
    demand_to = sampling.temporal_demand.to_stride if sampling.temporal_demand else None
    ordered = sorted(sampling.per_class.items(),
                     key=lambda item: -((item[1].temporal_demand.value if item[1].temporal_demand else None) or 0))
    rows = [[name] + [percent(entry.stride.get(s)) for s in strides] + [estimate_text(entry.temporal_demand)]
            for name, entry in ordered]
    return table([class_word(results)] + [f"stride {s}" for s in strides] + [f"temporal demand 1 → {demand_to} (points)"],
                 rows)
