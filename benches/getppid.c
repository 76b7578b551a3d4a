// getppid round trip: N raw getppid system calls, prints "getppid NS ns/op".
// Usage: getppid [N]   (default 20000)
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n <= 0) n = 20000;
  // Warm-up: the first calls may populate tables on the sandbox's side.
  for (int i = 0; i < 100; i++) syscall(SYS_getppid);
  double t0 = now();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  double t1 = now();
  printf("getppid %.0f ns/op\n", (t1 - t0) * 1e9 / (double)n);
  return 0;
}
