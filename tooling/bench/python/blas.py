"""Which BLAS a process uses, from the shared libraries it mapped (python/torch_bench.py)."""


def classify_blas(libraries):
    """'OpenBLAS', 'MKL', 'BLIS', 'reference' (the netlib libblas.so.3) or 'unknown'."""
    joined = ' '.join(libraries).lower()
    if 'openblas' in joined:
        return 'OpenBLAS'
    if 'mkl' in joined:
        return 'MKL'
    if 'blis' in joined:
        return 'BLIS'
    if 'blas' in joined:
        return 'reference'
    return 'unknown'
