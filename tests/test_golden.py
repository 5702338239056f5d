"""Golden numbers (issue: a codebase a researcher can extend): a short tiny-config training run of the factorized model
and of the baseline U-Net must keep giving the losses and weight statistics recorded in `golden.json`, so a refactor
that changes behaviour fails here, as diffusers' tests pin expected slices.

    .venv/bin/python tests/test_golden.py --record     # after a change that is *meant* to alter training: re-record

The tolerances allow another CPU's float rounding over 6 steps and catch a learning rate 1% off (measured: it moves
the losses by 1e-3 and the weight statistics by 1.5e-4, relative)."""
import json, sys
from pathlib import Path
import pytest
import torch

GOLDEN = Path(__file__).with_name('golden.json')
RTOL = dict(losses=2e-4, raw_abs_sq=5e-5, ema_abs_sq=5e-5)   # a 1% larger learning rate moves them by 1e-3 and 1.5e-4

def measure(arch:str, out:Path, **overrides) -> dict:
    from factorized_diffusion.runs import train_run
    torch.set_num_threads(1)
    model, learn, _ = train_run(out, 'builtin', 'tiny', 'tiny', arch, n_train=32, progress=False, device='cpu', **{'steps': 6, 'save_every': 6, **overrides})
    losses = [float(l.split(',')[1]) for l in (out / 'loss.csv').read_text().splitlines()[1:]]
    raw = getattr(learn.model, 'module', learn.model)
    stats = lambda m: [sum(p.detach().abs().sum().item() for p in m.parameters()), sum(p.detach().pow(2).sum().item() for p in m.parameters())]
    return dict(losses=losses, raw_abs_sq=stats(raw), ema_abs_sq=stats(model))

@pytest.mark.parametrize('arch', ['factorized', 'unet'])
def test_golden_numbers(arch, tmp_path):
    want = json.loads(GOLDEN.read_text())[arch]
    got = measure(arch, tmp_path / arch)
    assert len(got['losses']) == len(want['losses'])
    for k in want: assert got[k] == pytest.approx(want[k], rel=RTOL[k]), (k, got[k], want[k])

if __name__ == '__main__' and '--record' in sys.argv:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        rec = {arch: measure(arch, Path(d) / arch) for arch in ('factorized', 'unet')}
    GOLDEN.write_text(json.dumps(rec, indent=1) + '\n'); print(json.dumps(rec, indent=1))
