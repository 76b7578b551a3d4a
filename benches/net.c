// Network micro-benchmarks (issue 8), one figure per run on stdout:
//   net tput MIB                TCP throughput over 127.0.0.1 (a forked child sends)   -> "tput X MiB/s"
//   net cps N                   connect+accept+close over 127.0.0.1                  -> "cps X conn/s"
//   net udprr N                 UDP round trip over 127.0.0.1 (a forked echo child)  -> "udprr X us"
//   net httprr N                keep-alive HTTP/1.1 request/response loop over 127.0.0.1 (a
//                               forked server parses each request, answers 200 with a body)
//                                                                                  -> "httprr X us"
//   net tput-to ADDR PORT MIB   TCP send to a sink at ADDR:PORT, until it closes      -> "tput X MiB/s"
//   net tput-from ADDR PORT     TCP receive from a source at ADDR:PORT until it closes -> "tput X MiB/s"
//   net udprr-to ADDR PORT N    UDP round trip to an echo server at ADDR:PORT         -> "udprr X us"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static struct sockaddr_in addr_of(const char *ip, int port) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static int listener(int type, struct sockaddr_in *a) {
  int l = socket(AF_INET, type, 0);
  *a = addr_of("127.0.0.1", 0);
  socklen_t al = sizeof *a;
  bind(l, (struct sockaddr *)a, sizeof *a);
  if (type == SOCK_STREAM) listen(l, 128);
  getsockname(l, (struct sockaddr *)a, &al);
  return l;
}

static char buf[1 << 20];

static void send_all(int c, size_t mb) {
  for (size_t i = 0; i < mb; i++)
    for (size_t off = 0; off < sizeof buf;) { ssize_t n = write(c, buf + off, sizeof buf - off); if (n <= 0) _exit(2); off += n; }
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  memset(buf, 'x', sizeof buf);
  const char *mode = argv[1];
  if (!strcmp(mode, "tput")) {
    size_t mb = atoi(argv[2]);
    struct sockaddr_in a;
    int l = listener(SOCK_STREAM, &a);
    if (fork() == 0) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) _exit(1);
      send_all(c, mb);
      _exit(0);
    }
    int s = accept(l, NULL, NULL);
    double t0 = now();
    size_t got = 0;
    for (;;) { ssize_t n = read(s, buf, sizeof buf); if (n <= 0) break; got += n; }
    double dt = now() - t0;
    wait(NULL);
    printf("tput %.1f MiB/s\n", got / 1048576.0 / dt);
    return got == mb << 20 ? 0 : 1;
  }
  if (!strcmp(mode, "tput-to")) {
    size_t mb = atoi(argv[4]);
    struct sockaddr_in a = addr_of(argv[2], atoi(argv[3]));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    double t0 = now();
    send_all(c, mb);
    shutdown(c, SHUT_WR);
    while (read(c, buf, sizeof buf) > 0) {}
    double dt = now() - t0;
    printf("tput %.1f MiB/s\n", mb / dt);
    return 0;
  }
  if (!strcmp(mode, "tput-from")) {
    struct sockaddr_in a = addr_of(argv[2], atoi(argv[3]));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    double t0 = now();
    size_t got = 0;
    for (;;) { ssize_t n = read(c, buf, sizeof buf); if (n <= 0) break; got += n; }
    double dt = now() - t0;
    printf("tput %.1f MiB/s\n", got / 1048576.0 / dt);
    return got > 0 ? 0 : 1;
  }
  if (!strcmp(mode, "cps")) {
    int n = atoi(argv[2]);
    struct sockaddr_in a;
    int l = listener(SOCK_STREAM, &a);
    double t0 = now();
    for (int i = 0; i < n; i++) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
      int s = accept(l, NULL, NULL);
      close(c);
      close(s);
    }
    printf("cps %.0f conn/s\n", n / (now() - t0));
    return 0;
  }
  if (!strcmp(mode, "httprr")) {
    int n = atoi(argv[2]);
    struct sockaddr_in a;
    int l = listener(SOCK_STREAM, &a);
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: net-bench\r\nAccept: */*\r\n\r\n";
    static char resp[1024];
    static const char body[] = "<html><body>hello from the keep-alive loop</body></html>\n";
    int rlen = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nServer: net-bench\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n\r\n%s", sizeof body - 1, body);
    pid_t child = fork();
    if (child == 0) {
      int s = accept(l, NULL, NULL);
      int one = 1;
      setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      size_t have = 0;
      for (;;) {
        ssize_t r = read(s, buf + have, sizeof buf - have);
        if (r <= 0) _exit(0);
        have += r;
        // Answer each complete request (up to its blank line) in the buffer.
        char *end;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) != NULL) {
          size_t used = end + 4 - buf;
          if (write(s, resp, rlen) != rlen) _exit(3);
          memmove(buf, buf + used, have - used);
          have -= used;
        }
      }
    }
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char in[2048];
    double t0 = 0;
    for (int i = -1; i < n; i++) {
      if (i == 0) t0 = now();
      if (write(c, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) return 1;
      int got = 0;
      while (got < rlen) { ssize_t r = read(c, in + got, sizeof in - got); if (r <= 0) return 1; got += r; }
      if (memcmp(in, resp, rlen) != 0) return 1;
    }
    printf("httprr %.1f us\n", (now() - t0) / n * 1e6);
    close(c);
    wait(NULL);
    return 0;
  }
  if (!strcmp(mode, "udprr") || !strcmp(mode, "udprr-to")) {
    int to = !strcmp(mode, "udprr-to");
    int n = atoi(argv[to ? 4 : 2]);
    struct sockaddr_in a;
    pid_t child = -1;
    if (to) {
      a = addr_of(argv[2], atoi(argv[3]));
    } else {
      int e = listener(SOCK_DGRAM, &a);
      child = fork();
      if (child == 0) {
        for (;;) {
          struct sockaddr_in f;
          socklen_t fl = sizeof f;
          ssize_t r = recvfrom(e, buf, 2048, 0, (struct sockaddr *)&f, &fl);
          if (r <= 0 || buf[0] == 'q') _exit(0);
          sendto(e, buf, r, 0, (struct sockaddr *)&f, fl);
        }
      }
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    connect(s, (struct sockaddr *)&a, sizeof a);
    char m[64] = "ping";
    send(s, m, sizeof m, 0);
    recv(s, buf, sizeof buf, 0);
    double t0 = now();
    for (int i = 0; i < n; i++) { send(s, m, sizeof m, 0); if (recv(s, buf, sizeof buf, 0) <= 0) return 1; }
    printf("udprr %.1f us\n", (now() - t0) / n * 1e6);
    if (child > 0) { send(s, "q", 1, 0); wait(NULL); }
    return 0;
  }
  return 2;
}
