"""The annotated notes (`python -m sire_ref notes`) built and opened in headless Chromium: no console
error, every formula drawn (nonzero size, no LaTeX left in the text), every internal link and anchor
resolves, every code block equals the current source of its lines, every module of the reading path
has its page. Each check is seen to fail on a planted fault (a broken anchor, an unrendered formula, a
stale code block). Without Chromium and its driver the browser tests skip, naming the install command."""
import os
import pathlib
import re
import shutil
import urllib.parse

import pytest

from sire_ref.tools import notes

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = "apt-get install chromium chromium-driver, and pip install selenium (in the [test] extra)"
LATEX_LEFT = re.compile(r"\\[A-Za-z|\[\]()]|\$\$")   # a LaTeX command or delimiter in the visible prose


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("markdown", reason=notes.INSTALL)
    out = tmp_path_factory.mktemp("notes")
    pages = notes.build(str(out))
    return out, pages


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason=INSTALL)
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip(f"Chromium is not installed: {INSTALL}")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1280, 900)
    yield driver
    driver.quit()


def problems(driver, folder, page):
    """What a reader would trip on in one page, as a list of sentences (empty: the page is right)."""
    driver.get((folder / page).as_uri())
    found = [f"console: {e['message']}" for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    found += [f"formula drawn with size {w}x{h}: {t!r}" for w, h, t in driver.execute_script(
        "return [...document.querySelectorAll('math')].map(m => {const r = m.getBoundingClientRect();"
        " return [r.width, r.height, m.textContent.slice(0, 40)]})") if w <= 0 or h <= 0 or "\\" in t]
    prose = driver.execute_script(
        "return [...document.querySelectorAll('.prose')].map(p => {const c = p.cloneNode(true);"
        " c.querySelectorAll('pre, code, math').forEach(e => e.remove()); return c.textContent}).join(' ')")
    found += [f"LaTeX left in the text: {m!r}" for m in LATEX_LEFT.findall(prose)]
    for href in driver.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"):
        parts = urllib.parse.urlsplit(href)
        if parts.scheme:
            found.append(f"a link leaves the pages: {href}")
            continue
        target = (folder / page).parent / urllib.parse.unquote(parts.path) if parts.path else folder / page
        if not target.exists():
            found.append(f"broken link {href}: no file {target}")
        elif parts.fragment:
            text = target.read_text(encoding="utf-8")
            if f'id="{parts.fragment}"' not in text:
                found.append(f"broken anchor {href}")
    for file, ranges, shown in driver.execute_script(
            "return [...document.querySelectorAll('pre.source')].map(p => [p.dataset.file, p.dataset.lines,"
            " p.textContent])"):
        lines = (ROOT / file).read_text(encoding="utf-8").split("\n")
        source = [line for r in ranges.split(",") for line in
                  lines[int(r.split("-")[0]) - 1:int(r.split("-")[1])]]
        if shown != "\n".join(source):
            found.append(f"stale code block: {file} lines {ranges}")
    return found


def test_every_module_of_the_reading_path_has_its_page(site):
    out, pages = site
    for source, _ in notes.READING_PATH:
        assert (ROOT / source).exists(), source
        assert notes.page_name(source) in pages and (out / notes.page_name(source)).exists(), source
    assert {notes.page_name(s) for s in notes.IMPLEMENTED_IN.values()} <= set(pages)


def test_the_pages_are_right_in_chromium(site, browser):
    out, pages = site
    found = {page: problems(browser, out, page) for page in pages}
    assert not any(found.values()), {p: f for p, f in found.items() if f}


def test_no_page_is_wider_than_a_phone(site, browser):
    out, pages = site
    browser.set_window_size(390, 844)
    try:
        wide = {}
        for page in pages:
            browser.get((out / page).as_uri())
            scroll, client = browser.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if scroll > client:                      # name the widest element, to say what overflows
                wide[page] = (scroll, client, browser.execute_script(
                    "let w = [...document.body.querySelectorAll('*')].map(e => [e.getBoundingClientRect().right,"
                    " e.tagName + '.' + e.className]); w.sort((a, b) => b[0] - a[0]); return w[0]"))
        assert wide == {}, f"pages that scroll sideways at phone width (code and formulas scroll in their boxes): {wide}"
    finally:
        browser.set_window_size(1280, 900)


def test_equations_are_drawn_and_labels_link_to_their_implementation(site, browser):
    out, _ = site
    browser.get((out / "core.regularizers.html").as_uri())
    assert browser.execute_script("return document.querySelectorAll('math[display=block]').length") >= 2
    browser.get((out / "training.loop.html").as_uri())
    hrefs = browser.execute_script("return [...document.querySelectorAll('a.label')].map(a => a.getAttribute('href'))")
    assert "core.regularizers.html#eq-4-4" in hrefs


def _planted(site, tmp_path, page, old, new):
    out, _ = site
    copy = tmp_path / "notes"
    shutil.copytree(out, copy)
    text = (copy / page).read_text(encoding="utf-8")
    assert old in text, old
    (copy / page).write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def test_a_broken_anchor_fails(site, browser, tmp_path):
    copy = _planted(site, tmp_path, "training.loop.html", "core.regularizers.html#eq-4-4",
                    "core.regularizers.html#eq-4-9")
    assert any("broken anchor" in p for p in problems(browser, copy, "training.loop.html"))


def test_an_unrendered_formula_fails(site, browser, tmp_path):
    copy = _planted(site, tmp_path, "core.regularizers.html", "<p>The SIRE", r"<p>\(\frac{1}{N}\) The SIRE")
    assert any("LaTeX left" in p for p in problems(browser, copy, "core.regularizers.html"))


def test_a_stale_code_block_fails(site, browser, tmp_path):
    out, _ = site
    text = (out / "core.regularizers.html").read_text(encoding="utf-8")
    first = re.search(r'data-lines="(\d+)-', text).group(1)
    copy = _planted(site, tmp_path, "core.regularizers.html", f'data-lines="{first}-', f'data-lines="{int(first) + 1}-')
    assert any("stale code block" in p for p in problems(browser, copy, "core.regularizers.html"))


def test_the_command_builds_the_pages(tmp_path, capsys):
    pytest.importorskip("markdown", reason=notes.INSTALL)
    from sire_ref.__main__ import main
    assert main(["notes", "--out", str(tmp_path / "pages")]) == 0
    assert f"wrote {len(notes.READING_PATH) + 1} pages" in capsys.readouterr().out
