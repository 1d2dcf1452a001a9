"""Video dataset layouts; importing this package registers each one with `register_layout`.

One module per layout reads its annotation files into `VideoRecord`s; `dataset.VideoClipDataset`
(shared by all) samples, decodes and transforms the clips.
"""

from . import annotation_list, diving48, folder, hmdb51, kinetics, ssv2, ucf101
from .dataset import VideoClipDataset, VideoRecord

__all__ = ["VideoClipDataset", "VideoRecord", "annotation_list", "diving48", "folder", "hmdb51", "kinetics", "ssv2",
           "ucf101"]
