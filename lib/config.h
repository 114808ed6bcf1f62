/*
 * config.h: xt's configuration, one per process.
 *
 * Precedence, first found wins: command-line options (config_set), XT_*
 * environment variables, ./xt.yaml, the user's file ($XT_CONFIG if set,
 * else $XDG_CONFIG_HOME/xt/config.yaml, else ~/.config/xt/config.yaml),
 * then built-in defaults. Files are YAML read with libyaml.
 *
 * Keys are dotted paths into the YAML mappings: "store", "workspace",
 * "targets.local.max-runs". The environment variable of a key is XT_ and
 * the key in upper case with '.' and '-' turned into '_' (XT_STORE,
 * XT_WORKSPACE, XT_TARGETS_LOCAL_MAX_RUNS).
 *
 * Built-in defaults: store "$XT_HOME/store" (XT_HOME defaults to ~/.xt;
 * with neither XT_HOME nor HOME set there is no default store),
 * workspace "ws1", experiment "exp1", target "local",
 * targets.local {type: local, max-runs: 1}, work-keep-failed 24h and
 * cache-max-size 10G (lib/work.h).
 */
#ifndef XT_CONFIG_H
#define XT_CONFIG_H

#include <stddef.h>
#include <cjson/cJSON.h>

/*
 * Read ./xt.yaml and the user's file. Missing files are fine. Returns 0, or
 * -1 with err set to "FILE:LINE:COLUMN: what is wrong" for a malformed file
 * (bad YAML, a top level that is not a mapping, a duplicate key), or for a
 * file holding credentials that others can read ("FILE:LINE:COL: holds a
 * credential ('azure.account-key') but can be read by others; chmod 600
 * FILE"): a key naming a secret
 * (secret_name in util.h: a key, password, token, secret, SAS, ... in any
 * case, at any depth, in lists too) or a value holding one (secret_in: a
 * URL with "sig=", a connection string with "AccountKey="). Safe to call
 * more than once (reloads).
 */
int config_load(char *err, size_t errlen);
/* Free everything config_load and config_set made. */
void config_release(void);

/* Set a key from the command line: it wins over everything else. value is copied. */
void config_set(const char *key, const char *value);

/*
 * The value of a scalar key as a string (numbers and booleans as written),
 * after precedence; def when no layer has it. Valid until config_release.
 */
const char *config_str(const char *key, const char *def);
/* A whole node (mapping or list) of the files merged, ./xt.yaml over the
 * user's file, or NULL. Not owned by the caller. */
const cJSON *config_node(const char *key);

/* Where a key's value came from, for messages: "option", "env XT_STORE",
 * "./xt.yaml:3:8", "default"; NULL when unset. */
const char *config_origin(const char *key);

/*
 * The store URL: config "store", a leading "~/" expanded; with none set,
 * $XT_HOME/store (~/.xt/store). Dies, saying what to set, when no store
 * is set and neither XT_HOME nor HOME is. Caller frees.
 */
char *config_store(void);
/* The workspace and experiment names (not checked here). */
const char *config_workspace(void);
const char *config_experiment(void);

#endif
