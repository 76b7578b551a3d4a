#!/usr/bin/env bash
# Runs inside the QEMU guest (test/kvm/guest_suite.mjs starts it through guest-run.sh, in the
# repository): the chosen sandbox test files one at a time in one vitest (starting one costs a
# minute or more there: node_modules is read over uncached 9p), each file with a time limit
# kept by a watchdog here — a file past it has vitest killed, and a new vitest goes on with the
# files not yet run — then the KVM crates' cargo test binaries. The guest's output reaches the host as it is
# written, so every step says on stdout when it starts and ends, and a heartbeat says what is
# running; the host side reads these lines (its watchdog and summary) — keep their shape:
#   [test:kvm] +SECONDS start FILE | end FILE: passed|FAILED (exit N)|TIMED OUT in S s
#   [test:kvm] +SECONDS heartbeat: ... | done: status N (...)
# Whatever a file leaves running (a sentry, its vCPU threads, a stub) is named and killed
# before the next file, so that nothing keeps the guest from powering off.
#
# Environment: KVM_SUITE_FILES, KVM_SUITE_BINS (space-separated), KVM_SUITE_FILE_TIMEOUT (s),
# KVM_SUITE_HEARTBEAT (s), KVM_SUITE_TEST_TIMEOUT and KVM_SUITE_HOOK_TIMEOUT (ms, vitest's).
set -u
t0=$(date +%s)
# The guest kernel names a task blocked for 20 s (a stuck 9p read) on its console, which the
# host keeps (guest-run -v).
[ "${TSVISOR_KVM_GUEST:-}" = 1 ] && echo 20 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
# The guest's bare devtmpfs leaves /dev/kvm 0600 root; systemd's udev rule makes it 0666 on a
# usual host, which tests that run tsvisor as another user (limits: RLIMIT_NPROC) rely on.
[ "${TSVISOR_KVM_GUEST:-}" = 1 ] && chmod 0666 /dev/kvm
file_timeout=${KVM_SUITE_FILE_TIMEOUT:-300}
beat=${KVM_SUITE_HEARTBEAT:-30}
state=$(mktemp /tmp/kvm-suite-state.XXXXXX)
export KVM_SUITE_STATE=$state
now() { printf '%(%s)T' -1; }
say() { echo "[test:kvm] +$(($(now) - t0))s $*"; }

# Processes that exist before a step; whatever is new after it (kernel threads aside) is left over.
# Sorted as text, in the C locale: comm(1) compares lines that way (numeric order made it
# complain and miss pids, e.g. 1000 after 999).
baseline() { ps -e -o pid= | tr -d ' ' | LC_ALL=C sort; }

# Names the processes that appeared since $1 (a file of pids) and are still alive, with every
# vCPU thread's kernel stack (a thread stuck in KVM_RUN is the soft lockup seen once), then
# kills them by pid. Our own shell and heartbeat are older than the baseline.
sweep() {
  local before=$1 what=$2 p left=()
  # Only in the guest, where every process is this run's; on a shared host (--here) new
  # processes may be anyone's.
  [ "${TSVISOR_KVM_GUEST:-}" = 1 ] || return 0
  for p in $(baseline | LC_ALL=C comm -13 "$before" -); do
    [ "$p" = $$ ] && continue
    [ -r "/proc/$p/stat" ] || continue
    # kernel threads (children of kthreadd), and this script's own helpers (the heartbeat's sleep)
    case "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f2)" in 2 | $$ | "$hb") continue ;; esac
    [ -n "$(tr -d '\0' <"/proc/$p/cmdline" 2>/dev/null)" ] || continue
    left+=("$p")
  done
  [ ${#left[@]} -gt 0 ] || return 0
  say "left behind by $what (killed now): pid ppid stat secs threads command"
  for p in "${left[@]}"; do
    ps -o pid=,ppid=,stat=,etimes=,nlwp=,args= -p "$p" 2>/dev/null | cut -c1-200 | sed 's/^/[test:kvm]     /'
    for t in /proc/"$p"/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = kvm-vcpu ] || continue
      echo "[test:kvm]     vCPU thread ${t##*/} state $(awk '{print $3}' "$t/stat" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null):"
      sed 's/^/[test:kvm]       /' "$t/stack" 2>/dev/null | head -n 12
    done
  done
  for p in "${left[@]}"; do kill -KILL "$p" 2>/dev/null; done
  sleep 1
  for p in "${left[@]}"; do
    [ -d "/proc/$p" ] && say "pid $p survived SIGKILL (state $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null))"
  done
  return 0
}

# Builtins only (read -t for sleep, $(<file), printf %T): every other command is a program
# exec'd from the host's root over 9p, so a stuck 9p would silence the heartbeat too, and
# the host could not tell it from a frozen guest.
heartbeat() {
  local m f since t load
  while ! read -r -t "$beat" -u 9 _; do
    printf -v t '%(%s)T' -1
    m=$(<"$state.module"); f=${m%%$'\t'*}; since=${m##*$'\t'}
    if [ -n "$m" ]; then m="$f for $((t - since)) s, test: $(<"$state.test")"
    else m="$(<"$state.step"), $(<"$state.count") files ended"; fi
    read -r load < /proc/loadavg
    echo "[test:kvm] +$((t - t0))s heartbeat: ${m:-between steps}, load ${load% * *}"
  done
}
mkfifo "$state.tick" && exec 9<>"$state.tick"
heartbeat &
hb=$!
# The heartbeat's sleep too: it holds our stdout, which the host reads to its end.
trap 'kill $(pgrep -P $hb) $hb 2>/dev/null' EXIT

passed=0; failed=0; timedout=0; status=0
count() {  # count RESULT NAME SECS: one step's line and tally
  case $1 in
  passed) passed=$((passed + 1)) ;;
  TIMED*) timedout=$((timedout + 1)); status=1 ;;
  *) failed=$((failed + 1)); status=1 ;;
  esac
}

# What one sandbox costs here before any test (every test file pays it per run): node's own
# start, and tsvisor running /bin/true on the first platform, twice (the second with warm page
# caches, as most runs are, and its start-up steps traced: ts/sandbox/startup_trace.ts), then a
# busy shell loop with a pipe; with KVM_SUITE_CALIBRATE set (guest_suite.mjs --calibrate).
# KVM_SUITE_CALIBRATE_NODE_ARGS ("|"-separated node flag sets, the
# empty set first by default) repeats it with other node flags, to compare them here.
calibrate() {
  local p=${TSVISOR_PLATFORMS%%,*} t args sets
  ms() { local e=${EPOCHREALTIME/./}; echo $((e / 1000)); }
  IFS='|' read -r -a sets <<<"${KVM_SUITE_CALIBRATE_NODE_ARGS:-}"
  [ ${#sets[@]} -gt 0 ] || sets=("")
  for args in "${sets[@]}"; do
    t=("$(ms)")
    node $args -e 0; t+=("$(ms)")
    node $args bin/tsvisor.js run --platform "$p" -- /bin/true; t+=("$(ms)")
    TSVISOR_TRACE_STARTUP=1 node $args bin/tsvisor.js run --platform "$p" -- /bin/true 2>"$state.trace"; t+=("$(ms)")
    node $args bin/tsvisor.js run --platform "$p" -- /bin/busybox sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done; seq 1 2000 | wc -l' >/dev/null; t+=("$(ms)")
    say "calibration${args:+ (node $args)}: node -e 0 in $((t[1] - t[0])) ms; tsvisor run --platform $p -- /bin/true in $((t[2] - t[1])) ms, again $((t[3] - t[2])) ms; a shell loop and a pipe in $((t[4] - t[3])) ms; the second run's start-up:"
    sed 's/^/[test:kvm]   /' "$state.trace"
  done
}
[ -n "${KVM_SUITE_CALIBRATE:-}" ] && [ -n "${TSVISOR_PLATFORMS:-}" ] && calibrate

# The test files: one vitest for as many as it gets through. The watchdog kills it when a file
# runs past its limit, or when nothing starts or ends for that long (start-up, collection).
export KVM_SUITE_T0=$t0
# Each sandbox and native run's time, summed per file at the end (test/kvm/run_log.mjs).
export TSVISOR_TEST_RUNLOG=$state.runs
: >"$state.done"; echo 0 >"$state.count"; : >"$state.module"; : >"$state.test"; : >"$state.step"
remaining=(${KVM_SUITE_FILES:-})
while [ ${#remaining[@]} -gt 0 ]; do
  before=$(mktemp /tmp/kvm-suite-pids.XXXXXX)
  baseline >"$before"
  : >"$state.module"; : >"$state.test"
  echo "vitest starting for ${#remaining[@]} files" >"$state.step"
  say "vitest for ${#remaining[@]} files: ${remaining[*]}"
  # Its own session and process group: a kill reaches vitest, its workers and their sandboxes.
  # --no-isolate: every file in the one forks worker — a fresh worker per file cost 10-15 s of
  # node start-up and imports over 9p in the guest (16 files: ~190 s of a 923 s run).
  setsid node node_modules/vitest/vitest.mjs run --maxWorkers=1 --no-isolate --no-cache \
    --testTimeout="${KVM_SUITE_TEST_TIMEOUT:-300000}" --hookTimeout="${KVM_SUITE_HOOK_TIMEOUT:-600000}" \
    --reporter=default --reporter=./test/kvm/progress_reporter.mjs "${remaining[@]}" 2>&1 &
  vpid=$!
  last_change=$(now); last_seen=""; hung=""; timed=0
  # Builtins only here too (see heartbeat): the limit holds even if exec hangs.
  while kill -0 "$vpid" 2>/dev/null; do
    read -r -t 2 -u 9 _
    seen="$(<"$state.module")|$(<"$state.done")"
    [ "$seen" = "$last_seen" ] || { last_seen=$seen; last_change=$(now); mapfile -t d <"$state.done"; echo ${#d[@]} >"$state.count"; }
    if [ $(($(now) - last_change)) -gt "$file_timeout" ]; then
      m=$(<"$state.module")
      hung=${m%%$'\t'*}; timed=1
      say "timed out (limit $file_timeout s) in ${hung:-vitest outside any file}; the test then running: $(head -c 200 "$state.test")"
      kill -TERM -- -"$vpid" 2>/dev/null
      for _ in 1 2 3 4 5; do sleep 2; kill -0 "$vpid" 2>/dev/null || break; done
      kill -KILL -- -"$vpid" 2>/dev/null
      break
    fi
  done
  wait "$vpid"
  vrc=$?
  sweep "$before" "vitest"
  rm -f "$before"
  if [ -n "$hung" ]; then
    say "end $hung: TIMED OUT in $file_timeout s"
    echo "$hung	TIMED OUT" >>"$state.done"
  fi
  left=()
  for f in "${remaining[@]}"; do
    grep -q "^$f	" "$state.done" || left+=("$f")
  done
  if [ -z "$hung" ] && [ ${#left[@]} -gt 0 ]; then
    # vitest ended, or hung outside any file, without running these: failed, and no new try.
    [ $timed = 1 ] && why="vitest hung outside a file" || why="vitest exit $vrc"
    for f in "${left[@]}"; do say "end $f: NOT RUN ($why) in 0 s"; echo "$f	NOT RUN" >>"$state.done"; done
    left=()
  fi
  [ -n "$hung" ] || [ "$vrc" = 0 ] || grep -q "	FAILED$" "$state.done" || { say "vitest exit $vrc with no failed file (an error outside the tests)"; status=1; }
  remaining=("${left[@]}")
done
while IFS=$'\t' read -r f r; do count "$r"; done <"$state.done"
[ -s "$state.runs" ] && node test/kvm/run_log.mjs "$state.runs"

run_step() {  # run_step NAME TIMEOUT CMD...: one program with a time limit (the cargo tests)
  local name=$1 limit=$2 start rc before secs
  shift 2
  before=$(mktemp /tmp/kvm-suite-pids.XXXXXX)
  baseline >"$before"
  start=$(date +%s)
  echo "$name (since +$((start - t0))s)" >"$state.step"
  say "start $name"
  timeout -k 10 "$limit" "$@" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  if [ $rc = 124 ] || [ $rc = 137 ]; then say "end $name: TIMED OUT in $secs s"; count TIMED
  elif [ $rc = 0 ]; then say "end $name: passed in $secs s"; count passed
  else say "end $name: FAILED (exit $rc) in $secs s"; count FAILED
  fi
  sweep "$before" "$name"
  rm -f "$before"
  : >"$state.step"
}
for b in ${KVM_SUITE_BINS:-}; do
  run_step "cargo:$b" "$file_timeout" "./$b" --test-threads=1
done

# A lockup the guest kernel noticed (a vCPU thread stuck in it) is worth seeing on the host.
dmesg 2>/dev/null | grep -E 'soft lockup|hung_task|BUG:|Oops|WARNING:' | tail -n 20 | sed 's/^/[test:kvm] guest kernel: /'
say "done: status $status ($passed passed, $failed failed, $timedout timed out)"
rm -f "$state" "$state".*
exit $status
