/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QEMU guests for the vm suite: a thin C face of scripts/vm/vm.sh, which
 * owns the image, the QEMU command line and the timeout.
 */
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "test_vm.h"

#ifndef VT_SOURCE_ROOT
#error "VT_SOURCE_ROOT must name the source tree (app/test/meson.build)"
#endif

#define VM_DEFAULT_TIMEOUT_S 300
/* vm.sh may build the image before it boots: about 35 s here, more on a
 * slower disk or network. */
#define VM_IMAGE_BUILD_ALLOWANCE_S 600
#define VM_MAX_ARGS		   127

struct argv_buf {
	const char *v[VM_MAX_ARGS + 1];
	int n;
	bool overflow;
};

static void
argv_add(struct argv_buf *a, const char *s)
{
	if (a->n >= VM_MAX_ARGS) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
argv_add_list(struct argv_buf *a, const char *opt, const char *const *list)
{
	for (int i = 0; list != NULL && list[i] != NULL; i++) {
		argv_add(a, opt);
		argv_add(a, list[i]);
	}
}

int
vt_vm_start(struct vt_vm *vm, const struct vt_vm_config *cfg)
{
	char tmo[16], mem[16];
	struct argv_buf a = {.n = 0};
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->status = -1;
	if (cfg == NULL || cfg->command == NULL)
		return -EINVAL;
	vm->timeout_s = cfg->timeout_s != 0 ? cfg->timeout_s : VM_DEFAULT_TIMEOUT_S;
	snprintf(tmo, sizeof(tmo), "%u", vm->timeout_s);
	snprintf(mem, sizeof(mem), "%u", cfg->mem_mib != 0 ? cfg->mem_mib : 256);

	argv_add(&a, "bash");
	argv_add(&a, VT_SOURCE_ROOT "/scripts/vm/vm.sh");
	argv_add(&a, "run");
	argv_add(&a, "-n");
	argv_add(&a, cfg->name != NULL ? cfg->name : "guest");
	argv_add(&a, "-t");
	argv_add(&a, tmo);
	argv_add(&a, "-M");
	argv_add(&a, mem);
	if (cfg->shared_mem)
		argv_add(&a, "-s");
	argv_add_list(&a, "-m", cfg->modules);
	argv_add_list(&a, "-f", cfg->files);
	argv_add_list(&a, "-q", cfg->qemu_args);
	argv_add(&a, "--");
	argv_add(&a, cfg->command);
	if (a.overflow)
		return -E2BIG;

	/* Run directories (initrd, console copy) go with the test's files. */
	setenv("VT_VM_RUNDIR", vt_tmpdir(), 1);
	rc = vt_proc_start(&vm->proc, a.v, -1);
	if (rc == 0)
		vm->started = true;
	return rc;
}

/* Copies the console log with carriage returns removed. */
static char *
console_text(struct vt_vm *vm)
{
	char *out = vt_proc_output(&vm->proc), *r, *w;

	if (out == NULL)
		return NULL;
	for (r = w = out; *r != '\0'; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	return out;
}

/* Finds "PREFIX<rest of line>" at a line start; copies the rest into buf. */
static bool
find_line(const char *text, const char *prefix, char *buf, size_t len)
{
	size_t plen = strlen(prefix);
	const char *p = text;
	bool found = false;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, plen) == 0) {
			const char *e = strchr(p, '\n');
			size_t n = e != NULL ? (size_t)(e - p - plen) : strlen(p + plen);

			if (n >= len)
				n = len - 1;
			memcpy(buf, p + plen, n);
			buf[n] = '\0';
			found = true; /* keep the last one */
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return found;
}

int
vt_vm_wait(struct vt_vm *vm)
{
	uint64_t deadline;
	char line[256];
	char *text;
	int code;

	if (!vm->started)
		return -EINVAL;
	deadline = vt_now_ms() + (uint64_t)(vm->timeout_s + VM_IMAGE_BUILD_ALLOWANCE_S) * 1000;
	while (vt_proc_running(&vm->proc)) {
		if (vt_now_ms() >= deadline) {
			vt_proc_stop(&vm->proc, NULL, 0);
			snprintf(vm->why, sizeof(vm->why), "vm.sh did not finish in time: killed");
			return -ETIMEDOUT;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	code = WIFEXITED(vm->proc.status) ? WEXITSTATUS(vm->proc.status) : 128;
	text = console_text(vm);
	if (text == NULL) {
		snprintf(vm->why, sizeof(vm->why), "cannot read the console log");
		return -EIO;
	}
	if (find_line(text, "VT-HARNESS-ERROR: ", line, sizeof(line))) {
		snprintf(vm->why, sizeof(vm->why), "guest harness error: %s", line);
		free(text);
		return -EIO;
	}
	if (find_line(text, "VT-EXIT ", line, sizeof(line))) {
		free(text);
		vm->status = atoi(line);
		return vm->status;
	}
	if (code == 77 && find_line(text, "SKIP: ", line, sizeof(line))) {
		snprintf(vm->why, sizeof(vm->why), "%s", line);
		free(text);
		return -ENOTSUP;
	}
	free(text);
	if (code == 124) {
		snprintf(vm->why, sizeof(vm->why), "the guest did not finish within %u s",
			 vm->timeout_s);
		return -ETIMEDOUT;
	}
	snprintf(vm->why, sizeof(vm->why), "the guest reported no exit status (vm.sh exit %d)",
		 code);
	return -EIO;
}

int
vt_vm_run(struct vt_vm *vm, const struct vt_vm_config *cfg)
{
	int rc = vt_vm_start(vm, cfg);

	return rc != 0 ? rc : vt_vm_wait(vm);
}

char *
vt_vm_output(struct vt_vm *vm)
{
	char *text = console_text(vm), *begin, *end;

	if (text == NULL)
		return NULL;
	begin = strstr(text, "VT-BEGIN\n");
	if (begin == NULL) {
		free(text);
		return NULL;
	}
	begin += strlen("VT-BEGIN\n");
	end = strstr(begin, "VT-EXIT ");
	if (end == NULL)
		end = begin + strlen(begin);
	memmove(text, begin, (size_t)(end - begin));
	text[end - begin] = '\0';
	return text;
}

void
vt_vm_dump(struct vt_vm *vm, const char *tag)
{
	vt_proc_dump(&vm->proc, tag);
}

void
vt_vm_cleanup(struct vt_vm *vm)
{
	if (!vm->started)
		return;
	if (vt_proc_running(&vm->proc))
		vt_proc_stop(&vm->proc, NULL, 0);
	vt_proc_cleanup(&vm->proc);
	vm->started = false;
}

int
vt_vm_run_guest_test(const char *test, const char *const *modules, const char *setup,
		     unsigned timeout_s)
{
	char exe[PATH_MAX], *cmd = NULL, *out;
	const char *files[2] = {exe, NULL};
	struct vt_vm vm;
	int st;

	if (realpath("/proc/self/exe", exe) == NULL)
		return TEST_FAILED;
	if (asprintf(&cmd, "%s%s%s %s", setup != NULL ? setup : "", setup != NULL ? " && " : "",
		     exe, test) < 0)
		return TEST_FAILED;
	struct vt_vm_config cfg = {
		.name = test,
		.modules = modules,
		.files = files,
		.command = cmd,
		.timeout_s = timeout_s,
	};
	st = vt_vm_run(&vm, &cfg);
	free(cmd);
	if (st == -ENOTSUP) {
		vt_vm_cleanup(&vm);
		TEST_SKIP("guest harness: %s", vm.why);
	}
	if (st != 0) {
		vt_vm_dump(&vm, "vm");
		printf("FAIL: guest test %s: %s\n", test,
		       st < 0 ? vm.why
		       : st == 77
			       ? "skipped inside the guest (the harness must provide what it needs)"
			       : "failed inside the guest");
		vt_vm_cleanup(&vm);
		return TEST_FAILED;
	}
	out = vt_vm_output(&vm);
	if (out != NULL) {
		for (char *save = NULL, *l = strtok_r(out, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save))
			printf("[guest] %s\n", l);
		free(out);
	}
	vt_vm_cleanup(&vm);
	return TEST_SUCCESS;
}

/* ---- QEMU's human monitor ---- */

#define HMP_PROMPT "(qemu) "

/* Reads from @p fd into @p buf (holding *@p n bytes) until it ends with the prompt. */
static int
hmp_read_prompt(int fd, char *buf, size_t cap, size_t *n, uint64_t deadline)
{
	const size_t plen = strlen(HMP_PROMPT);

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = vt_now_ms();
		ssize_t r;

		if (*n >= plen && memcmp(buf + *n - plen, HMP_PROMPT, plen) == 0)
			return 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		if (*n + 1 >= cap) {
			/* Keep the tail: the prompt is what we wait for. */
			memmove(buf, buf + cap / 2, *n - cap / 2);
			*n -= cap / 2;
		}
		r = read(fd, buf + *n, cap - 1 - *n);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		*n += (size_t)r;
		buf[*n] = '\0';
	}
}

int
vt_qemu_hmp(const char *sock, const char *cmd, char *out, size_t len, unsigned timeout_ms)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	const uint64_t deadline = vt_now_ms() + timeout_ms;
	static char buf[65536];
	size_t n = 0;
	int fd, rc;

	if (len > 0)
		out[0] = '\0';
	if (strlen(sock) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = hmp_read_prompt(fd, buf, sizeof(buf), &n, deadline);
	if (rc == 0) {
		size_t cl = strlen(cmd);

		if (write(fd, cmd, cl) != (ssize_t)cl || write(fd, "\n", 1) != 1)
			rc = -EIO;
	}
	n = 0;
	if (rc == 0)
		rc = hmp_read_prompt(fd, buf, sizeof(buf), &n, deadline);
	if (rc == 0 && len > 0) {
		size_t k = n - strlen(HMP_PROMPT);

		if (k >= len)
			k = len - 1;
		memcpy(out, buf, k);
		out[k] = '\0';
	}
	close(fd);
	return rc;
}
