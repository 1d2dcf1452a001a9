"""Seeing the results: the paper's figures, both bounds, temporal probes, qualitative pictures, feature
inversion and report.html.

`write_report(analysis_dir, model_dir=..., generator_dirs={k: folder})` writes report.html beside results.json
(a worked example in report/build.py; what the page shows: docs/report.md).
"""

from .build import write_report
from .figures import Figure, make_figures
from .html import render_report
from .inversion import Inversion, InversionSettings, invert_features, write_inversion
from .pictures import Picture, draw_pictures
from .probe_pictures import draw_probe_strips
from .words import headline

__all__ = ["Figure", "Inversion", "InversionSettings", "Picture", "draw_pictures", "draw_probe_strips", "headline",
           "invert_features", "make_figures", "render_report", "write_inversion", "write_report"]
