#!/usr/bin/python3
"""upload.py: uploads the sample images into Glance and writes the manifest.

Reads the plan (lib/samples.py output) and creates each image in the project of its
cloud (openstack -> demo, openstack2 -> demo2) with that user's token, then uploads
the data with `curl -T` (streams from the file; Glance's 100-continue is honoured),
biggest first and a few in parallel, and checks that each image is active with
Glance's size equal to the file's.  Also creates `never-uploaded` (left queued).

usage: upload.py KEYSTONE_URL/v3 GLANCE_URL STATE_JSON PLAN_TSV MANIFEST TOKEN_LIFETIME
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time

from osapi import password_token, request

USERS = {"openstack": ("demo", "demo"), "openstack2": ("demo2", "demo2")}


class Tokens:
    """A token per cloud, renewed when a third of its lifetime has passed (tests run
    Keystone with lifetimes down to a few seconds)."""

    def __init__(self, keystone, passwords, lifetime):
        self.k, self.pw, self.max_age = keystone, passwords, max(1.0, lifetime / 3)
        self.cache, self.lock = {}, threading.Lock()

    def get(self, cloud):
        with self.lock:
            tok, t = self.cache.get(cloud, (None, 0))
            if tok is None or time.monotonic() - t > self.max_age:
                user, project = USERS[cloud]
                tok, _ = password_token(self.k, user, self.pw[user], project)
                self.cache[cloud] = (tok, time.monotonic())
            return tok


def main():
    keystone, glance, state_path, plan_path, manifest, lifetime = sys.argv[1:7]
    with open(state_path) as f:
        state = json.load(f)
    tokens = Tokens(keystone, state["passwords"], float(lifetime))
    with open(plan_path) as f:
        plan = [line.rstrip("\n").split("\t") for line in f if line.strip()]

    def create(cloud, name, fmt, cfmt):
        body = {"name": name, "disk_format": fmt, "container_format": cfmt}
        return request("POST", glance + "/v2/images", body, tokens.get(cloud))[2]["id"]

    ids = [create(cloud, name, fmt, cfmt) for cloud, name, fmt, cfmt, *_ in plan]
    create("openstack", "never-uploaded", "raw", "bare")

    def upload(i):
        cloud, name, fmt, cfmt, size, digest, path = plan[i]
        url = "%s/v2/images/%s/file" % (glance, ids[i])
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                            "-X", "PUT", "-T", path,
                            "-H", "Content-Type: application/octet-stream",
                            "-H", "X-Auth-Token: " + tokens.get(cloud), url],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stdout != "204":
            raise RuntimeError("upload of %s (%s) failed: curl exit %d, HTTP %s %s"
                               % (name, path, r.returncode, r.stdout, r.stderr.strip()))
        img = request("GET", glance + "/v2/images/" + ids[i], token=tokens.get(cloud))[2]
        if img["status"] != "active" or img["size"] != int(size):
            raise RuntimeError("image %s (%s): status %s, size %s, file size %s"
                               % (name, ids[i], img["status"], img["size"], size))

    order = sorted(range(len(plan)), key=lambda i: -int(plan[i][4]))   # biggest first
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for fut in [ex.submit(upload, i) for i in order]:
            fut.result()

    tmp = manifest + ".tmp"
    with open(tmp, "w") as f:
        f.write("# cloud\tname\tid\tdisk_format\tcontainer_format\tsize\tsha256\tpath\n")
        for (cloud, name, fmt, cfmt, size, digest, path), iid in zip(plan, ids):
            f.write("\t".join([cloud, name, iid, fmt, cfmt, size, digest, path]) + "\n")
    os.replace(tmp, manifest)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:             # one clear line for up's error message
        sys.exit("upload: %s" % e)
