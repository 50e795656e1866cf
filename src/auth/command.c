/* command.c -- see command.h. */
#include "auth/command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secret.h"

extern char **environ;

int dc_command_split(char ***argv_out, const char *line)
{
	size_t len = strlen(line), nwords = 0;
	char **argv;
	char *store, *w;
	const char *p = line;
	int in_word = 0;

	*argv_out = NULL;
	/* at most len/2+1 words; the store holds every byte plus NULs */
	argv = malloc((len / 2 + 2) * sizeof(char *) + 2 * len + 2);
	if (!argv)
		return dc_error_nomem();
	store = (char *)(argv + len / 2 + 2);
	w = store;
	while (*p) {
		char c = *p;

		if (c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				*w++ = '\0';
				in_word = 0;
			}
			p++;
			continue;
		}
		if (!in_word) {
			argv[nwords++] = w;
			in_word = 1;
		}
		if (c == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (!q)
				goto open_quote;
			memcpy(w, p + 1, (size_t)(q - p - 1));
			w += q - p - 1;
			p = q + 1;
		} else if (c == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				*w++ = *p;
			}
			if (!*p)
				goto open_quote;
			p++;
		} else if (c == '\\') {
			if (p[1])
				p++;
			*w++ = *p++;
		} else {
			*w++ = *p++;
		}
	}
	if (in_word)
		*w = '\0';
	argv[nwords] = NULL;
	if (!nwords) {
		free(argv);
		return dc_error_set(DC_EUSAGE, "it is empty");
	}
	*argv_out = argv;
	return 0;
open_quote:
	free(argv);
	return dc_error_set(DC_EUSAGE, "a quote in it is not closed");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The environment of the child: ours, then `extra`. */
static char **child_env(char *const *extra)
{
	size_t n = 0, m = 0, i;
	char **env;

	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	if (!(env = calloc(n + m + 1, sizeof(char *))))
		return NULL;
	for (i = 0; i < n; i++)
		env[i] = environ[i];
	for (i = 0; i < m; i++)
		env[n + i] = extra[i];
	return env;
}

int dc_command_run(dc_buf *out, dc_ctx *ctx, const char *line, char *const *extra_env, long timeout_ms,
		   const char *what)
{
	posix_spawn_file_actions_t fa;
	char **argv = NULL, **env = NULL;
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, status = 0, err, fa_init = 0, open_fds;
	pid_t pid = -1;
	dc_buf errtext = DC_BUF_INIT;
	long deadline = now_ms() + timeout_ms;
	char chunk[4096], last[200];
	int timed_out = 0, too_big = 0;

	if ((err = dc_command_split(&argv, line)) < 0) {
		err = dc_error_set(DC_EUSAGE, "%s: cannot split its command line: %s; quote it as a shell would",
				   what, dc_error_last());
		goto done;
	}
	dc_buf_init(&errtext, 16384, 0);
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 || !(env = child_env(extra_env))) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "%s: cannot make pipes: %s", what, strerror(errno));
		goto done;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		err = dc_error_nomem();
		goto done;
	}
	fa_init = 1;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(&fa, pout[1], 1) || posix_spawn_file_actions_adddup2(&fa, perr[1], 2)) {
		err = dc_error_nomem();
		goto done;
	}
	if ((errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env)) != 0) {
		pid = -1;
		err = dc_error_set(DC_EUSAGE, "%s: cannot run '%s': %s; check the command and PATH", what, argv[0],
				   strerror(errno));
		goto done;
	}
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	open_fds = 2;
	while (open_fds) {
		struct pollfd pf[2] = { { pout[0], POLLIN, 0 }, { perr[0], POLLIN, 0 } };
		long left = deadline - now_ms();
		int i;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(pf, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			ssize_t r;

			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, chunk, sizeof(chunk));
			if (r <= 0) {
				close(i ? perr[0] : pout[0]);
				if (i)
					perr[0] = -1;
				else
					pout[0] = -1;
				open_fds--;
				continue;
			}
			if (i == 0 && (out->len + (size_t)r > DC_COMMAND_MAX_OUTPUT || dc_buf_put(out, chunk, (size_t)r) < 0))
				too_big = 1;
			else if (i == 1)
				dc_buf_put(&errtext, chunk, (size_t)r);
		}
		dc_secret_wipe(chunk, sizeof(chunk));
		if (too_big)
			break;
	}
	if (timed_out || too_big)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (timed_out) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_TIMEOUT, "%s: '%s' did not finish within %ld ms; it was stopped",
				    what, argv[0], timeout_ms);
		goto done;
	}
	if (too_big) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s: '%s' wrote more than %d bytes; it was stopped", what,
				    argv[0], DC_COMMAND_MAX_OUTPUT);
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* the last non-empty line of its standard error */
		char *e = errtext.ptr, *start;

		while (errtext.len && (e[errtext.len - 1] == '\n' || e[errtext.len - 1] == '\r'))
			e[--errtext.len] = '\0';
		start = strrchr(e, '\n');
		dc_log_clip(ctx->redactor, last, sizeof(last), start ? start + 1 : e);
		if (WIFEXITED(status))
			err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s: '%s' exited with status %d%s%s", what, argv[0],
					    WEXITSTATUS(status), *last ? ": " : "", last);
		else
			err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s: '%s' was killed by signal %d", what, argv[0],
					    WTERMSIG(status));
		goto done;
	}
	err = 0;
done:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(env);
	free(argv);
	dc_buf_release(&errtext);
	return err;
}
