/* SPDX-License-Identifier: BSD-3-Clause */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "test_proc.h"

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int
vt_proc_start(struct vt_proc *p, const char *const argv[], int cpu)
{
	static unsigned seq;
	char stdbuf[256];
	int in[2], out;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->stdin_fd = -1;
	snprintf(p->log, sizeof(p->log), "%s/proc-%u.log", vt_tmpdir(), seq++);
	out = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	if (pipe2(in, O_CLOEXEC) != 0) {
		close(out);
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(out);
		close(in[0]);
		close(in[1]);
		return err;
	}
	if (pid == 0) {
		const char *args[128];
		int n = 0;

		dup2(in[0], 0);
		dup2(out, 1);
		dup2(out, 2);
		setpgid(0, 0);
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		if (vt_which("stdbuf", stdbuf, sizeof(stdbuf)) != NULL) {
			args[n++] = stdbuf;
			args[n++] = "-oL";
			args[n++] = "-eL";
		}
		for (int i = 0; argv[i] != NULL && n < 127; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		execvp(args[0], (char *const *)args);
		fprintf(stderr, "exec %s: %s\n", args[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out);
	p->pid = pid;
	p->stdin_fd = in[1];
	return 0;
}

int
vt_proc_write(struct vt_proc *p, const char *text)
{
	size_t len = strlen(text);

	if (p->stdin_fd < 0)
		return -EPIPE;
	while (len > 0) {
		ssize_t n = write(p->stdin_fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
vt_proc_output(struct vt_proc *p)
{
	FILE *f = fopen(p->log, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0;
	size_t n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

bool
vt_proc_output_has(struct vt_proc *p, const char *needle)
{
	char *out = vt_proc_output(p);
	bool found = out != NULL && strstr(out, needle) != NULL;

	free(out);
	return found;
}

bool
vt_proc_running(struct vt_proc *p)
{
	int status;

	if (p->reaped)
		return false;
	if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
		p->status = status;
		p->reaped = true;
		return false;
	}
	return true;
}

int
vt_proc_wait_output(struct vt_proc *p, const char *needle, unsigned timeout_ms)
{
	uint64_t deadline = vt_now_ms() + timeout_ms;

	for (;;) {
		if (vt_proc_output_has(p, needle))
			return 0;
		if (!vt_proc_running(p))
			return vt_proc_output_has(p, needle) ? 0 : -ECHILD;
		if (vt_now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static int
wait_exit(struct vt_proc *p, unsigned timeout_ms)
{
	uint64_t deadline = vt_now_ms() + timeout_ms;

	while (vt_proc_running(p)) {
		if (vt_now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
	return 0;
}

int
vt_proc_stop(struct vt_proc *p, const char *quit, unsigned timeout_ms)
{
	if (p->pid <= 0)
		return -ECHILD;
	if (quit != NULL)
		vt_proc_write(p, quit);
	if (p->stdin_fd >= 0) {
		close(p->stdin_fd);
		p->stdin_fd = -1;
	}
	if (wait_exit(p, timeout_ms) != 0) {
		kill(-p->pid, SIGTERM);
		kill(p->pid, SIGTERM);
		if (wait_exit(p, 3000) != 0) {
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			wait_exit(p, 5000);
		}
	}
	if (!p->reaped)
		return -ETIMEDOUT;
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	return 128 + WTERMSIG(p->status);
}

void
vt_proc_dump(struct vt_proc *p, const char *tag)
{
	char *out = vt_proc_output(p);
	char *line, *save = NULL;

	if (out == NULL)
		return;
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		printf("[%s] %s\n", tag, line);
	free(out);
}

void
vt_proc_cleanup(struct vt_proc *p)
{
	if (p->log[0] != '\0')
		unlink(p->log);
}

const char *
vt_testpmd_path(char *buf, size_t len)
{
	return vt_which("dpdk-testpmd", buf, len);
}

static long
read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

bool
vt_hugepages_ok(unsigned min_pages, char *why, size_t len)
{
	const char *dir = "/sys/kernel/mm/hugepages/hugepages-2048kB";
	char path[256];
	long free_pages;
	FILE *m;
	char line[512];
	bool mounted = false;

	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	free_pages = read_long(path);
	if (free_pages < (long)min_pages) {
		snprintf(why, len,
			 "%ld free 2 MiB hugepages, need %u (run scripts/setup.sh test as root)",
			 free_pages < 0 ? 0 : free_pages, min_pages);
		return false;
	}
	m = fopen("/proc/mounts", "r");
	if (m != NULL) {
		while (fgets(line, sizeof(line), m) != NULL)
			if (strstr(line, " hugetlbfs ") != NULL)
				mounted = true;
		fclose(m);
	}
	if (!mounted) {
		snprintf(why, len, "hugetlbfs is not mounted (run scripts/setup.sh test as root)");
		return false;
	}
	return true;
}
