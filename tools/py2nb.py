"""Build a notebook from a percent-format script: `# %%` starts a code cell, `# %% [md]` a markdown cell.

    python tools/py2nb.py draft.py nbs/10_textures.ipynb

Markdown cells have their `# ` prefixes removed. Outputs are empty (run the notebook to fill them)."""
import json, re, sys, uuid

def cells_of(text:str) -> list:
    cells, kind, buf = [], None, []
    def flush():
        if kind is None: return
        src = '\n'.join(buf).strip('\n')
        if kind == 'markdown': src = '\n'.join(re.sub(r'^# ?', '', l) for l in src.split('\n'))
        c = dict(cell_type=kind, id=uuid.uuid4().hex[:8], metadata={}, source=src.splitlines(keepends=True))
        if kind == 'code': c.update(execution_count=None, outputs=[])
        cells.append(c)
    for line in text.split('\n'):
        if line.startswith('# %%'):
            flush(); kind, buf = ('markdown' if '[md]' in line else 'code'), []
        else: buf.append(line)
    flush()
    return cells

if __name__ == '__main__':
    src, dst = sys.argv[1:3]
    nb = dict(cells=cells_of(open(src).read()), metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
              nbformat=4, nbformat_minor=5)
    open(dst, 'w').write(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
