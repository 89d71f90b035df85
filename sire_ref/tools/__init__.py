"""Tools around the math, never imported by it: gradient checks (`gradcheck`), the benchmarks
(`bench`: kernels; `bench_experiments`: every experiment's full training step against its
PyTorch twin from `torch_twins`; `timing`: round-robin medians), the GPU check (`gpucheck`),
and what tests share (`testing`)."""
