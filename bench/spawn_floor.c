/* The physical floor for bench/scheduler_vs_apscheduler.py: one thread that sleeps until the
   given instant, then posix_spawns the stamp program N times as fast as it can, then reaps;
   repeated at each of ROUNDS consecutive seconds. With LIMIT (the equal-pools case), at most
   LIMIT children at a time: each reaped child's slot is given to the next spawn at once, the
   least a pool of LIMIT workers can do.
   usage: spawn_floor AT_UNIX_SECONDS N STAMP_PATH [ROUNDS [LIMIT]]  (stamps go to stdout) */
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) return 2;
    struct timespec at = { .tv_sec = atoll(argv[1]), .tv_nsec = 0 };
    int n = atoi(argv[2]);
    int rounds = argc >= 5 ? atoi(argv[4]) : 1;
    int limit = argc == 6 ? atoi(argv[5]) : 0;
    char *args[] = { argv[3], NULL };
    for (int r = 0; r < rounds; r++, at.tv_sec++) {
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) != 0) {}
        int running = 0;
        for (int i = 0; i < n; i++) {
            if (limit > 0 && running == limit) {
                wait(NULL);
                running--;
            }
            pid_t pid;
            if (posix_spawn(&pid, argv[3], NULL, NULL, args, environ) != 0) return 1;
            running++;
        }
        for (; running > 0; running--) wait(NULL);
    }
    return 0;
}
