#!/usr/bin/env bash
# Data-parallel scaling on one machine: L-BFGS on 1M x 100 logistic data (args: rows features iterations) with 1 rank using
# every core (the objective's own threads), then 1 and 2 ranks pinned to one core each (what adding machines does, per core),
# then 4 ranks oversubscribed; finally the time of one Allreduce by size with 2 and 4 ranks. Build first:
#   dotnet build tests/MLNet.Optimizers.Benchmarks -c Release
set -euo pipefail
dll="$(cd "$(dirname "$0")" && pwd)/bin/Release/net10.0/MLNet.Optimizers.Benchmarks.dll"
[ -f "$dll" ] || { echo "build first: dotnet build tests/MLNet.Optimizers.Benchmarks -c Release"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=dumb
mpirun -np 1 --bind-to none dotnet "$dll" mpi-scaling "$@"
mpirun -np 1 --bind-to core dotnet "$dll" mpi-scaling "$@"
mpirun -np 2 --bind-to core dotnet "$dll" mpi-scaling "$@"
mpirun -np 4 --oversubscribe --bind-to none dotnet "$dll" mpi-scaling "$@"
for ranks in 2 4; do
  mpirun -np "$ranks" --oversubscribe --bind-to none dotnet "$dll" mpi-allreduce
done
