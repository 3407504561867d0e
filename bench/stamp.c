/* The job every scheduler runs in bench/scheduler_vs_apscheduler.py: prints the real-time
   clock as soon as it starts, so start delay = printed time - scheduled time. Linked
   statically so its own start-up (no dynamic loader) barely counts. */
#include <stdio.h>
#include <time.h>
int main(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    printf("%lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
    return 0;
}
