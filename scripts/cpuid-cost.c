/* The time one `cpuid` instruction takes on this machine, in nanoseconds:
 * the median of 21 batches of 200, asking leaf 0 (glibc's start-up asks
 * leaves 0, 1, 2, 4, 7 and others; a hypervisor traps them all). On bare
 * metal it is some tens of nanoseconds; in a virtual machine every `cpuid`
 * traps to the hypervisor and may take microseconds. glibc runs dozens of
 * them as every process starts, so this one figure moves every start-up
 * time in BENCHMARKS.md. Built and run by scripts/bench (x86-64 only). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { BATCHES = 21, PER_BATCH = 200 };
  double per_cpuid[BATCHES];
  unsigned int eax, ebx, ecx, edx;
  for (int batch = 0; batch < BATCHES; batch++) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < PER_BATCH; i++) {
      /* Written out, volatile: clang's <cpuid.h> macro is not, and may be
       * hoisted out of the loop. */
      __asm__ volatile("cpuid"
                       : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx)
                       : "a"(0), "c"(0));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    per_cpuid[batch] = ((end.tv_sec - start.tv_sec) * 1e9 +
                        (end.tv_nsec - start.tv_nsec)) / PER_BATCH;
  }
  qsort(per_cpuid, BATCHES, sizeof per_cpuid[0], by_value);
  printf("%.0f\n", per_cpuid[BATCHES / 2]);
  return 0;
}
