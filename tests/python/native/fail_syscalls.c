/* An LD_PRELOAD shim for tests: makes msync, fsync or posix_fallocate fail or stall,
 * to exercise error paths of the installed module end to end.
 *
 *   MMAP_ARRAY_TEST_FAIL=<call>:<errno number>   the call fails with that errno
 *   MMAP_ARRAY_TEST_STALL=<call>:<milliseconds>  the call sleeps first
 *
 * Each call it touches is counted in MMAP_ARRAY_TEST_COUNT_FILE (one byte per call),
 * so a test can tell that a failure was reported, not retried. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long setting(const char *variable, const char *call) {
  const char *value = getenv(variable);
  size_t n = strlen(call);
  if (value == NULL || strncmp(value, call, n) != 0 || value[n] != ':') return -1;
  return strtol(value + n + 1, NULL, 10);
}

static void count(const char *call) {
  const char *path = getenv("MMAP_ARRAY_TEST_COUNT_FILE");
  if (path == NULL) return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
  if (fd < 0) return;
  ssize_t ignored = write(fd, call, 1);
  (void)ignored;
  close(fd);
}

/* Returns 0 to proceed with the real call, or -1 with errno set. */
static int intercept(const char *call) {
  long stall = setting("MMAP_ARRAY_TEST_STALL", call);
  if (stall > 0) {
    struct timespec pause = {stall / 1000, (stall % 1000) * 1000000L};
    nanosleep(&pause, NULL);
  }
  long fail = setting("MMAP_ARRAY_TEST_FAIL", call);
  if (fail > 0) {
    count(call);
    errno = (int)fail;
    return -1;
  }
  return 0;
}

int msync(void *addr, size_t length, int flags) {
  static int (*real)(void *, size_t, int);
  if (real == NULL) real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
  if (intercept("msync") != 0) return -1;
  return real(addr, length, flags);
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (intercept("fsync") != 0) return -1;
  return real(fd);
}

/* posix_fallocate reports failure by its return value, not errno. */
int posix_fallocate(int fd, off_t offset, off_t length) {
  static int (*real)(int, off_t, off_t);
  if (real == NULL) real = (int (*)(int, off_t, off_t))dlsym(RTLD_NEXT, "posix_fallocate");
  if (intercept("posix_fallocate") != 0) return errno;
  return real(fd, offset, length);
}
