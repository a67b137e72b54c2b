#!/usr/bin/python3
"""tests/clouds/vcsim/vm.py: prepares VMs and reads them back as a vSphere
user does (vim25 SOAP, the datastore's /folder, the /rest API), for tests.

    vm.py create NAME
    vm.py disk NAME FILE... [--controller pvscsi|lsilogic|lsilogicsas|buslogic|ahci|ide]
              [--nic vmxnet3|e1000|e1000e|pcnet32] [--firmware bios|efi] [--cpus N]
              [--cores-per-socket N] [--memory MB] [--guest GUESTID] [--capacity BYTES]
    vm.py devices NAME
    vm.py power NAME on|off
    vm.py snapshot NAME SNAPSHOT [--description TEXT]
    vm.py snapshots NAME [--list]
    vm.py destroy NAME
    vm.py end-sessions
    vm.py library-items LIBRARY
    vm.py library-item-delete LIBRARY ITEM
    vm.py library-item-create LIBRARY ITEM DESCRIPTION
    vm.py library-item-description LIBRARY ITEM
    vm.py download-sessions
    vm.py library-subscribe LIBRARY NAME
    vm.py library-delete NAME
    vm.py deploy LIBRARY ITEM VMNAME

The vCenter is $CLOUDS_VSPHERE_URL (https://HOST:PORT), $CLOUDS_VSPHERE_USER,
$CLOUDS_VSPHERE_PASSWORD, in $CLOUDS_VSPHERE_DATACENTER (DC0) on
$CLOUDS_VSPHERE_DATASTORE (LocalDS_0), TLS verified against $CLOUDS_CACERT:
source DIR/env of tests/clouds/up.

create: a powered-off VM with no disks in the datacenter's vm folder, on the
first host's resource pool; prints its moref.  disk: uploads FILEs (a VMDK
descriptor and its extent, e.g. x.vmdk and x-flat.vmdk of `qemu-img convert -O
vmdk -o subformat=monolithicFlat`) into the VM's directory, then one
ReconfigVM_Task adds a disk on the first FILE (unit after the last one on the
controller; the controller is added unless the VM has one of that type), a NIC
if --nic, and sets what the other options name; prints the disk and checks the
device list read back.  devices: one line per device of config.hardware.device,
"key<TAB>type<TAB>controller key<TAB>unit<TAB>file or network".  snapshot: takes one (no memory); snapshots: prints how
many the VM has.  library-items: one line per item, "name<TAB>type<TAB>file:size,...".
deploy: deploys an OVF library item into a VM; prints "true<TAB>TYPE<TAB>ID",
exits 1 if the deployment did not succeed.
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vim  # noqa: E402
from vim import escape, q, xsi_type  # noqa: E402

DATACENTER = os.environ.get("CLOUDS_VSPHERE_DATACENTER", "DC0")
DATASTORE = os.environ.get("CLOUDS_VSPHERE_DATASTORE", "LocalDS_0")

CONTROLLERS = {  # --controller: (vim25 type, SCSI?)
    "pvscsi": ("ParaVirtualSCSIController", True),
    "lsilogic": ("VirtualLsiLogicController", True),
    "lsilogicsas": ("VirtualLsiLogicSASController", True),
    "buslogic": ("VirtualBusLogicController", True),
    "ahci": ("VirtualAHCIController", False),
    "ide": ("VirtualIDEController", False),
}
SCSI_TYPES = {t for t, scsi in CONTROLLERS.values() if scsi}
UNITS = {"VirtualIDEController": 2, "VirtualAHCIController": 30}  # SCSI: 16, 7 is the controller's
NICS = {"vmxnet3": "VirtualVmxnet3", "e1000": "VirtualE1000", "e1000e": "VirtualE1000e",
        "pcnet32": "VirtualPCNet32"}


def connect():
    return vim.Vim(*vim.from_env())


def find_vm(v, name):
    return v.find("VirtualMachine", name)


def placement(v):
    """(datacenter, vm folder, resource pool of the first host, datastore) morefs."""
    dc = v.find("Datacenter", DATACENTER)
    folder = v.properties(dc, "Datacenter", ["vmFolder"])["vmFolder"].text
    hosts = sorted(v.find_all("HostSystem"), key=lambda h: h[1])
    if not hosts:
        sys.exit("vm.py: no host")
    parent = v.properties(hosts[0][0], "HostSystem", ["parent"])["parent"]
    pool = v.properties(parent.text, parent.get("type"), ["resourcePool"])["resourcePool"].text
    return dc, folder, pool, v.find("Datastore", DATASTORE)


def devices(v, ref):
    """[{type, key, controller, unit, el}] of the VM's config.hardware.device."""
    out = []
    for d in v.properties(ref, "VirtualMachine", ["config.hardware.device"])["config.hardware.device"]:
        unit = d.findtext(q("unitNumber"))
        ctl = d.findtext(q("controllerKey"))
        out.append({"type": xsi_type(d), "key": int(d.findtext(q("key"))),
                    "controller": int(ctl) if ctl else None, "unit": int(unit) if unit is not None else None,
                    "el": d})
    return out


def cmd_create(v, a):
    _, folder, pool, _ = placement(v)
    spec = ("<config><name>%s</name><guestId>otherGuest64</guestId>"
            "<files><vmPathName>[%s]</vmPathName></files><numCPUs>1</numCPUs><memoryMB>256</memoryMB>"
            "</config><pool type=\"ResourcePool\">%s</pool>" % (escape(a.name), escape(DATASTORE), pool))
    task = vim.text(v.call("CreateVM_Task", folder, "Folder", spec), "returnval")
    print(v.wait(task).text)


def upload(v, dsname, vmdir, path):
    """PUT PATH to [DSNAME] VMDIR/<basename> through the datastore's /folder (basic auth)."""
    rel = "%s/%s" % (vmdir, os.path.basename(path))
    url = "%s/folder/%s?%s" % (v.base, urllib.parse.quote(rel),
                               urllib.parse.urlencode({"dcPath": DATACENTER, "dsName": dsname}))
    auth = vim.basic_auth(v.user, v.password)
    with open(path, "rb") as f:
        status, data, _ = vim.request("PUT", url, f, {"Authorization": auth,
                                                     "Content-Length": str(os.path.getsize(path)),
                                                     "Content-Type": "application/octet-stream"},
                                      timeout=600)
    if status // 100 != 2:
        raise vim.Error("PUT %s: HTTP %d %r" % (rel, status, data[:200]))


def virtual_size(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                         stdout=subprocess.PIPE).stdout
    return json.loads(out)["virtual-size"]


def free_unit(devs, ctl_key, ctl_type):
    used = {d["unit"] for d in devs if d["controller"] == ctl_key}
    if ctl_type in SCSI_TYPES:
        used.add(7)
    for u in range(UNITS.get(ctl_type, 16)):
        if u not in used:
            return u
    return None


def cmd_disk(v, a):
    ref = find_vm(v, a.name)
    vmx = v.properties(ref, "VirtualMachine", ["config.files.vmPathName"])["config.files.vmPathName"].text
    dsname, vmdir = vmx[1:].split("] ", 1)[0], os.path.dirname(vmx.split("] ", 1)[1])
    filename = "[%s] %s/%s" % (dsname, vmdir, os.path.basename(a.files[0]))
    before = devices(v, ref)
    if any(d["el"].findtext(q("backing") + "/" + q("fileName")) == filename for d in before):
        sys.exit("vm.py disk: %s is a disk of %s already" % (filename, a.name))  # vcsim would take it twice
    for f in a.files:
        upload(v, dsname, vmdir, f)
    size = a.capacity or virtual_size(a.files[0])
    disks = [d for d in before if d["type"] == "VirtualDisk"]
    by_key = {d["key"]: d for d in before}
    if a.controller:
        ctl_type = CONTROLLERS[a.controller][0]
    elif disks:
        ctl_type = by_key[disks[0]["controller"]]["type"]
    else:
        ctl_type = CONTROLLERS["pvscsi"][0]
    changes = []
    ctl_key, unit = None, None
    for d in before:  # a controller of that type with a free unit
        if d["type"] == ctl_type:
            unit = free_unit(before, d["key"], ctl_type)
            if unit is not None:
                ctl_key = d["key"]
                break
    if ctl_key is None:
        if ctl_type == "VirtualIDEController":
            sys.exit("vm.py: both IDE controllers are full")
        kin = SCSI_TYPES if ctl_type in SCSI_TYPES else {ctl_type}
        bus = len([d for d in before if d["type"] in kin])
        extra = "<sharedBus>noSharing</sharedBus>" if ctl_type in SCSI_TYPES else ""
        ctl_key, unit = -100, 0
        changes.append('<device xsi:type="%s"><key>%d</key><busNumber>%d</busNumber>%s</device>'
                       % (ctl_type, ctl_key, bus, extra))
    changes.append('<device xsi:type="VirtualDisk"><key>-101</key>'
                   '<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>%s</fileName>'
                   '<diskMode>persistent</diskMode></backing><controllerKey>%d</controllerKey>'
                   '<unitNumber>%d</unitNumber><capacityInKB>%d</capacityInKB>'
                   '<capacityInBytes>%d</capacityInBytes></device>'
                   % (escape(filename), ctl_key, unit, (size + 1023) // 1024, size))
    if a.nic:
        network = v.find("Network", "VM Network")
        changes.append('<device xsi:type="%s"><key>-102</key>'
                       '<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network'
                       '</deviceName><network type="Network">%s</network></backing>'
                       '<connectable><startConnected>true</startConnected><allowGuestControl>true'
                       '</allowGuestControl><connected>false</connected></connectable>'
                       '<addressType>generated</addressType></device>' % (NICS[a.nic], network))
    spec = ""  # in the order of VirtualMachineConfigSpec's schema
    if a.guest:
        spec += "<guestId>%s</guestId>" % escape(a.guest)
    if a.cpus:
        spec += "<numCPUs>%d</numCPUs>" % a.cpus
    if a.cores_per_socket:
        spec += "<numCoresPerSocket>%d</numCoresPerSocket>" % a.cores_per_socket
    if a.memory:
        spec += "<memoryMB>%d</memoryMB>" % a.memory
    spec += "".join("<deviceChange><operation>add</operation>%s</deviceChange>" % c for c in changes)
    if a.firmware:
        spec += "<firmware>%s</firmware>" % a.firmware
    v.wait(vim.text(v.call("ReconfigVM_Task", ref, "VirtualMachine", "<spec>%s</spec>" % spec), "returnval"))
    check_disk(v, ref, a, before, filename, ctl_type, unit, size, ctl_key == -100)


def check_disk(v, ref, a, before, filename, ctl_type, unit, size, new_ctl):
    """Reads the VM back: the disk where it was meant to go, the NIC, the settings."""
    after = devices(v, ref)
    by_key = {d["key"]: d for d in after}
    bad = []
    disk = [d for d in after if d["type"] == "VirtualDisk"
            and d["el"].findtext(q("backing") + "/" + q("fileName")) == filename]
    if len(disk) != 1:
        bad.append("%d disks on %s" % (len(disk), filename))
    else:
        d = disk[0]
        ctl = by_key.get(d["controller"])
        cap = int(d["el"].findtext(q("capacityInBytes")) or 0)
        if ctl is None or ctl["type"] != ctl_type or d["unit"] != unit or cap != size:
            bad.append("disk on %s unit %s, %d bytes" % (ctl and ctl["type"], d["unit"], cap))
        print("disk\t%d\t%s\t%s:%d\tunit %d\t%d bytes" % (d["key"], filename, ctl_type, d["controller"], unit, cap))
    if len(after) != len(before) + 1 + new_ctl + bool(a.nic):
        bad.append("%d devices before, %d after" % (len(before), len(after)))
    if a.nic:
        nics = [d for d in after if d["type"] == NICS[a.nic] and d["key"] not in {b["key"] for b in before}]
        if len(nics) != 1:
            bad.append("no new %s" % NICS[a.nic])
        else:
            print("nic\t%d\t%s\t%s" % (nics[0]["key"], NICS[a.nic], nics[0]["el"].findtext(q("macAddress"))))
    props = v.properties(ref, "VirtualMachine", ["config.firmware", "config.hardware.numCPU",
                                                 "config.hardware.numCoresPerSocket",
                                                 "config.hardware.memoryMB", "config.guestId"])
    want = {"config.firmware": a.firmware, "config.hardware.numCPU": a.cpus,
            "config.hardware.numCoresPerSocket": a.cores_per_socket, "config.hardware.memoryMB": a.memory,
            "config.guestId": a.guest}
    got = {k: props[k].text if k in props else None for k in want}
    for k, w in want.items():
        if w is not None and str(w) != got[k]:
            bad.append("%s is %s, not %s" % (k, got[k], w))
    print("config\tfirmware %s\tcpus %s\tcores/socket %s\tmemory %s MB\tguest %s" % tuple(got[k] for k in want))
    if bad:
        sys.exit("vm.py disk: read back: " + "; ".join(bad))


def cmd_devices(v, a):
    for d in devices(v, find_vm(v, a.name)):
        print("%d\t%s\t%s\t%s\t%s" % (d["key"], d["type"], "" if d["controller"] is None else d["controller"],
                                     "" if d["unit"] is None else d["unit"],
                                     d["el"].findtext(q("backing") + "/" + q("fileName")) or
                                     d["el"].findtext(q("backing") + "/" + q("deviceName")) or ""))


def cmd_power(v, a):
    ref = find_vm(v, a.name)
    method = {"on": "PowerOnVM_Task", "off": "PowerOffVM_Task"}[a.state]
    v.wait(vim.text(v.call(method, ref, "VirtualMachine"), "returnval"))


def cmd_snapshot(v, a):
    ref = find_vm(v, a.name)
    body = ("<name>%s</name>%s<memory>false</memory><quiesce>false</quiesce>"
            % (escape(a.snapshot), "<description>%s</description>" % escape(a.description)
               if a.description else ""))
    print(v.wait(vim.text(v.call("CreateSnapshot_Task", ref, "VirtualMachine", body), "returnval")).text)


def cmd_snapshots(v, a):
    ref = find_vm(v, a.name)
    props = v.properties(ref, "VirtualMachine", ["snapshot", "layoutEx.snapshot"])
    tree = len(list(props["snapshot"].iter(q("snapshot")))) if "snapshot" in props else 0
    layout = len(list(props["layoutEx.snapshot"])) if "layoutEx.snapshot" in props else 0
    if tree != layout:
        print("vm.py: %d snapshots in the tree, %d in layoutEx" % (tree, layout), file=sys.stderr)
    if not a.list:
        print(tree)
        return
    for node in props["snapshot"].iter(q("rootSnapshotList")) if "snapshot" in props else []:
        for t in [node] + list(node.iter(q("childSnapshotList"))):
            print("%s\t%s" % (t.findtext(q("name")), (t.findtext(q("description")) or "").replace("\n", "\\n")))


def cmd_destroy(v, a):
    ref = find_vm(v, a.name)
    v.wait(vim.text(v.call("Destroy_Task", ref, "VirtualMachine"), "returnval"))


def cmd_end_sessions(v, a):
    """Terminates every session but this one (as an admin does in the vSphere
    Client's Sessions view, or as they expire); prints how many."""
    sm = v.sc["sessionManager"]
    props = v.properties(sm, "SessionManager", ["sessionList", "currentSession"])
    mine = props["currentSession"].findtext(q("key"))
    keys = [k.text for k in props["sessionList"].iter(q("key")) if k.text != mine] if "sessionList" in props else []
    if keys:
        v.call("TerminateSession", sm, "SessionManager",
               "".join("<sessionId>%s</sessionId>" % escape(k) for k in keys))
    print(len(keys))


def library_id(rest, name):
    ids = rest.call("POST", "/com/vmware/content/library", {"spec": {"name": name}}, {"~action": "find"})
    if not ids:
        sys.exit("vm.py: no content library named %r" % name)
    return ids[0]


def library_items(rest, lib):
    """{name: item} of the library LIB's items."""
    items = {}
    for iid in rest.call("GET", "/com/vmware/content/library/item", query={"library_id": lib}) or []:
        item = rest.call("GET", "/com/vmware/content/library/item/id:" + iid)
        items[item["name"]] = item
    return items


def cmd_library_items(v, a):
    rest = vim.Rest(*vim.from_env())
    for name, item in sorted(library_items(rest, library_id(rest, a.library)).items()):
        files = rest.call("GET", "/com/vmware/content/library/item/file",
                          query={"library_item_id": item["id"]}) or []
        print("%s\t%s\t%s" % (name, item.get("type", ""),
                              ",".join("%s:%s" % (f["name"], f.get("size", 0)) for f in files)))


def cmd_library_item_delete(v, a):
    """Deletes the item ITEM of LIBRARY if there is one (a test's clean-up)."""
    rest = vim.Rest(*vim.from_env())
    item = library_items(rest, library_id(rest, a.library)).get(a.item)
    if item:
        rest.call("DELETE", "/com/vmware/content/library/item/id:" + item["id"])


def cmd_library_item_create(v, a):
    """An empty OVF item NAME in LIBRARY with DESCRIPTION (what an upload
    killed after creating its item leaves); prints its id."""
    rest = vim.Rest(*vim.from_env())
    spec = {"library_id": library_id(rest, a.library), "name": a.item, "type": "ovf",
            "description": a.description}
    print(rest.call("POST", "/com/vmware/content/library/item", {"create_spec": spec}))


def cmd_library_item_description(v, a):
    rest = vim.Rest(*vim.from_env())
    item = library_items(rest, library_id(rest, a.library)).get(a.item)
    if not item:
        sys.exit("vm.py: no item %r in %s" % (a.item, a.library))
    print(item.get("description", ""))


def cmd_download_sessions(v, a):
    """Prints how many content-library download sessions are open."""
    rest = vim.Rest(*vim.from_env())
    print(len(rest.call("GET", "/com/vmware/content/library/item/download-session") or []))


def cmd_library_subscribe(v, a):
    """A subscribed library NAME on LIBRARY's storage, subscribed to nothing
    reachable (on demand, no sync): prints its id."""
    rest = vim.Rest(*vim.from_env())
    info = rest.call("GET", "/com/vmware/content/library/id:" + library_id(rest, a.library))
    spec = {"name": a.name, "type": "SUBSCRIBED", "storage_backings": info["storage_backings"],
            "subscription_info": {"authentication_method": "NONE", "automatic_sync_enabled": False,
                                  "subscription_url": "https://127.0.0.1:9/none/lib.json",
                                  "on_demand": True}}
    print(rest.call("POST", "/com/vmware/content/subscribed-library", {"create_spec": spec}))


def cmd_library_delete(v, a):
    rest = vim.Rest(*vim.from_env())
    rest.call("DELETE", "/com/vmware/content/library/id:" + library_id(rest, a.name))


def cmd_deploy(v, a):
    _, folder, pool, ds = placement(v)
    rest = vim.Rest(*vim.from_env())
    items = library_items(rest, library_id(rest, a.library))
    if a.item not in items:
        sys.exit("vm.py: no item %r in %s" % (a.item, a.library))
    body = {"target": {"resource_pool_id": pool, "folder_id": folder},
            "deployment_spec": {"name": a.vmname, "accept_all_EULA": True, "default_datastore_id": ds}}
    res = rest.call("POST", "/com/vmware/vcenter/ovf/library-item/id:" + items[a.item]["id"], body,
                    {"~action": "deploy"})
    rid = res.get("resource_id") or {}
    print("%s\t%s\t%s" % ("true" if res.get("succeeded") else "false", rid.get("type", ""), rid.get("id", "")))
    if not res.get("succeeded"):
        sys.exit("vm.py deploy: %s" % json.dumps(res.get("error")))


def main():
    p = argparse.ArgumentParser(prog="vm.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("create")
    s.add_argument("name")
    s = sub.add_parser("disk")
    s.add_argument("name")
    s.add_argument("files", nargs="+")
    s.add_argument("--controller", choices=CONTROLLERS)
    s.add_argument("--nic", choices=NICS)
    s.add_argument("--firmware", choices=("bios", "efi"))
    s.add_argument("--cpus", type=int)
    s.add_argument("--cores-per-socket", type=int)
    s.add_argument("--memory", type=int, metavar="MB")
    s.add_argument("--guest", metavar="GUESTID")
    s.add_argument("--capacity", type=int, metavar="BYTES",
                   help="the disk's size, for a descriptor qemu-img cannot open (a delta)")
    s = sub.add_parser("power")
    s.add_argument("name")
    s.add_argument("state", choices=("on", "off"))
    s = sub.add_parser("snapshot")
    s.add_argument("name")
    s.add_argument("snapshot")
    s.add_argument("--description")
    s = sub.add_parser("snapshots")
    s.add_argument("name")
    s.add_argument("--list", action="store_true", help="name<TAB>description of each")
    for c in ("devices", "destroy"):
        sub.add_parser(c).add_argument("name")
    sub.add_parser("end-sessions")
    s = sub.add_parser("library-item-delete")
    s.add_argument("library")
    s.add_argument("item")
    sub.add_parser("download-sessions")
    s = sub.add_parser("library-item-create")
    s.add_argument("library")
    s.add_argument("item")
    s.add_argument("description")
    s = sub.add_parser("library-item-description")
    s.add_argument("library")
    s.add_argument("item")
    s = sub.add_parser("library-subscribe")
    s.add_argument("library")
    s.add_argument("name")
    sub.add_parser("library-delete").add_argument("name")
    sub.add_parser("library-items").add_argument("library")
    s = sub.add_parser("deploy")
    s.add_argument("library")
    s.add_argument("item")
    s.add_argument("vmname")
    a = p.parse_args()
    try:
        v = connect()
        try:
            globals()["cmd_" + a.cmd.replace("-", "_")](v, a)
        finally:  # sessions pile up on a vCenter otherwise (tests count them)
            v.call("Logout", v.sc["sessionManager"], "SessionManager")
    except vim.Error as e:
        sys.exit("vm.py %s: %s" % (a.cmd, e))


main()
