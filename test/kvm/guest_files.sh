#!/usr/bin/env bash
# Runs inside the QEMU guest (test/kvm/guest_suite.mjs starts it through guest-run.sh, in the
# repository): the chosen sandbox test files one at a time, each in its own vitest with a time
# limit, then the KVM crates' cargo test binaries. The guest's output reaches the host as it is
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
file_timeout=${KVM_SUITE_FILE_TIMEOUT:-300}
beat=${KVM_SUITE_HEARTBEAT:-30}
state=$(mktemp /tmp/kvm-suite-state.XXXXXX)
export KVM_SUITE_STATE=$state
say() { echo "[test:kvm] +$(($(date +%s) - t0))s $*"; }

# Processes that exist before a step; whatever is new after it (kernel threads aside) is left over.
baseline() { ps -e -o pid= | tr -d ' ' | sort -n; }

# Names the processes that appeared since $1 (a file of pids) and are still alive, with every
# vCPU thread's kernel stack (a thread stuck in KVM_RUN is the soft lockup seen once), then
# kills them by pid. Our own shell and heartbeat are older than the baseline.
sweep() {
  local before=$1 what=$2 p left=()
  # Only in the guest, where every process is this run's; on a shared host (--here) new
  # processes may be anyone's.
  [ "${TSVISOR_KVM_GUEST:-}" = 1 ] || return 0
  for p in $(baseline | comm -13 "$before" -); do
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

current=""; current_t=0
heartbeat() {
  while sleep "$beat"; do
    local c now
    c=$(cat "$state.file" 2>/dev/null)
    now=$(date +%s)
    echo "[test:kvm] +$((now - t0))s heartbeat: ${c:-between steps}, test: $(cat "$state" 2>/dev/null | head -c 160), load $(cut -d' ' -f1-3 /proc/loadavg)"
  done
}
heartbeat &
hb=$!
# The heartbeat's sleep too: it holds our stdout, which the host reads to its end.
trap 'kill $(pgrep -P $hb) $hb 2>/dev/null' EXIT

passed=0; failed=0; timedout=0; status=0
run_step() {  # run_step NAME TIMEOUT CMD...
  local name=$1 limit=$2 start rc before
  shift 2
  before=$(mktemp /tmp/kvm-suite-pids.XXXXXX)
  baseline >"$before"
  start=$(date +%s)
  echo "$name (since +$((start - t0))s)" >"$state.file"
  : >"$state"
  say "start $name"
  timeout -k 10 "$limit" "$@" 2>&1
  rc=$?
  local secs=$(($(date +%s) - start))
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    say "timed out (limit $limit s); the test then running: $(head -c 200 "$state")"
    say "end $name: TIMED OUT in $secs s"
    timedout=$((timedout + 1)); status=1
  elif [ $rc = 0 ]; then
    say "end $name: passed in $secs s"
    passed=$((passed + 1))
  else
    say "end $name: FAILED (exit $rc) in $secs s"
    failed=$((failed + 1)); status=1
  fi
  sweep "$before" "$name"
  rm -f "$before"
  : >"$state.file"
}

for f in ${KVM_SUITE_FILES:-}; do
  run_step "$f" "$file_timeout" node node_modules/vitest/vitest.mjs run --maxWorkers=1 \
    --testTimeout="${KVM_SUITE_TEST_TIMEOUT:-300000}" --hookTimeout="${KVM_SUITE_HOOK_TIMEOUT:-600000}" \
    --reporter=default --reporter=./test/kvm/progress_reporter.mjs "$f"
done
for b in ${KVM_SUITE_BINS:-}; do
  run_step "cargo:$b" "$file_timeout" "./$b" --test-threads=1
done

# A lockup the guest kernel noticed (a vCPU thread stuck in it) is worth seeing on the host.
dmesg 2>/dev/null | grep -E 'soft lockup|hung_task|BUG:|Oops|WARNING:' | tail -n 20 | sed 's/^/[test:kvm] guest kernel: /'
say "done: status $status ($passed passed, $failed failed, $timedout timed out)"
rm -f "$state" "$state.file"
exit $status
