/* clouds.yaml search and merge, OS_* variables, YAML edge cases. */
#define _GNU_SOURCE
#include "config.h"
#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static const struct cfs_cloud_config *find(const struct cfs_config *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->clouds[i].name, name) == 0)
            return &c->clouds[i];
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/cfs-unit-XXXXXX";
    char path[256], spath[256], err[256];
    struct cfs_config cfg;
    json_t *j;

    CHECK(mkdtemp(dir) != NULL);
    /* Keep the machine's own files out of the search. */
    setenv("HOME", dir, 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("CLOUDFS_CONFIG");
    CHECK(chdir(dir) == 0);
    for (char **e = environ; *e;)
        if (strncmp(*e, "OS_", 3) == 0) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(strchr(*e, '=') - *e), *e);
            unsetenv(name);
        } else {
            e++;
        }

    /* YAML: anchors, aliases, nesting bound, errors. */
    CHECK(cfs_yaml_parse("a: &x {b: 1}\nc: *x\n", 19, &j, err, sizeof err) == 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "c"), "b")), "1");
    json_decref(j);
    CHECK(cfs_yaml_parse("a: *nope\n", 9, &j, err, sizeof err) != 0);
    CHECK(cfs_yaml_parse("a: [1, 2\n", 9, &j, err, sizeof err) != 0);
    char deep[400];
    memset(deep, '[', 200);
    deep[200] = '\0';
    CHECK(cfs_yaml_parse(deep, 200, &j, err, sizeof err) != 0);

    /* clouds.yaml through OS_CLIENT_CONFIG_FILE, with secure.yaml merged. */
    snprintf(path, sizeof path, "%s/my-clouds.yaml", dir);
    write_file(path, "clouds:\n"
                     "  one:\n"
                     "    auth:\n"
                     "      auth_url: http://127.0.0.1:5000/v3\n"
                     "      username: demo\n"
                     "      project_name: demo\n"
                     "    region_name: RegionOne\n"
                     "    verify: false\n"
                     "  two:\n"
                     "    auth: {auth_url: 'http://x/v3', application_credential_id: abc}\n"
                     "  bad/name:\n"
                     "    auth: {auth_url: 'http://x/v3'}\n");
    snprintf(spath, sizeof spath, "%s/my-secure.yaml", dir);
    write_file(spath, "clouds:\n  one:\n    auth:\n      password: s3cret\n");
    setenv("OS_CLIENT_CONFIG_FILE", path, 1);
    setenv("OS_CLIENT_SECURE_FILE", spath, 1);
    CHECK(cfs_config_load(NULL, NULL, &cfg) == 0);
    CHECK(cfg.n == 2);
    const struct cfs_cloud_config *one = find(&cfg, "one");
    CHECK(one != NULL);
    if (one) {
        CHECK_STR(cfs_cloud_str(one, "auth.password"), "s3cret");
        CHECK_STR(cfs_cloud_str(one, "auth.username"), "demo");
        CHECK_STR(cfs_cloud_str(one, "region_name"), "RegionOne");
        CHECK(cfs_cloud_bool(one, "verify", true) == false);
        CHECK(cfs_cloud_bool(one, "missing", true) == true);
        CHECK_STR(one->type, "openstack");
    }
    CHECK(find(&cfg, "bad/name") == NULL);
    cfs_config_free(&cfg);

    /* The OS_* variables make the cloud "envvars", auth keys under auth. */
    setenv("OS_AUTH_URL", "http://k:5000/v3", 1);
    setenv("OS_USERNAME", "u", 1);
    setenv("OS_PASSWORD", "p", 1);
    setenv("OS_TENANT_NAME", "t", 1);
    setenv("OS_REGION_NAME", "R2", 1);
    setenv("OS_INSECURE", "true", 1);
    CHECK(cfs_config_load(NULL, NULL, &cfg) == 0);
    const struct cfs_cloud_config *ev = find(&cfg, "envvars");
    CHECK(ev != NULL);
    if (ev) {
        CHECK_STR(cfs_cloud_str(ev, "auth.auth_url"), "http://k:5000/v3");
        CHECK_STR(cfs_cloud_str(ev, "auth.project_name"), "t");
        CHECK_STR(cfs_cloud_str(ev, "region_name"), "R2");
        CHECK(cfs_cloud_bool(ev, "verify", true) == false);
    }
    cfs_config_free(&cfg);

    /* Without OS_CLIENT_CONFIG_FILE: ./clouds.yaml is found first. */
    unsetenv("OS_AUTH_URL");
    unsetenv("OS_CLIENT_CONFIG_FILE");
    unsetenv("OS_CLIENT_SECURE_FILE");
    write_file("clouds.yaml", "clouds:\n  here: {auth: {auth_url: 'http://h/v3'}}\n");
    CHECK(cfs_config_load(NULL, NULL, &cfg) == 0);
    CHECK(cfg.n == 1 && find(&cfg, "here") != NULL);
    cfs_config_free(&cfg);

    /* -o clouds_yaml= names the file: before ./clouds.yaml and before
     * $OS_CLIENT_CONFIG_FILE; one that is missing is an error. */
    snprintf(path, sizeof path, "%s/named.yaml", dir);
    write_file(path, "clouds:\n  named: {auth: {auth_url: 'http://n/v3'}}\n");
    setenv("OS_CLIENT_CONFIG_FILE", "clouds.yaml", 1);
    CHECK(cfs_config_load(NULL, path, &cfg) == 0);
    CHECK(cfg.n == 1 && find(&cfg, "named") != NULL);
    cfs_config_free(&cfg);
    unsetenv("OS_CLIENT_CONFIG_FILE");
    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    CHECK(cfs_config_load(NULL, path, &cfg) == -ENOENT);

    /* cloudfs.yaml via -o config=: its clouds carry their type. */
    snprintf(path, sizeof path, "%s/cloudfs.yaml", dir);
    write_file(path, "clouds:\n  vc: {type: vcloud, url: 'https://vcd'}\n");
    CHECK(cfs_config_load(path, NULL, &cfg) == 0);
    const struct cfs_cloud_config *vc = find(&cfg, "vc");
    CHECK(vc && strcmp(vc->type, "vcloud") == 0);
    cfs_config_free(&cfg);

    /* An OpenStack cloud of cloudfs.yaml without auth adds its keys to
     * clouds.yaml's cloud of that name; one with auth stays apart. */
    char cpath[sizeof path];
    snprintf(cpath, sizeof cpath, "%s/ov-clouds.yaml", dir);
    write_file(cpath, "clouds:\n  os: {auth: {auth_url: 'http://o/v3'}, upload_format: qcow2}\n"
                      "  own: {auth: {auth_url: 'http://c/v3'}}\n");
    write_file(path, "clouds:\n  os: {upload_format: raw, ova: keep}\n"
                     "  own: {auth: {auth_url: 'http://y/v3'}}\n");
    CHECK(cfs_config_load(path, cpath, &cfg) == 0);
    const struct cfs_cloud_config *ov = find(&cfg, "os");
    CHECK(cfg.n == 2 && ov != NULL);
    CHECK_STR(cfs_cloud_str(ov, "auth.auth_url"), "http://o/v3");
    CHECK_STR(cfs_cloud_str(ov, "upload_format"), "raw");
    CHECK_STR(cfs_cloud_str(ov, "ova"), "keep");
    CHECK_STR(cfs_cloud_str(find(&cfg, "own"), "auth.auth_url"), "http://y/v3");
    cfs_config_free(&cfg);

    /* A malformed file is an error, not a silent empty config. */
    write_file(path, "clouds: [\n");
    CHECK(cfs_config_load(path, NULL, &cfg) != 0);

    /* A file others can write is refused, whoever owns it; so is one of
     * another user's (root runs the tests: it can give one away). */
    write_file(path, "clouds:\n  vc: {type: vcloud, url: 'https://vcd'}\n");
    chmod(path, 0620);
    CHECK(cfs_config_load(path, NULL, &cfg) == -EPERM);
    chmod(path, 0644);
    CHECK(cfs_config_load(path, NULL, &cfg) == 0);
    cfs_config_free(&cfg);
    if (geteuid() == 0) {
        CHECK(chown(path, 65534, 65534) == 0);
        CHECK(cfs_config_load(path, NULL, &cfg) == -EPERM);
        CHECK(chown(path, 0, 0) == 0);
    }

    /* The secret OS_* variables leave the environment once read. */
    setenv("OS_AUTH_URL", "http://k:5000/v3", 1);
    setenv("OS_PASSWORD", "p", 1);
    setenv("OS_TOKEN", "t", 1);
    setenv("OS_APPLICATION_CREDENTIAL_SECRET", "s", 1);
    CHECK(cfs_config_load(NULL, NULL, &cfg) == 0);
    CHECK(getenv("OS_PASSWORD") == NULL && getenv("OS_TOKEN") == NULL &&
          getenv("OS_APPLICATION_CREDENTIAL_SECRET") == NULL);
    ev = find(&cfg, "envvars");
    CHECK(ev && cfs_cloud_str(ev, "auth.password") &&
          strcmp(cfs_cloud_str(ev, "auth.password"), "p") == 0);
    CHECK_STR(getenv("OS_AUTH_URL"), "http://k:5000/v3");
    cfs_config_free(&cfg);
    unsetenv("OS_AUTH_URL");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return UNIT_RESULT();
}
