#!/usr/bin/env bash
# A single-node Slurm "cluster" on this machine for the tests (munged + slurmctld + slurmd as
# plain background daemons, no systemd, no cgroups), as root:
#   scripts/slurm-local.sh up      writes /etc/slurm/slurm.conf, starts the daemons, waits for idle
#   scripts/slurm-local.sh down    stops what `up` started, wipes the job state (packages stay)
# It refuses to touch a Slurm configuration it did not write (exit 77: the test then skips).
# Recipe verified in ../shared/slurm-mpi-notes.md (Slurm 22.05, Open MPI 4.1 with srun --mpi=pmix).
set -euo pipefail
CONF=/etc/slurm/slurm.conf
MARK="# written by genoforest scripts/slurm-local.sh"

up() {
  if [[ -e $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
    echo "slurm-local: $CONF exists and was not written by genoforest: not touching this machine's Slurm" >&2
    exit 77
  fi
  local host ncpu mem
  host=$(hostname -s)
  ncpu=${SLURM_CI_CPUS:-4}   # more CPUs than cores is accepted (config_overrides): -n 4 on 2 cores
  mem=$(($(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) - 1024))
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /etc/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  [[ -s /etc/munge/munge.key ]] || runuser -u munge -- mungekey --create
  if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  munge -n | unmunge >/dev/null
  install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
  cat > "$CONF" <<CONF
$MARK
ClusterName=gftest
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=pmix
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${ncpu} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=60 State=UP
CONF
  pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld -i
  pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
  for _ in $(seq 150); do
    [[ "$(sinfo -h -N -o %t 2>/dev/null || true)" == idle ]] && return 0
    sleep 0.2
  done
  echo "slurm-local: the node did not become idle:" >&2
  tail -5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

down() {
  [[ -e $CONF ]] && ! grep -qF "$MARK" "$CONF" && { echo "slurm-local: not our Slurm: left alone" >&2; return 0; }
  scancel --full --quiet --user=root 2>/dev/null || true
  local pids=()
  for f in /run/slurmd.pid:slurmd /run/slurmctld.pid:slurmctld /run/munge/munged.pid:munged; do
    local file=${f%%:*} comm=${f##*:} pid
    [[ -s $file ]] || continue
    pid=$(cat "$file")
    if [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == "$comm" ]]; then kill -TERM "$pid" && pids+=("$pid"); fi
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p"
  done
  rm -f /run/slurmd.pid /run/slurmctld.pid
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/*
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
