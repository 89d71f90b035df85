"""Tools around the math, never imported by it: gradient checks (`gradcheck`), the benchmark
(`bench`), the GPU check (`gpucheck`), and what tests share (`testing`)."""
