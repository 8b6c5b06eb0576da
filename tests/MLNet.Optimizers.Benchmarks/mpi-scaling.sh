#!/usr/bin/env bash
# Data-parallel scaling on one machine. Build first: dotnet build tests/MLNet.Optimizers.Benchmarks -c Release
#   mpi-scaling.sh [rows features iterations]   everything below (L-BFGS default: 1,000,000 100 20)
#   mpi-scaling.sh comparison [max-epochs]      only the distributed comparison (default 27 epochs)
# L-BFGS on logistic data: 1 rank using every core (the objective's own threads), then 1 and 2 ranks pinned to one core each
# (what adding machines does, per core), then 4 ranks oversubscribed. The optimizer comparison on digits.csv (70 candidates,
# 3 folds): 1 rank with 1 trial at a time pinned to one core, 2 such ranks, 4 oversubscribed, and 1 rank with 2 trials at a
# time (one process using both cores). Finally the time of one Allreduce by size with 2 and 4 ranks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dll="$here/bin/Release/net10.0/MLNet.Optimizers.Benchmarks.dll"
digits="$here/../../samples/data/digits.csv"
[ -f "$dll" ] || { echo "build first: dotnet build tests/MLNet.Optimizers.Benchmarks -c Release"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=dumb

comparison() {
  local epochs="${1:-27}"
  mpirun -np 1 --bind-to core dotnet "$dll" mpi-comparison "$digits" "$epochs" 1
  mpirun -np 2 --bind-to core dotnet "$dll" mpi-comparison "$digits" "$epochs" 1
  mpirun -np 4 --oversubscribe --bind-to none dotnet "$dll" mpi-comparison "$digits" "$epochs" 1
  mpirun -np 1 --bind-to none dotnet "$dll" mpi-comparison "$digits" "$epochs" 2
}

if [ "${1:-}" = comparison ]; then
  comparison "${2:-27}"
  exit 0
fi

mpirun -np 1 --bind-to none dotnet "$dll" mpi-scaling "$@"
mpirun -np 1 --bind-to core dotnet "$dll" mpi-scaling "$@"
mpirun -np 2 --bind-to core dotnet "$dll" mpi-scaling "$@"
mpirun -np 4 --oversubscribe --bind-to none dotnet "$dll" mpi-scaling "$@"
comparison
for ranks in 2 4; do
  mpirun -np "$ranks" --oversubscribe --bind-to none dotnet "$dll" mpi-allreduce
done
