/* u-config.c: unit tests of lib/config.c in a temporary directory. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "util.h"
#include "banned.h"

static char dir[] = "/tmp/u-config.XXXXXX";
static char err[1024];

/* Write text to path with exactly this mode, whatever the umask. */
static void
put(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fchmod(fd, mode) < 0)
		die("cannot write '%s':", path);
	close(fd);
}

static int
streq(const char *a, const char *b)
{
	if (a && b && !strcmp(a, b))
		return 1;
	printf("# got '%s', want '%s'\n", a ? a : "(null)", b ? b : "(null)");
	return 0;
}

/* Load ./xt.yaml holding text; the error message, or "" when it loads. */
static const char *
load_local(const char *text)
{
	put("xt.yaml", 0600, text);
	err[0] = '\0';
	if (config_load(err, sizeof(err)) == 0)
		return "";
	return err;
}

static void
test_defaults(void)
{
	char *s, *want;
	const cJSON *n;

	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "ws1"));
	CHECK(streq(config_workspace(), "ws1"));
	CHECK(streq(config_experiment(), "exp1"));
	CHECK(streq(config_str("target", NULL), "local"));
	CHECK(streq(config_str("targets.local.type", NULL), "local"));
	CHECK(streq(config_str("targets.local.max-runs", NULL), "1"));
	CHECK(streq(config_origin("workspace"), "default"));
	CHECK(config_origin("nothing.here") == NULL);
	CHECK(streq(config_str("nothing.here", "dflt"), "dflt"));
	CHECK(config_str("targets.local", NULL) == NULL);	/* a mapping, not a scalar */
	n = config_node("targets.local");
	CHECK(cJSON_IsObject(n) && cJSON_IsNumber(cJSON_GetObjectItem(n, "max-runs")));
	s = config_store();
	want = xasprintf("%s/home/.xt/store", dir);
	CHECK(streq(s, want));
	free(s);
	free(want);
	config_release();
}

static void
test_precedence(void)
{
	char *want;

	put("user.yaml", 0600, "workspace: user\nexperiment: e-user\n");
	put("xt.yaml", 0600, "# local\nworkspace: local\n");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "local"));
	CHECK(streq(config_origin("workspace"), "./xt.yaml:2:12"));
	CHECK(streq(config_str("experiment", NULL), "e-user"));
	want = xasprintf("%s/user.yaml:2:13", dir);
	CHECK(streq(config_origin("experiment"), want));
	free(want);
	setenv("XT_WORKSPACE", "env", 1);
	CHECK(streq(config_str("workspace", NULL), "env"));
	CHECK(streq(config_origin("workspace"), "env XT_WORKSPACE"));
	config_set("workspace", "opt");
	CHECK(streq(config_str("workspace", NULL), "opt"));
	CHECK(streq(config_origin("workspace"), "option"));
	config_set("workspace", "opt2");
	CHECK(streq(config_str("workspace", NULL), "opt2"));
	/* Reloading keeps the options; releasing drops them. */
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "opt2"));
	config_release();
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "env"));
	unsetenv("XT_WORKSPACE");
	CHECK(streq(config_str("workspace", NULL), "local"));
	unlink("xt.yaml");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "user"));
	unlink("user.yaml");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("workspace", NULL), "ws1"));
	config_release();
}

static void
test_nested(void)
{
	const cJSON *n, *gpu;
	const char *s1;

	put("user.yaml", 0600,
	    "targets:\n"
	    "  local:\n"
	    "    max-runs: 2\n"
	    "  gpu: {type: ssh, host: \"h1\", max-runs: 4, ratio: 0.5, on: True,\n"
	    "        off: false, none: null, port: '22', hex: 0x10, e: 1e3,\n"
	    "        list: [a, 2, {b: c}], word: no, ver: 1.2.3, neg: -7}\n");
	put("xt.yaml", 0600, "targets: {local: {max-runs: 3}}\nstore: ~/s\n");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("targets.local.max-runs", NULL), "3"));
	CHECK(streq(config_origin("targets.local.max-runs"), "./xt.yaml:1:29"));
	CHECK(streq(config_str("targets.local.type", NULL), "local"));
	CHECK(streq(config_origin("targets.local.type"), "default"));
	CHECK(streq(config_str("targets.gpu.type", NULL), "ssh"));
	CHECK(streq(config_str("targets.gpu.max-runs", NULL), "4"));
	CHECK(streq(config_str("targets.gpu.ratio", NULL), "0.5"));
	CHECK(streq(config_str("targets.gpu.on", NULL), "true"));
	CHECK(streq(config_str("targets.gpu.off", NULL), "false"));
	CHECK(streq(config_str("targets.gpu.hex", NULL), "0x10"));
	CHECK(streq(config_str("targets.gpu.e", NULL), "1e3"));
	CHECK(streq(config_str("targets.gpu.port", NULL), "22"));
	CHECK(streq(config_str("targets.gpu.neg", NULL), "-7"));
	CHECK(config_str("targets.gpu.list", NULL) == NULL);

	/* Types in the tree. */
	n = config_node("targets.local");
	CHECK(cJSON_GetObjectItem(n, "max-runs")->valuedouble == 3);
	CHECK(streq(cJSON_GetObjectItem(n, "type")->valuestring, "local"));
	gpu = config_node("targets.gpu");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(gpu, "max-runs")));
	CHECK(cJSON_GetObjectItem(gpu, "ratio")->valuedouble == 0.5);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(gpu, "on")));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(gpu, "off")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(gpu, "none")));
	CHECK(cJSON_IsString(cJSON_GetObjectItem(gpu, "host")));
	CHECK(cJSON_IsString(cJSON_GetObjectItem(gpu, "port")));
	CHECK(cJSON_GetObjectItem(gpu, "hex")->valuedouble == 16);
	CHECK(cJSON_GetObjectItem(gpu, "e")->valuedouble == 1000);
	CHECK(cJSON_IsString(cJSON_GetObjectItem(gpu, "word")));
	CHECK(cJSON_IsString(cJSON_GetObjectItem(gpu, "ver")));
	n = cJSON_GetObjectItem(gpu, "list");
	CHECK(cJSON_GetArraySize(n) == 3 && cJSON_IsNumber(cJSON_GetArrayItem(n, 1)) &&
	    cJSON_IsObject(cJSON_GetArrayItem(n, 2)));
	CHECK(cJSON_IsObject(config_node("targets")) && config_node("targets.gpu.list.0") == NULL);

	/* The environment name of a nested key, and its copy staying valid. */
	setenv("XT_TARGETS_LOCAL_MAX_RUNS", "7", 1);
	s1 = config_str("targets.local.max-runs", NULL);
	CHECK(streq(s1, "7"));
	setenv("XT_TARGETS_LOCAL_MAX_RUNS", "8", 1);
	CHECK(streq(config_str("targets.local.max-runs", NULL), "8"));
	CHECK(streq(s1, "7"));
	CHECK(streq(config_origin("targets.local.max-runs"), "env XT_TARGETS_LOCAL_MAX_RUNS"));
	unsetenv("XT_TARGETS_LOCAL_MAX_RUNS");
	config_release();
	unlink("user.yaml");
	unlink("xt.yaml");
}

static void
test_store(void)
{
	char *s, *want;

	CHECK(streq(load_local("store: ~/s\n"), ""));
	s = config_store();
	want = xasprintf("%s/home/s", dir);
	CHECK(streq(s, want));
	free(s);
	free(want);
	CHECK(streq(load_local("store: az://acct/c\n"), ""));
	s = config_store();
	CHECK(streq(s, "az://acct/c"));
	free(s);
	setenv("XT_HOME", "/xh", 1);
	unlink("xt.yaml");
	CHECK(config_load(err, sizeof(err)) == 0);
	s = config_store();
	CHECK(streq(s, "/xh/store"));
	free(s);
	unsetenv("XT_HOME");
	config_release();
}

static void
test_errors(void)
{
	size_t bigsz = ((size_t)1 << 20) + 16;
	char *big = xmalloc(bigsz);

	CHECK(streq(load_local("a: 1\n  b: 2\n"),
	    "./xt.yaml:2:4: mapping values are not allowed in this context"));
	CHECK(streq(load_local("a: 1\nb: \"open\nc: 3\n"),
	    "./xt.yaml:4:1: found unexpected end of stream"));
	CHECK(streq(load_local("a: [1, 2\nb: 3\n"),
	    "./xt.yaml:2:2: did not find expected ',' or ']'"));
	CHECK(streq(load_local("a: {x: 1\n"),
	    "./xt.yaml:2:1: did not find expected ',' or '}'"));
	CHECK(streq(load_local("a: 1\nb:\n  c: 2\n  c: 3\n"),
	    "./xt.yaml:4:3: duplicate key 'c'"));
	CHECK(streq(load_local("- a\n- b\n"),
	    "./xt.yaml:1:1: the top level must be a mapping"));
	CHECK(streq(load_local("# comment\njust text\n"),
	    "./xt.yaml:2:1: the top level must be a mapping"));
	CHECK(streq(load_local("a: &x 1\nb: *x\n"),
	    "./xt.yaml:2:4: anchors and aliases are not supported"));
	CHECK(streq(load_local("a: 1\n---\nb: 2\n"),
	    "./xt.yaml:2:1: more than one YAML document"));
	CHECK(streq(load_local("[a]: 1\n"), "./xt.yaml:1:1: a key must be a scalar"));
	CHECK(streq(load_local("a: \xff\n"),
	    "./xt.yaml: invalid leading UTF-8 octet at byte 3"));
	memset(big, '[', 100);
	memcpy(big, "a: ", 3);
	big[100] = '\0';
	CHECK(streq(load_local(big), "./xt.yaml:1:68: nested more than 64 deep"));
	/* After an error only the defaults are left. */
	CHECK(streq(config_str("a", "none"), "none"));
	CHECK(streq(config_str("workspace", NULL), "ws1"));
	/* Empty files are fine. */
	CHECK(streq(load_local(""), ""));
	CHECK(streq(load_local("# nothing\n"), ""));
	CHECK(streq(load_local("---\n"), ""));
	memset(big, '#', bigsz - 1);
	big[bigsz - 1] = '\0';
	CHECK(streq(load_local(big), "./xt.yaml: bigger than 1 MiB"));
	free(big);
	unlink("xt.yaml");
	/* The user's file is named as given. */
	put("user.yaml", 0600, "x: 1\nx: 2\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	CHECK(strstr(err, "/user.yaml:2:1: duplicate key 'x'") != NULL);
	unlink("user.yaml");
	CHECK(config_load(NULL, 0) == 0);
	config_release();
}

static void
test_credentials(void)
{
	put("xt.yaml", 0644, "store: az://x\nazure:\n  account-key: abc\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	CHECK(streq(err, "./xt.yaml:3:3: holds a credential ('azure.account-key') but can be read by "
	    "others; chmod 600 ./xt.yaml"));
	chmod("xt.yaml", 0640);
	CHECK(config_load(err, sizeof(err)) < 0);
	chmod("xt.yaml", 0600);
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("azure.account-key", NULL), "abc"));
	put("xt.yaml", 0644, "services: [{name: db, password: x}]\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "a: {b: {sas: x}}\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	/* any key naming a key, password, token, secret or SAS, in any case, at any depth */
	put("xt.yaml", 0644, "keys: 1\nsecret-key-name: x\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "azure:\n  Storage: {AccountKey: x}\n");
	CHECK(config_load(err, sizeof(err)) < 0 &&
	    strstr(err, "./xt.yaml:2:13: holds a credential ('azure.Storage.AccountKey')"));
	put("xt.yaml", 0644, "a: [{b: [{SAS_Token: x}]}]\n");
	CHECK(config_load(err, sizeof(err)) < 0 &&
	    strstr(err, ":1:11: holds a credential ('a.b.SAS_Token')"));
	put("xt.yaml", 0644, "API-TOKEN: x\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "svc: {client_secret: x}\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "db: {PassWord: x}\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "SAS: x\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "apiKey: x\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	/* or a value holding a secret, whatever its key */
	put("xt.yaml", 0644, "store: 'https://a.blob.core.windows.net/c?sv=2020&sig=abc'\n");
	CHECK(config_load(err, sizeof(err)) < 0);
	put("xt.yaml", 0644, "conn: 'AccountName=a;AccountKey=b=='\n");
	CHECK(config_load(err, sizeof(err)) < 0 &&
	    streq(err, "./xt.yaml:1:7: holds a credential (in the value of 'conn') but can be read by "
	    "others; chmod 600 ./xt.yaml"));
	/* words that only look like one */
	put("xt.yaml", 0644, "keyboard: 1\ntokenizer: bert\nmonk: x\npassage: 2\nsigma: 1\n"
	    "store: 'https://a/c?sv=2020'\n");
	CHECK(config_load(err, sizeof(err)) == 0);
	put("user.yaml", 0604, "connection-string: x\n");
	CHECK(config_load(err, sizeof(err)) < 0 && strstr(err, "chmod 600") != NULL);
	unlink("user.yaml");
	unlink("xt.yaml");
	config_release();
}

/* redact s; compare with want */
static int
redacts(const char *s, const char *want)
{
	char *r = redact(s), small[16];
	size_t n = redact_into(s, small, sizeof(small));
	int ok = streq(r, want) && n == strlen(want) && strlen(small) == (n < 15 ? n : 15) &&
	    !strncmp(small, want, strlen(small));

	free(r);
	return ok;
}

/* FNV-1a, 32 bits: the published test vectors (names of caches depend on them) */
static void
test_fnv(void)
{
	CHECK(fnv1a("", 0) == 0x811c9dc5u);
	CHECK(fnv1a("a", 1) == 0xe40c292cu);
	CHECK(fnv1a("foobar", 6) == 0xbf9cf968u);
	CHECK(fnv1a("foobar", 3) == fnv1a("foo", 3));
}

static void
test_secrets(void)
{
	CHECK(secret_name("AccountKey", 10) && secret_name("account-key", 11));
	CHECK(secret_name("SAS", 3) && secret_name("sas_url", 7) && secret_name("sig", 3));
	CHECK(secret_name("access_token", 12) && secret_name("PASSWD", 6));
	CHECK(secret_name("SharedAccessSignature", 21) && secret_name("ConnectionString", 16));
	CHECK(!secret_name("keyboard", 8) && !secret_name("tokenizer", 9));
	CHECK(!secret_name("sigma", 5) && !secret_name("AccountName", 11) && !secret_name("sv", 2));
	CHECK(redacts("az://acct/c?sv=2020-10-02&sp=r&sig=abc%2Bdef%3D",
	    "az://acct/c?sv=2020-10-02&sp=r&sig=REDACTED"));
	CHECK(redacts("bad URL 'https://a.blob.core.windows.net/c/f?sig=x&se=1': 403",
	    "bad URL 'https://a.blob.core.windows.net/c/f?sig=REDACTED&se=1': 403"));
	CHECK(redacts("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=Eby8/+==;"
	    "BlobEndpoint=http://127.0.0.1:10000/a;",
	    "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=REDACTED;"
	    "BlobEndpoint=http://127.0.0.1:10000/a;"));
	CHECK(redacts("https://me:hunter2@host/x", "https://me:REDACTED@host/x"));
	CHECK(redacts("http://h/f?sig=a%2Bb: Couldn't connect",
	    "http://h/f?sig=REDACTED: Couldn't connect"));
	CHECK(redacts("SharedAccessSignature=sv=1&sig=2", "SharedAccessSignature=REDACTED&sig=REDACTED"));
	CHECK(redacts("lr=0.1 sigma=2 file:///a/b", "lr=0.1 sigma=2 file:///a/b"));
	CHECK(redacts("", ""));
	CHECK(secret_in("x?sig=1") && !secret_in("x?sv=1"));
}

/* Neither XT_HOME nor HOME: no default store (never /tmp/.xt), the rest still works */
static void
test_no_home(void)
{
	char *home = xstrdup(getenv("HOME"));

	unsetenv("HOME");
	unsetenv("XT_HOME");
	CHECK(xt_home_maybe() == NULL);
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(config_str("store", NULL) == NULL);
	CHECK(streq(config_workspace(), "ws1"));
	setenv("XT_STORE", "/x/store", 1);
	{
		char *st = config_store();

		CHECK(streq(st, "/x/store"));
		free(st);
	}
	unsetenv("XT_STORE");
	setenv("XT_HOME", "/x/home", 1);
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_str("store", NULL), "/x/home/store"));
	unsetenv("XT_HOME");
	setenv("HOME", home, 1);
	free(home);
	config_release();
}

static void
test_user_paths(void)
{
	char *p;

	unsetenv("XT_CONFIG");
	mkdir("home/.config", 0700);
	mkdir("home/.config/xt", 0700);
	put("home/.config/xt/config.yaml", 0600, "experiment: from-home\n");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_experiment(), "from-home"));
	p = xasprintf("%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", p, 1);
	mkdir("xdg", 0700);
	mkdir("xdg/xt", 0700);
	put("xdg/xt/config.yaml", 0600, "experiment: from-xdg\n");
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(streq(config_experiment(), "from-xdg"));
	unsetenv("XDG_CONFIG_HOME");
	free(p);
	config_release();
}

int
main(void)
{
	char *s;

	if (!mkdtemp(dir) || chdir(dir) < 0)
		die("cannot make a temporary directory:");
	mkdir("home", 0700);
	s = xasprintf("%s/home", dir);
	setenv("HOME", s, 1);
	free(s);
	s = xasprintf("%s/user.yaml", dir);
	setenv("XT_CONFIG", s, 1);
	free(s);
	unsetenv("XT_HOME");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XT_WORKSPACE");
	unsetenv("XT_EXPERIMENT");
	unsetenv("XT_STORE");
	unsetenv("XT_TARGET");

	test_defaults();
	test_precedence();
	test_nested();
	test_store();
	test_errors();
	test_credentials();
	test_secrets();
	test_fnv();
	test_no_home();
	test_user_paths();

	s = xasprintf("rm -rf '%s'", dir);
	if (system(s) != 0)
		printf("# cannot remove %s\n", dir);
	free(s);
	return check_done();
}
