// getppid round trip under an application seccomp filter: the shape libseccomp emits for an
// allowlist (arch check, then one JEQ per allowed number, getppid last so every call walks
// the whole list), stacked twice. Prints "seccomp-getppid NS ns/op"; compare with getppid.c.
// Usage: seccomp_getppid [N]   (default 20000)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ALLOWED 40

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void install(void) {
  struct sock_filter f[4 + 2 * ALLOWED + 1];
  int n = 0;
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  // Numbers 0..ALLOWED-5, then clock_gettime (the vDSO may fall back to it), seccomp,
  // exit_group and getppid.
  for (int i = 0; i < ALLOWED; i++) {
    int nr = i == ALLOWED - 1 ? SYS_getppid : i == ALLOWED - 2 ? SYS_exit_group : i == ALLOWED - 3 ? SYS_seccomp
      : i == ALLOWED - 4 ? SYS_clock_gettime : i;
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1);
  struct sock_fprog p = { (unsigned short)n, f };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) { perror("seccomp"); exit(1); }
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n <= 0) n = 20000;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl"); return 1; }
  install();
  install();
  for (int i = 0; i < 100; i++) syscall(SYS_getppid);
  double t0 = now();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  double t1 = now();
  printf("seccomp-getppid %.0f ns/op\n", (t1 - t0) * 1e9 / (double)n);
  return 0;
}
