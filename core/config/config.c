/* Where clouds come from (DESIGN.md §7):
 *  - OpenStack's clouds.yaml: -o clouds_yaml= (a mount by fstab or systemd
 *    has no environment), $OS_CLIENT_CONFIG_FILE, then clouds.{yaml,yml}
 *    in ./, ~/.config/openstack/ ($XDG_CONFIG_HOME), /etc/xdg/openstack/,
 *    /etc/openstack/ -- the first that exists, as openstacksdk does -- with
 *    secure.yaml (found the same way, or $OS_CLIENT_SECURE_FILE) merged in;
 *  - the OS_* variables, as the cloud "envvars";
 *  - cloudfs.yaml: -o config=, $CLOUDFS_CONFIG, ~/.config/cloudfs/,
 *    /etc/cloudfs/: clouds of any provider type (vCloud ones live here).
 * A file another user owns, or that group or others can write, is refused
 * (check_trusted). */
#define _GNU_SOURCE
#include "config.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keys that openstacksdk moves under "auth" when they appear at the top
 * level of a cloud, as they do when they come from OS_* variables. */
static const char *const auth_keys[] = {
    "auth_url",
    "username",
    "user_id",
    "password",
    "project_name",
    "project_id",
    "tenant_name",
    "tenant_id",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret",
    "token",
    "default_domain",
    "system_scope",
};

static bool is_auth_key(const char *k)
{
    for (size_t i = 0; i < CFS_ARRAY_SIZE(auth_keys); i++)
        if (strcmp(k, auth_keys[i]) == 0)
            return true;
    return false;
}

const char *cfs_cloud_str(const struct cfs_cloud_config *c, const char *path)
{
    json_t *v = c->tree;
    const char *p = path;

    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p = dot ? dot + 1 : p + n;
    }
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < CFS_ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

bool cfs_cloud_bool(const struct cfs_cloud_config *c, const char *path, bool dflt)
{
    const char *s = cfs_cloud_str(c, path);
    bool v;
    if (!s)
        return dflt;
    if (parse_bool(s, &v) != 0) {
        cfs_log_warn("config: cloud %s: %s: '%s' is not a boolean, using %s", c->name, path, s,
                     dflt ? "true" : "false");
        return dflt;
    }
    return v;
}

/* Deep merge of src into dst (src wins), as secure.yaml is merged. */
static void merge(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach (src, k, v) {
        json_t *d = json_object_get(dst, k);
        if (json_is_object(d) && json_is_object(v))
            merge(d, v);
        else
            json_object_set(dst, k, v);
    }
}

static char *first_existing(const char *env, const char *base)
{
    static const char *const exts[] = { "yaml", "yml" };
    const char *home = getenv("HOME");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    char *dirs[4] = { 0 };
    char *found = NULL;

    if (env && getenv(env) && access(getenv(env), F_OK) == 0)
        return strdup(getenv(env));
    dirs[0] = strdup(".");
    if (xdg && *xdg)
        dirs[1] = cfs_printf("%s/openstack", xdg);
    else if (home)
        dirs[1] = cfs_printf("%s/.config/openstack", home);
    dirs[2] = strdup("/etc/xdg/openstack");
    dirs[3] = strdup("/etc/openstack");
    for (size_t i = 0; i < 4 && !found; i++) {
        for (size_t e = 0; dirs[i] && e < 2 && !found; e++) {
            char *p = cfs_printf("%s/%s.%s", dirs[i], base, exts[e]);
            if (p && access(p, F_OK) == 0)
                found = p;
            else
                free(p);
        }
    }
    for (size_t i = 0; i < 4; i++)
        free(dirs[i]);
    return found;
}

static bool holds_secret(json_t *m)
{
    static const char *const keys[] = { "password", "application_credential_secret", "token" };
    for (size_t i = 0; i < CFS_ARRAY_SIZE(keys); i++)
        if (json_object_get(m, keys[i]))
            return true;
    return false;
}

/* Judges each file by what it holds itself: called before secure.yaml is
 * merged in, so that clouds.yaml is not blamed for secure.yaml's secrets. */
static void warn_if_exposed(const char *path, const struct stat *st, json_t *clouds)
{
    const char *name;
    json_t *c;
    bool secrets = false;

    json_object_foreach (clouds, name, c)
        if (holds_secret(c) || holds_secret(json_object_get(c, "auth")))
            secrets = true;
    if (secrets && (st->st_mode & 0044))
        cfs_log_warn("config: %s holds secrets (a password, token or application credential "
                     "secret) and is readable by other users (mode %03o): chmod 600 it",
                     path, (unsigned)(st->st_mode & 0777));
}

/* A configuration file says where the passwords go: one that another user
 * owns or can write (a clouds.yaml left in the directory cloudfs starts
 * in, its auth_url pointing at the author's own listener) could send them
 * anywhere. It is refused, never read, and secure.yaml never merged into
 * it. "Another user" is anyone but the effective uid and root; a pipe
 * (OS_CLIENT_CONFIG_FILE=<(...)) is the process's own and passes. */
static int check_trusted(const char *path, const struct stat *st)
{
    uid_t me = geteuid();

    if (st->st_uid != me && st->st_uid != 0) {
        cfs_log_error("config: %s refused: it belongs to uid %u, not to uid %u (cloudfs's) or "
                      "root; its clouds could send credentials anywhere",
                      path, (unsigned)st->st_uid, (unsigned)me);
        return -EPERM;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        cfs_log_error("config: %s refused: other users can write it (mode %03o): chmod go-w it",
                      path, (unsigned)(st->st_mode & 0777));
        return -EPERM;
    }
    return 0;
}

static int add_cloud(struct cfs_config *cfg, const char *name, const char *type, const char *origin,
                     json_t *tree)
{
    for (size_t i = 0; i < cfg->n; i++) {
        struct cfs_cloud_config *c = &cfg->clouds[i];
        /* An OpenStack cloud of cloudfs.yaml without auth adds cloudfs's
         * own keys (upload_format, ova ...) to the cloud of that name that
         * clouds.yaml or the environment defines: merged over it. */
        if (strcmp(c->name, name) == 0 && strcmp(c->type, "openstack") == 0 &&
            strcmp(type, "openstack") == 0 && !json_object_get(c->tree, "auth")) {
            json_t *t = json_deep_copy(tree);
            char *o = strdup(origin);
            if (!t || !o || json_object_update(t, c->tree) != 0) {
                json_decref(t);
                free(o);
                return -ENOMEM;
            }
            json_decref(c->tree);
            c->tree = t;
            free(c->origin);
            c->origin = o;
            return 0;
        }
        if (strcmp(c->name, name) == 0) {
            cfs_log_warn("config: cloud %s from %s ignored: %s already defines it", name, origin,
                         cfg->clouds[i].origin);
            return 0;
        }
    }
    struct cfs_cloud_config *nc = realloc(cfg->clouds, (cfg->n + 1) * sizeof *nc);
    if (!nc)
        return -ENOMEM;
    cfg->clouds = nc;
    nc = &cfg->clouds[cfg->n];
    nc->name = strdup(name);
    nc->type = strdup(type);
    nc->origin = strdup(origin);
    nc->tree = json_incref(tree);
    if (!nc->name || !nc->type || !nc->origin)
        return -ENOMEM;
    cfg->n++;
    return 0;
}

/* A cloud name becomes a directory name: it must be one. */
static bool valid_cloud_name(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strcmp(name, ".cloudfs") != 0 && !strchr(name, '/') && strlen(name) <= 255;
}

static int add_clouds_of(struct cfs_config *cfg, json_t *clouds, const char *origin,
                         const char *default_type)
{
    const char *name;
    json_t *c;
    int err;

    if (!clouds)
        return 0;
    if (!json_is_object(clouds)) {
        cfs_log_error("config: %s: 'clouds' is not a mapping", origin);
        return -EINVAL;
    }
    json_object_foreach (clouds, name, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!json_is_object(c)) {
            cfs_log_warn("config: %s: cloud %s is not a mapping, skipped", origin, name);
            continue;
        }
        if (!valid_cloud_name(name)) {
            cfs_log_warn("config: %s: cloud name '%s' cannot be a directory name, skipped", origin,
                         name);
            continue;
        }
        if (json_object_get(c, "profile") || json_object_get(c, "cloud"))
            cfs_log_warn("config: %s: cloud %s uses a vendor profile, which cloudfs does not "
                         "know; only its own keys are used",
                         origin, name);
        err = add_cloud(cfg, name, type ? type : default_type, origin, c);
        if (err)
            return err;
    }
    return 0;
}

/* Loads a configuration file, checked on the descriptor it is read from;
 * st receives its mode. A problem is logged once, with the file's name. */
static int load_yaml(const char *path, json_t **doc, struct stat *st)
{
    char err[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0 || fstat(fd, st) != 0) {
        rc = -errno;
        cfs_log_error("config: %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    rc = check_trusted(path, st);
    if (!rc) {
        rc = cfs_yaml_load_fd(fd, doc, err, sizeof err);
        if (rc)
            cfs_log_error("config: %s: %s", path, err);
    }
    close(fd);
    return rc;
}

/* A clouds.yaml named by the option must exist (load_yaml says so); the
 * variable, as openstacksdk has it, only when the file does. */
static int load_clouds_yaml(struct cfs_config *cfg, const char *explicit_path)
{
    json_t *doc = NULL, *sec = NULL;
    char *path =
        explicit_path ? strdup(explicit_path) : first_existing("OS_CLIENT_CONFIG_FILE", "clouds");
    char *spath;
    struct stat st;
    int rc;

    if (!path)
        return 0;
    /* A refused clouds.yaml ends here: secure.yaml is not even read. */
    rc = load_yaml(path, &doc, &st);
    if (rc) {
        free(path);
        return rc;
    }
    warn_if_exposed(path, &st, json_object_get(doc, "clouds"));
    spath = first_existing("OS_CLIENT_SECURE_FILE", "secure");
    if (spath) {
        rc = load_yaml(spath, &sec, &st);
        if (rc == 0) {
            json_t *sc = json_object_get(sec, "clouds");
            json_t *dc = json_object_get(doc, "clouds");
            warn_if_exposed(spath, &st, sc);
            if (json_is_object(sc) && json_is_object(dc))
                merge(dc, sc);
        }
        json_decref(sec);
        free(spath);
        /* A secure.yaml another user controls could redirect auth_url as
         * well: refused like clouds.yaml. A malformed one only loses its
         * secrets (logged). */
        if (rc == -EPERM) {
            json_decref(doc);
            free(path);
            return rc;
        }
    }
    rc = add_clouds_of(cfg, json_object_get(doc, "clouds"), path, "openstack");
    json_decref(doc);
    free(path);
    return rc;
}

/* Once read, the secrets among the OS_* variables leave the environment
 * that children (fusermount3) inherit, and are zeroed where they lie:
 * /proc/PID/environ shows the block the process started with, whatever
 * unsetenv does to environ. */
static void drop_secret_variables(void)
{
    static const char *const names[] = { "OS_PASSWORD", "OS_TOKEN",
                                         "OS_APPLICATION_CREDENTIAL_SECRET" };
    extern char **environ;

    for (size_t i = 0; i < CFS_ARRAY_SIZE(names); i++) {
        size_t n = strlen(names[i]);
        for (char **e = environ; *e; e++)
            if (strncmp(*e, names[i], n) == 0 && (*e)[n] == '=')
                explicit_bzero(*e + n + 1, strlen(*e + n + 1));
        unsetenv(names[i]);
    }
}

/* OS_FOO=bar becomes foo: bar, auth keys under auth:, as openstacksdk does. */
static int load_environment(struct cfs_config *cfg)
{
    extern char **environ;
    json_t *cloud, *auth;
    const char *name = getenv("OS_CLOUD_NAME");
    int rc;

    if (!getenv("OS_AUTH_URL")) {
        drop_secret_variables();
        return 0;
    }
    cloud = json_object();
    auth = json_object();
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        char key[128];
        size_t n;
        if (strncmp(*e, "OS_", 3) != 0 || !eq)
            continue;
        n = (size_t)(eq - *e) - 3;
        if (n == 0 || n >= sizeof key)
            continue;
        for (size_t i = 0; i < n; i++)
            key[i] = (char)tolower((unsigned char)(*e)[3 + i]);
        key[n] = '\0';
        if (strcmp(key, "cloud") == 0 || strcmp(key, "cloud_name") == 0 ||
            strcmp(key, "client_config_file") == 0 || strcmp(key, "client_secure_file") == 0)
            continue;
        if (strcmp(key, "tenant_name") == 0)
            strcpy(key, "project_name");
        if (strcmp(key, "tenant_id") == 0)
            strcpy(key, "project_id");
        if (strcmp(key, "insecure") == 0) {
            bool b = false;
            if (parse_bool(eq + 1, &b) == 0 && b)
                json_object_set_new(cloud, "verify", json_string("false"));
            continue;
        }
        json_object_set_new(is_auth_key(key) ? auth : cloud, key, json_string(eq + 1));
    }
    json_object_set_new(cloud, "auth", auth);
    rc = add_cloud(cfg, name && *name ? name : "envvars", "openstack", "environment", cloud);
    json_decref(cloud);
    drop_secret_variables();
    return rc;
}

static char *cloudfs_yaml_path(const char *explicit_path)
{
    const char *env = getenv("CLOUDFS_CONFIG");
    const char *home = getenv("HOME");
    if (explicit_path)
        return strdup(explicit_path);
    if (env && *env)
        return strdup(env);
    if (home) {
        char *p = cfs_printf("%s/.config/cloudfs/cloudfs.yaml", home);
        if (p && access(p, F_OK) == 0)
            return p;
        free(p);
    }
    if (access("/etc/cloudfs/cloudfs.yaml", F_OK) == 0)
        return strdup("/etc/cloudfs/cloudfs.yaml");
    return NULL;
}

static int load_cloudfs_yaml(struct cfs_config *cfg, const char *explicit_path)
{
    json_t *doc = NULL;
    char *path = cloudfs_yaml_path(explicit_path);
    struct stat st;
    int rc;

    if (!path)
        return 0;
    rc = load_yaml(path, &doc, &st);
    if (rc) {
        free(path);
        return rc;
    }
    warn_if_exposed(path, &st, json_object_get(doc, "clouds"));
    rc = add_clouds_of(cfg, json_object_get(doc, "clouds"), path, "openstack");
    json_decref(doc);
    free(path);
    return rc;
}

int cfs_config_load(const char *cloudfs_yaml, const char *clouds_yaml, struct cfs_config *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    rc = load_cloudfs_yaml(out, cloudfs_yaml);
    if (!rc)
        rc = load_clouds_yaml(out, clouds_yaml);
    if (!rc)
        rc = load_environment(out);
    if (rc)
        cfs_config_free(out);
    return rc;
}

void cfs_config_free(struct cfs_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->clouds[i].name);
        free(cfg->clouds[i].type);
        free(cfg->clouds[i].origin);
        json_decref(cfg->clouds[i].tree);
    }
    free(cfg->clouds);
    memset(cfg, 0, sizeof *cfg);
}
