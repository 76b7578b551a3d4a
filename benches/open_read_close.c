// open-read-close of a small file: N rounds, prints "open-read-close NS ns/op".
// Usage: open_read_close [N] [PATH]   (default 5000, /tmp/tsvisor-bench.small)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000;
  const char *p = argc > 2 ? argv[2] : "/tmp/tsvisor-bench.small";
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "hello\n", 6) != 6) { perror("create"); return 1; }
  close(fd);
  char buf[64];
  double t0 = now();
  for (long i = 0; i < n; i++) {
    int f = open(p, O_RDONLY);
    if (f < 0 || read(f, buf, sizeof buf) != 6) { perror("open/read"); return 1; }
    close(f);
  }
  double t1 = now();
  unlink(p);
  printf("open-read-close %.0f ns/op\n", (t1 - t0) * 1e9 / (double)n);
  return 0;
}
