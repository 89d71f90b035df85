r"""The reproduction ledger: every claim of the paper beside what our committed records say.

    python -m sire_ref ledger [--figures DIR] [--check]

Reads the experiments' JSON records in figures/ (each written by its experiment's command) and
writes figures/README.md: one row per claim of the paper (a figure panel, a table row at each size
we ran, or a claim made in words), with the paper's value, ours (mean (std) over seeds), the cost,
the record it comes from and a verdict. It also writes the table at a glance in the top README.md
and the experiment pages' tables of runs (`run_tables`). --check writes nothing and exits 1 when a
page differs from what the records give (the tests run it), so no number on these pages can drift
from its record.

Verdicts. A comparison of two methods is the paired per-seed difference (same seeds, same data)
with its 95% bootstrap interval (report.paired_difference): "reproduced" when the interval lies on
the paper's side of 0, "direction only" when the mean does but the interval holds 0, "not
reproduced" when the mean is on the other side; with fewer than MIN_SEEDS seeds there is no
interval, and a difference on the paper's side is "direction only". A value the paper reports (an accuracy) is
"reproduced" when our mean is at least the paper's minus 0.01, else "not reproduced". A claim
we have not measured is "not run", with its --dry-run price where a record of one exists.
"""
import argparse
import os
import sys

import numpy as np

from ...base.io import read_json, write_bytes
from .. import half_range as half_range_experiment
from .. import perturbed_mnist as mnist_experiment
from . import run_tables
from .report import paired_difference, run_seconds, runs_matching, select, verdict

TOLERANCE = 0.01          # a reported accuracy is reproduced when ours >= paper - TOLERANCE
MIN_SEEDS = 3             # a bootstrap interval over fewer seeds is no interval: at most "direction only"
VERDICTS = ("reproduced", "direction only", "not reproduced", "not run")


def _stats(values):
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} ({v.std():.3f}), {len(v)} seed{'s' if len(v) > 1 else ''}"


def _diff_text(d):
    return f"{d['mean']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def _hours(seconds):
    return f"{seconds / 3600:.1f} CPU-h" if seconds >= 3600 else f"{seconds / 60:.0f} CPU-min"


class Ledger:
    """Rows of the page, built from the records in `folder`."""

    def __init__(self, folder):
        self.folder, self.rows, self.leads = folder, [], []
        self.trained = []      # (setting, record, SIRE's training metric per seed, the GRU's): read by `words`

    def record(self, name):
        path = os.path.join(self.folder, name)
        return read_json(path) if os.path.exists(path) else None

    def add(self, section, claim, paper, ours, cost, record, verdict_text, lead=False):
        """One row. lead: a claim that is the message of the paper's figure or table (Fig. 2: SIRE's lead
        grows with n; Table 2: lambda 0.01 beats 0), put before the section's other rows (after its
        earlier lead rows), so that the table at a glance shows it."""
        if verdict_text not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict_text!r}")
        row = (section, claim, paper, ours, cost, record, verdict_text)
        if not lead:
            self.rows.append(row)
            return
        at = next((i for i, r in enumerate(self.rows) if r[0] == section and r not in self.leads), len(self.rows))
        self.rows.insert(at, row)
        self.leads.append(row)

    def compare(self, section, claim, paper, a, b, cost, record, sign=+1, lead=False):
        """A paired per-seed comparison a - b (lists over the same seeds), paper's sign `sign`; lead: as in add."""
        if len(a) < MIN_SEEDS:
            d = float(np.mean(np.asarray(a) - np.asarray(b)))
            self.add(section, claim, paper, f"{d:+.3f} ({len(a)} seed{'s' if len(a) > 1 else ''}: too few for an "
                                            f"interval)", cost, record,
                     "direction only" if sign * d > 0 else "not reproduced", lead)
            return
        d = paired_difference(a, b)
        self.add(section, claim, paper, f"{_diff_text(d)}, {d['n']} seeds", cost, record, verdict(d, sign), lead)

    def value(self, section, claim, paper_value, paper_text, ours, cost, record, higher=True):
        """A value the paper reports: reproduced when ours is as good, within TOLERANCE."""
        mean = float(np.mean(ours))
        good = mean >= paper_value - TOLERANCE if higher else mean <= paper_value + TOLERANCE
        self.add(section, claim, paper_text, _stats(ours), cost, record, "reproduced" if good else "not reproduced")

    def training(self, setting, record, sire_runs, gru_runs):
        """Keep SIRE's and the unregularized GRU's training accuracy ({seed: run}, the seeds both have)
        of one setting for the claim that SIRE helps optimization (`words`)."""
        seeds = sorted(set(sire_runs) & set(gru_runs))
        if seeds:
            self.trained.append((setting, record, [sire_runs[s]["train"] for s in seeds],
                                 [gru_runs[s]["train"] for s in seeds]))

    def not_run(self, section, claim, paper, dry_run=None, why=""):
        priced = self.record(dry_run) if dry_run else None
        cost = (f"not run: {priced['runs']} runs, at most {priced['cpu_hours']:.0f} CPU-h (`{dry_run}`)"
                if priced else "not run") + (f"; {why}" if why else "")
        self.add(section, claim, paper, "-", cost, dry_run if priced else "-", "not run")


def _runs(record, **match):
    """The runs of a record whose spec matches every key=value."""
    return runs_matching(record, match)


def _seconds(runs):
    return _hours(sum(run_seconds(r) for r in runs))


def _best_by_seed(runs):
    """{seed: the run chosen on validation among its lambdas} (report.select)."""
    return {k[0]: r for k, r in select(runs, key=("seed",)).items()}


def parity(ledger):
    rec, name = ledger.record("parity.json"), "parity.json"
    section = "Parity (6.1, Fig. 1)"
    if rec is None:
        return ledger.not_run(section, "an RNN learns parity and extrapolates to length 100", "accuracy 1.0")
    last = {m: [rec["curves"][m][s][-1] for s in sorted(rec["curves"][m])] for m in ("RNN", "DeepSets")}
    cost = _hours(rec.get("seconds", 0.0)) if isinstance(rec.get("seconds"), (int, float)) else "-"
    ledger.value(section, "the RNN trained on lengths 2..10 is right on lengths 91..100", 1.0,
                 "1.0 (Fig. 1)", last["RNN"], cost, name)
    ledger.add(section, "DeepSets fails beyond the training lengths (accuracy at lengths 91..100)",
               "about 0.5 (Fig. 1)", _stats(last["DeepSets"]), cost, name,
               "reproduced" if np.mean(last["DeepSets"]) <= 0.6 else "not reproduced")
    ledger.compare(section, "RNN ahead of DeepSets at lengths 91..100", "+0.5 (Fig. 1)", last["RNN"],
                   last["DeepSets"], cost, name)


def arithmetic(ledger):
    by_task = {}                          # (task, n): ({method: {seed: run}}, record name); later records win
    grown = set()
    for task in ("sum", "range", "variance"):
        section = f"Arithmetic: {task} (6.2, Fig. 2)"
        names = [p.format(task=task) for p in ARITHMETIC_RECORDS]
        records = [(name, rec) for name in names if (rec := ledger.record(name)) is not None and "runs" in rec]
        if not records:
            ledger.not_run(section, f"{task}: SIRE ahead of the baselines", "Fig. 2")
        for name, rec in records:
            by_n = {n: _arithmetic_rows(ledger, section, task, rec, name, n) for n in rec["args"]["lengths"]}
            by_task.update({(task, n): (runs, name) for n, runs in by_n.items()})
            if task != "variance" and len(by_n) > 1:
                _arithmetic_growth(ledger, section, by_n, name, _setting(rec))
                grown.add(task)
    for n in sorted({n for (t, n) in by_task if t == "sum"} & {n for (t, n) in by_task if t == "range"}):
        (s_runs, s_name), (r_runs, r_name) = by_task[("sum", n)], by_task[("range", n)]
        seeds = sorted(set(s_runs["sire"]) & set(r_runs["sire"]))
        ledger.compare("Arithmetic (6.2)", f"n = {n}: range less challenging than sum (SIRE's accuracy, range - sum)",
                       "range above sum (6.2, in words)", [r_runs["sire"][s]["test"] for s in seeds],
                       [s_runs["sire"][s]["test"] for s in seeds], "-", f"{r_name}, {s_name}")
    for task in sorted({"sum", "range"} - grown):
        ledger.not_run(f"Arithmetic: {task} (6.2, Fig. 2)", "n = 10..30: SIRE scales better to longer sets than "
                       "pi-SGD and DeepSets", GROWTH_PAPER, f"dry_run_arithmetic_{task}.json")


def _arithmetic_rows(ledger, section, task, rec, name, n):
    """SIRE against each baseline at length n of one record; returns {method: {seed: the run chosen on
    validation}}."""
    lower = task == "variance"
    metric = "test_mse" if lower else "test"
    runs = {m: _best_by_seed(_runs(rec, method=m, length=n)) for m in ("gru", "sire", "deepsets", "pisgd")}
    seeds = sorted(runs["sire"])
    sire = [runs["sire"][s][metric] for s in seeds]
    cost = _seconds(_runs(rec, length=n))
    setting = _setting(rec)
    if not lower:
        ledger.training(f"{task}, n = {n}, {setting}", name, runs["sire"], runs["gru"])
    for base, label in (("gru", "the GRU"), ("deepsets", "DeepSets"), ("pisgd", "pi-SGD")):
        if not runs[base]:
            continue
        other = [runs[base][s][metric] for s in seeds]
        what = "MSE below" if lower else "accuracy above"
        owner = label + ("'" if label.endswith("s") else "'s")
        ledger.compare(section, f"n = {n}: SIRE's test {what} {owner} ({setting}; {'MSE' if lower else 'accuracy'}: "
                                f"SIRE {_stats(sire)}; {label} {_stats(other)})",
                       "SIRE ahead (Fig. 2; values not in the text)", other if lower else sire,
                       sire if lower else other, cost, name)
    return runs


def _setting(rec):
    """What sets a sweep's record apart from the others of its task: its preset and its stopping rule."""
    args = rec["args"]
    return f"{args['preset']} preset, plateau patience {args['plateau_patience']}"


def _arithmetic_growth(ledger, section, by_n, name, setting):
    """Fig. 2's message, "SIRE scales better to larger set sizes": SIRE's lead over pi-SGD and DeepSets
    (test accuracy, SIRE - baseline, per seed) at the longest length of one record minus at its
    shortest, so that every other setting is the same. by_n: {n: {method: {seed: run}}}. The runs at
    the two lengths are independent; their seeds are paired by index."""
    short, long = min(by_n), max(by_n)
    for base, label in (("pisgd", "pi-SGD"), ("deepsets", "DeepSets")):
        seeds = sorted(set.intersection(*(set(by_n[n][m]) for n in (short, long) for m in ("sire", base))))
        if not seeds:
            continue
        lead = {n: [by_n[n]["sire"][s]["test"] - by_n[n][base][s]["test"] for s in seeds] for n in (short, long)}
        ledger.compare(section, f"SIRE's lead over {label} grows from n = {short} to n = {long} (lead at n = {long} "
                                f"{np.mean(lead[long]):+.3f}, at n = {short} {np.mean(lead[short]):+.3f}; {setting}; the "
                                f"difference, seeds paired by index)", GROWTH_PAPER, lead[long], lead[short], "-", name,
                       lead=True)


def half_range(ledger):
    section = "Half-range (6.4, Table 2)"
    measured = set()
    for name in HALF_RANGE_RECORDS:
        measured |= _half_range_rows(ledger, section, name)
    for n in (15, 20):
        if n not in measured:
            ledger.not_run(section, f"n = {n}: lambda 0.01 ahead of lambda 0", f"{HALF_RANGE_PAPER[0.01][n][1]} vs "
                           f"{HALF_RANGE_PAPER[0.0][n][1]}", "dry_run_half_range.json")


def _half_range_rows(ledger, section, name):
    """The rows of one half-range record; returns the lengths it measured."""
    paper = HALF_RANGE_PAPER
    rec = ledger.record(name)
    lengths = [n for n in (rec["args"]["lengths"] if rec and "runs" in rec else []) if n in paper[0.0]]
    for n in lengths:
        runs = {lam: {r["spec"]["seed"]: r for r in _runs(rec, length=n, lam=lam)} for lam in (0.0, 0.01)}
        seeds = sorted(runs[0.0])
        cost = _seconds([r for by in runs.values() for r in by.values()])
        for lam in (0.0, 0.01):
            ledger.value(section, f"n = {n}, lambda = {lam:g}", paper[lam][n][0], paper[lam][n][1],
                         [runs[lam][s]["test"] for s in seeds], cost, name)
        ledger.training(f"half-range, n = {n}, lambda 0.01 against 0", name, runs[0.01], runs[0.0])
        ledger.compare(section, f"n = {n}: lambda 0.01 ahead of lambda 0",
                       f"{paper[0.01][n][0] - paper[0.0][n][0]:+.3f} (Table 2)",
                       [runs[0.01][s]["test"] for s in seeds], [runs[0.0][s]["test"] for s in seeds], cost, name,
                       lead=True)                 # Table 2's message: the regularizer helps
    return set(lengths)


def sire_vs_sub(ledger):
    name, section = "sire_vs_sub.json", "SIRE vs SUB (App. C, Fig. 4)"
    rec = ledger.record(name)
    if rec is None or "summary" not in rec:
        return ledger.not_run(section, "SIRE ahead of SUB", "0.792 (0.09) vs 0.759 (0.11)")
    summary, cost = rec["summary"], _seconds(list(rec["runs"].values()))
    for grid in ("narrow", "wide"):
        if grid not in summary["difference"]:
            continue
        m, d = summary["methods"], summary["difference"][grid]
        ledger.add(section, f"test accuracy, SIRE - SUB, lambda per seed on the holdout from {summary['grids'][grid]} "
                            f"(SIRE {m['sire'][grid]['mean']:.3f} ({m['sire'][grid]['std']:.3f}), SUB "
                            f"{m['sub'][grid]['mean']:.3f} ({m['sub'][grid]['std']:.3f}))",
                   "+0.033: 0.792 (0.09) vs 0.759 (0.11), 5 seeds", f"{_diff_text(d)}, {d['n']} seeds", cost, name,
                   verdict(d, +1))
    for threshold, per in summary["convergence"].items():
        both = [(a, b) for a, b in zip(per["sire"], per["sub"]) if a is not None and b is not None]
        for k, unit in ((0, "epochs"), (1, "training seconds")):
            claim = f"SIRE converges faster: {unit} until the training L1 < {threshold} (SUB - SIRE)"
            if len(both) < 2:
                ledger.add(section, claim, "faster (Fig. 4)", f"{len(both)} seeds reached it with both", cost, name,
                           "not reproduced")
                continue
            ledger.compare(section, claim + f", the {len(both)} seeds that reached it with both", "faster (Fig. 4)",
                           [b[k] for _, b in both], [a[k] for a, _ in both], cost, name)


def point_clouds(ledger):
    section = "Point clouds (6.3, Table 1)"
    paper = {100: "0.835 vs 0.825", 1000: "0.878 vs 0.872", 5000: "0.899 vs 0.90"}
    for name in POINT_CLOUD_RECORDS:
        _point_cloud_rows(ledger, section, paper, name)
    ledger.not_run(section, "ModelNet40 at widths 256 / 512, 100 / 1000 / 5000 points", "Table 1",
                   "dry_run_point_cloud.json", why="the full ModelNet40 is not available here; the price is the paper "
                   "preset at 100 and 1000 points on synthetic shapes of ModelNet's size: at 5000 points (width 512) "
                   "the dry run itself ran out of this machine's 24 GB")


def _point_cloud_rows(ledger, section, paper, name):
    rec = ledger.record(name)
    points = rec["args"]["points"] if rec and "provenance" in rec else []
    for p in points:
        ds = {r["spec"]["seed"]: r for r in _runs(rec, points=p, method="deepsets")}
        for lam in sorted({r["spec"]["lam"] for r in _runs(rec, points=p, method="sire")}):
            sire = {r["spec"]["seed"]: r for r in _runs(rec, points=p, method="sire", lam=lam)}
            seeds = sorted(set(ds) & set(sire))
            if lam > 0:
                ledger.compare(section, f"{p} points, synthetic shapes (not ModelNet40), width {rec['args']['width']}: "
                                        f"SIRE-GRU (lambda {lam:g}) on par with or ahead of DeepSets (SIRE "
                                        f"{_stats([sire[s]['test'] for s in seeds])}; DeepSets "
                                        f"{_stats([ds[s]['test'] for s in seeds])})",
                               paper[p] + " (ModelNet40, width 256)", [sire[s]["test"] for s in seeds],
                               [ds[s]["test"] for s in seeds], _seconds(list(sire.values()) + list(ds.values())), name)
        plain = {r["spec"]["seed"]: r for r in _runs(rec, points=p, method="sire", lam=0.0)}
        reg = {r["spec"]["seed"]: r for r in _runs(rec, points=p, method="sire", lam=0.1)}
        seeds = sorted(set(plain) & set(reg))
        if seeds:
            ledger.compare(section, f"{p} points, width {rec['args']['width']}: R_SIRE's own effect, the same GRU "
                                    f"with lambda 0.1 - lambda 0",
                           "not reported (beyond the paper)", [reg[s]["test"] for s in seeds],
                           [plain[s]["test"] for s in seeds], _seconds(list(plain.values()) + list(reg.values())), name)


def mnist(ledger):
    section = "Locally Perturbed MNIST (6.5)"
    for name, label in MNIST_RECORDS:
        rec = ledger.record(name)
        if rec is None:
            continue
        best = _best_by_seed(_runs(rec, method="sire"))
        gru = {r["spec"]["seed"]: r for r in _runs(rec, method="gru")}
        seeds = sorted(set(best) & set(gru))
        stopped = sorted({r["stopped"] for r in rec["runs"].values()})
        ledger.training(f"Locally Perturbed MNIST, {label}", name, best, gru)
        if seeds:
            ledger.compare(section, f"GRU + SIRE ahead of the GRU ({label}; SIRE {_stats([best[s]['test'] for s in seeds])}, "
                                    f"GRU {_stats([gru[s]['test'] for s in seeds])}; stopped by: {', '.join(stopped)})",
                           "+0.144: 0.977 vs 0.833", [best[s]["test"] for s in seeds], [gru[s]["test"] for s in seeds],
                           _seconds(list(rec["runs"].values())), name)
        cnn = {m: _runs(rec, method=m) for m in ("cnn_clean", "cnn")}
        for method, digits, where in (("cnn_clean", "clean", "footnote 7"), ("cnn", "locally perturbed", "6.5")):
            if cnn[method]:
                paper = mnist_experiment.PAPER[method]
                ledger.value(section, f"the CNN's test accuracy on {digits} digits ({label})", paper,
                             f"{paper} ({where})", [r["test"] for r in cnn[method]], _seconds(cnn[method]), name)
        if cnn["cnn"] and cnn["cnn_clean"]:
            ledger.compare(section, f"the perturbation costs the CNN accuracy, clean - perturbed ({label})",
                           "+0.033: 0.9963 vs 0.963", [r["test"] for r in cnn["cnn_clean"]],
                           [r["test"] for r in cnn["cnn"]], "-", name)
    ledger.not_run(section, "all 60,000 / 10,000 digits, GRU width 128, 3 seeds, each to its plateau",
                   "0.977 vs 0.833", "dry_run_perturbed_mnist.json")


def words(ledger):
    """Section 7: "our regularization method leads to better optimization errors than RNN without
    regularization". Measured as the training-set accuracy of the model each run kept (its best on
    validation), SIRE (lambda chosen on validation; half-range: lambda 0.01) minus the same GRU
    without R, paired per seed, in every setting whose record has both (gathered by the sections
    above through Ledger.training)."""
    section, paper = "Claims in words (7)", "SIRE's training error below the GRU's (7, in words)"
    if not ledger.trained:
        return ledger.not_run(section, "SIRE helps optimization", paper, why="no record has SIRE and the GRU")
    for setting, name, sire, gru in ledger.trained:
        ledger.compare(section, f"SIRE helps optimization: training accuracy of the kept model, SIRE - the GRU "
                                f"({setting}; SIRE {_stats(sire)}, GRU {_stats(gru)})", paper, sire, gru, "-", name)


HALF_RANGE_PAPER = {lam: {n: (float(text.split()[0]), text) for n, text in by_n.items()}   # Table 2: (value, as printed)
                    for lam, by_n in half_range_experiment.PAPER.items()}
# n = 5 (quick); the paper preset at n = 5 and 20 with patience 10. Not read: paper/ (patience 5), whose n = 20 runs
# were ended while still learning and whose n = 5 lead over the GRU came from early stops (figures/arithmetic.md).
ARITHMETIC_RECORDS = ("arithmetic_{task}.json", "paper_p10/arithmetic_{task}.json")
GROWTH_PAPER = "SIRE ahead, more so at larger n (Fig. 2)"
HALF_RANGE_RECORDS = ("half_range.json", "n20/half_range.json")                     # n = 10 (quick), n = 20
MNIST_RECORDS = (("full_data/perturbed_mnist.json", "all training digits, width 32, each run to its plateau"),
                 ("full_data_cnn/perturbed_mnist.json", "all training digits, the paper's CNN widths"),
                 ("perturbed_mnist_full_data.json", "all training digits, width 32, a 25-epoch cap"),
                 ("perturbed_mnist.json", "quick preset: 10,000 training digits"))
POINT_CLOUD_RECORDS = ("width256/point_cloud_synthetic.json", "point_cloud_synthetic.json")   # the paper's width first
SECTIONS = (parity, arithmetic, half_range, sire_vs_sub, point_clouds, mnist, words)
KEPT = (("the Janossy code's rho, our choices (rescaled output, Adam lr 1e-3, plateau criterion)",
         "kept/default/arithmetic_sum.json"),
        ("without the output rescaling (--no-rescale)", "kept/no_rescale/arithmetic_sum.json"),
        ("Adam lr 1e-4, the Janossy code's (--lr 1e-4; still the plateau criterion)", "kept/lr_1e-4/arithmetic_sum.json"))


def build(folder):
    ledger = Ledger(folder)
    for section in SECTIONS:
        section(ledger)
    return ledger.rows


def kept(folder):
    """Rows (setting, test accuracy, epochs, stopped by, minutes, record) of the differences from the
    Janossy code we keep: sum, n = 5, the GRU of seed 0, each way."""
    ledger, rows = Ledger(folder), []
    for setting, name in KEPT:
        rec = ledger.record(name)
        runs = _runs(rec, method="gru", seed=0, length=5) if rec and "runs" in rec else []
        if runs:
            r = runs[0]
            rows.append((setting, f"{r['test']:.3f}", str(r["epochs_run"]), r["stopped"], f"{run_seconds(r) / 60:.1f}", name))
    return rows


def render_kept(rows):
    if not rows:
        return ""
    lines = ["", "## What we keep from the integer tasks' code, measured (not claims of the paper)", "",
             "Sum, n = 5, the GRU (with rho), seed 0, 20,000 training sequences (a fifth of the paper's, so that the",
             "three runs fit one sitting), each to its plateau criterion or its epoch cap.", "",
             "| setting | test accuracy | epochs | stopped by | minutes | record |", "|---|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} | [{f}]({f}) |" for a, b, c, d, e, f in rows]
    return "\n".join(lines) + "\n"


def render(rows):
    counts = {v: sum(r[-1] == v for r in rows) for v in VERDICTS}
    lines = ["# Reproduction ledger",
             "",
             "Generated by `python -m sire_ref ledger` from the JSON records in this folder; a test",
             "fails when this page and the records disagree. Every claim of the paper we know of, the paper's value,",
             "ours, what it cost, the record, and a verdict (`sire_ref/experiments/runner/ledger.py` says how each is",
             "decided: a comparison of two methods is the paired per-seed difference with its 95% bootstrap",
             "interval over at least 3 seeds; \"reproduced\" means the interval agrees with the paper's sign; a",
             "difference over fewer seeds is at most \"direction only\").",
             "",
             "Summary: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + ".",
             ""]
    sections = list(dict.fromkeys(r[0] for r in rows))          # first-appearance order
    for sec in sections:
        lines += ["", f"## {sec}", "", "| claim | paper | ours | cost | record | verdict |", "|---|---|---|---|---|---|"]
        for _, claim, paper, ours, cost, record, verdict_text in (r for r in rows if r[0] == sec):
            lines.append(_row(claim, paper, ours, cost, record, verdict_text))
    return "\n".join(lines) + "\n"


PAGES = (("Parity", "parity.md"), ("Arithmetic", "arithmetic.md"), ("Half-range", "half_range.md"),
         ("SIRE vs SUB", "sire_vs_sub.md"), ("Point clouds", "point_cloud.md"),
         ("Locally Perturbed MNIST", "perturbed_mnist.md"), ("Claims in words", "README.md"))
GLANCE = ("<!-- results at a glance: generated by `python -m sire_ref ledger` from figures/*.json; a test checks it -->",
          "<!-- end of the generated table -->")


def page_of(section):
    """The experiment page (in figures/) of a ledger section."""
    return next(page for prefix, page in PAGES if section.startswith(prefix))


def glance(rows):
    """The README's table: per section of the ledger, its first measured claim (a figure's message first,
    `Ledger.add`'s lead; the paper's value, ours,
    the verdict), how many claims have each verdict, and the experiment's page."""
    lines = [GLANCE[0], "| experiment | first measured claim | paper | ours | verdict | all its claims | page |",
             "|---|---|---|---|---|---|---|"]
    for sec in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == sec]
        _, claim, paper, ours, _, _, verdict_text = next((r for r in mine if r[-1] != "not run"), mine[0])
        counts = ", ".join(f"{n} {v}" for v in VERDICTS if (n := sum(r[-1] == v for r in mine)))
        lines.append(f"| {sec} | {claim} | {paper} | {ours} | **{verdict_text}** | {counts} | "
                     f"[figures/{page_of(sec)}](figures/{page_of(sec)}) |")
    return "\n".join(lines + [GLANCE[1]])


def with_glance(readme, rows):
    """README.md's text with its generated table replaced by the one the records give."""
    start, end = readme.find(GLANCE[0]), readme.find(GLANCE[1])
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers of the generated table: {GLANCE[0]!r} ... {GLANCE[1]!r}")
    return readme[:start] + glance(rows) + readme[end + len(GLANCE[1]):]


def _row(claim, paper, ours, cost, record, verdict_text):
    record_text = ", ".join(f"[{r.strip()}]({r.strip()})" if r.strip() != "-" else "-" for r in record.split(","))
    return f"| {claim} | {paper} | {ours} | {cost} | {record_text} | **{verdict_text}** |"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sire_ref ledger", description=__doc__.split("\n\n")[0])
    p.add_argument("--figures", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "figures")),
                   help="the folder of records; the page is written there as README.md, and the table at a "
                        "glance into the README.md of the folder above (default: figures/)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page differs from the records")
    args = p.parse_args(argv)
    if not os.path.isdir(args.figures):
        p.error(f"argument --figures: {args.figures!r} is not a folder")
    rows = build(args.figures)
    ledger_path, readme_path = (os.path.join(args.figures, "README.md"),
                                os.path.normpath(os.path.join(args.figures, os.pardir, "README.md")))
    readme = open(readme_path).read()
    pages = {ledger_path: render(rows) + render_kept(kept(args.figures)), readme_path: with_glance(readme, rows)}
    for _, name in PAGES[:-1]:                  # the experiment pages' tables of runs (run_tables)
        path = os.path.join(args.figures, name)
        if os.path.exists(path):
            pages[path] = run_tables.fill(open(path).read(), args.figures, name)
    stale = [path for path, page in pages.items()
             if not os.path.exists(path) or open(path).read() != page]
    if args.check:
        for path in stale:
            print(f"{path} differs from what the records give: run python -m sire_ref ledger", file=sys.stderr)
        if not stale:
            print(f"{ledger_path} and the table in {readme_path} match their records")
        return 1 if stale else 0
    for path in stale:
        write_bytes(path, pages[path].encode())
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
