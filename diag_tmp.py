"""Perceptual loss of the trained generators vs replication on held-out clips (the uniform subset)."""
import json, torch
from motionprobe.config import preset
from motionprobe.data import build_dataset, to_float
from motionprobe.folders import ModelFolder, GeneratorFolder
from motionprobe.generator import build_loss, replicate_nearest, take_frames
torch.set_num_threads(1)
out = "/work/runs-real/real-generator"
model, _ = ModelFolder(f"{out}/model").load("cpu")
cfg = preset("real"); cfg.data.root = "/tmp/heldout"; cfg.data.clips_per_video = 1
data = build_dataset(cfg, "test")
loss = build_loss("perceptual", model, cfg)
rows = []
for k in (1, 4):
    gen, _ = GeneratorFolder(f"{out}/generator_k{k}").load("cpu")
    idx = torch.tensor([[round((i + 0.5) * 16 / k) - (1 if k == 1 else 0) for i in range(k)]]) if k > 1 else torch.tensor([[8]])
    for i in range(len(data)):
        clip = to_float(data[i]["clip"]).unsqueeze(0)
        with torch.no_grad():
            given = take_frames(clip, idx)
            rep = loss(replicate_nearest(given, idx, 16), clip).item()
            g = loss(gen(given, idx), clip).item()
        rows.append((k, data.ids[i], round(rep, 4), round(g, 4)))
        print(rows[-1], flush=True)
json.dump(rows, open("/work/runs-real/diag_loss.json", "w"))
