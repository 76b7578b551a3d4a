// Page-fault-heavy: map R rounds of M MiB of anonymous memory, write one byte per 4 KiB page
// (each write a first-touch fault), unmap; prints "pagefault NS ns/page".
// Usage: pagefault [ROUNDS] [MIB]   (default 20 rounds of 16 MiB)
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20, mib = argc > 2 ? atol(argv[2]) : 16;
  if (rounds <= 0) rounds = 20;
  if (mib <= 0) mib = 16;
  size_t len = (size_t)mib << 20;
  long pages = 0;
  double t0 = now();
  for (long r = 0; r < rounds; r++) {
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    for (size_t off = 0; off < len; off += 4096) p[off] = 1;
    pages += len / 4096;
    munmap((void *)p, len);
  }
  double t1 = now();
  printf("pagefault %.0f ns/page\n", (t1 - t0) * 1e9 / (double)pages);
  return 0;
}
