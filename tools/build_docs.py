"""Build the documentation site from the notebooks, and check it in headless Chromium.

  python tools/build_docs.py                 # execute the notebooks, render _site/ (index = README, one page per notebook)
  python tools/build_docs.py --check         # then: screenshots of the index and an API page, figures loaded, no broken links
  python tools/build_docs.py --only 09_segment --check
  python tools/build_docs.py --store 02_data 09_segment      # execute these notebooks and keep their outputs in nbs/

Why not `nbdev_docs`: it renders with Quarto, and Quarto's binary is not on any registry this project can reach (the
PyPI package `quarto-cli` is a source package that downloads the binary from GitHub when it is built). This script
does the rest of nbdev's documentation pipeline itself:
  1. executes every notebook as `nbdev_test` does (same skipped cells: `#| eval: false` and the slow/cuda/multigpu flags),
     keeping the outputs, so pages show real figures;
  2. applies nbdev's own documentation processors (`FilterDefaults().procs()`: hidden cells removed, directives
     stripped, `show_doc` API entries added after every exported function and class);
  3. renders each notebook to HTML with nbconvert, adds a navigation sidebar, rewrites links to notebooks into links
     to their pages and links to repository files into links to the repository.
`--check` needs Debian's chromium (`apt-get install chromium`): it loads each page headless, counts the images that
failed to load, saves screenshots of the index and one API page to _site/_check/ and fails on a blank page, a broken
image or a broken internal link.
"""
import argparse, html, os, re, shutil, subprocess, sys, tempfile
from configparser import ConfigParser
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / '_site'
SKIP_FLAGS = {'slow', 'cuda', 'multigpu', 'notest'}

def execute(fn: Path, dst: Path):
    "Run `fn` like nbdev_test does and write it, with outputs, to `dst`."
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    from execnb.nbio import write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        d = getattr(cell, 'directives_', {}) or {}
        return d.get('eval:', [''])[0].lower() == 'false' or bool(SKIP_FLAGS & d.keys())
    sh = CaptureShell(fn)
    cwd = os.getcwd(); os.chdir(fn.parent)
    try: sh.run_all(nb, exc_stop=True, preproc=no_eval)
    finally: os.chdir(cwd)
    from execnb.nbio import read_nb
    raw = read_nb(fn)                                    # the processor stripped directives: copy outputs back by cell id
    outs = {c.get('id'): c for c in nb.cells}
    for c in raw.cells:
        if c.cell_type == 'code' and c.get('id') in outs:
            c['outputs'] = outs[c['id']].get('outputs', []); c['execution_count'] = outs[c['id']].get('execution_count')
    write_nb(raw, dst)
    return fn.name

def process(src: Path, dst: Path):
    "nbdev's documentation processors: hide cells, strip directives, add show_doc entries for exports."
    from execnb.nbio import write_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults
    from nbdev.processors import exec_show_docs
    class exec_exports_and_docs(exec_show_docs):
        "nbdev's exec_show_docs, running only exported cells, imports and show_doc (the outputs are already in the notebook)."
        def __call__(self, cell):
            d = getattr(cell, 'directives_', {}) or {}
            lines = [l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith('#')]
            only_imports = bool(lines) and all(l.startswith(('import ', 'from ')) for l in lines)
            if cell.cell_type == 'code' and ({'export', 'exports', 'exporti'} & d.keys() or only_imports or cell.source.startswith('show_doc(')):
                super().__call__(cell)
    procs = [exec_exports_and_docs if pr is exec_show_docs else pr for pr in FilterDefaults().procs()]
    p = NBProcessor(src, procs=procs, process=True)
    write_nb(p.nb, dst)

def page_name(nb: Path) -> str: return 'index.html' if nb.stem == 'index' else nb.stem + '.html'

def title_of(nb: Path) -> str:
    import json
    cells = json.loads(nb.read_text())['cells']
    for c in cells:
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and s.startswith('# '): return s.splitlines()[0][2:].strip()
    return nb.stem

def render(proc: Path, out: Path, nav: list, git_url: str, stems: set):
    import nbformat, yaml
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    nb = nbformat.read(proc, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'):          # Quarto front matter -> title and description
            fm = yaml.safe_load(c.source.strip('-\n')) or {}
            c.cell_type, c.source = 'markdown', f"# {fm.get('title', '')}\n\n> {fm.get('description', '')}"
            c.pop('attachments', None)
        if c.cell_type == 'code':
            if '#| echo: false' in c.source: c.metadata.setdefault('tags', []).append('remove_input')
            c.source = '\n'.join(l for l in c.source.splitlines() if not l.startswith('#|'))
    cfg = Config(); cfg.TagRemovePreprocessor.enabled = True; cfg.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    cfg.TagRemovePreprocessor.remove_all_outputs_tags = set(); cfg.TagRemovePreprocessor.remove_cell_tags = set()
    cfg.HTMLExporter.exclude_input_prompt = True; cfg.HTMLExporter.exclude_output_prompt = True
    body, _ = HTMLExporter(template_name='lab', config=cfg).from_notebook_node(nb)
    body = re.sub(r'\{target=(&quot;|")_blank(&quot;|")[^}]*\}', '', body)          # Quarto link attributes nbconvert leaves as text
    def fix(m):
        attr, url = m.group(1), m.group(2)
        if re.match(r'^(https?:|mailto:|#|data:)', url): return m.group(0)
        path, _, frag = url.partition('#')
        stem = Path(path).stem
        if path.endswith('.ipynb') and stem in stems: new = ('index' if stem == 'index' else stem) + '.html'
        elif path.endswith('.html') or not path: new = path
        else: new = f"{git_url}/blob/main/{path.lstrip('./')}"     # a repository file: link to it in the repository
        return f'{attr}="{new}{"#" + frag if frag else ""}"'
    body = re.sub(r'(href)="([^"]*)"', fix, body)
    def repo_image(m):   # a repository image a notebook shows from outside nbs/ (`../data/...png`): copied next to the pages
        src = (ROOT / 'nbs' / m.group(1)).resolve()
        if not src.is_file(): return m.group(0)
        dst = SITE / 'repo' / src.relative_to(ROOT); dst.parent.mkdir(parents=True, exist_ok=True); shutil.copyfile(src, dst)
        return f'src="repo/{src.relative_to(ROOT).as_posix()}"'
    body = re.sub(r'src="(\.\./[^"]+)"', repo_image, body)
    side = ''.join(f'<li><a href="{h}"{" class=cur" if h == out.name else ""}>{html.escape(t)}</a></li>' for h, t in nav)
    style = ('<style>#fd-nav{position:fixed;top:0;left:0;width:230px;height:100%;overflow:auto;background:#f6f6f6;'
             'font:13px sans-serif;padding:8px;border-right:1px solid #ddd}#fd-nav a{text-decoration:none;color:#225}'
             '#fd-nav .cur{font-weight:bold}#fd-nav ul{padding-left:14px}body{margin-left:250px!important}</style>')
    check = ('<script>addEventListener("load",()=>{const im=[...document.images];'
             'const bad=im.filter(i=>!(i.complete&&i.naturalWidth>0)).length;'
             'document.body.setAttribute("data-images",im.length);document.body.setAttribute("data-broken-images",bad);});</script>')
    body = body.replace('</head>', style + check + '</head>', 1)
    body = re.sub(r'(<body[^>]*>)', r'\1<nav id="fd-nav"><b>factorized_diffusion</b><ul>' + side.replace('\\', '\\\\') + '</ul></nav>', body, count=1)
    out.write_text(body)

def build(only=None, workers=2):
    cfg = ConfigParser(); cfg.read(ROOT / 'settings.ini'); git_url = cfg['DEFAULT']['git_url']
    nbs = sorted((ROOT / 'nbs').glob('*.ipynb')) + sorted((ROOT / 'nbs' / 'studies').glob('*.ipynb'))   # reading order, then the studies
    nbs = [ROOT / 'nbs' / 'index.ipynb'] + [n for n in nbs if n.stem != 'index']
    todo = [n for n in nbs if not only or n.stem in only]
    SITE.mkdir(exist_ok=True)
    tmp = SITE / '_exec'; tmp.mkdir(exist_ok=True)          # executed notebooks, reused while newer than their source
    # one fresh interpreter per notebook (as a plain subprocess: notebooks start their own worker processes)
    def run_one(n):
        if (tmp / n.name).exists() and (tmp / n.name).stat().st_mtime > n.stat().st_mtime: return n.name + ' (cached)'
        r = subprocess.run([sys.executable, __file__, '--exec-one', str(n), str(tmp / n.name)], capture_output=True, text=True)
        if r.returncode: raise SystemExit(f'executing {n.name} failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}')
        return n.name
    with ThreadPoolExecutor(workers) as ex:
        for name in ex.map(run_one, todo): print('executed', name, flush=True)
    nav = [(page_name(n), title_of(n)) for n in nbs]
    stems = {n.stem for n in nbs}
    for n in todo:
        process(tmp / n.name, tmp / ('proc_' + n.name))
        render(tmp / ('proc_' + n.name), SITE / page_name(n), nav, git_url, stems)
        print('rendered', page_name(n), flush=True)

def check(api_page='00_core.html'):
    "Headless Chromium: every page loads with its images; screenshots of the index and an API page; internal links exist."
    chrome = next((c for c in ('/usr/bin/chromium', '/usr/bin/chromium-browser') if Path(c).exists()), None)
    if chrome is None: sys.exit('--check needs chromium: apt-get install chromium')
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--virtual-time-budget=10000']
    problems = []; (SITE / '_check').mkdir(exist_ok=True)
    pages = sorted(SITE.glob('*.html'))
    for p in pages:
        with tempfile.TemporaryDirectory() as prof:
            dom = subprocess.run([chrome, *flags, f'--user-data-dir={prof}', '--dump-dom', p.as_uri()], capture_output=True, text=True, timeout=120).stdout
        n_img, bad = re.search(r'data-images="(\d+)"', dom), re.search(r'data-broken-images="(\d+)"', dom)
        if not (n_img and bad): problems.append(f'{p.name}: page did not finish loading in Chromium'); continue
        n_img, bad = int(n_img.group(1)), int(bad.group(1))
        if bad: problems.append(f'{p.name}: {bad} of {n_img} images failed to load')
        for href in re.findall(r'href="([^"#]+)', dom):
            if not re.match(r'^(https?:|mailto:|data:|javascript:)', href) and not (SITE / href).exists():
                problems.append(f'{p.name}: broken link {href}')
        print(f'{p.name}: {n_img} images, {bad} broken', flush=True)
    for name in ('index.html', api_page):
        shot = SITE / '_check' / (Path(name).stem + '.png')
        with tempfile.TemporaryDirectory() as prof:
            subprocess.run([chrome, *flags, f'--user-data-dir={prof}', '--window-size=1280,2000', f'--screenshot={shot}', (SITE / name).as_uri()],
                           capture_output=True, timeout=120)
        if not shot.exists(): problems.append(f'no screenshot of {name}'); continue
        from PIL import Image
        import numpy as np
        a = np.asarray(Image.open(shot).convert('L'), dtype=float)
        if a.std() < 5: problems.append(f'{name}: the screenshot is blank (pixel std {a.std():.1f})')
        print(f'screenshot {shot.relative_to(ROOT)}: {a.shape[1]}x{a.shape[0]}, pixel std {a.std():.1f}')
    if problems: sys.exit('site check FAILED:\n  ' + '\n  '.join(problems))
    print(f'site check passed: {len(pages)} pages load with their images, no broken internal links, screenshots not blank')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', nargs='*', help='notebook stems to (re)build; default all')
    ap.add_argument('--check', action='store_true', help='check the built site in headless Chromium')
    ap.add_argument('--no-build', action='store_true', help='only check')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--exec-one', nargs=2, metavar=('NB', 'DST'), help=argparse.SUPPRESS)
    ap.add_argument('--store', nargs='+', metavar='STEM', help='execute these notebooks (as nbdev_test does) and store their outputs in place, so a reader on a code host sees the figures')
    a = ap.parse_args()
    if a.store:
        for stem in a.store:
            nb = next((ROOT / 'nbs').rglob(f'{stem}.ipynb'))
            subprocess.run([sys.executable, __file__, '--exec-one', str(nb), str(nb)], check=True)
            subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(nb)], check=True)
            print('stored the outputs of', nb.name)
        sys.exit(0)
    if a.exec_one: execute(Path(a.exec_one[0]), Path(a.exec_one[1])); sys.exit(0)
    if not a.no_build: build(a.only, a.workers)
    if a.check: check()
