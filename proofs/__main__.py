"""`python -m proofs`: run every numerical check of Theorems 4 and 5, print a report, exit 1 on failure."""
import argparse
import sys
import time

from . import ProofFailure, theorem4, theorem5


def main(argv=None):
    argparse.ArgumentParser(prog="python -m proofs", description=__doc__.split(":", 1)[1].strip()).parse_args(argv)
    failed = 0
    for name, module in (("Theorem 4", theorem4), ("Theorem 5 / Lemma 6 / Corollary 7", theorem5)):
        print(f"== {name}")
        start, ok = time.perf_counter(), True
        try:
            module.run(lambda text: print(text, flush=True))
        except ProofFailure as err:
            ok = False
            failed += 1
            print(f"FAILED: {err}")
        print(f"-- {name}: {'passed' if ok else 'FAILED'} in {time.perf_counter() - start:.1f} s\n")
    print("all checks passed" if not failed else f"{failed} theorem check(s) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
