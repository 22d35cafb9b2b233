#!/usr/bin/env bash
# dev-slurm.sh - a real single-node Slurm cluster on this machine, for trying hfhpc and for CI.
#
#   scripts/dev-slurm.sh start [--accounting | --no-accounting]
#   scripts/dev-slurm.sh stop
#   scripts/dev-slurm.sh status
#
# Debian/Ubuntu, as root, no systemd needed, no cgroups: this host becomes controller and only
# compute node (munged, slurmctld, slurmd; with --accounting also MariaDB + slurmdbd so that
# `sacct` works). Everything is idempotent: `start` installs only missing packages, rewrites
# /etc/slurm/slurm.conf only when its content changes (then restarts the daemons it started),
# starts only what is not running, waits (bounded) for the node, and prints one summary line on
# stdout. `stop` cancels the jobs still known to the controller, then stops exactly the daemons
# `start` recorded in $LOCAL_SLURM_RUN_DIR/*.pid (never anything by name). `status` prints one
# line and exits 0 when the node accepts jobs, 1 otherwise.
#
# Adapted from the tested reference in the shared workspace (start-local-slurm.sh) so the
# repository does not depend on it at run time; the pid directory, settings and the
# slurm.conf it writes are compatible, so either script can stop what the other started.
# docs/slurm.md explains the cluster, its settings and its gotchas.
#
# Settings (environment; all optional):
#   HFHPC_SLURM_ACCOUNTING / LOCAL_SLURM_ACCOUNTING  1 = MariaDB + slurmdbd (sacct works); default 0.
#                               The --accounting / --no-accounting flags win over both.
#   LOCAL_SLURM_CPUS            CPUs the node advertises (default 8: more than the real cores on
#                               purpose, so small arrays run in parallel)
#   LOCAL_SLURM_REAL_MEMORY     MiB the node advertises (default 90% of detected)
#   LOCAL_SLURM_DEF_MEM_PER_CPU MiB for a job without --mem (default 256)
#   LOCAL_SLURM_MAX_ARRAY_SIZE  MaxArraySize (default 1001, Slurm's own default)
#   LOCAL_SLURM_MAX_JOB_COUNT   MaxJobCount (default 10000; must exceed the largest array)
#   LOCAL_SLURM_MIN_JOB_AGE     seconds a finished job stays visible to squeue/scontrol (default 300)
#   LOCAL_SLURM_CRED_EXPIRE     cred_expire; also the delay before a requeued task may start
#                               again (default 10; Slurm's own default is 120)
#   LOCAL_SLURM_PARTITION       partition name (default debug)
#   LOCAL_SLURM_CLUSTER         ClusterName (default localcluster; changing it wipes controller state)
#   LOCAL_SLURM_TIMEOUT         seconds to wait for the node (default 90)
#   LOCAL_SLURM_RUN_DIR         pid files of what start started (default /run/local-slurm)
#   LOCAL_SLURM_NO_INSTALL=1    never call apt-get; fail when packages are missing
#   LOCAL_SLURM_KEEP_JOBS=1     stop: do not cancel jobs first
set -euo pipefail

PROG=dev-slurm
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
usage() {
  printf 'usage: %s start [--accounting|--no-accounting] | stop | status\n' "$0" >&2
  exit 2
}

RUN_DIR=${LOCAL_SLURM_RUN_DIR:-/run/local-slurm}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
DBD_CONF=$CONF_DIR/slurmdbd.conf
LOG_DIR=/var/log/slurm
CTLD_STATE=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
MUNGE_KEY=/etc/munge/munge.key
MUNGE_SOCKET_DIR=/run/munge
MARKER="# Managed by hfhpc scripts/dev-slurm.sh"
# A slurm.conf written by the shared reference script is ours too (same content, other marker).
REF_MARKER="# Managed by start-local-slurm.sh"

# ---------------------------------------------------------------- process helpers
# alive PID NAME: PID is a running (not zombie) process whose command name is NAME.
alive() {
  local st
  [[ -n $1 && -r /proc/$1/comm ]] || return 1
  [[ $(cat /proc/"$1"/comm 2>/dev/null) == "$2" ]] || return 1
  st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}
# pid_of NAME: the pid recorded in $RUN_DIR/NAME.pid, if that process is alive and is NAME.
pid_of() {
  local f=$RUN_DIR/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(tr -dc '0-9' <"$f")
  alive "$pid" "$1" || return 1
  printf '%s\n' "$pid"
}
wait_for() { # wait_for SECONDS CMD... : retry CMD every 0.5 s
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) < end )) || return 1
    sleep 0.5
  done
}
# stop_pid NAME: SIGTERM the recorded daemon, SIGKILL after 20 s; 1 if it survives.
stop_pid() {
  local name=$1 pid
  pid=$(pid_of "$name") || { rm -f "$RUN_DIR/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local end=$(( $(date +%s) + 20 ))
  while alive "$pid" "$name" && (( $(date +%s) < end )); do sleep 0.5; done
  if alive "$pid" "$name"; then
    log "$name (pid $pid) ignored SIGTERM for 20 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  alive "$pid" "$name" && { log "$name (pid $pid) is still running"; return 1; }
  rm -f "$RUN_DIR/$name.pid"
  STOPPED+=("$name($pid)")
}
munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
ctld_up()  { scontrol ping 2>/dev/null | grep -q 'is UP'; }
tail_log() { [[ -f $1 ]] && { echo "---- last lines of $1:" >&2; tail -n 15 "$1" >&2; }; return 0; }
node_name() { hostname -s; }
node_state() { sinfo -h -N -n "$(node_name)" -o '%T' 2>/dev/null | head -n1; }
usable_state() { case $1 in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac; }
accounting_on() { [[ -f $CONF ]] && grep -q '^AccountingStorageType=accounting_storage/slurmdbd' "$CONF"; }

# ================================================================= status
cmd_status() {
  if ! command -v sinfo >/dev/null || ! command -v scontrol >/dev/null; then
    echo "$PROG down: Slurm is not installed (run: scripts/dev-slurm.sh start)"; return 1
  fi
  if ! ctld_up; then
    echo "$PROG down: slurmctld does not answer 'scontrol ping' (run: scripts/dev-slurm.sh start)"; return 1
  fi
  local state version jobs acct=none
  state=$(node_state || true)
  version=$(sinfo -V 2>/dev/null | awk '{print $2}')
  jobs=$(squeue -h -r -o '%i' 2>/dev/null | wc -l)
  accounting_on && acct=slurmdbd
  if usable_state "$state"; then
    echo "$PROG up: slurm $version, node $(node_name) $state, partition $(sinfo -h -o '%R' | head -n1), accounting=$acct, $jobs job(s) queued or running"
    return 0
  fi
  echo "$PROG down: node $(node_name) is '${state:-unknown}' (see /var/log/slurm/slurmd.log)"
  return 1
}

# ================================================================= stop
cmd_stop() {
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  if [[ ${LOCAL_SLURM_KEEP_JOBS:-0} != 1 ]] && pid_of slurmctld >/dev/null && command -v squeue >/dev/null; then
    local jobs
    mapfile -t jobs < <(squeue -h -t PD,R,CG,S,CF,RQ,RS,SO,SI -o '%F' 2>/dev/null | sort -u)
    if ((${#jobs[@]})); then
      log "cancelling ${#jobs[@]} job(s)/array(s): ${jobs[*]}"
      scancel "${jobs[@]}" 2>/dev/null || true
      # Jobs left running would outlive slurmd as orphans.
      for _ in $(seq 1 60); do
        [[ -z $(squeue -h -t PD,R,CG,S,CF -o '%i' 2>/dev/null) ]] && break
        sleep 0.5
      done
      [[ -z $(squeue -h -t R,CG -o '%i' 2>/dev/null) ]] || log "warning: some jobs are still running/completing"
    fi
  fi
  local rc=0
  STOPPED=()
  # Compute node first, the database last.
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    stop_pid "$name" || rc=1
  done
  if ((${#STOPPED[@]})); then
    echo "$PROG stopped: ${STOPPED[*]}"
  else
    echo "$PROG stopped: nothing was running (no live daemon recorded in $RUN_DIR)"
  fi
  return $rc
}

# ================================================================= start
cmd_start() {
  local T0 ACCOUNTING=${HFHPC_SLURM_ACCOUNTING:-${LOCAL_SLURM_ACCOUNTING:-0}}
  T0=$(date +%s)
  while (($#)); do
    case $1 in
      --accounting) ACCOUNTING=1 ;;
      --no-accounting) ACCOUNTING=0 ;;
      *) usage ;;
    esac
    shift
  done
  [[ $ACCOUNTING == 0 || $ACCOUNTING == 1 ]] || die "accounting must be 0 or 1, got '$ACCOUNTING'"
  [[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts system daemons)"

  local CPUS=${LOCAL_SLURM_CPUS:-8} DEF_MEM_PER_CPU=${LOCAL_SLURM_DEF_MEM_PER_CPU:-256}
  local MAX_ARRAY_SIZE=${LOCAL_SLURM_MAX_ARRAY_SIZE:-1001} MAX_JOB_COUNT=${LOCAL_SLURM_MAX_JOB_COUNT:-10000}
  local MIN_JOB_AGE=${LOCAL_SLURM_MIN_JOB_AGE:-300} CRED_EXPIRE=${LOCAL_SLURM_CRED_EXPIRE:-10}
  local PARTITION=${LOCAL_SLURM_PARTITION:-debug} CLUSTER=${LOCAL_SLURM_CLUSTER:-localcluster}
  local TIMEOUT=${LOCAL_SLURM_TIMEOUT:-90}
  local DB_NAME=slurm_acct_db DB_USER=slurm
  local DB_PASS=local-slurm-accounting # a throw-away database listening on 127.0.0.1 only
  local v
  for v in CPUS DEF_MEM_PER_CPU MAX_ARRAY_SIZE MAX_JOB_COUNT MIN_JOB_AGE CRED_EXPIRE TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "LOCAL_SLURM_$v must be a non-negative integer, got '${!v}'"
  done
  for v in CPUS MAX_ARRAY_SIZE MAX_JOB_COUNT CRED_EXPIRE TIMEOUT; do
    (( ${!v} > 0 )) || die "LOCAL_SLURM_$v must be greater than 0"
  done
  (( MAX_ARRAY_SIZE <= 4000001 )) || die "LOCAL_SLURM_MAX_ARRAY_SIZE must be at most 4000001 (Slurm's limit)"
  [[ $PARTITION =~ ^[A-Za-z0-9_.-]+$ ]] || die "LOCAL_SLURM_PARTITION '$PARTITION' is not a valid partition name"
  [[ $CLUSTER =~ ^[a-z0-9_-]+$ ]] || die "LOCAL_SLURM_CLUSTER '$CLUSTER' must be lower-case letters, digits, '_' or '-'"

  # ---- install what is missing
  local PKGS=(munge slurmctld slurmd slurm-client) missing=() p
  ((ACCOUNTING)) && PKGS+=(slurmdbd mariadb-server)
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    [[ ${LOCAL_SLURM_NO_INSTALL:-0} == 1 ]] && die "missing packages: ${missing[*]} (LOCAL_SLURM_NO_INSTALL=1)"
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get (Debian/Ubuntu only)"
    log "installing: ${missing[*]}"
    local apt_log
    apt_log=$(mktemp /tmp/dev-slurm-apt.XXXXXX)
    if ! apt-get update >"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2; die "apt-get update failed (full log: $apt_log)"
    fi
    # Package services must not start through invoke-rc.d: the daemons are started below.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
          "${missing[@]}" >>"$apt_log" 2>&1; then
      tail -n 20 "$apt_log" >&2; die "apt-get install ${missing[*]} failed (full log: $apt_log)"
    fi
    rm -f "$apt_log"
  fi
  local bins=(munged munge unmunge slurmctld slurmd sbatch sinfo scontrol squeue) b
  ((ACCOUNTING)) && bins+=(slurmdbd sacctmgr mariadbd mariadb mariadb-admin)
  for b in "${bins[@]}"; do
    command -v "$b" >/dev/null || die "'$b' not found after install"
  done

  # ---- node facts
  local NODE detected_mem REAL_MEMORY
  NODE=$(node_name)
  [[ -n $NODE ]] || die "hostname -s is empty"
  detected_mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  [[ -n $detected_mem ]] || detected_mem=$(( $(awk '/^MemTotal:/{print $2}' /proc/meminfo) / 1024 ))
  REAL_MEMORY=${LOCAL_SLURM_REAL_MEMORY:-$(( detected_mem * 9 / 10 ))}
  [[ $REAL_MEMORY =~ ^[0-9]+$ && $REAL_MEMORY -gt 0 ]] || die "bad RealMemory '$REAL_MEMORY'"

  # ---- directories, munge key
  install -d -m 0755 "$RUN_DIR" "$CONF_DIR" "$LOG_DIR"
  install -d -m 0700 "$CTLD_STATE"
  install -d -m 0755 "$SLURMD_SPOOL"
  install -d -m 0700 -o munge -g munge /etc/munge /var/log/munge
  install -d -m 0711 -o munge -g munge /var/lib/munge
  install -d -m 0755 -o munge -g munge "$MUNGE_SOCKET_DIR"
  if [[ ! -s $MUNGE_KEY ]]; then
    log "creating munge key $MUNGE_KEY"
    if command -v mungekey >/dev/null; then
      runuser -u munge -- mungekey --create --keyfile="$MUNGE_KEY" --force
    else
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
    fi
  fi
  chown munge:munge "$MUNGE_KEY"
  chmod 0400 "$MUNGE_KEY"

  # ---- slurm.conf
  local acct_lines
  new_conf=$(mktemp /tmp/dev-slurm-conf.XXXXXX)
  trap 'rm -f "$new_conf"' EXIT
  if ((ACCOUNTING)); then
    acct_lines=$'# Accounting through the local slurmdbd (MariaDB): sacct works.\nAccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=127.0.0.1\nAccountingStoragePort=6819'
  else
    acct_lines=$'# No slurmdbd: sacct has no database (it prints \'Slurm accounting storage is disabled\').\nAccountingStorageType=accounting_storage/none'
  fi
  cat >"$new_conf" <<EOF
$MARKER - rewritten on every start; set LOCAL_SLURM_* variables instead of editing.
# Single-node cluster: this host is controller and the only compute node.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again.
AuthInfo=cred_expire=$CRED_EXPIRE
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$CTLD_STATE
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups anywhere: process tracking through /proc, no task binding, no accounting gather.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
JobContainerType=job_container/none
SwitchType=switch/none
MpiDefault=none
$acct_lines
# Every finished job (and array task) is also appended as one line to JobCompLoc.
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
SchedulerType=sched/backfill
# Re-evaluate pending jobs every few seconds (Slurm's defaults are 60 s / 30 s), so jobs whose
# BeginTime passes (e.g. after a requeue) start promptly.
SchedulerParameters=sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM_PER_CPU
# Trust the node line below rather than the detected hardware (allows CPUs > real cores).
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
MaxArraySize=$MAX_ARRAY_SIZE
MaxJobCount=$MAX_JOB_COUNT
MinJobAge=$MIN_JOB_AGE
KillWait=10
InactiveLimit=0
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$REAL_MEMORY State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  local conf_changed=0
  if ! { [[ -f $CONF ]] && cmp -s "$new_conf" "$CONF"; }; then
    if [[ -f $CONF ]] && ! head -n1 "$CONF" | grep -qF -e "$MARKER" -e "$REF_MARKER"; then
      local bak
      bak="$CONF.bak.$(date +%Y%m%d%H%M%S)"
      cp -p "$CONF" "$bak"
      log "existing $CONF was not written by this script; saved as $bak"
    fi
    install -m 0644 "$new_conf" "$CONF"
    conf_changed=1
  fi

  STOPPED=()
  # ---- munged
  if munge_ok; then
    pid_of munged >/dev/null || log "munged already running (not started by this script); using it"
  else
    rm -f "$RUN_DIR/munged.pid"
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_SOCKET_DIR/munged.pid" \
      || { tail_log /var/log/munge/munged.log; die "munged failed to start"; }
    wait_for 10 test -s "$MUNGE_SOCKET_DIR/munged.pid" || die "munged wrote no pid file"
    cp "$MUNGE_SOCKET_DIR/munged.pid" "$RUN_DIR/munged.pid"
    wait_for 10 munge_ok || { tail_log /var/log/munge/munged.log; die "munge credentials do not round-trip"; }
  fi

  # ---- accounting: MariaDB + slurmdbd
  if ((ACCOUNTING)); then
    db_ok() { mariadb-admin --connect-timeout=2 ping >/dev/null 2>&1; }
    dbd_ok() { sacctmgr -n -P show cluster format=cluster >/dev/null 2>&1; }
    install -d -m 0755 -o mysql -g mysql /run/mysqld
    if db_ok; then
      pid_of mariadbd >/dev/null || log "a MariaDB server is already running (not started by this script); using it"
    else
      rm -f "$RUN_DIR/mariadbd.pid"
      if [[ ! -d /var/lib/mysql/mysql ]]; then
        log "initialising MariaDB data directory"
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$LOG_DIR/mariadbd.stdout" 2>&1 \
          || { tail_log "$LOG_DIR/mariadbd.stdout"; die "mariadb-install-db failed"; }
      fi
      log "starting mariadbd"
      rm -f /run/mysqld/mysqld.pid
      setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 --pid-file=/run/mysqld/mysqld.pid \
        >>"$LOG_DIR/mariadbd.stdout" 2>&1 </dev/null &
      wait_for 60 db_ok || { tail_log "$LOG_DIR/mariadbd.stdout"; die "mariadbd did not answer within 60 s"; }
      wait_for 10 test -s /run/mysqld/mysqld.pid || die "mariadbd wrote no pid file"
      cp /run/mysqld/mysqld.pid "$RUN_DIR/mariadbd.pid"
    fi
    mariadb -e "CREATE DATABASE IF NOT EXISTS $DB_NAME;
      CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
      ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
      GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost'; FLUSH PRIVILEGES;" \
      || die "could not create the accounting database/user in MariaDB"
    local new_dbd
    new_dbd=$(mktemp /tmp/dev-slurm-dbd.XXXXXX)
    cat >"$new_dbd" <<EOF2
$MARKER - rewritten on every start.
AuthType=auth/munge
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$LOG_DIR/slurmdbd.log
PidFile=$RUN_DIR/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
EOF2
    if ! { [[ -f $DBD_CONF ]] && cmp -s "$new_dbd" "$DBD_CONF"; }; then
      install -m 0600 -o root -g root "$new_dbd" "$DBD_CONF"
      pid_of slurmdbd >/dev/null && { log "restarting slurmdbd for the new slurmdbd.conf"; stop_pid slurmdbd; }
    fi
    rm -f "$new_dbd"
    if ! pid_of slurmdbd >/dev/null; then
      log "starting slurmdbd"
      slurmdbd >>"$LOG_DIR/slurmdbd.stdout" 2>&1 </dev/null \
        || { tail_log "$LOG_DIR/slurmdbd.stdout"; tail_log "$LOG_DIR/slurmdbd.log"; die "slurmdbd failed to start"; }
    fi
    wait_for 30 dbd_ok || { tail_log "$LOG_DIR/slurmdbd.stdout"; tail_log "$LOG_DIR/slurmdbd.log"; die "slurmdbd did not answer sacctmgr within 30 s"; }
  fi

  # ---- slurmctld / slurmd
  if ((conf_changed)); then
    # Running jobs survive: their state is in $CTLD_STATE and slurmstepd keeps running.
    for v in slurmd slurmctld; do
      pid_of "$v" >/dev/null && { log "restarting $v to apply the new slurm.conf"; stop_pid "$v"; }
    done
  fi
  # A state directory written under another ClusterName makes slurmctld refuse to start.
  if [[ -f $CTLD_STATE/clustername ]] && [[ $(<"$CTLD_STATE/clustername") != "$CLUSTER" ]]; then
    stop_pid slurmctld
    log "controller state belongs to cluster '$(<"$CTLD_STATE/clustername")'; clearing $CTLD_STATE"
    find "$CTLD_STATE" -mindepth 1 -delete
  fi
  if pid_of slurmctld >/dev/null; then
    :
  elif ctld_up; then
    die "a slurmctld not started by this script is answering on this host; stop it first"
  else
    log "starting slurmctld"
    slurmctld >>"$LOG_DIR/slurmctld.stdout" 2>&1 </dev/null \
      || { tail_log "$LOG_DIR/slurmctld.stdout"; tail_log "$LOG_DIR/slurmctld.log"; die "slurmctld failed to start"; }
  fi
  wait_for 30 ctld_up || { tail_log "$LOG_DIR/slurmctld.stdout"; tail_log "$LOG_DIR/slurmctld.log"; die "slurmctld did not answer 'scontrol ping' within 30 s"; }
  pid_of slurmctld >/dev/null || die "slurmctld answers but $RUN_DIR/slurmctld.pid does not name a live slurmctld"
  if ((ACCOUNTING)); then
    # slurmctld registers its cluster in slurmdbd by itself; add it by hand if that has not happened.
    cluster_known() { sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER"; }
    if ! wait_for 15 cluster_known; then
      sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
      wait_for 15 cluster_known || die "cluster $CLUSTER is not registered in slurmdbd"
    fi
  fi
  if ! pid_of slurmd >/dev/null; then
    log "starting slurmd"
    slurmd >>"$LOG_DIR/slurmd.stdout" 2>&1 </dev/null \
      || { tail_log "$LOG_DIR/slurmd.stdout"; tail_log "$LOG_DIR/slurmd.log"; die "slurmd failed to start"; }
    wait_for 15 pid_of slurmd || { tail_log "$LOG_DIR/slurmd.stdout"; tail_log "$LOG_DIR/slurmd.log"; die "slurmd did not stay up"; }
  fi

  # ---- wait for the node
  local deadline resumed=0 state=
  deadline=$(( $(date +%s) + TIMEOUT ))
  while :; do
    state=$(node_state || true)
    usable_state "$state" && break
    case $state in
      down*|drain*|fail*)
        if ((resumed == 0)) && pid_of slurmd >/dev/null; then
          log "node $NODE is '$state'; asking slurmctld to resume it"
          scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
          resumed=1
        fi ;;
    esac
    if (( $(date +%s) >= deadline )); then
      tail_log "$LOG_DIR/slurmd.log"; tail_log "$LOG_DIR/slurmctld.log"
      scontrol show node "$NODE" >&2 || true
      die "node $NODE not usable after ${TIMEOUT}s (state '${state:-unknown}')"
    fi
    pid_of slurmd >/dev/null || { tail_log "$LOG_DIR/slurmd.log"; die "slurmd exited"; }
    sleep 1
  done

  local version acct=none
  version=$(sinfo -V 2>/dev/null | awk '{print $2}')
  ((ACCOUNTING)) && acct=slurmdbd
  printf '%s ready: slurm %s, cluster %s, node %s %s (CPUs=%s RealMemory=%sM), partition %s, MaxArraySize=%s, accounting=%s, pids munged=%s slurmctld=%s slurmd=%s, %ss\n' \
    "$PROG" "$version" "$CLUSTER" "$NODE" "$state" "$CPUS" "$REAL_MEMORY" "$PARTITION" "$MAX_ARRAY_SIZE" "$acct" \
    "$(pid_of munged || echo external)" "$(pid_of slurmctld)" "$(pid_of slurmd)" "$(( $(date +%s) - T0 ))"
}

(($#)) || usage
cmd=$1; shift
case $cmd in
  start) cmd_start "$@" ;;
  stop) (($# == 0)) || usage; cmd_stop ;;
  status) (($# == 0)) || usage; cmd_status ;;
  *) usage ;;
esac
