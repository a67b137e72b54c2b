/* YAML to a jansson tree with libyaml's event parser: mappings become
 * objects, sequences arrays, every scalar a string (the reader decides
 * what a value means). Anchors and aliases are honoured; depth is bounded
 * so a hostile file cannot exhaust the stack. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_DEPTH 64

struct yctx {
    yaml_parser_t parser;
    json_t *anchors;
    char *err;
    size_t errn;
};

static int parse_node(struct yctx *y, yaml_event_t *ev, json_t **out, int depth);

static int next_event(struct yctx *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->parser, ev)) {
        snprintf(y->err, y->errn, "line %zu: %s", y->parser.problem_mark.line + 1,
                 y->parser.problem ? y->parser.problem : "syntax error");
        return -EINVAL;
    }
    return 0;
}

static void remember(struct yctx *y, const yaml_char_t *anchor, json_t *v)
{
    if (anchor)
        json_object_set(y->anchors, (const char *)anchor, v);
}

static int parse_collection(struct yctx *y, bool mapping, json_t *c, int depth)
{
    for (;;) {
        yaml_event_t ev;
        json_t *key = NULL, *val = NULL;
        int err = next_event(y, &ev);
        if (err)
            return err;
        if (ev.type == (mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            return 0;
        }
        err = parse_node(y, &ev, mapping ? &key : &val, depth + 1);
        yaml_event_delete(&ev);
        if (err)
            return err;
        if (!mapping) {
            json_array_append_new(c, val);
            continue;
        }
        if (!json_is_string(key)) {
            snprintf(y->err, y->errn, "line %zu: mapping key is not a scalar",
                     y->parser.mark.line + 1);
            json_decref(key);
            return -EINVAL;
        }
        err = next_event(y, &ev);
        if (!err) {
            err = parse_node(y, &ev, &val, depth + 1);
            yaml_event_delete(&ev);
        }
        if (err) {
            json_decref(key);
            return err;
        }
        json_object_set_new(c, json_string_value(key), val);
        json_decref(key);
    }
}

static int parse_node(struct yctx *y, yaml_event_t *ev, json_t **out, int depth)
{
    json_t *v;
    int err;

    if (depth > MAX_DEPTH) {
        snprintf(y->err, y->errn, "nesting deeper than %d levels", MAX_DEPTH);
        return -EINVAL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        v = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (!v)
            return -ENOMEM;
        remember(y, ev->data.scalar.anchor, v);
        *out = v;
        return 0;
    case YAML_ALIAS_EVENT:
        v = json_object_get(y->anchors, (const char *)ev->data.alias.anchor);
        if (!v) {
            snprintf(y->err, y->errn, "unknown alias *%s", ev->data.alias.anchor);
            return -EINVAL;
        }
        *out = json_incref(v);
        return 0;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        bool mapping = ev->type == YAML_MAPPING_START_EVENT;
        const yaml_char_t *anchor =
            mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        v = mapping ? json_object() : json_array();
        if (!v)
            return -ENOMEM;
        err = parse_collection(y, mapping, v, depth);
        if (err) {
            json_decref(v);
            return err;
        }
        remember(y, anchor, v);
        *out = v;
        return 0;
    }
    default:
        snprintf(y->err, y->errn, "unexpected YAML event");
        return -EINVAL;
    }
}

int cfs_yaml_parse(const char *text, size_t len, json_t **out, char *err, size_t n)
{
    struct yctx y = { .err = err, .errn = n };
    json_t *doc = NULL;
    int rc = 0;
    bool in_doc = false;

    if (n)
        err[0] = '\0';
    if (!yaml_parser_initialize(&y.parser))
        return -ENOMEM;
    y.anchors = json_object();
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        rc = next_event(&y, &ev);
        if (rc)
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT || (t == YAML_DOCUMENT_END_EVENT && doc)) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            in_doc = true;
        } else if (in_doc && !doc && t != YAML_DOCUMENT_END_EVENT && t != YAML_STREAM_START_EVENT) {
            rc = parse_node(&y, &ev, &doc, 0);
            if (rc) {
                yaml_event_delete(&ev);
                break;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y.parser);
    json_decref(y.anchors);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    *out = doc ? doc : json_object();
    return 0;
}

int cfs_yaml_load_fd(int fd, json_t **out, char *err, size_t n)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (4u << 20)) {
                free(buf);
                snprintf(err, n, "file larger than 4 MiB");
                return -EFBIG;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -errno;
            snprintf(err, n, "%s", strerror(errno));
            free(buf);
            return rc;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    rc = cfs_yaml_parse(buf ? buf : "", len, out, err, n);
    /* secure.yaml's passwords: not left behind in freed memory. */
    if (buf)
        explicit_bzero(buf, len);
    free(buf);
    return rc;
}

int cfs_yaml_load_file(const char *path, json_t **out, char *err, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        rc = -errno;
        snprintf(err, n, "%s", strerror(errno));
        return rc;
    }
    rc = cfs_yaml_load_fd(fd, out, err, n);
    close(fd);
    return rc;
}
