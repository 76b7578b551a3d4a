// Pipe wake-up latency: two processes pass one byte back and forth over two pipes, so every
// read blocks until the other side's write wakes it. Prints the round trip (two wake-ups).
// Usage: pipe_pingpong [ROUNDS]
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  int ab[2], ba[2];
  if (pipe(ab) || pipe(ba)) return 1;
  char c = 'x';
  pid_t p = fork();
  if (p == 0) {
    for (long i = 0; i < rounds; i++)
      if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  double t0 = now();
  for (long i = 0; i < rounds; i++)
    if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1) return 1;
  double t1 = now();
  int st;
  waitpid(p, &st, 0);
  printf("pipe-pingpong %.2f us/round-trip\n", (t1 - t0) * 1e6 / rounds);
  return 0;
}
