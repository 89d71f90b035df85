"""Result tables and figures shared by the experiments."""
import os

import numpy as np


def bucket_table(curves, labels, title):
    """Text table: one row per (model, seed) and a mean row per model; columns = labels."""
    width = max(len(f"{name} seed {seed}") for name, runs in curves.items() for seed in runs) + 2
    lines = [title, " " * width + "".join(f"{g:>7}" for g in labels)]
    for name, runs in curves.items():
        for seed, accs in runs.items():
            lines.append(f"{f'{name} seed {seed}':<{width}}" + "".join(f"{a:>7.3f}" for a in accs))
        if len(runs) > 1:
            mean = np.mean(list(runs.values()), axis=0)
            lines.append(f"{f'{name} mean':<{width}}" + "".join(f"{a:>7.3f}" for a in mean))
    return "\n".join(lines)


def plot_curves(curves, xs, path, xlabel, ylabel, title, shade=None, styles=None, ylim=(0.4, 1.02)):
    """One line per model (mean over seeds, seeds thin and faint); optional shaded x-range.

    styles: {model name: matplotlib line kwargs} overriding the default solid line with markers.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    if shade is not None:
        ax.axvspan(*shade, color="0.9", label="training lengths")
    for (name, runs), color in zip(curves.items(), ("C0", "C3", "C2", "C1", "C4")):
        values = np.array(list(runs.values()))
        for v in values if len(values) > 1 else []:
            ax.plot(xs, v, color=color, alpha=0.25, lw=1)
        style = {"color": color, "lw": 2, "marker": "o", "ms": 4, **(styles or {}).get(name, {})}
        ax.plot(xs, values.mean(axis=0),
                label=f"{name}" + (f" (mean of {len(values)} seeds)" if len(values) > 1 else ""), **style)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, ylim=ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)
    plt.close(fig)
    return path
