#!/usr/bin/env bash
# Simulates two machines on one host: two network namespaces ("machines" a and b) joined by a veth pair, one MPI rank in each,
# Open MPI talking TCP over the veth link (no shared memory). Needs root (ip netns) and Open MPI. Usage, from anywhere:
#   sudo tests/MLNet.Optimizers.Benchmarks/mpi-two-machines.sh [DLL ARGS...]
# Without arguments it runs the allreduce timing and the scaling run of tests/MLNet.Optimizers.Benchmarks (build it first:
# dotnet build tests/MLNet.Optimizers.Benchmarks -c Release). Set RATE (e.g. 10gbit) and DELAY (e.g. 50us) to shape the link
# with netem; by default it runs at memory speed, so it measures the software path (TCP stack), not a real network.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)"; exit 1; }
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dll="$repo/tests/MLNet.Optimizers.Benchmarks/bin/Release/net10.0/MLNet.Optimizers.Benchmarks.dll"
[ $# -gt 0 ] || [ -f "$dll" ] || { echo "build first: dotnet build tests/MLNet.Optimizers.Benchmarks -c Release"; exit 1; }

workdir="$(mktemp -d)"
cleanup() {
  ip netns del mlnet-a 2> /dev/null || true
  ip netns del mlnet-b 2> /dev/null || true
}
trap 'cleanup; rm -rf "$workdir"' EXIT
cleanup

ip netns add mlnet-a
ip netns add mlnet-b
ip link add mlnet-va type veth peer name mlnet-vb
ip link set mlnet-va netns mlnet-a
ip link set mlnet-vb netns mlnet-b
ip -n mlnet-a addr add 10.77.0.1/24 dev mlnet-va
ip -n mlnet-b addr add 10.77.0.2/24 dev mlnet-vb
for ns in a b; do
  ip -n "mlnet-$ns" link set lo up
  ip -n "mlnet-$ns" link set "mlnet-v$ns" up
  if [ -n "${RATE:-}${DELAY:-}" ]; then
    ip netns exec "mlnet-$ns" tc qdisc add dev "mlnet-v$ns" root netem ${RATE:+rate $RATE} ${DELAY:+delay $DELAY}
  fi
done

# Open MPI starts its daemon on the other "machine" through an rsh agent: this one enters machine b's namespace (with its own
# host name, so Open MPI sees two nodes) instead of logging in with ssh.
cat > "$workdir/enter" << 'AGENT'
#!/bin/sh
host="$1"; shift
case "$host" in
  10.77.0.1) ns=mlnet-a ;;
  *) ns=mlnet-b ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
AGENT
chmod +x "$workdir/enter"

run() {
  ip netns exec mlnet-a unshare --uts sh -c "hostname mlnet-a; exec \"\$@\"" sh \
    env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=dumb \
    mpirun -np 2 --host 10.77.0.1:1,10.77.0.2:1 --bind-to none \
      --mca plm_rsh_agent "$workdir/enter" \
      --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
      dotnet "$@"
}

if [ $# -gt 0 ]; then
  run "$@"
else
  run "$dll" mpi-allreduce
  run "$dll" mpi-scaling
fi
