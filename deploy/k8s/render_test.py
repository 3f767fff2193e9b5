#!/usr/bin/env python3
"""Renders every overlay under deploy/k8s/overlays with `kubectl kustomize`
(offline) and checks the objects: every Secret, ConfigMap, PVC and volume a
pod uses exists in the same render (and every key it reads exists in its
Secret/ConfigMap), every file an argument names under a mounted Secret or
ConfigMap is one of its keys, container and probe arguments are flags the
binaries accept (their --helpfull), $(VAR) references are defined, Services
select a pod and name its ports, and pods run as non-root with resource
requests. Then it renders an operator's overlay on top of overlays/server and
overlays/client-example with a kit from deploy/provision.sh, as deploy/README.md
describes, and checks that the kit's files replace the placeholders.

Uses kubectl from PATH (or $EPGFN_KUBECTL); deploy/setup.sh installs Debian's
kubernetes-client (kubectl 1.20) when no kubectl is present."""

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

RUNFILES = os.path.join(os.environ["TEST_SRCDIR"],
                        os.environ.get("TEST_WORKSPACE", "epgfn"))
sys.path.insert(0, os.path.join(RUNFILES, "deploy", "testing"))
import flagcheck  # noqa: E402
import report  # noqa: E402

BINARIES = {
    "epgfn_server": os.path.join(RUNFILES, "server", "epgfn_server"),
    "epgfn_client": os.path.join(RUNFILES, "client", "epgfn_client"),
    "epgfn_health_probe": os.path.join(RUNFILES, "client",
                                       "epgfn_health_probe"),
}
POD_KINDS = ("Deployment", "StatefulSet", "Job", "DaemonSet")
KUBECTL = os.environ.get("EPGFN_KUBECTL") or shutil.which("kubectl")

errors = []
notes = []


def error(message):
    errors.append(message)


def render(directory):
    result = subprocess.run([KUBECTL, "kustomize", directory],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            universal_newlines=True,
                            timeout=120)
    if result.returncode != 0:
        error("kubectl kustomize %s failed:\n%s" % (directory, result.stderr))
        return []
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(objects, kind):
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def check_container(where, container, volumes, claim_templates, configmaps,
                    secrets):
    # Mounts: each names a volume of the pod; remember what is mounted where.
    mounted = {}  # mount path -> set of file names it provides, or None
    for mount in container.get("volumeMounts", []):
        name = mount["name"]
        if name in claim_templates:
            mounted[mount["mountPath"]] = None
            continue
        if name not in volumes:
            error("%s mounts volume '%s', which the pod does not define" %
                  (where, name))
            continue
        volume = volumes[name]
        keys = None
        if "secret" in volume:
            keys = set(secrets.get(volume["secret"]["secretName"], {}).get(
                "data", {}) or {})
        elif "configMap" in volume:
            keys = set(configmaps.get(volume["configMap"]["name"], {}).get(
                "data", {}) or {})
        mounted[mount["mountPath"]] = keys

    # Environment: references into ConfigMaps/Secrets of the render.
    env_names = set()
    for variable in container.get("env", []):
        env_names.add(variable["name"])
        source = variable.get("valueFrom", {})
        for ref_kind, objects in (("configMapKeyRef", configmaps),
                                  ("secretKeyRef", secrets)):
            ref = source.get(ref_kind)
            if ref is None:
                continue
            target = objects.get(ref["name"])
            if target is None:
                error("%s: env %s reads %s '%s', which is not in the render" %
                      (where, variable["name"], ref_kind, ref["name"]))
            elif ref["key"] not in (target.get("data") or {}):
                error("%s: env %s reads key '%s' that %s lacks" %
                      (where, variable["name"], ref["key"], ref["name"]))
    for source in container.get("envFrom", []):
        for ref_kind, objects in (("configMapRef", configmaps),
                                  ("secretRef", secrets)):
            ref = source.get(ref_kind)
            if ref is not None and ref["name"] not in objects:
                error("%s: envFrom %s '%s' is not in the render" %
                      (where, ref_kind, ref["name"]))

    def check_command_line(line, what):
        if not line:
            return
        binary = os.path.basename(line[0])
        if binary not in BINARIES:
            error("%s: %s runs unknown program %s" % (where, what, line[0]))
            return
        args = line[1:]
        errors.extend(
            flagcheck.check_args(BINARIES[binary], args, where + " " + what,
                                 notes))
        for arg in args:
            for variable in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", arg):
                if variable not in env_names:
                    error("%s: %s uses $(%s), which env does not define" %
                          (where, what, variable))
            value = arg.split("=", 1)[1] if "=" in arg else ""
            for path, keys in mounted.items():
                prefix = path.rstrip("/") + "/"
                if value.startswith(prefix) and keys is not None:
                    if value[len(prefix):] not in keys:
                        error("%s: %s names %s, but the volume mounted at %s "
                              "has only %s" % (where, what, value, path,
                                               sorted(keys)))

    check_command_line(
        container.get("command", []) + container.get("args", []), "args")
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        command = container.get(probe, {}).get("exec", {}).get("command")
        check_command_line(command, probe)
    if not container.get("resources", {}).get("requests"):
        error("%s has no resource requests" % where)
    return set(mounted)


def check_render(name, objects):
    if not objects:
        error("%s rendered no objects" % name)
        return
    seen = set()
    for o in objects:
        for field in ("apiVersion", "kind", "metadata"):
            if field not in o:
                error("%s: an object lacks %s" % (name, field))
                return
        key = (o["kind"], o["metadata"]["name"])
        if key in seen:
            error("%s: %s %s is defined twice" % (name, *key))
        seen.add(key)
    namespaces = {o["metadata"].get("namespace") for o in objects}
    if len(namespaces) != 1 or None in namespaces:
        error("%s: objects are not all in one namespace: %s" %
              (name, namespaces))
    secrets = by_kind(objects, "Secret")
    configmaps = by_kind(objects, "ConfigMap")
    pvcs = by_kind(objects, "PersistentVolumeClaim")
    pods = 0
    pod_labels = []
    for o in objects:
        if o["kind"] not in POD_KINDS:
            continue
        pods += 1
        where = "%s: %s %s" % (name, o["kind"], o["metadata"]["name"])
        spec = o["spec"]["template"]["spec"]
        pod_labels.append((o["spec"]["template"]["metadata"].get("labels",
                                                                 {}), spec))
        security = spec.get("securityContext", {})
        if not security.get("runAsNonRoot") or not security.get("runAsUser"):
            error("%s does not run as a non-root user" % where)
        claim_templates = {
            t["metadata"]["name"]
            for t in o["spec"].get("volumeClaimTemplates", [])
        }
        volumes = {}
        for volume in spec.get("volumes", []):
            volumes[volume["name"]] = volume
            if "secret" in volume and volume["secret"][
                    "secretName"] not in secrets:
                error("%s: volume %s uses Secret '%s', not in the render" %
                      (where, volume["name"], volume["secret"]["secretName"]))
            if "configMap" in volume and volume["configMap"][
                    "name"] not in configmaps:
                error("%s: volume %s uses ConfigMap '%s', not in the render" %
                      (where, volume["name"], volume["configMap"]["name"]))
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if claim is not None and claim not in pvcs:
                error("%s: volume %s uses PVC '%s', not in the render" %
                      (where, volume["name"], claim))
        mounted_volumes = set()
        for container in spec.get("containers", []) + spec.get(
                "initContainers", []):
            cwhere = "%s container %s" % (where, container["name"])
            check_container(cwhere, container, volumes, claim_templates,
                            configmaps, secrets)
            mounted_volumes |= {m["name"] for m in container.get(
                "volumeMounts", [])}
        for unused in (set(volumes) | claim_templates) - mounted_volumes:
            error("%s: volume %s is mounted by no container" % (where, unused))
        if o["kind"] != "Job":
            for container in spec.get("containers", []):
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        error("%s container %s has no %s" %
                              (where, container["name"], probe))
    if pods == 0:
        error("%s renders no workload" % name)
    for service in by_kind(objects, "Service").values():
        where = "%s: Service %s" % (name, service["metadata"]["name"])
        selector = service["spec"].get("selector", {})
        targets = [
            spec for labels, spec in pod_labels
            if selector and all(labels.get(k) == v
                                for k, v in selector.items())
        ]
        if not targets:
            error("%s selects no pod of the render" % where)
            continue
        port_names = {
            p.get("name")
            for spec in targets for c in spec["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort")
            if isinstance(target, str) and target not in port_names:
                error("%s: targetPort %s is no container port" %
                      (where, target))


def secret_file(objects, secret_prefix, key):
    for o in objects:
        if o["kind"] == "Secret" and secret_prefix in o["metadata"]["name"]:
            return base64.b64decode(o["data"][key])
    return None


def check_operator_overlays(k8s, work):
    """The README's flow: a kit from provision.sh, an overlay of one's own
    whose generators replace the placeholders with the kit's files. Bases
    must be relative paths (kustomize refuses absolute ones)."""
    kit = os.path.join(work, "kit")
    subprocess.run([
        "bash",
        os.path.join(RUNFILES, "deploy", "provision.sh"), "--federation=op",
        "--clients=hospital-a,lab-b", "--server-dns=epgfn-server",
        "--out=" + kit
    ],
                   check=True,
                   stdout=subprocess.DEVNULL)

    server = os.path.join(work, "my-server")
    shutil.copytree(os.path.join(kit, "server"), os.path.join(server, "kit"))
    with open(os.path.join(server, "kustomization.yaml"), "w") as f:
        f.write("""namespace: epgfn
bases:
- %s
secretGenerator:
- name: epgfn-server-kit
  behavior: replace
  files:
  - kit/ca.pem
  - kit/server.pem
  - kit/server.key
  - kit/sampler_tokens.txt
configMapGenerator:
- name: epgfn-federation
  behavior: replace
  files:
  - kit/federation.textproto
""" % os.path.relpath(os.path.join(k8s, "overlays", "server"), server))
    objects = render(server)
    check_render("operator server overlay", objects)
    for key in ("server.pem", "server.key", "ca.pem", "sampler_tokens.txt"):
        with open(os.path.join(kit, "server", key), "rb") as f:
            if secret_file(objects, "epgfn-server-kit", key) != f.read():
                error("operator server overlay: the Secret's %s is not the "
                      "kit's" % key)
    federation = [
        o for o in objects
        if o["kind"] == "ConfigMap" and "epgfn-federation" in o["metadata"]
        ["name"]
    ]
    if not federation or 'name: "op"' not in federation[0]["data"][
            "federation.textproto"]:
        error("operator server overlay: the federation config is not the "
              "kit's")

    client = os.path.join(work, "my-client")
    shutil.copytree(os.path.join(kit, "client-hospital-a"),
                    os.path.join(client, "kit"))
    with open(os.path.join(client, "kustomization.yaml"), "w") as f:
        f.write("""namespace: epgfn-hospital-a
bases:
- %s
secretGenerator:
- name: epgfn-client-kit
  behavior: replace
  files:
  - kit/ca.pem
  - kit/client.pem
  - kit/client.key
""" % os.path.relpath(os.path.join(k8s, "overlays", "client-example"), client))
    objects = render(client)
    check_render("operator client overlay", objects)
    with open(os.path.join(kit, "client-hospital-a", "client.key"), "rb") as f:
        if secret_file(objects, "epgfn-client-kit", "client.key") != f.read():
            error("operator client overlay: the Secret's client.key is not "
                  "the kit's")


def main():
    if not KUBECTL:
        print("FAIL: no kubectl on PATH (deploy/setup.sh installs Debian's "
              "kubernetes-client)")
        return 1
    version = subprocess.run([KUBECTL, "version", "--client"],
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             universal_newlines=True).stdout
    print("kubectl: %s" % version.strip().splitlines()[0])
    work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    # A real copy: kustomize refuses files whose real path (here, the
    # runfiles symlinks' targets) lies outside the kustomization's folder.
    k8s = os.path.join(work, "k8s")
    shutil.copytree(os.path.join(RUNFILES, "deploy", "k8s"), k8s,
                    symlinks=False)
    overlays = sorted(os.listdir(os.path.join(k8s, "overlays")))
    if len(overlays) < 3:
        error("expected the server, client and GPU client overlays, found %s" %
              overlays)
    for overlay in overlays:
        objects = render(os.path.join(k8s, "overlays", overlay))
        print("overlays/%s: %s" % (overlay, ", ".join(
            "%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objects)))
        check_render("overlays/" + overlay, objects)
    check_operator_overlays(k8s, work)
    return report.finish(errors, notes)


if __name__ == "__main__":
    sys.exit(main())
