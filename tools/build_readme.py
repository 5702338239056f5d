"""README.md from nbs/index.ipynb, as `nbdev_readme` makes it, without Quarto.

  python tools/build_readme.py            # write README.md
  python tools/build_readme.py --check    # exit 1 if README.md differs from what the notebook gives (tests/test_readme.py)

`settings.ini` names `index.ipynb` as the README's source (`readme_nb`), so the README is edited there, never by hand.
`nbdev_readme` renders it with Quarto, whose binary no registry this project can reach provides (see
tools/build_docs.py), so this script does the same job in plain Markdown:
  - as nbdev's processors do, cells with `#| hide` are dropped and `#|` directive lines stripped (nbdev's link and
    front-matter processors are left out: the README keeps the notebook's title and its own code spans);
  - markdown cells as they are, code cells as ```python blocks followed by their stored text output (a cell marked
    `#| echo: false` shows its output only, as nbdev renders it; the cells run
    under `nbdev_test`, so the README's example is tested; `tools/build_docs.py --store index` refreshes the output);
  - links to notebooks (`00_core.ipynb`) made relative to the repository root (`nbs/00_core.ipynb`), since the
    README sits there and the notebook in `nbs/`; links and images that reach out of `nbs/` (`../data/x.png`) likewise.
"""
import argparse, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = '<!-- Generated from nbs/index.ipynb by tools/build_readme.py (make readme): edit the notebook, not this file. -->\n\n'

def _cells(nb_path: Path):
    "The notebook's cells without `#| hide` cells, with `#|` directive lines stripped from code (`echo` set from `#| echo: false`)."
    from execnb.nbio import read_nb
    out = []
    for c in read_nb(nb_path).cells:
        lines = c.source.splitlines()
        if c.cell_type == 'code':
            if any(re.fullmatch(r'#\|\s*hide\s*', l) for l in lines): continue
            c['echo'] = not any(re.fullmatch(r'#\|\s*echo:\s*false\s*', l) for l in lines)
            c.source = '\n'.join(l for l in lines if not l.startswith('#|'))
        out.append(c)
    return out

def _output_text(cell) -> str:
    parts = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': parts.append(''.join(o.get('text', '')))
        elif 'text/plain' in o.get('data', {}) and not any(k.startswith('image/') for k in o['data']):
            parts.append(''.join(o['data']['text/plain']) + '\n')
    return ''.join(parts).rstrip('\n')

def render(nb_path: Path = ROOT / 'nbs' / 'index.ipynb') -> str:
    stems = {p.relative_to(ROOT / 'nbs').with_suffix('').as_posix() for p in (ROOT / 'nbs').rglob('*.ipynb')}   # 02_data, studies/06_photos
    blocks = []
    for c in _cells(nb_path):
        src = c.source.strip('\n')
        if not src: continue
        if c.cell_type == 'markdown': blocks.append(src)
        elif c.cell_type == 'code':
            if c.get('echo', True): blocks.append(f'```python\n{src}\n```')
            if (out := _output_text(c)): blocks.append(f'```\n{out}\n```')
    md = '\n\n'.join(blocks) + '\n'
    fix = lambda m: f'](nbs/{m.group(1)}.ipynb{m.group(2) or ""})' if m.group(1) in stems else m.group(0)
    md = re.sub(r'\]\(([\w/-]+)\.ipynb(#[^)]*)?\)', fix, md)
    md = md.replace('](../', '](')          # a repository file the notebook reaches from nbs/ (an image in data/)
    return HEADER + md

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--check', action='store_true', help='compare with README.md instead of writing it')
    a = ap.parse_args()
    text, readme = render(), ROOT / 'README.md'
    if a.check:
        if readme.read_text() != text:
            sys.exit('README.md differs from nbs/index.ipynb: edit the notebook, then run `make readme` (tools/build_readme.py)')
        print('README.md matches nbs/index.ipynb')
    else:
        readme.write_text(text); print(f'wrote {readme} from nbs/index.ipynb')
