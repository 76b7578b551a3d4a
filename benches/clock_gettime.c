// clock_gettime(CLOCK_MONOTONIC) through libc (the vDSO): N calls, prints
// "clock_gettime NS ns/op". Natively and in a sandbox with a working vDSO no call traps.
// Usage: clock_gettime [N]   (default 1000000)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) n = 1000000;
  struct timespec t0, t, t1;
  for (int i = 0; i < 100; i++) clock_gettime(CLOCK_MONOTONIC, &t);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &t);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("clock_gettime %.1f ns/op\n", ns / (double)n);
  return 0;
}
