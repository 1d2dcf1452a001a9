"""Seeing the results: the paper's figures, qualitative pictures, feature inversion and report.html.

>>> from motionprobe.report import write_report
>>> write_report("runs/analysis", model_dir="runs/model", generator_dirs={1: "runs/gen_k1"})  # doctest: +SKIP
PosixPath('runs/analysis/report.html')
"""

from .build import write_report
from .figures import Figure, make_figures
from .html import headline, render_report
from .inversion import Inversion, InversionSettings, invert_features, write_inversion
from .pictures import Picture, draw_pictures

__all__ = ["Figure", "Inversion", "InversionSettings", "Picture", "draw_pictures", "headline", "invert_features",
           "make_figures", "render_report", "write_inversion", "write_report"]
