"""Every module imports on its own, first, in a fresh interpreter, without fastai's `torch.jit.script` FutureWarning
(00_core silences that one import; a module that imports fastai before `core` would let it through)."""
import subprocess, sys
from pathlib import Path

MODULES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / 'factorized_diffusion').glob('*.py') if not p.stem.startswith('_'))

def test_every_module_imports_first_without_warnings():
    procs = {m: subprocess.Popen([sys.executable, '-W', 'error::FutureWarning', '-c', f'import factorized_diffusion.{m}'],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for m in MODULES}
    failed = {m: p.communicate(timeout=300)[1].strip().splitlines()[-1:] for m, p in procs.items()}
    assert len(MODULES) > 20 and not {m: e for m, e in failed.items() if procs[m].returncode}, failed

# ---- the import graph (issue 30): plain imports, no circle, none hidden in a function or behind importlib
import ast

PKG = Path(__file__).resolve().parent.parent / 'factorized_diffusion'

def package_imports(path:Path) -> list:
    "(imported module of the package, line, inside a function?) for every import of `path`, importlib calls included."
    tree, out = ast.parse(path.read_text()), []
    def visit(node, in_fn):
        for ch in ast.iter_child_nodes(node):
            fn = in_fn or isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            names = []
            if isinstance(ch, ast.ImportFrom):
                m = ch.module or ''
                if ch.level: names = [m.split('.')[0]] if m else [a.name for a in ch.names]
                elif m == 'factorized_diffusion': names = [a.name for a in ch.names]
                elif m.startswith('factorized_diffusion.'): names = [m.split('.')[1]]
            elif isinstance(ch, ast.Import):
                names = [a.name.split('.')[1] for a in ch.names if a.name.startswith('factorized_diffusion.')]
            elif isinstance(ch, ast.Call) and getattr(ch.func, 'attr', getattr(ch.func, 'id', '')) == 'import_module':
                arg = ch.args[0] if ch.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)): names = ['<dynamic>']
                elif arg.value.startswith('factorized_diffusion'): names = [arg.value.split('.')[1] if '.' in arg.value else '<package>']
            out.extend((n, ch.lineno, fn) for n in names)
            visit(ch, fn)
    visit(tree, False)
    return out

def test_import_graph_is_plain_and_acyclic():
    mods = {p.stem for p in PKG.glob('*.py')} - {'_modidx'}
    graph, hidden = {}, []
    for p in sorted(PKG.glob('*.py')):
        if p.stem == '_modidx': continue
        for m, line, in_fn in package_imports(p):
            if m in ('<dynamic>', '<package>') or in_fn: hidden.append(f"{p.name}:{line} imports {m}{' inside a function' if in_fn else ''}")
            elif m in mods and m != '__init__': graph.setdefault(p.stem, set()).add(m)
    assert not hidden, hidden
    state, cycle = {}, []
    def dfs(u, path):
        state[u] = 1
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1: cycle.append(path + [v]); return
            if not state.get(v): dfs(v, path + [v])
        state[u] = 2
    for u in sorted(graph):
        if not state.get(u): dfs(u, [u])
    assert not cycle, f"import circle: {' -> '.join(cycle[0])}"
    assert len(graph) > 20

def test_the_graph_check_sees_circles(tmp_path):
    "The check above can fail: a function-level import and an importlib call are both found."
    f = tmp_path / 'm.py'
    f.write_text("import importlib\ndef f():\n    from factorized_diffusion.runs import get_data\nimportlib.import_module(NAME)\n")
    assert package_imports(f) == [('runs', 3, True), ('<dynamic>', 4, False)]

# ---- the size limits of issue 30: modules <= 400 lines, export cells <= 40, functions <= 50 (tools/size_report.py)
import importlib.util

def _size_report():
    spec = importlib.util.spec_from_file_location('size_report', PKG.parent / 'tools' / 'size_report.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_size_limits_hold():
    assert _size_report().over() == []

def test_the_size_check_sees_a_long_function(tmp_path, monkeypatch):
    sr = _size_report()
    (tmp_path / 'factorized_diffusion').mkdir(); (tmp_path / 'nbs').mkdir()
    body = '\n'.join(f'    x{i} = {i}' for i in range(60))
    (tmp_path / 'factorized_diffusion' / 'm.py').write_text(f'def f():\n{body}\n')
    monkeypatch.setattr(sr, 'ROOT', tmp_path)
    assert [r[0] for r in sr.over()] == ['function']
