"""torch.compile sees each network as one graph (issue #29): a graph break would split the step into pieces that compile
cannot fuse across, and would cost GPU time to find. torch._dynamo.explain traces without compiling, so this is quick on the CPU."""
import pytest, torch
import torch._dynamo as dynamo
from factorized_diffusion.unet import unet_config, UNet
from factorized_diffusion.factorized import FactorizedUNet

def _fact(**kw):
    m = FactorizedUNet(unet_config('tiny'))
    for k, v in kw.items(): setattr(m, k, v)
    return m

@pytest.mark.parametrize('name,build,fn', [
    ('unet', lambda: UNet(unet_config('tiny')), None),
    ('factorized', _fact, None),
    ('factorized, decode_chunk 1, checkpoint_decoder', lambda: _fact(decode_chunk=1, checkpoint_decoder=True), None),
    ('factorized mask path', _fact, 'masks')])
def test_one_graph(name, build, fn):
    m = build().train()
    x, t = torch.randn(2, 3, 16, 16), torch.randint(0, 1000, (2,))
    e = dynamo.explain(getattr(m, fn) if fn else m)(x, t)
    assert e.graph_break_count == 0 and e.graph_count == 1, (name, [str(r.reason) for r in e.break_reasons])
