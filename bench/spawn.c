/* spawn.c -- run one command and report its wall time and peak RSS.
 *
 *   spawn REPORT CMD [ARGS...]   writes "WALL_NS MAXRSS_KIB EXIT" to the file REPORT
 *
 * The benchmark harness is Python; a child forked from it would count the
 * interpreter's memory in its peak RSS (Linux keeps the pre-exec high-water
 * mark). This small static launcher forks from almost nothing instead, so
 * every tool is measured the same way. stdin/stdout/stderr pass through.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *report;

	if (argc < 3)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!(report = fopen(argv[1], "w")))
		return 2;
	fprintf(report, "%lld %ld %d\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec), ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	fclose(report);
	return 0;
}
