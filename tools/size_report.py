"""Issue 30's size limits, reported: modules over 400 lines, export cells over 40 lines, functions (and methods) over 50.

    python tools/size_report.py            # prints what is over, exits 1 if anything is (0 if nothing)
"""
import ast, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMITS = dict(module=400, cell=40, function=50)

def over() -> list:
    rows = []
    for p in sorted((ROOT / 'factorized_diffusion').glob('*.py')):
        if p.stem.startswith('_'): continue
        text = p.read_text(); n = len(text.splitlines())
        if n > LIMITS['module']: rows.append(('module', p.name, n))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                k = node.end_lineno - node.lineno + 1
                if k > LIMITS['function']: rows.append(('function', f"{p.name}:{node.lineno} {node.name}", k))
    for nb in sorted((ROOT / 'nbs').rglob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            s = ''.join(c['source'])
            if c['cell_type'] == 'code' and s.startswith('#| export'):
                k = len(s.splitlines())
                if k > LIMITS['cell']: rows.append(('cell', f"{nb.name} ({s.splitlines()[1][:60]})", k))
    return rows

if __name__ == '__main__':
    rows = over()
    for kind in LIMITS:
        sel = [r for r in rows if r[0] == kind]
        print(f"{kind}s over {LIMITS[kind]} lines: {len(sel)}")
        for _, name, k in sorted(sel, key=lambda r: -r[2]): print(f"  {k:4d}  {name}")
    sys.exit(1 if rows else 0)
