#!/usr/bin/env bash
# The algorithm code (src/, include/) must make no MPI call: only mpi/ talks to MPI.
# (Debian's parallel hdf5.h includes mpi.h; seeing it is tolerated, calling MPI is not.)
set -euo pipefail
root=$1
hits=$(grep -rnE '\bMPI_[A-Z][A-Za-z_]*\s*\(|#include\s*[<"]mpi\.h[">]|H5Pset_fapl_mpio|H5Pset_dxpl_mpio' "$root/src" "$root/include" || true)
if [[ -n "$hits" ]]; then
  echo "MPI used in algorithm code (move it to mpi/):"
  echo "$hits"
  exit 1
fi
echo "no MPI in src/ or include/: 1 passed, 0 failed"
