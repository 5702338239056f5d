"""Which student is fast enough? Images per second of segmentation networks at 32 px, measured side by side in one run
(interleaved, best of several repeats): the teacher's decoder-free mask path (one pass at t=30, as fd_segment does it),
the project's own U-Net blocks shrunk (SegUNet, 09c_learned_baselines), the plain conv U-Net students of 13_distill,
and torchvision's LR-ASPP MobileNetV3 built without pretrained weights.

    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_student.py      # appends a table to bench/RESULTS.md
"""
import platform, sys, time
from pathlib import Path
import torch, torchvision
from factorized_diffusion.checkpoints import load_model
from factorized_diffusion.learned_baselines import SegUNet
from factorized_diffusion.unet import UNetConfig
from factorized_diffusion.segment import segment
from factorized_diffusion.distill import Student, student_config, time_methods, n_params

ROOT = Path(__file__).resolve().parent.parent
torch.manual_seed(0)
x = torch.rand(256, 3, 32, 32) * 2 - 1
teacher = load_model(ROOT / 'data' / 'shapes32_factorized.safetensors', device='cpu')
seg = lambda c: SegUNet(UNetConfig(img_size=32, ch=c, ch_mult=(1, 2), num_res_blocks=1, attn_res=(), heads=1, dropout=0., K=3), 3).eval()
nets = {'SegUNet ch=8 (project blocks)': seg(8), 'SegUNet ch=16 (project blocks)': seg(16),
        **{f'student {p} {student_config(p).widths}' + (' stem 2' if student_config(p).stem > 1 else ''): Student(student_config(p)).eval()
           for p in ('tiny', 'deep', 'half', 'wide')},
        'LR-ASPP MobileNetV3 (torchvision, no weights)': torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).eval()}
fns = {'teacher mask path (t=30, one pass)': lambda b: segment(teacher, b, t=30),
       **{k: (lambda m: (lambda b: m(b)['out'] if isinstance(m, torchvision.models.segmentation.LRASPP) else m(b)))(m) for k, m in nets.items()}}
rate = time_methods(fns, x, repeats=5)
base = rate['teacher mask path (t=30, one pass)']
params = dict(teacher=n_params(teacher), **{k: n_params(m) for k, m in nets.items()})
lines = [f"\n## Student candidates at 32 px ({time.strftime('%Y-%m-%d')}, `bench/bench_student.py`)\n",
         f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, CPU; "
         "256 images in batches of 64, best of 5 interleaved repeats.\n",
         "| network | parameters | images/s | vs the teacher's mask path |", "|---|---|---|---|"]
for k, v in rate.items():
    lines.append(f"| {k} | {params['teacher' if k.startswith('teacher') else k]:,d} | {v:.0f} | {v / base:.1f}x |")
text = '\n'.join(lines) + '\n'
print(text)
if '--no-record' not in sys.argv:
    with open(ROOT / 'bench' / 'RESULTS.md', 'a') as f: f.write(text)
