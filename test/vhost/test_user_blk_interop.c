/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvhost with a device other than net: the vhost-user-blk front-end of
 * doc/examples against qemu-storage-daemon's vhost-user-blk export (a
 * libvhost-user back-end) on a disk image. The example reads the disk's
 * size from the config space, writes a pattern at a sector, reads it back;
 * the bytes it read, and the image file itself, must hold the pattern, and
 * a sector next to it must still hold what the image had.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "test_proc.h"

#define DISK	 (16u << 20)
#define SECTOR	 512
#define AT	 2049 /* sectors: past the first MiB, not aligned to anything */
#define NSECT	 24
#define QSD_WAIT 10000

static bool
example_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	snprintf(buf, len, "%s/../../doc/examples/vhost-user-blk-frontend", dirname(exe));
	return access(buf, X_OK) == 0;
}

static bool
in_path(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Runs the example with @p args, its stdout into @p out (NULL: /dev/null); returns its exit status.
 */
static int
run_example(const char *prog, const char *const args[], const char *out)
{
	const char *argv[8];
	int n = 0, st = -1;
	pid_t pid;

	argv[n++] = prog;
	for (int i = 0; args[i] != NULL && n < 7; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int
read_at(const char *path, off_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && pread(fd, buf, len, off) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int
blk_body(const char *prog, const char *sock, const char *img, const char *pat_path,
	 const char *out_path, const uint8_t *background)
{
	static uint8_t pat[NSECT * SECTOR], got[(NSECT + 1) * SECTOR];
	char at[32], count[32], line[256] = {0};
	FILE *f;

	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 131 + 7);
	TEST_ASSERT_SUCCESS(write_file(pat_path, pat, sizeof(pat)), "pattern file");
	TEST_ASSERT_EQUAL(run_example(prog, (const char *const[]){sock, "info", NULL}, out_path), 0,
			  "info");
	f = fopen(out_path, "r");
	TEST_ASSERT_NOT_NULL(f, "info output");
	TEST_ASSERT_NOT_NULL(fgets(line, sizeof(line), f), "a line");
	fclose(f);
	TEST_ASSERT(strstr(line, "capacity 32768 sectors") != NULL,
		    "the config space gives the image's size: '%s'", line);
	snprintf(at, sizeof(at), "%u", AT);
	TEST_ASSERT_EQUAL(
		run_example(prog, (const char *const[]){sock, "write", at, pat_path, NULL}, NULL),
		0, "write %u sectors at %u", NSECT, AT);
	snprintf(count, sizeof(count), "%u", NSECT + 1);
	TEST_ASSERT_EQUAL(
		run_example(prog, (const char *const[]){sock, "read", at, count, NULL}, out_path),
		0, "read them back");
	TEST_ASSERT_SUCCESS(read_at(out_path, 0, got, sizeof(got)), "what it read");
	TEST_ASSERT(memcmp(got, pat, sizeof(pat)) == 0, "read back: the pattern");
	TEST_ASSERT(memcmp(got + sizeof(pat), background + (AT + NSECT) * (size_t)SECTOR, SECTOR) ==
			    0,
		    "the next sector kept the image's bytes");
	TEST_ASSERT_SUCCESS(read_at(img, (off_t)AT * SECTOR, got, sizeof(pat)), "the image");
	TEST_ASSERT(memcmp(got, pat, sizeof(pat)) == 0, "the image file holds the pattern");
	TEST_ASSERT_SUCCESS(read_at(img, (off_t)(AT - 1) * SECTOR, got, SECTOR), "the image");
	TEST_ASSERT(memcmp(got, background + (AT - 1) * (size_t)SECTOR, SECTOR) == 0,
		    "the sector before is untouched");
	TEST_ASSERT_EQUAL(
		run_example(prog, (const char *const[]){sock, "read", "32768", "1", NULL}, NULL), 1,
		"a read past the end is refused");
	return TEST_SUCCESS;
}

static int
test_blk_frontend_vs_qsd(void)
{
	char prog[PATH_MAX + 64], sock[256], img[256], pat[256], out[256], exp[512];
	const char *argv[8];
	uint8_t *background;
	struct vt_proc p;
	int rc;

	if (!example_path(prog, sizeof(prog)))
		TEST_SKIP("the example was not built (%s)", prog);
	if (!in_path("qemu-storage-daemon"))
		TEST_SKIP("qemu-storage-daemon is not installed (Debian: qemu-system-common)");
	vt_path(sock, sizeof(sock), "blk.sock");
	vt_path(img, sizeof(img), "disk.img");
	vt_path(pat, sizeof(pat), "pattern");
	vt_path(out, sizeof(out), "out");
	background = malloc(DISK);
	TEST_ASSERT_NOT_NULL(background, "memory");
	for (size_t i = 0; i < DISK; i++)
		background[i] = (uint8_t)(i * 7 + (i >> 9));
	if (write_file(img, background, DISK) != 0) {
		free(background);
		TEST_ASSERT(false, "disk image");
	}
	snprintf(exp, sizeof(exp),
		 "type=vhost-user-blk,id=e0,node-name=f0,writable=on,addr.type=unix,addr.path=%s",
		 sock);
	{
		char bdev[320];

		snprintf(bdev, sizeof(bdev), "driver=file,node-name=f0,filename=%s", img);
		argv[0] = "qemu-storage-daemon";
		argv[1] = "--blockdev";
		argv[2] = bdev;
		argv[3] = "--export";
		argv[4] = exp;
		argv[5] = NULL;
		rc = vt_proc_start(&p, argv, -1);
	}
	if (rc != 0) {
		free(background);
		TEST_ASSERT_SUCCESS(rc, "start qemu-storage-daemon");
	}
	for (uint64_t end = vt_now_ms() + QSD_WAIT; access(sock, F_OK) != 0 && vt_now_ms() < end;)
		usleep(20000);
	rc = access(sock, F_OK) == 0 ? blk_body(prog, sock, img, pat, out, background)
				     : TEST_FAILED;
	if (rc != TEST_SUCCESS)
		vt_proc_dump(&p, "qemu-storage-daemon");
	vt_proc_stop(&p, NULL, 2000);
	vt_proc_cleanup(&p);
	unlink(img);
	unlink(pat);
	unlink(out);
	free(background);
	return rc;
}
REGISTER_TEST(user_interop_blk_frontend_example_vs_qemu_storage_daemon, interop,
	      test_blk_frontend_vs_qsd)
