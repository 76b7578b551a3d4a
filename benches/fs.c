// File-system micro-benchmarks for benches/fs.mjs:
//   fs stat PATH N        ns per stat(2)
//   fs orc PATH N         ns per open + read 4 KiB + close
//   fs deep DIR N DEPTH   ns per stat of DIR/i/1/2/.../DEPTH/f, i = 0..N-1: each path seen once
//                         (cold in a sandbox: every component is a first lookup)
//   fs read PATH          MB/s reading PATH sequentially in 1 MiB reads
//   fs write PATH MIB     MB/s writing MIB MiB sequentially in 1 MiB writes (then fsync, unlink)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *mode = argv[1], *path = argv[2];
  static char buf[1 << 20];
  if (!strcmp(mode, "stat") || !strcmp(mode, "orc")) {
    long n = argc > 3 ? atol(argv[3]) : 10000;
    struct stat st;
    double t0 = now();
    for (long i = 0; i < n; i++) {
      if (mode[0] == 's') {
        if (stat(path, &st) < 0) { perror("stat"); return 1; }
      } else {
        int fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, buf, 4096) < 0) { perror("open/read"); return 1; }
        close(fd);
      }
    }
    printf("%s %.0f ns/op\n", mode, (now() - t0) * 1e9 / n);
    return 0;
  }
  if (!strcmp(mode, "deep")) {
    long n = argc > 3 ? atol(argv[3]) : 100, depth = argc > 4 ? atol(argv[4]) : 8;
    static char p[4096];
    struct stat st;
    double t0 = now();
    for (long i = 0; i < n; i++) {
      int at = snprintf(p, sizeof p, "%s/%ld", path, i);
      for (long d = 1; d <= depth && at < 4000; d++) at += snprintf(p + at, sizeof p - at, "/%ld", d);
      snprintf(p + at, sizeof p - at, "/f");
      if (stat(p, &st) < 0) { perror(p); return 1; }
    }
    printf("deep %.0f ns/op\n", (now() - t0) * 1e9 / n);
    return 0;
  }
  if (!strcmp(mode, "read")) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror("open"); return 1; }
    double t0 = now();
    long total = 0;
    for (;;) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0) { perror("read"); return 1; }
      if (r == 0) break;
      total += r;
    }
    printf("read %.0f MB/s (%ld bytes)\n", total / 1e6 / (now() - t0), total);
    return 0;
  }
  if (!strcmp(mode, "write")) {
    long mib = argc > 3 ? atol(argv[3]) : 64;
    memset(buf, 'w', sizeof buf);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    double t0 = now();
    for (long i = 0; i < mib; i++) {
      if (write(fd, buf, sizeof buf) != sizeof buf) { perror("write"); return 1; }
    }
    fsync(fd);
    printf("write %.0f MB/s\n", mib * 1048576 / 1e6 / (now() - t0));
    close(fd);
    unlink(path);
    return 0;
  }
  return 2;
}
