r"""`python -m sire_ref notes [--out DIR]`: the annotated notes, static HTML pages built from the source.

One page per module of the reading path (`READING_PATH`, the README's order), plus an index. Each page
sets the source's own prose beside the code it annotates: a module's, class's or function's docstring
and every run of full-line comments start a section; the code that follows them, up to the next prose,
is that section's code (a `def` or `class` line travels with its docstring). Prose is Markdown; math
in it, `\( ... \)` inline and `\[ ... \]` displayed, is turned into MathML at build time (latex2mathml),
which browsers draw without any script, so the pages work offline. Every mention of an equation,
theorem, lemma or corollary of the paper (`Eq. 4.4`, `Theorem 5`) links to the page that implements it
(`IMPLEMENTED_IN`), where its first mention is the anchor. Each code block carries the file and the
lines it shows (`data-file`, `data-lines`: ranges such as "12-14,18-30"), so a test can hold it equal to
the source.
"""
import argparse
import ast
import html
import os
import re
import shutil
import sys
import time

from ..base.io import write_bytes

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join("results", "notes")
INSTALL = 'pip install markdown latex2mathml pygments (or pip install -e ".[test]")'

# (source, title), in the reading order of the README.
READING_PATH = (
    ("sire_ref/core/__init__.py", "The paper's math: cells, draws, regularizers"),
    ("sire_ref/core/cells/rnn.py", "The tanh RNN cell (Eq. 2.1)"),
    ("sire_ref/core/cells/gru.py", "The GRU cell (Eq. 2.1)"),
    ("sire_ref/core/cells/recurrence.py", "The fold over a sequence (Eq. 2.2)"),
    ("sire_ref/core/constructions.py", "The 3-neuron parity RNN (Eq. 3.2, Theorem 4)"),
    ("sire_ref/core/samples.py", "The SUB and SIRE draws"),
    ("sire_ref/core/regularizers.py", "R_SUB (Eq. 4.1) and R_SIRE (Eq. 4.4)"),
    ("sire_ref/core/invariance.py", "Swap gaps and invariance bounds (Theorem 5, Lemma 6)"),
    ("sire_ref/models/recurrent.py", "DeepSets (Eq. 1.1) and the recurrent set model"),
    ("sire_ref/training/loop.py", "The training objective: task loss + lambda R"),
    ("sire_ref/experiments/sire_vs_sub.py", "An experiment: SIRE vs SUB (Appendix C)"),
    ("proofs/theorem4.py", "Proof check: Theorem 4"),
    ("proofs/theorem5.py", "Proof check: Theorem 5, Lemma 6, Corollary 7"),
    ("sire_ref/kernels/__init__.py", "The fast paths"),
    ("sire_ref/training/__init__.py", "Reliability: what is guaranteed"),
    ("sire_ref/tools/__init__.py", "Cross-checking another framework"),
    ("sire_ref/experiments/runner/__init__.py", "Sweeps on a cluster"),
)
IMPLEMENTED_IN = {                           # a label of the paper -> the source that implements it
    "Eq. 1.1": "sire_ref/models/recurrent.py", "Eq. 2.1": "sire_ref/core/cells/gru.py",
    "Eq. 2.2": "sire_ref/core/cells/recurrence.py", "Eq. 3.2": "sire_ref/core/constructions.py",
    "Eq. 4.1": "sire_ref/core/regularizers.py", "Eq. 4.4": "sire_ref/core/regularizers.py",
    "Theorem 4": "proofs/theorem4.py", "Theorem 5": "proofs/theorem5.py", "Lemma 6": "sire_ref/core/invariance.py",
    "Corollary 7": "proofs/theorem5.py",
}
FIGURES = {"sire_ref/experiments/sire_vs_sub.py": ("figures/sire_vs_sub.png",)}
LABEL = re.compile(r"\b(Eq\. ?\d+\.\d+|Theorem \d+|Lemma \d+|Corollary \d+)\b")
MATH = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)


def page_name(source):
    """'sire_ref/core/regularizers.py' -> 'core.regularizers.html' (proofs keep their package)."""
    parts = source[:-3].split("/")
    parts = parts[1:] if parts[0] == "sire_ref" else parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) + ".html"


def anchor_of(label):
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def sections(source_text):
    """[(prose, code)]: the file cut where prose (a docstring or a run of full-line comments) starts;
    code is a list of (line number, line), 1-based, in the file's order (a def's or class's lines
    before its docstring and its body after it)."""
    lines = source_text.split("\n")
    docs = {}
    for node in ast.walk(ast.parse(source_text)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            header = None if isinstance(node, ast.Module) else \
                min([node.lineno] + [d.lineno for d in node.decorator_list])
            docs[body[0].lineno] = (body[0].end_lineno, ast.get_docstring(node), header)
    out = [["", []]]
    i = 1
    while i <= len(lines):
        stripped = lines[i - 1].strip()
        if i in docs:
            end, text, header = docs[i]
            code = out[-1][1]
            cut = len(code) if header is None else next(k for k, (n, _) in enumerate(code) if n >= header)
            out[-1][1], moved = code[:cut], code[cut:]      # the def / class lines go with their docstring
            out.append([text, moved])
            i = end + 1
        elif stripped.startswith("#") and not stripped.startswith("#!"):
            text = stripped.lstrip("#").strip()
            if any(line.strip() for _, line in out[-1][1]):
                out.append([text, []])
            else:
                out[-1][0] = (out[-1][0] + "\n" + text).strip("\n")
            i += 1
        else:
            out[-1][1].append((i, lines[i - 1]))
            i += 1
    return [(prose, _trim(code)) for prose, code in out if prose.strip() or any(line.strip() for _, line in code)]


def _trim(code):
    """Drop blank lines at both ends of a code block."""
    while code and not code[0][1].strip():
        code = code[1:]
    while code and not code[-1][1].strip():
        code = code[:-1]
    return code


def line_ranges(code):
    """'12-14,18-30': the source lines a code block shows, as ranges of consecutive lines."""
    ranges, first = [], None
    for k, (n, _) in enumerate(code):
        if first is None:
            first = n
        if k + 1 == len(code) or code[k + 1][0] != n + 1:
            ranges.append(f"{first}-{n}")
            first = None
    return ",".join(ranges)


def render_prose(text, mathml, markdown_module):
    """Markdown with its math, \\( \\) and \\[ \\], set as MathML (placeholders keep Markdown off the LaTeX)."""
    pieces = []

    def hold(match):
        display, inline = match.group(1), match.group(2)
        pieces.append(mathml(display if display is not None else inline,
                             display="block" if display is not None else "inline"))
        return f"MATHPIECE{len(pieces) - 1}X"
    body = markdown_module.markdown(MATH.sub(hold, text), extensions=["tables", "fenced_code"])
    return re.sub(r"MATHPIECE(\d+)X", lambda m: pieces[int(m.group(1))], body)


def link_labels(html_text, here, anchored):
    """Every paper label outside tags and code becomes a link to where it is implemented; the first
    mention on the implementing page is the anchor."""
    def replace(match):
        label = re.sub(r"Eq\. ?", "Eq. ", match.group(1))
        source = IMPLEMENTED_IN.get(label)
        if source is None:
            return match.group(0)
        target = page_name(source)
        ident = anchor_of(label)
        if target == here and ident not in anchored:
            anchored.add(ident)
            return f'<a id="{ident}" class="label" href="#{ident}">{match.group(0)}</a>'
        return f'<a class="label" href="{target}#{ident}">{match.group(0)}</a>'
    parts = re.split(r"(<code>.*?</code>|<pre>.*?</pre>|<math.*?</math>|<[^>]+>)", html_text, flags=re.S)
    return "".join(p if p.startswith("<") else LABEL.sub(replace, p) for p in parts)


CSS = """
body { font: 16px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1d1d1f; }
header, footer { padding: 0.8em 1.5em; background: #f4f4f6; border-bottom: 1px solid #ddd; overflow-wrap: anywhere; }
header a, footer a { margin-right: 1em; }
h1 { font-size: 1.5em; margin: 0.4em 0; }
.section { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); border-bottom: 1px solid #eee; }
.prose { padding: 0.5em 1.5em; overflow-wrap: anywhere; }
.prose pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
.code { background: #fbfbfd; border-left: 1px solid #e3e3e8; padding: 0.5em 1em; overflow-x: auto; }
.code pre { margin: 0; font: 13px/1.45 Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.where { font-size: 0.8em; color: #666; }
table { border-collapse: collapse; font-size: 0.9em; display: block; max-width: 100%; overflow-x: auto; }
td, th { border: 1px solid #ddd; padding: 2px 6px; }
math[display="block"] { margin: 0.6em 0; overflow-x: auto; overflow-y: hidden; }
img { max-width: 100%; }
@media (max-width: 800px) { .section { grid-template-columns: minmax(0, 1fr); } .code { border-left: none; } }
"""


def _page(title, body, nav, style):
    # the style sits in each page, not in a linked file: a page is never drawn (or measured) before its style
    # arrives, and one page copied on its own still reads right
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><style>{style}</style></head>\n'
            f"<body><header>{nav}<h1>{html.escape(title)}</h1></header>\n{body}\n<footer>{nav}</footer></body></html>\n")


def build(out_dir, root=ROOT):
    """Write the pages into out_dir; returns the list of page file names (index first)."""
    try:
        import markdown
        from latex2mathml.converter import convert as mathml
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError as err:
        raise ImportError(f"the notes need Markdown, latex2mathml and Pygments: {INSTALL}") from err
    os.makedirs(out_dir, exist_ok=True)
    lexer, formatter = PythonLexer(stripnl=False, ensurenl=False), HtmlFormatter(nowrap=True)
    names = [page_name(source) for source, _ in READING_PATH]
    style = CSS + formatter.get_style_defs(".source")
    written = []
    for k, (source, title) in enumerate(READING_PATH):
        path = os.path.join(root, source)
        text = open(path, encoding="utf-8").read()
        link_to_source = os.path.relpath(path, out_dir)
        anchored, blocks = set(), []
        for figure in FIGURES.get(source, ()):
            shutil.copy(os.path.join(root, figure), os.path.join(out_dir, os.path.basename(figure)))
            blocks.append(f'<div class="prose"><img src="{os.path.basename(figure)}" alt="{html.escape(figure)}"></div>')
        for prose, code in sections(text):
            prose_html = link_labels(render_prose(prose, mathml, markdown), names[k], anchored)
            code_html, ident = "", ""
            if code:
                shown = line_ranges(code)
                ident = f' id="L{code[0][0]}"'
                code_html = (f'<div class="where"><a href="{link_to_source}">{source}</a>, lines {shown}</div>'
                             f'<pre class="source" data-file="{source}" data-lines="{shown}">'
                             f'{highlight(chr(10).join(line for _, line in code), lexer, formatter).removesuffix(chr(10))}'
                             f'</pre>')
            blocks.append(f'<div class="section"{ident}><div class="prose">{prose_html}</div>'
                          f'<div class="code">{code_html}</div></div>')
        prev_link = f'<a href="{names[k - 1]}">previous</a>' if k else ""
        next_link = f'<a href="{names[k + 1]}">next</a>' if k + 1 < len(names) else ""
        nav = f'<a href="index.html">index</a>{prev_link}{next_link}<a href="{link_to_source}">{source}</a>'
        _write(out_dir, names[k], _page(title, "\n".join(blocks), nav, style))
        written.append(names[k])
    items = "\n".join(f'<li><a href="{page_name(s)}">{html.escape(t)}</a> <span class="where">{s}</span></li>'
                      for s, t in READING_PATH)
    intro = ("<p>The source of sire_ref, read in the order of the paper: each page sets the code's own "
             "docstrings and comments beside the lines they explain. Built by <code>python -m sire_ref notes"
             "</code> from the source itself.</p>")
    _write(out_dir, "index.html", _page("sire_ref: annotated notes", f'<div class="prose">{intro}<ol>{items}</ol></div>',
                                        '<a href="index.html">index</a>', style))
    return ["index.html"] + written


def _write(folder, name, text):
    write_bytes(os.path.join(folder, name), text.encode("utf-8"))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sire_ref notes", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the pages (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"argument --out: {args.out!r} exists and is not a folder")
    start = time.perf_counter()
    try:
        pages = build(args.out)
    except ImportError as err:
        print(err, file=sys.stderr)
        return 2
    print(f"wrote {len(pages)} pages to {args.out} in {time.perf_counter() - start:.1f} s; "
          f"open {os.path.join(args.out, 'index.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
