/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPEC strings, the port-type registry and vs_port_create().
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "vs_port.h"

RTE_LOG_REGISTER(vs_port_logtype, vswitch.port, INFO);
#define PORT_LOG(level, fmt, ...)                                                                  \
	rte_log(RTE_LOG_##level, vs_port_logtype, "port: " fmt "\n", ##__VA_ARGS__)

/*
 * Types the switch knows of. A SPEC naming one whose driver is not linked
 * into this build gets "not available in this build", not "unknown".
 */
static const char *const known_types[] = {
	"vhost-user", "vhost-net", "vdpa", "vhost-user-frontend", "ethdev",
};

static struct vs_port_type *types; /* sorted by name */

void
vs_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line of text, whatever the input quoted in it held. */
	for (char *c = err; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Copies [s, s+n) into dst (size cap) after checking the characters. */
static int
take_name(const char *what, const char *s, size_t n, char *dst, size_t cap, char *err,
	  size_t errlen)
{
	if (n == 0) {
		vs_set_err(err, errlen, "empty %s", what);
		return -EINVAL;
	}
	if (n >= cap) {
		vs_set_err(err, errlen, "%s '%.*s...' is longer than %zu characters", what, 16, s,
			   cap - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(s[i])) {
			char shown[40];
			size_t k;

			/* Errors are one line of text: show what is printable. */
			for (k = 0; k < n && k < sizeof(shown) - 1; k++)
				shown[k] = isprint((unsigned char)s[k]) ? s[k] : '?';
			shown[k] = '\0';
			vs_set_err(err, errlen, "%s '%s%s' has an invalid character '%c'", what,
				   shown, k < n ? "..." : "",
				   isprint((unsigned char)s[i]) ? s[i] : '?');
			return -EINVAL;
		}
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Parses one "key=value" starting at *pp; leaves *pp after it (at ',' or end). */
static int
parse_kv(const char **pp, struct vs_port_spec *spec, char *err, size_t errlen)
{
	const char *p = *pp, *eq, *v, *end;
	unsigned int i = spec->nkv;
	size_t vlen;
	int rc;

	eq = p;
	while (*eq != '\0' && *eq != '=' && *eq != ',')
		eq++;
	if (*eq != '=') {
		vs_set_err(err, errlen, "'%.*s' is not key=value", (int)(eq - p), p);
		return -EINVAL;
	}
	if (i == VS_PORT_MAX_KV) {
		vs_set_err(err, errlen, "more than %d key=value pairs", VS_PORT_MAX_KV);
		return -EINVAL;
	}
	rc = take_name("key", p, (size_t)(eq - p), spec->kv[i].key, sizeof(spec->kv[i].key), err,
		       errlen);
	if (rc != 0)
		return rc;
	v = eq + 1;
	if (*v == '"') {
		v++;
		end = strchr(v, '"');
		if (end == NULL) {
			vs_set_err(err, errlen, "key '%s': unterminated quote", spec->kv[i].key);
			return -EINVAL;
		}
		vlen = (size_t)(end - v);
		end++;
		if (*end != '\0' && *end != ',') {
			vs_set_err(err, errlen, "key '%s': text after the closing quote",
				   spec->kv[i].key);
			return -EINVAL;
		}
	} else {
		end = v;
		while (*end != '\0' && *end != ',')
			end++;
		vlen = (size_t)(end - v);
	}
	if (vlen == 0) {
		vs_set_err(err, errlen, "key '%s' has an empty value", spec->kv[i].key);
		return -EINVAL;
	}
	if (vlen >= sizeof(spec->kv[i].value)) {
		vs_set_err(err, errlen, "value of key '%s' is longer than %zu characters",
			   spec->kv[i].key, sizeof(spec->kv[i].value) - 1);
		return -EINVAL;
	}
	for (size_t j = 0; j < vlen; j++) {
		if ((unsigned char)v[j] < 0x20 || v[j] == 0x7f) {
			vs_set_err(err, errlen, "key '%s': value has a control character",
				   spec->kv[i].key);
			return -EINVAL;
		}
	}
	for (unsigned int j = 0; j < i; j++) {
		if (strcmp(spec->kv[j].key, spec->kv[i].key) == 0) {
			vs_set_err(err, errlen, "duplicate key '%s'", spec->kv[i].key);
			return -EINVAL;
		}
	}
	memcpy(spec->kv[i].value, v, vlen);
	spec->kv[i].value[vlen] = '\0';
	spec->kv[i].used = 0;
	spec->nkv++;
	*pp = end;
	return 0;
}

int
vs_port_spec_parse(const char *text, struct vs_port_spec *spec, char *err, size_t errlen)
{
	const char *p, *comma;
	int rc;

	memset(spec, 0, sizeof(*spec));
	if (text == NULL) {
		vs_set_err(err, errlen, "no port specification");
		return -EINVAL;
	}
	comma = strchr(text, ',');
	p = comma != NULL ? comma : text + strlen(text);
	rc = take_name("port type", text, (size_t)(p - text), spec->type, sizeof(spec->type), err,
		       errlen);
	if (rc != 0)
		return rc;
	while (*p == ',') {
		p++;
		if (*p == '\0' || *p == ',') {
			vs_set_err(err, errlen, "empty key=value part");
			return -EINVAL;
		}
		rc = parse_kv(&p, spec, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

const char *
vs_port_spec_get(struct vs_port_spec *spec, const char *key)
{
	for (unsigned int i = 0; i < spec->nkv; i++) {
		if (strcmp(spec->kv[i].key, key) == 0) {
			spec->kv[i].used = 1;
			return spec->kv[i].value;
		}
	}
	return NULL;
}

int
vs_port_spec_get_uint(struct vs_port_spec *spec, const char *key, uint64_t min, uint64_t max,
		      uint64_t def, uint64_t *out, char *err, size_t errlen)
{
	const char *v = vs_port_spec_get(spec, key);
	unsigned long long n;
	char *end;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		goto bad;
	*out = n;
	return 0;
bad:
	vs_set_err(err, errlen, "key '%s': '%s' is not an integer in [%" PRIu64 ", %" PRIu64 "]",
		   key, v, min, max);
	return -EINVAL;
}

void
vs_port_type_register(struct vs_port_type *type)
{
	struct vs_port_type **p = &types;

	while (*p != NULL && strcmp((*p)->name, type->name) < 0)
		p = &(*p)->next;
	if (*p != NULL && strcmp((*p)->name, type->name) == 0) {
		/* Runs before main: stderr, not rte_log (EAL is not up yet). */
		fprintf(stderr, "vswitch: port type '%s' registered twice; keeping the first\n",
			type->name);
		return;
	}
	type->next = *p;
	*p = type;
}

const struct vs_port_type *
vs_port_type_find(const char *name)
{
	for (const struct vs_port_type *t = types; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

const struct vs_port_type *
vs_port_type_next(const struct vs_port_type *prev)
{
	return prev == NULL ? types : prev->next;
}

static void
unknown_type_err(const char *name, char *err, size_t errlen)
{
	char avail[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++) {
		if (strcmp(known_types[i], name) == 0) {
			vs_set_err(err, errlen, "port type '%s' is not available in this build",
				   name);
			return;
		}
	}
	for (const struct vs_port_type *t = types; t != NULL && len < sizeof(avail); t = t->next)
		len += (size_t)snprintf(avail + len, sizeof(avail) - len, "%s%s",
					len > 0 ? ", " : "", t->name);
	vs_set_err(err, errlen, "unknown port type '%s' (available: %s)", name,
		   avail[0] != '\0' ? avail : "none");
}

struct vs_port *
vs_port_create(const char *name, struct vs_port_spec *spec, const struct vs_port_env *env,
	       char *err, size_t errlen)
{
	const struct vs_port_type *type = vs_port_type_find(spec->type);
	struct vs_port *port;

	if (type == NULL) {
		unknown_type_err(spec->type, err, errlen);
		return NULL;
	}
	if (name == NULL || name[0] == '\0' || strlen(name) >= VS_PORT_NAME_LEN) {
		vs_set_err(err, errlen, "port name must have 1 to %d characters",
			   VS_PORT_NAME_LEN - 1);
		return NULL;
	}
	vs_set_err(err, errlen, "port type '%s' failed without a reason", type->name);
	port = type->create(name, spec, env, err, errlen);
	if (port == NULL)
		return NULL;
	for (unsigned int i = 0; i < spec->nkv; i++) {
		if (!spec->kv[i].used) {
			vs_set_err(err, errlen, "unknown key '%s' for port type '%s'",
				   spec->kv[i].key, type->name);
			port->ops->destroy(port);
			return NULL;
		}
	}
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->env = *env;
	PORT_LOG(DEBUG, "created %s port %s", type->name, name);
	return port;
}

static const char *const drop_names[VS_DROP_NB] = {
	[VS_DROP_VLAN] = "vlan",
	[VS_DROP_TAGGED] = "tagged",
	[VS_DROP_RUNT] = "runt",
	[VS_DROP_HAIRPIN] = "hairpin",
	[VS_DROP_ADMIN_DOWN] = "admin_down",
	[VS_DROP_LINK_DOWN] = "link_down",
	[VS_DROP_TX_FULL] = "tx_full",
	[VS_DROP_NO_MBUF] = "no_mbuf",
	[VS_DROP_NO_HEADROOM] = "no_headroom",
	[VS_DROP_TOO_LONG] = "too_long",
	[VS_DROP_BAD_CHAIN] = "bad_chain",
	[VS_DROP_BAD_OFFLOAD] = "bad_offload",
	[VS_DROP_DISABLED] = "queue_disabled",
	[VS_DROP_OTHER] = "other",
};

const char *
vs_drop_name(unsigned int reason)
{
	return reason < VS_DROP_NB ? drop_names[reason] : "?";
}
