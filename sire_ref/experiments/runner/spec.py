"""What every run of every experiment has, in one place; an experiment's spec adds only its own fields."""
import dataclasses

from ...base.io import digest


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSettings:
    """seed: the model's; data_seed: the data's (sets, splits, draws of the data); epochs: the most
    training epochs (a plateau may end a run earlier); dtype: "float32" | "float64"; backend: where
    arrays live and which kernels run (base.backend.HOST).

    An experiment's spec subclasses this with its own fields; `fingerprint` digests ALL of them, so a
    run made with any other setting is never mistaken for this one (the digest sorts the fields'
    names, so it does not depend on where a field is declared)."""
    seed: int
    data_seed: int
    epochs: int
    dtype: str = "float32"
    backend: str = "auto"

    @property
    def fingerprint(self):
        return digest(dataclasses.asdict(self))
