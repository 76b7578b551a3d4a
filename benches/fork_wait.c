// fork + _exit + waitpid: N rounds, prints "fork-exit-wait US us/op".
// Usage: fork_wait [N]   (default 200)
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 200;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) { perror("fork"); return 1; }
    if (p == 0) _exit(0);
    int s;
    if (waitpid(p, &s, 0) != p || !WIFEXITED(s)) { perror("waitpid"); return 1; }
  }
  double t1 = now();
  printf("fork-exit-wait %.1f us/op\n", (t1 - t0) * 1e6 / (double)n);
  return 0;
}
