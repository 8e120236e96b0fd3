/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

int
vt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

int
vt_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	if (f == NULL)
		return -errno;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

bool
vt_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci != NULL && strcmp(ci, "true") == 0;
}

static char tmpdir[256];
static pid_t tmpdir_owner;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
vt_rm_tree(const char *path)
{
	/* Depth first, not following links: a link out of the tree is removed, not its target. */
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
remove_tmpdir(void)
{
	/* A forked child (a test's helper process) must not remove it. */
	if (tmpdir[0] != '\0' && tmpdir_owner == getpid())
		vt_rm_tree(tmpdir);
}

const char *
vt_tmpdir(void)
{
	const char *base;

	if (tmpdir[0] != '\0')
		return tmpdir;
	base = getenv("VT_TMPDIR");
	if (base == NULL)
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/vswitch-test.%d", base, (int)getpid());
	vt_rm_tree(tmpdir);
	if (mkdir(tmpdir, 0700) != 0) {
		perror("vswitch-test: mkdir tmpdir");
		abort();
	}
	tmpdir_owner = getpid();
	atexit(remove_tmpdir);
	return tmpdir;
}

const char *
vt_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", vt_tmpdir(), name);
	return buf;
}

uint64_t
vt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
vt_which(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0 ? prog : NULL;
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	for (p = path; *p != '\0';) {
		const char *end = strchr(p, ':');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n > 0 && (size_t)snprintf(buf, len, "%.*s/%s", (int)n, p, prog) < len &&
		    access(buf, X_OK) == 0)
			return buf;
		p += n;
		if (*p == ':')
			p++;
	}
	return NULL;
}
