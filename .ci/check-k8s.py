#!/usr/bin/env python3
"""Checks of the Kubernetes manifests under infra/k8s (no cluster needed).

Renders every overlay with `kubectl kustomize`, validates the output against
the Kubernetes API schemas of two releases with kubernetes-validate
(--strict: unknown fields are errors), then checks what no schema can:

- pods: non-root, read-only root filesystem, no privilege escalation, no
  capabilities, RuntimeDefault seccomp, no service account token, and
  writable volumes only where a process must write;
- probes and resources on every container, aimed at the right endpoints
  (/readyz and /healthz on a REST listener, trust's service state over its
  own TLS, a liveness that does not follow the database);
- autoscaling: every HPA targets a Deployment of the render, on CPU, with a
  PodDisruptionBudget beside it; the SQLite all-in-one never scales;
- sizing: every trust pod's pool (plus its listener connection), times the
  most pods a rollout at full scale can run, fits PostgreSQL's
  max_connections with room for administration; the same for memcached's
  connection limit and verification (docs/operations.md, "Kubernetes:
  sizing");
- the image, user, entrypoint, ports and data directory are the ones the
  Dockerfile and docker-compose.yml build;
- drain: the preStop sleep, VOUCH_DRAIN_DELAY_MS, the drain timeout and
  terminationGracePeriodSeconds agree;
- NetworkPolicy: trust's gRPC port is reachable from exactly the three front
  ends, PostgreSQL from trust, memcached from verification;
- settings: every VOUCH_ variable names a setting of settings.rs, and what
  `vouch serve` would refuse at start (an unmounted file, half a TLS pair, a
  trust URL contradicting mutual TLS, an address no Service answers) is
  caught before a pod crash-loops;
- Secrets are placeholders (REPLACE-ME, no key material), and no guarded API
  listens off loopback without authentication.

`--self-test` breaks the rendered manifests in memory, one way per rule, and
fails unless each break is caught: every check above can fail.

Run through `make check-k8s`; needs kubectl (for `kubectl kustomize`), PyYAML,
dockerfile-parse and kubernetes-validate, as .ci/run installs them.
"""

from __future__ import annotations

import argparse
import base64
import copy
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "infra" / "k8s"
OVERLAYS = ("dev", "prod")
# The oldest release the manifests support (the preStop sleep action is on
# by default from 1.30) and a recent one.
KUBE_VERSIONS = ("1.30.0", "1.33.0")

REST_ROLES = ("verification", "provisioning", "management")
ROLES = ("trust", *REST_ROLES)
# Listen addresses when neither the image nor the manifests set one
# (services/vouch/src/settings.rs, Settings::default).
DEFAULT_ADDR = {
    "verification": "127.0.0.1:8443",
    "provisioning": "127.0.0.1:9443",
    "management": "127.0.0.1:10443",
    "trust": "127.0.0.1:50051",
}
# Defaults of the drain settings (settings.rs).
DEFAULT_DRAIN_DELAY_MS = 0
DEFAULT_DRAIN_TIMEOUT_MS = 20_000
# On SIGTERM a process exports the traces still batched, for at most the
# exporter's timeout (docs/operations.md, "Traces"), before it exits.
TRACE_FLUSH_S = 5

# Database sizing (docs/operations.md, "Kubernetes: sizing"). Each trust
# pod holds its pool plus one LISTEN connection (lib/store/src/postgres.rs).
LISTENER_CONNECTIONS = 1
# Old pods that may still hold connections while their replacements run:
# one from a rollout (minReadySeconds >= the grace period keeps it to one)
# and one evicted by a node drain (PodDisruptionBudget maxUnavailable 1).
DRAINING_PODS = 2
# Connections kept for everything that is not a trust pod: `vouch migrate`,
# psql, backups, monitoring.
ADMIN_HEADROOM = 10
# Connections a verification process opens per memcached server at most
# (lib/sessions/src/memcached.rs, MemcachedOptions::default).
MEMCACHED_CONNECTIONS_PER_POD = 64

PLACEHOLDER = "REPLACE-ME"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
# Where the reference services must be able to write; nothing else may.
SERVICE_WRITABLE = {
    "postgres": {"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"},
    "memcached": set(),
}


# ---- the image --------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """What the Dockerfile and docker-compose.yml say about the runtime."""

    name: str  # the image compose builds from the Dockerfile
    services: dict[str, str]  # compose's other images, by service
    entrypoint: str
    uid: int
    gid: int
    exposed: frozenset[int]
    env: dict[str, str]


def read_image() -> Image:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    structure = parser.structure
    last_from = max(i["startline"] for i in structure if i["instruction"] == "FROM")
    runtime = [i for i in structure if i["startline"] > last_from]

    def values(instruction: str) -> list[str]:
        return [i["value"].strip() for i in runtime if i["instruction"] == instruction]

    user = values("USER")[-1]
    uid, _, gid = user.partition(":")
    entrypoint = yaml.safe_load(values("ENTRYPOINT")[-1])
    exposed = frozenset(int(p.split("/")[0]) for v in values("EXPOSE") for p in v.split())

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    # make check-packaging checks that these build this Dockerfile.
    built = {s.get("image") for s in compose["services"].values() if s.get("build")}
    if len(built) != 1:
        raise SystemExit(f"docker-compose.yml builds {sorted(map(str, built))}, not one image")
    services = {n: s["image"] for n, s in compose["services"].items() if not s.get("build")}
    return Image(
        name=built.pop(),
        services=services,
        entrypoint=entrypoint[0],
        uid=int(uid),
        gid=int(gid or uid),
        exposed=exposed,
        env=dict(parser.envs),
    )


# ---- the render -------------------------------------------------------------


@dataclass
class Container:
    """A container of a workload, with its effective configuration."""

    workload: "Workload"
    spec: dict
    init: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.workload.id} container {self.spec['name']}"

    @property
    def args(self) -> list[str]:
        return [str(a) for a in self.spec.get("args") or []]

    def flag(self, flag: str) -> str | None:
        args = self.args
        for i, arg in enumerate(args):
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
        return None

    def setting(self, flag: str | None, variable: str) -> str | None:
        """A `vouch serve` setting: the flag wins over the environment."""
        value = self.flag(flag) if flag else None
        return value if value is not None else self.env.get(variable)

    def roles(self) -> set[str]:
        args = self.args
        roles = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--role"]
        roles += [a.split("=", 1)[1] for a in args if a.startswith("--role=")]
        if not roles:
            roles = [r.strip() for r in self.env.get("VOUCH_ROLE", "all").split(",")]
        return set(ROLES) if "all" in roles else set(roles)

    def runs_trust_only(self) -> bool:
        return self.roles() == {"trust"}

    def store(self) -> str | None:
        """The endorsement store's URL when this process runs trust (the
        only role that opens one); SQLite in the data dir by default."""
        if "trust" not in self.roles():
            return None
        return self.setting("--database-url", "VOUCH_DATABASE_URL") or "sqlite:"

    def on_sqlite(self) -> bool:
        return (self.store() or "").startswith("sqlite:")

    def opens_postgres_pool(self) -> bool:
        return (self.store() or "").startswith(("postgres://", "postgresql://"))

    def sessions(self) -> str:
        return self.setting("--sessions", "VOUCH_SESSIONS") or "memory"

    def keeps_state_in_process(self) -> bool:
        """SQLite, or in-process sessions: one process only."""
        return self.on_sqlite() or self.store() == "memory:" or (
            "verification" in self.roles() and self.sessions() == "memory"
        )

    def port_number(self, port: Any) -> int | None:
        if isinstance(port, int):
            return port
        for p in self.spec.get("ports") or []:
            if p.get("name") == port:
                return int(p["containerPort"])
        return int(port) if str(port).isdigit() else None

    def listeners(self) -> dict[str, tuple[str, int]]:
        """Every address this vouch process listens on, by listener."""
        found: dict[str, tuple[str, int]] = {}
        for role in self.roles():
            addr = self.setting(f"--{role}-addr", f"VOUCH_{role.upper()}_ADDR") or DEFAULT_ADDR[role]
            host, _, port = addr.rpartition(":")
            found[role] = (host.strip("[]"), int(port))
        metrics_on = (
            self.env.get("VOUCH_METRICS__ENABLED", "true").lower() != "false" and "--no-metrics" not in self.args
        )
        metrics = self.setting("--trust-metrics-addr", "VOUCH_METRICS__TRUST_ADDR")
        if "trust" in self.roles() and metrics and metrics_on:
            host, _, port = metrics.rpartition(":")
            found["metrics"] = (host.strip("[]"), int(port))
        return found


@dataclass
class Workload:
    doc: dict
    containers: list[Container] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.doc["kind"]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.doc['metadata']['name']}"

    @property
    def pod(self) -> dict:
        spec = self.doc["spec"]
        if self.kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"]["spec"]

    @property
    def labels(self) -> dict[str, str]:
        spec = self.doc["spec"]
        if self.kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"].get("metadata", {}).get("labels") or {}

    @property
    def app(self) -> str:
        return self.labels.get("app.kubernetes.io/name", "")

    @property
    def is_vouch(self) -> bool:
        return self.app == "vouch"


class Render:
    """One overlay's rendered documents, indexed."""

    def __init__(self, overlay: str, docs: list[dict], image: Image):
        self.overlay = overlay
        self.docs = docs
        self.image = image
        self.failures: list[str] = []
        # The sizing arithmetic, printed for the real render.
        self.notes: list[str] = []
        self.configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in self.of("ConfigMap")}
        self.secrets = {d["metadata"]["name"]: decode_secret(d) for d in self.of("Secret")}
        self.workloads = [Workload(d) for d in docs if d.get("kind") in WORKLOAD_KINDS]
        for w in self.workloads:
            specs = [(s, True) for s in w.pod.get("initContainers") or []]
            specs += [(s, False) for s in w.pod.get("containers") or []]
            for spec, init in specs:
                c = Container(w, spec, init)
                c.env = self.environment(c)
                w.containers.append(c)

    def of(self, kind: str) -> list[dict]:
        return [d for d in self.docs if d.get("kind") == kind]

    def fail(self, message: str) -> None:
        self.failures.append(f"{self.overlay}: {message}")

    def environment(self, c: Container) -> dict[str, str]:
        """The container's variables: the image's ENV (for vouch), then
        envFrom in order, then env, as the kubelet resolves them."""
        env = dict(self.image.env) if c.workload.is_vouch else {}
        for source in c.spec.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                data = self.configmap(source["configMapRef"]["name"], c)
            else:
                data = self.secret(source["secretRef"]["name"], c)
            env.update({prefix + k: str(v) for k, v in data.items()})
        for var in c.spec.get("env") or []:
            if "value" in var:
                env[var["name"]] = str(var["value"])
                continue
            ref = var.get("valueFrom") or {}
            if "secretKeyRef" in ref:
                data = self.secret(ref["secretKeyRef"]["name"], c)
                env[var["name"]] = data.get(ref["secretKeyRef"]["key"], "")
            elif "configMapKeyRef" in ref:
                data = self.configmap(ref["configMapKeyRef"]["name"], c)
                env[var["name"]] = str(data.get(ref["configMapKeyRef"]["key"], ""))
        return env

    def configmap(self, name: str, c: Container) -> dict:
        if name not in self.configmaps:
            self.fail(f"{c.name} reads ConfigMap {name}, which the render does not have")
        return self.configmaps.get(name, {})

    def secret(self, name: str, c: Container) -> dict:
        if name not in self.secrets:
            self.fail(f"{c.name} reads Secret {name}, which the render does not have")
        return self.secrets.get(name, {})

    def vouch_containers(self) -> list[Container]:
        return [c for w in self.workloads if w.is_vouch for c in w.containers]

    def hpa_for(self, w: Workload) -> dict | None:
        for hpa in self.of("HorizontalPodAutoscaler"):
            ref = hpa["spec"]["scaleTargetRef"]
            if ref.get("kind") == w.kind and ref.get("name") == w.doc["metadata"]["name"]:
                return hpa
        return None

    def selected(self, selector: dict | None) -> list[Workload]:
        return [w for w in self.workloads if matches(selector, w.labels)]


def decode_secret(doc: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (doc.get("data") or {}).items()}
    data.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
    return data


def matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector; an empty one selects everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def render(overlay: str) -> str:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise SystemExit(
            "FAIL kubectl is not installed: the manifests cannot be rendered "
            "(`kubectl kustomize`). Install kubectl 1.30 or later; this check never skips."
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"FAIL kubectl kustomize {overlay}:\n{result.stderr}")
    return result.stdout


def validate_schemas(overlay: str, docs: list[dict]) -> list[str]:
    try:
        import kubernetes_validate
    except ImportError:
        raise SystemExit(
            "FAIL kubernetes-validate is not installed "
            "(python3 -m pip install kubernetes-validate==1.37.0, as .ci/run does)"
        ) from None
    errors = []
    for version in KUBE_VERSIONS:
        for doc in docs:
            what = f"{doc['kind']}/{doc['metadata']['name']}"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                errors.append(f"{overlay}: {what} is not valid Kubernetes {version}: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                errors.append(f"{overlay}: {what}: {e.message}")
    return errors


# ---- the checks -------------------------------------------------------------


def check_pods(r: Render) -> None:
    """Non-root, read-only, unprivileged pods; writable volumes only where a
    process must write."""
    for w in r.workloads:
        pod = w.pod
        psc = pod.get("securityContext") or {}
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                r.fail(f"{w.id} sets {key}")
        if pod.get("automountServiceAccountToken") is not False:
            r.fail(f"{w.id} mounts a service account token (automountServiceAccountToken is not false)")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        claims = {t["metadata"]["name"] for t in w.doc["spec"].get("volumeClaimTemplates") or []}
        for name, volume in volumes.items():
            if "hostPath" in volume:
                r.fail(f"{w.id} mounts hostPath volume {name}")
            # A misspelt name leaves the pod waiting for its volume.
            refs = {
                "secret": ("secretName", r.secrets),
                "configMap": ("name", r.configmaps),
                "persistentVolumeClaim": ("claimName", {d["metadata"]["name"] for d in r.of("PersistentVolumeClaim")}),
            }
            for kind, (key, known) in refs.items():
                if kind in volume and not volume[kind].get("optional") and volume[kind][key] not in known:
                    r.fail(f"{w.id} mounts {kind} {volume[kind][key]}, which the render does not have")
        for c in w.containers:
            csc = c.spec.get("securityContext") or {}

            def get(key: str) -> Any:
                return csc.get(key, psc.get(key))

            if get("runAsNonRoot") is not True:
                r.fail(f"{c.name} is not runAsNonRoot")
            if get("runAsUser") in (0, None):
                r.fail(f"{c.name} sets no numeric non-root runAsUser")
            if (get("seccompProfile") or {}).get("type") != "RuntimeDefault":
                r.fail(f"{c.name} has no RuntimeDefault seccompProfile")
            if csc.get("readOnlyRootFilesystem") is not True:
                r.fail(f"{c.name} has no read-only root filesystem")
            if csc.get("allowPrivilegeEscalation") is not False:
                r.fail(f"{c.name} allows privilege escalation")
            if csc.get("privileged"):
                r.fail(f"{c.name} is privileged")
            caps = csc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
                r.fail(f"{c.name} does not drop ALL capabilities (or adds some)")
            allowed = writable_paths(c)
            for mount in c.spec.get("volumeMounts") or []:
                volume = volumes.get(mount["name"], {})
                writable = not mount.get("readOnly") and (
                    "emptyDir" in volume or "persistentVolumeClaim" in volume or mount["name"] in claims
                )
                if writable and mount["mountPath"] not in allowed:
                    r.fail(
                        f"{c.name} mounts a writable volume at {mount['mountPath']}; "
                        f"it may write only to {sorted(allowed) or 'nothing'}"
                    )


def writable_paths(c: Container) -> set[str]:
    if c.workload.is_vouch:
        # SQLite's data directory and temporary files; on PostgreSQL, nothing.
        if c.on_sqlite():
            return {c.setting("--data-dir", "VOUCH_DATA_DIR") or "./vouch-data", "/tmp"}
        return set()
    return SERVICE_WRITABLE.get(c.workload.app, set())


def check_probes_and_resources(r: Render) -> None:
    """Readiness and liveness on every long-running container, resource
    requests and limits, and vouch's probes aimed at the right endpoints."""
    for w in r.workloads:
        if w.kind in ("Job", "CronJob"):
            continue
        for c in w.containers:
            if c.init:
                continue
            for probe in ("readinessProbe", "livenessProbe"):
                if not c.spec.get(probe):
                    r.fail(f"{c.name} has no {probe}")
            resources = c.spec.get("resources") or {}
            for kind in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    if res not in (resources.get(kind) or {}):
                        r.fail(f"{c.name} has no resources.{kind}.{res}")
            if w.is_vouch:
                check_vouch_probes(r, c)


def check_vouch_probes(r: Render, c: Container) -> None:
    listeners = c.listeners()
    tls = c.setting("--tls-cert", "VOUCH_TLS__CERT") is not None
    # The kubelet probes the pod's address: a loopback listener is out of reach.
    rest_ports = {port for role, (host, port) in listeners.items() if role in REST_ROLES and host not in LOOPBACK}
    ready, live = c.spec.get("readinessProbe") or {}, c.spec.get("livenessProbe") or {}

    def http_target(probe: dict) -> tuple[str, int | None, str] | None:
        get = probe.get("httpGet")
        if not get:
            return None
        return get.get("path"), c.port_number(get.get("port")), get.get("scheme", "HTTP")

    if rest_ports:
        scheme = "HTTPS" if tls else "HTTP"
        for probe, path, what in ((ready, "/readyz", "readinessProbe"), (live, "/healthz", "livenessProbe")):
            target = http_target(probe)
            if target is None or target[0] != path or target[1] not in rest_ports or target[2] != scheme:
                r.fail(
                    f"{c.name}: {what} must GET {path} over {scheme} on a REST listener "
                    f"{sorted(rest_ports)}, not {target}"
                )
        return
    if "trust" not in listeners:
        return
    _, trust_port = listeners["trust"]
    mtls = c.setting("--trust-tls-ca", "VOUCH_TRUST_TLS__CA") is not None
    command = (ready.get("exec") or {}).get("command") or []
    if command:
        scheme = "https" if mtls else "http"
        url = command[command.index("--trust-url") + 1] if "--trust-url" in command else ""
        if command[:2] != [r.image.entrypoint, "healthcheck"] or not re.fullmatch(
            rf"{scheme}://(127\.0\.0\.1|localhost):{trust_port}", url
        ):
            r.fail(
                f"{c.name}: readinessProbe must run `{r.image.entrypoint} healthcheck "
                f"--trust-url {scheme}://127.0.0.1:{trust_port}`, not {command}"
            )
    elif "grpc" in ready:
        if mtls:
            r.fail(f"{c.name}: the kubelet's grpc probe cannot pass trust's mutual TLS; use `vouch healthcheck`")
        elif c.port_number(ready["grpc"].get("port")) != trust_port:
            r.fail(f"{c.name}: readinessProbe probes another port than trust's {trust_port}")
    else:
        r.fail(f"{c.name}: readinessProbe must ask trust's gRPC service state")
    # Liveness must not follow the database (trust's service state does).
    target = http_target(live)
    metrics = listeners.get("metrics", (None, None))[1]
    tcp = c.port_number((live.get("tcpSocket") or {}).get("port"))
    on_metrics = target is not None and target[0] == "/metrics" and target[1] == metrics
    connects = tcp is not None and tcp in (trust_port, metrics)
    if not (on_metrics or connects):
        r.fail(
            f"{c.name}: livenessProbe must GET /metrics on the trust metrics listener or "
            f"connect to a listener, not follow the service state"
        )


def check_scaling(r: Render) -> None:
    """HPAs target Deployments of the render, on CPU; every scaled vouch
    Deployment has one and a PodDisruptionBudget; SQLite never scales."""
    for hpa in r.of("HorizontalPodAutoscaler"):
        name = hpa["metadata"]["name"]
        ref = hpa["spec"]["scaleTargetRef"]
        targets = [w for w in r.workloads if w.kind == ref.get("kind") and w.doc["metadata"]["name"] == ref.get("name")]
        if ref.get("kind") != "Deployment" or not targets:
            r.fail(f"HPA {name} targets no Deployment of the render ({ref.get('kind')}/{ref.get('name')})")
            continue
        target = targets[0]
        spec = hpa["spec"]
        if not 2 <= spec.get("minReplicas", 1) <= spec["maxReplicas"]:
            r.fail(f"HPA {name}: minReplicas must be at least 2 and at most maxReplicas")
        if not any(
            m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in spec.get("metrics") or []
        ):
            r.fail(f"HPA {name} does not scale on CPU")
        if "replicas" in target.doc["spec"]:
            r.fail(f"{target.id} sets spec.replicas, which every apply would reset under HPA {name}")
        for c in target.containers:
            if "cpu" not in ((c.spec.get("resources") or {}).get("requests") or {}):
                r.fail(f"HPA {name}: {c.name} requests no CPU, so utilisation is undefined")
    for w in r.workloads:
        if not w.is_vouch or w.kind != "Deployment":
            continue
        hpa = r.hpa_for(w)
        if any(c.keeps_state_in_process() for c in w.containers):
            # One SQLite file and in-process sessions: exactly one process.
            strategy = (w.doc["spec"].get("strategy") or {}).get("type")
            if hpa or w.doc["spec"].get("replicas") != 1 or strategy != "Recreate":
                r.fail(
                    f"{w.id} keeps state in-process (SQLite or memory sessions): "
                    "it needs replicas 1, strategy Recreate and no HPA"
                )
            continue
        if hpa is None:
            r.fail(f"{w.id} has no HorizontalPodAutoscaler")
            continue
        budgets = [p for p in r.of("PodDisruptionBudget") if matches(p["spec"].get("selector"), w.labels)]
        if len(budgets) != 1:
            r.fail(f"{w.id} is covered by {len(budgets)} PodDisruptionBudgets, not one")
            continue
        budget = budgets[0]
        others = [x.id for x in r.selected(budget["spec"].get("selector")) if x is not w]
        if others:
            r.fail(f"PodDisruptionBudget {budget['metadata']['name']} also selects {others}")
        spec = budget["spec"]
        lets_one_go = spec.get("maxUnavailable", 0) >= 1 or spec.get("minAvailable", 10**9) < hpa["spec"].get(
            "minReplicas", 1
        )
        if not lets_one_go:
            r.fail(f"PodDisruptionBudget {budget['metadata']['name']} would block every node drain")


def check_topology(r: Render) -> None:
    """dev: one process with every role; prod: one Deployment per role."""
    deployments = [w for w in r.workloads if w.is_vouch]
    runs = {w.id: set().union(*(c.roles() for c in w.containers)) for w in deployments}
    if r.overlay == "dev":
        if len(deployments) != 1 or runs[deployments[0].id] != set(ROLES):
            r.fail(f"dev must be one Deployment running every role, not {runs}")
        return
    for role in ROLES:
        owners = [name for name, roles in runs.items() if role in roles]
        if len(owners) != 1 or runs[owners[0]] != {role}:
            r.fail(f"prod: role {role} must run alone in exactly one Deployment, not in {owners}")


def check_sizing(r: Render) -> None:
    """Trust pools × the most trust pods ≤ PostgreSQL's connections, and
    verification's memcached connections ≤ memcached's limit."""
    openers = [w for w in r.workloads if w.is_vouch and any(c.opens_postgres_pool() for c in w.containers)]
    for c in r.vouch_containers():
        if c.setting("--database-url", "VOUCH_DATABASE_URL") and "trust" not in c.roles():
            r.fail(f"{c.name} gets a database URL but runs no trust role: only trust opens the database")
    if openers:
        postgres = [w for w in r.workloads if w.app == "postgres"]
        if len(postgres) != 1:
            r.fail(f"trust uses PostgreSQL, but the render has {len(postgres)} PostgreSQL workloads, not one")
            return
        server = {k: int(v) for k, v in server_settings(postgres[0].containers[0].args).items() if v.isdigit()}
        if "max_connections" not in server:
            r.fail(f"{postgres[0].id} does not set max_connections (-c max_connections=N)")
            return
        reserved = server.get("superuser_reserved_connections", 3)
        available = server["max_connections"] - reserved
        total, lines = 0, []
        for w in openers:
            pods = most_pods(r, w)
            if pods is None:
                continue
            for c in w.containers:
                if not c.opens_postgres_pool():
                    continue
                pool = c.setting("--db-max-connections", "VOUCH_DB__MAX_CONNECTIONS")
                if pool is None or not pool.isdigit():
                    r.fail(f"{c.name} opens a PostgreSQL pool of implicit size: set VOUCH_DB__MAX_CONNECTIONS")
                    continue
                each = int(pool) + LISTENER_CONNECTIONS
                total += pods * each
                lines.append(f"{w.id}: {pods} pods x ({pool} pool + {LISTENER_CONNECTIONS} listener) = {pods * each}")
        need = total + ADMIN_HEADROOM
        r.notes.append(
            f"{r.overlay} PostgreSQL: " + "; ".join(lines) + f"; + {ADMIN_HEADROOM} administration = {need} "
            f"of {available} (max_connections {server['max_connections']} - superuser_reserved {reserved})"
        )
        if need > available:
            r.fail(
                f"trust may open {total} PostgreSQL connections (+ {ADMIN_HEADROOM} kept for administration "
                f"= {need}), more than the {available} max_connections leaves: lower the HPA maxReplicas or "
                f"the pool, or raise max_connections (docs/operations.md, \"Kubernetes: sizing\")"
            )
    memcached = [w for w in r.workloads if w.app == "memcached"]
    for c in r.vouch_containers():
        if not c.sessions().startswith("memcached://"):
            continue
        w = c.workload
        if len(memcached) != 1:
            r.fail(f"{c.name} keeps sessions in memcached, but the render has {len(memcached)} memcached workloads")
            continue
        limit = flag_value(memcached[0].containers[0].args, "-c")
        if limit is None:
            r.fail(f"{memcached[0].id} sets no connection limit (-c)")
            continue
        pods = most_pods(r, w)
        if pods is not None:
            need = pods * MEMCACHED_CONNECTIONS_PER_POD
            r.notes.append(
                f"{r.overlay} memcached: {w.id}: {pods} pods x {MEMCACHED_CONNECTIONS_PER_POD} = {need} of -c {limit}"
            )
            if need > int(limit):
                r.fail(f"{w.id} may open {need} memcached connections, more than memcached's -c {limit}")


def most_pods(r: Render, w: Workload) -> int | None:
    """The most pods of `w` that can hold connections at once: full scale,
    a rollout's surge, and the old pods still draining."""
    spec = w.doc["spec"]
    hpa = r.hpa_for(w)
    replicas = hpa["spec"]["maxReplicas"] if hpa else spec.get("replicas", 1)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return replicas
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if not isinstance(surge, int):
        r.fail(f"{w.id}: maxSurge must be a number of pods for the sizing, not {surge!r}")
        return None
    grace = w.pod.get("terminationGracePeriodSeconds", 30)
    if any(c.opens_postgres_pool() for c in w.containers) and spec.get("minReadySeconds", 0) < grace:
        r.fail(
            f"{w.id}: minReadySeconds ({spec.get('minReadySeconds', 0)}) must be at least "
            f"terminationGracePeriodSeconds ({grace}), or a rollout can leave several pods draining"
        )
    return replicas + surge + DRAINING_PODS


def server_settings(args: list[str]) -> dict[str, str]:
    found = {}
    for i, arg in enumerate(args[:-1]):
        if arg == "-c" and "=" in args[i + 1]:
            key, _, value = args[i + 1].partition("=")
            found[key] = value
    return found


def flag_value(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg == flag:
            return args[i + 1]
    return None


def check_image(r: Render) -> None:
    """The manifests run what the Dockerfile builds, as docker-compose.yml
    names it, with the Dockerfile's user, entrypoint, ports and data dir."""
    image = r.image
    for w in r.workloads:
        for c in w.containers:
            if not w.is_vouch:
                want = image.services.get(w.app)
                if want is None or c.spec.get("image") != want:
                    r.fail(f"{c.name} runs {c.spec.get('image')}, not docker-compose.yml's {w.app} image {want}")
                continue
            if c.spec.get("image") != image.name:
                r.fail(f"{c.name} runs {c.spec.get('image')}, not {image.name}, which docker-compose.yml builds")
            if c.spec.get("command") not in (None, [image.entrypoint]):
                r.fail(f"{c.name} overrides the Dockerfile's ENTRYPOINT {image.entrypoint}")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                command = ((c.spec.get(probe) or {}).get("exec") or {}).get("command")
                if command and command[0] != image.entrypoint:
                    r.fail(f"{c.name}: {probe} runs {command[0]}, not the image's {image.entrypoint}")
            csc = {**(w.pod.get("securityContext") or {}), **(c.spec.get("securityContext") or {})}
            if (csc.get("runAsUser"), csc.get("runAsGroup")) != (image.uid, image.gid):
                r.fail(
                    f"{c.name} runs as {csc.get('runAsUser')}:{csc.get('runAsGroup')}, "
                    f"not the Dockerfile's USER {image.uid}:{image.gid}"
                )
            listeners = c.listeners()
            declared = {int(p["containerPort"]) for p in c.spec.get("ports") or []}
            for role, (host, port) in listeners.items():
                if role != "metrics" and port not in image.exposed:
                    r.fail(f"{c.name}: the {role} listener's port {port} is not EXPOSEd by the Dockerfile")
                if host not in LOOPBACK and port not in declared:
                    r.fail(f"{c.name}: the {role} listener (port {port}) is not a containerPort")
            for port in declared - {p for _, p in listeners.values()}:
                r.fail(f"{c.name}: containerPort {port} is no listener of this process")
            for mount in c.spec.get("volumeMounts") or []:
                if c.on_sqlite() and mount["mountPath"] != "/tmp":
                    data_dir = c.setting("--data-dir", "VOUCH_DATA_DIR")
                    if mount["mountPath"] != data_dir or data_dir != image.env.get("VOUCH_DATA_DIR"):
                        r.fail(
                            f"{c.name} mounts its data at {mount['mountPath']}, but the process uses "
                            f"{data_dir} and the Dockerfile {image.env.get('VOUCH_DATA_DIR')}"
                        )
    # Every Service reaches a port its pods declare.
    for svc in r.of("Service"):
        pods = r.selected({"matchLabels": svc["spec"].get("selector") or {}}) if svc["spec"].get("selector") else []
        if not pods:
            r.fail(f"Service {svc['metadata']['name']} selects no workload")
        for port in svc["spec"].get("ports") or []:
            target = port.get("targetPort", port["port"])
            for w in pods:
                declared = {int(p["containerPort"]) for c in w.containers for p in c.spec.get("ports") or []}
                if not any(c.port_number(target) in declared for c in w.containers):
                    r.fail(f"Service {svc['metadata']['name']}: targetPort {target} is no port of {w.id}")


def setting_names() -> tuple[dict[str, dict[str, str]], set[str]]:
    """The settings `vouch serve` reads, from services/vouch/src/settings.rs:
    each struct's fields (and their types), and the `VOUCH_` variables read
    elsewhere."""
    source = (ROOT / "services/vouch/src/settings.rs").read_text().split("#[cfg(test)]")[0]
    source = re.sub(r"#\[serde\(skip\)\]\s*pub \w+:[^,]+,", "", source)
    structs = {}
    for struct in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", source, re.S):
        structs[struct.group(1)] = {
            f.group(1): re.sub(r"^(?:Option|Vec)<(.+)>$", r"\1", f.group(2))
            for f in re.finditer(r"^\s*pub (\w+): ([\w:<>, ]+),", struct.group(2), re.M)
        }
    elsewhere = re.search(r"const READ_ELSEWHERE: &\[&str\] = &\[(.*?)\];", source, re.S)
    return structs, set(re.findall(r'"(VOUCH_\w+)"', elsewhere.group(1) if elsewhere else ""))


SETTINGS = setting_names()


def names_a_setting(variable: str) -> bool:
    structs, elsewhere = SETTINGS
    if variable in elsewhere:
        return True
    struct = "Settings"
    for part in variable.removeprefix("VOUCH_").lower().split("__"):
        fields = structs.get(struct, {})
        if part not in fields:
            return False
        struct = fields[part]
    return True


def check_variables(r: Render) -> None:
    """Every VOUCH_ variable the manifests give vouch names a setting:
    vouch only logs one that does not (a typo such as
    VOUCH_DB_MAX_CONNECTIONS would silently keep the default)."""
    for c in r.vouch_containers():
        given = {v["name"] for v in c.spec.get("env") or []}
        for source in c.spec.get("envFrom") or []:
            if "configMapRef" in source:
                data = r.configmaps.get(source["configMapRef"]["name"], {})
            else:
                data = r.secrets.get(source["secretRef"]["name"], {})
            given |= {source.get("prefix", "") + k for k in data}
        for variable in sorted(v for v in given if v.startswith("VOUCH_")):
            if not names_a_setting(variable):
                r.fail(f"{c.name} sets {variable}, which names no setting of services/vouch/src/settings.rs")


# Settings that name a file the process reads at start (settings.rs).
FILE_SETTINGS = (
    ("--config", "VOUCH_CONFIG"),
    ("--ear-key", "VOUCH_EAR_KEY"),
    ("--tls-cert", "VOUCH_TLS__CERT"),
    ("--tls-key", "VOUCH_TLS__KEY"),
    ("--trust-tls-ca", "VOUCH_TRUST_TLS__CA"),
    ("--trust-tls-cert", "VOUCH_TRUST_TLS__CERT"),
    ("--trust-tls-key", "VOUCH_TRUST_TLS__KEY"),
    ("--corim-signer-keys", "VOUCH_CORIM__SIGNER_KEYS"),
    ("--corim-signer-roots", "VOUCH_CORIM__SIGNER_ROOTS"),
)


def check_startup(r: Render) -> None:
    """What `vouch serve` refuses at start (Settings::validate), found before
    a pod crash-loops: files that are not mounted, TLS settings without
    their pair, a trust URL whose scheme contradicts mutual TLS, and
    in-cluster addresses no Service answers."""
    services = {
        (svc["metadata"]["name"], int(port["port"]))
        for svc in r.of("Service")
        for port in svc["spec"].get("ports") or []
    }
    for c in r.vouch_containers():
        for flag, variable in FILE_SETTINGS:
            path = c.setting(flag, variable)
            if path is not None and mounted_file(r, c, path) is None:
                r.fail(f"{c.name}: {variable} {path} is not mounted from a Secret or ConfigMap key of the render")
        roles = c.roles()
        fronts = roles & set(REST_ROLES)
        if bool(c.setting("--tls-cert", "VOUCH_TLS__CERT")) != bool(c.setting("--tls-key", "VOUCH_TLS__KEY")):
            r.fail(f"{c.name}: TLS needs both a certificate and its key")
        trio = [c.setting(f"--trust-tls-{k}", f"VOUCH_TRUST_TLS__{k.upper()}") for k in ("ca", "cert", "key")]
        mtls = any(trio)
        if mtls and not all(trio):
            r.fail(f"{c.name}: mutual TLS to trust needs a CA, a certificate and its key")
        urls = [u.strip() for u in (c.setting("--trust-url", "VOUCH_TRUST_URL") or "").split(",") if u.strip()]
        if fronts and "trust" not in roles:
            if not urls:
                r.fail(f"{c.name}: front ends without a local trust need VOUCH_TRUST_URL")
            for url in urls:
                if "://" not in url:
                    url = ("https://" if mtls else "http://") + url
                if url.startswith("https://") != mtls:
                    r.fail(f"{c.name}: trust URL {url} contradicts mutual TLS being {'on' if mtls else 'off'}")
                check_address(r, c, url, 50051, services)
        if "verification" in roles and c.sessions().startswith("memcached://"):
            for server in c.sessions().removeprefix("memcached://").rstrip("/").split(","):
                check_address(r, c, "memcached://" + server.strip(), 11211, services)
        if c.opens_postgres_pool():
            check_address(r, c, c.store() or "", 5432, services)


def check_address(r: Render, c: Container, url: str, default_port: int, services: set[tuple[str, int]]) -> None:
    """An in-cluster short name (no dot) must be a Service of the render
    with that port; names with a domain are the operator's."""
    authority = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = authority.partition(":")
    if "." in host or host in LOOPBACK:
        return
    if (host, int(port or default_port)) not in services:
        r.fail(f"{c.name}: {url.split('@')[-1]} is no Service and port of the render")


def mounted_file(r: Render, c: Container, path: str) -> str | None:
    """The content of `path` as the container sees it, when a Secret or
    ConfigMap of the render is mounted there."""
    volumes = {v["name"]: v for v in c.workload.pod.get("volumes") or []}
    for mount in c.spec.get("volumeMounts") or []:
        if mount.get("subPath"):
            if mount["mountPath"] != path:
                continue
            key = mount["subPath"]
        else:
            directory = mount["mountPath"].rstrip("/") + "/"
            if not path.startswith(directory):
                continue
            key = path[len(directory):]
        volume = volumes.get(mount["name"], {})
        if "secret" in volume:
            data = r.secrets.get(volume["secret"]["secretName"], {})
        elif "configMap" in volume:
            data = r.configmaps.get(volume["configMap"]["name"], {})
        else:
            continue
        if key in data:
            return str(data[key])
    return None


def check_drain(r: Render) -> None:
    """preStop sleep = the drain delay (0 on trust alone), and the grace
    period holds preStop + drain delay + drain timeout + the trace flush."""
    common = r.configmaps.get(next((n for n in r.configmaps if n.startswith("vouch-common")), ""), {})
    if "VOUCH_DRAIN_DELAY_MS" not in common:
        r.fail("the base's vouch-common ConfigMap sets no VOUCH_DRAIN_DELAY_MS")
        return
    base_delay_ms = int(common["VOUCH_DRAIN_DELAY_MS"])
    for w in r.workloads:
        if not w.is_vouch:
            continue
        grace = w.pod.get("terminationGracePeriodSeconds", 30)
        for c in w.containers:
            sleep = (((c.spec.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
            if sleep is None:
                r.fail(f"{c.name} has no preStop sleep")
                continue
            delay = int(c.setting("--drain-delay-ms", "VOUCH_DRAIN_DELAY_MS") or DEFAULT_DRAIN_DELAY_MS)
            timeout = int(c.env.get("VOUCH_DRAIN_TIMEOUT_MS", DEFAULT_DRAIN_TIMEOUT_MS))
            if sleep * 1000 != base_delay_ms:
                r.fail(f"{c.name}: preStop sleeps {sleep} s, not the drain delay {base_delay_ms} ms of vouch-common")
            if c.runs_trust_only():
                # Front ends hold one connection to one trust pod: a trust
                # pod reporting TERMINATING would take them out of service.
                if delay != 0:
                    r.fail(
                        f"{c.name}: trust's drain delay must be 0 (it sends GOAWAY after the preStop sleep), "
                        f"not {delay} ms"
                    )
            elif delay != sleep * 1000:
                r.fail(f"{c.name}: drain delay {delay} ms does not match the preStop sleep of {sleep} s")
            need = sleep + (delay + timeout) / 1000 + TRACE_FLUSH_S
            if grace < need:
                r.fail(
                    f"{w.id}: terminationGracePeriodSeconds {grace} < preStop {sleep} + drain delay "
                    f"{delay / 1000:g} + drain timeout {timeout / 1000:g} + trace flush {TRACE_FLUSH_S} s"
                )


def reachable_from(r: Render, target: Workload, port: int) -> set[str] | None:
    """Which workloads NetworkPolicies let reach `port` of `target`'s pods;
    None when anything may (no policy, or a rule without sources)."""
    policies = [
        p for p in r.of("NetworkPolicy")
        if matches(p["spec"].get("podSelector"), target.labels)
        and "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"])
    ]
    if not policies:
        return None
    sources: set[str] = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress") or []:
            ports = rule.get("ports") or []
            if ports and not any(
                any(c.port_number(p.get("port")) == port for c in target.containers) for p in ports
            ):
                continue
            peers = rule.get("from") or []
            if not peers:
                return None
            for peer in peers:
                if "ipBlock" in peer or "namespaceSelector" in peer:
                    return None
                sources |= {w.id for w in r.selected(peer.get("podSelector"))}
    return sources


def first_port(w: Workload) -> int:
    return int(w.containers[0].spec["ports"][0]["containerPort"])


def check_network(r: Render) -> None:
    """Exactly the front ends reach trust's gRPC port; exactly trust reaches
    PostgreSQL and exactly verification reaches memcached; the REST ports
    are open."""
    by_role = {
        role: [w.id for w in r.workloads if w.is_vouch and any(role in c.roles() for c in w.containers)]
        for role in ROLES
    }

    def expect(target: Workload, port: int, want: set[str] | None, what: str) -> None:
        got = reachable_from(r, target, port)
        if got != want:
            shown = "anything" if got is None else sorted(got)
            wanted = "anything" if want is None else sorted(want)
            r.fail(f"{what} ({target.id} port {port}) can be reached from {shown}, not from {wanted}")

    for w in r.workloads:
        if w.is_vouch:
            for c in w.containers:
                for role, (host, port) in c.listeners().items():
                    if host in LOOPBACK:
                        continue
                    if role == "trust" and not (c.roles() & set(REST_ROLES)):
                        fronts = {x for rr in REST_ROLES for x in by_role[rr]}
                        expect(w, port, fronts, "trust's gRPC listener")
                    elif role in REST_ROLES:
                        expect(w, port, None, f"the {role} listener")
                    elif role == "metrics":
                        expect(w, port, set(), "trust's metrics listener")
        elif w.app == "postgres":
            expect(w, first_port(w), set(by_role["trust"]), "PostgreSQL")
        elif w.app == "memcached":
            expect(w, first_port(w), set(by_role["verification"]), "memcached")


def check_secrets_and_auth(r: Render) -> None:
    """Secrets hold placeholders only, and no provisioning or management
    listener is reachable without authentication."""
    for name, data in r.secrets.items():
        for key, value in data.items():
            if PLACEHOLDER not in value or "-----BEGIN" in value:
                r.fail(
                    f"Secret {name} key {key} is not a {PLACEHOLDER} placeholder: "
                    "real secrets stay out of the repository"
                )
    for c in r.vouch_containers():
        for role in ("provisioning", "management"):
            host, _ = c.listeners().get(role, ("127.0.0.1", 0))
            if host not in LOOPBACK and auth_mode(r, c, role) == "none":
                r.fail(f"{c.name}: the {role} listener is on {host} with authentication `none`")


def auth_mode(r: Render, c: Container, api: str) -> str:
    """The authentication mode of `api` (provisioning or management): the
    flag, the environment, then the VOUCH_CONFIG file as mounted from a
    Secret or ConfigMap, where [auth.<api>] overrides [auth]."""
    mode = c.env.get(f"VOUCH_AUTH__{api.upper()}__MODE") or c.setting("--auth", "VOUCH_AUTH__MODE")
    if mode:
        return mode
    path = c.flag("--config") or c.env.get("VOUCH_CONFIG")
    if not path:
        return "none"
    text = mounted_file(r, c, path)
    if text is None:
        return "none"  # check_startup reports the missing file
    try:
        auth = tomllib.loads(text).get("auth", {})
    except tomllib.TOMLDecodeError as e:
        r.fail(f"{c.name}: {path} is not TOML: {e}")
        return "none"
    return str(auth.get(api, {}).get("mode", auth.get("mode", "none")))


CHECKS: list[Callable[[Render], None]] = [
    check_pods,
    check_probes_and_resources,
    check_scaling,
    check_topology,
    check_sizing,
    check_image,
    check_variables,
    check_startup,
    check_drain,
    check_network,
    check_secrets_and_auth,
]


def run_checks(overlay: str, docs: list[dict], image: Image) -> Render:
    r = Render(overlay, docs, image)
    for check in CHECKS:
        check(r)
    return r


# ---- self-test: every rule can fail ------------------------------------------


def find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def pod_spec(docs: list[dict], name: str, kind: str = "Deployment") -> dict:
    return find(docs, kind, name)["spec"]["template"]["spec"]


def container(docs: list[dict], name: str, kind: str = "Deployment") -> dict:
    return pod_spec(docs, name, kind)["containers"][0]


def set_env(c: dict, name: str, value: str) -> None:
    c["env"] = [e for e in c.get("env") or [] if e["name"] != name] + [{"name": name, "value": value}]


def secret_by_prefix(docs: list[dict], prefix: str) -> dict:
    return next(d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].startswith(prefix))


def configmap_by_prefix(docs: list[dict], prefix: str) -> dict:
    return next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(prefix))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# (overlay, what is broken, a phrase the failure must name, how to break it)
BREAKS: list[tuple[str, str, str, Callable[[list[dict]], None]]] = [
    (
        "prod", "a writable root filesystem", "read-only root",
        lambda d: container(d, "vouch-trust")["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    (
        "prod", "root", "runAsNonRoot",
        lambda d: pod_spec(d, "vouch-postgres", "StatefulSet")["securityContext"].pop("runAsNonRoot"),
    ),
    (
        "prod", "privilege escalation", "privilege escalation",
        lambda d: container(d, "vouch-memcached")["securityContext"].update(allowPrivilegeEscalation=True),
    ),
    (
        "prod", "a capability", "capabilities",
        lambda d: container(d, "vouch-verification")["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
    ),
    (
        "dev", "no seccomp profile", "seccompProfile",
        lambda d: pod_spec(d, "vouch")["securityContext"].pop("seccompProfile"),
    ),
    (
        "prod", "a token", "service account token",
        lambda d: pod_spec(d, "vouch-management").update(automountServiceAccountToken=True),
    ),
    (
        "prod", "a writable emptyDir on trust", "writable volume",
        lambda d: (
            pod_spec(d, "vouch-trust")["volumes"].append({"name": "scratch", "emptyDir": {}}),
            container(d, "vouch-trust")["volumeMounts"].append({"name": "scratch", "mountPath": "/scratch"})),
    ),
    (
        "prod", "no readiness probe", "no readinessProbe",
        lambda d: container(d, "vouch-provisioning").pop("readinessProbe"),
    ),
    (
        "prod", "no liveness probe", "no livenessProbe",
        lambda d: container(d, "vouch-memcached").pop("livenessProbe"),
    ),
    (
        "prod", "no memory limit", "limits.memory",
        lambda d: container(d, "vouch-postgres", "StatefulSet")["resources"]["limits"].pop("memory"),
    ),
    (
        "prod", "liveness on /readyz", "livenessProbe must GET /healthz",
        lambda d: container(d, "vouch-verification")["livenessProbe"]["httpGet"].update(path="/readyz"),
    ),
    (
        "prod", "a plain-HTTP probe of an HTTPS listener", "over HTTPS",
        lambda d: container(d, "vouch-management")["readinessProbe"]["httpGet"].pop("scheme"),
    ),
    (
        "prod", "trust's liveness on its service state", "livenessProbe must GET /metrics",
        lambda d: container(d, "vouch-trust").update(livenessProbe=copy.deepcopy(container(d, "vouch-trust")["readinessProbe"])),
    ),
    (
        "prod", "a kubelet grpc probe through mutual TLS", "cannot pass trust's mutual TLS",
        lambda d: container(d, "vouch-trust").update(readinessProbe={"grpc": {"port": 50051}}),
    ),
    (
        "prod", "an HPA without a target", "targets no Deployment",
        lambda d: find(d, "HorizontalPodAutoscaler", "vouch-provisioning")["spec"]["scaleTargetRef"].update(name="vouch-provision"),
    ),
    (
        "prod", "replicas beside an HPA", "sets spec.replicas",
        lambda d: find(d, "Deployment", "vouch-trust")["spec"].update(replicas=3),
    ),
    (
        "prod", "no PodDisruptionBudget", "PodDisruptionBudgets, not one",
        lambda d: d.remove(find(d, "PodDisruptionBudget", "vouch-management")),
    ),
    (
        "prod", "a budget that blocks drains", "block every node drain",
        lambda d: find(d, "PodDisruptionBudget", "vouch-trust")["spec"].update(maxUnavailable=0),
    ),
    (
        "dev", "a scaled SQLite pod", "replicas 1",
        lambda d: find(d, "Deployment", "vouch")["spec"].update(replicas=2),
    ),
    (
        "prod", "two roles in one Deployment", "must run alone",
        lambda d: container(d, "vouch-management")["args"].extend(["--role", "provisioning"]),
    ),
    (
        "prod", "trust scaled past PostgreSQL", "PostgreSQL connections",
        lambda d: find(d, "HorizontalPodAutoscaler", "vouch-trust")["spec"].update(maxReplicas=7),
    ),
    (
        "prod", "a larger pool", "PostgreSQL connections",
        lambda d: set_env(container(d, "vouch-trust"), "VOUCH_DB__MAX_CONNECTIONS", "16"),
    ),
    (
        "prod", "a smaller PostgreSQL", "PostgreSQL connections",
        lambda d: container(d, "vouch-postgres", "StatefulSet")["args"].__setitem__(2, "max_connections=80"),
    ),
    (
        "prod", "an implicit pool size", "implicit size",
        lambda d: container(d, "vouch-trust").update(env=[e for e in container(d, "vouch-trust")["env"] if e["name"] != "VOUCH_DB__MAX_CONNECTIONS"]),
    ),
    (
        "prod", "a short minReadySeconds", "minReadySeconds",
        lambda d: find(d, "Deployment", "vouch-trust")["spec"].update(minReadySeconds=10),
    ),
    (
        "prod", "a percentage surge", "maxSurge",
        lambda d: find(d, "Deployment", "vouch-trust")["spec"]["strategy"]["rollingUpdate"].update(maxSurge="25%"),
    ),
    (
        "prod", "the database URL on a front end", "runs no trust role",
        lambda d: set_env(container(d, "vouch-verification"), "VOUCH_DATABASE_URL", "postgres://x"),
    ),
    (
        "prod", "verification scaled past memcached", "memcached connections",
        lambda d: find(d, "HorizontalPodAutoscaler", "vouch-verification")["spec"].update(maxReplicas=70),
    ),
    (
        "prod", "another image", "which docker-compose.yml builds",
        lambda d: container(d, "vouch-verification").update(image="ghcr.io/example/vouch:1.0"),
    ),
    (
        "prod", "another PostgreSQL", "postgres image",
        lambda d: container(d, "vouch-postgres", "StatefulSet").update(image="postgres:16"),
    ),
    (
        "prod", "another user", "Dockerfile's USER",
        lambda d: pod_spec(d, "vouch-trust")["securityContext"].update(runAsUser=1000),
    ),
    (
        "prod", "another binary path", "not the image's",
        lambda d: container(d, "vouch-trust")["readinessProbe"]["exec"]["command"].__setitem__(0, "/bin/vouch"),
    ),
    (
        "prod", "a port nothing listens on", "no listener",
        lambda d: container(d, "vouch-verification")["ports"].__setitem__(0, {"name": "https", "containerPort": 8080}),
    ),
    (
        "prod", "a Service to a missing port", "targetPort",
        lambda d: find(d, "Service", "vouch-trust")["spec"]["ports"][0].update(targetPort="grpcs"),
    ),
    (
        "dev", "the data elsewhere", "mounts its data",
        lambda d: container(d, "vouch")["volumeMounts"][0].update(mountPath="/data"),
    ),
    (
        "prod", "a misspelt setting", "names no setting",
        lambda d: set_env(container(d, "vouch-trust"), "VOUCH_DB_MAX_CONNECTIONS", "8"),
    ),
    (
        "prod", "a misspelt nested setting", "names no setting",
        lambda d: set_env(container(d, "vouch-provisioning"), "VOUCH_PROVISIONING__MAX_CONCURENCY", "8"),
    ),
    (
        "prod", "an http trust URL under mutual TLS", "contradicts mutual TLS",
        lambda d: configmap_by_prefix(d, "vouch-front-end")["data"].update(VOUCH_TRUST_URL="http://vouch-trust:50051"),
    ),
    (
        "prod", "a trust URL no Service answers", "no Service and port",
        lambda d: configmap_by_prefix(d, "vouch-front-end")["data"].update(VOUCH_TRUST_URL="https://vouch-trusts:50051"),
    ),
    (
        "prod", "sessions on another port", "no Service and port",
        lambda d: set_env(container(d, "vouch-verification"), "VOUCH_SESSIONS", "memcached://vouch-memcached:11212"),
    ),
    (
        "prod", "a front end without its client certificate", "is not mounted",
        lambda d: container(d, "vouch-provisioning").update(
            volumeMounts=[m for m in container(d, "vouch-provisioning")["volumeMounts"] if m["name"] != "mtls"]
        ),
    ),
    (
        "prod", "a certificate without its key", "both a certificate and its key",
        lambda d: configmap_by_prefix(d, "vouch-front-end")["data"].pop("VOUCH_TLS__KEY"),
    ),
    (
        "prod", "a preStop shorter than the drain delay", "preStop sleeps 3 s",
        lambda d: container(d, "vouch-verification")["lifecycle"]["preStop"]["sleep"].update(seconds=3),
    ),
    (
        "prod", "a drain delay without its preStop", "does not match the preStop",
        lambda d: set_env(container(d, "vouch-provisioning"), "VOUCH_DRAIN_DELAY_MS", "8000"),
    ),
    (
        "prod", "a draining trust", "trust's drain delay must be 0",
        lambda d: set_env(container(d, "vouch-trust"), "VOUCH_DRAIN_DELAY_MS", "5000"),
    ),
    (
        "dev", "a short grace period", "terminationGracePeriodSeconds 30",
        lambda d: pod_spec(d, "vouch").update(terminationGracePeriodSeconds=30),
    ),
    (
        "prod", "no preStop", "no preStop sleep",
        lambda d: container(d, "vouch-management").pop("lifecycle"),
    ),
    (
        "prod", "trust open to PostgreSQL's neighbours", "trust's gRPC listener",
        lambda d: find(d, "NetworkPolicy", "vouch-trust")["spec"]["ingress"][0]["from"].append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}),
    ),
    (
        "prod", "a front end cut off from trust", "trust's gRPC listener",
        lambda d: find(d, "NetworkPolicy", "vouch-trust")["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0].update(values=["verification", "provisioning"]),
    ),
    (
        "prod", "PostgreSQL open to verification", "PostgreSQL",
        lambda d: find(d, "NetworkPolicy", "vouch-postgres")["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"].pop("app.kubernetes.io/component"),
    ),
    (
        "prod", "no default deny", "can be reached from anything",
        lambda d: (d.remove(find(d, "NetworkPolicy", "vouch-default-deny-ingress")), d.remove(find(d, "NetworkPolicy", "vouch-memcached"))),
    ),
    (
        "prod", "trust metrics open to the namespace", "metrics listener",
        lambda d: find(d, "NetworkPolicy", "vouch-trust")["spec"]["ingress"][0].pop("ports"),
    ),
    (
        "prod", "a real key", "placeholder",
        lambda d: secret_by_prefix(d, "vouch-ear-key")["data"].update({"ear-signing-key.pem": b64("-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n")}),
    ),
    (
        "prod", "unauthenticated provisioning", "authentication `none`",
        lambda d: secret_by_prefix(d, "vouch-auth")["data"].update({"vouch.toml": b64("# REPLACE-ME\n[auth]\nmode = \"none\"\n")}),
    ),
    (
        "prod", "unauthenticated management by override", "authentication `none`",
        lambda d: secret_by_prefix(d, "vouch-auth")["data"].update(
            {"vouch.toml": b64('# REPLACE-ME\n[auth]\nmode = "oidc"\n[auth.management]\nmode = "none"\n')}
        ),
    ),
    (
        "prod", "a missing Secret volume", "render does not have",
        lambda d: pod_spec(d, "vouch-trust")["volumes"][0]["secret"].update(secretName="vouch-ear"),
    ),
    (
        "dev", "exposed unauthenticated management", "authentication `none`",
        lambda d: set_env(container(d, "vouch"), "VOUCH_MANAGEMENT_ADDR", "0.0.0.0:10443"),
    ),
    (
        "prod", "a missing Secret", "render does not have",
        lambda d: pod_spec(d, "vouch-trust")["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"].update(name="vouch-db"),
    ),
]


def self_test(rendered: dict[str, list[dict]], image: Image) -> list[str]:
    problems = []
    for overlay, what, phrase, breaker in BREAKS:
        docs = copy.deepcopy(rendered[overlay])
        try:
            breaker(docs)
        except (StopIteration, KeyError, IndexError, ValueError) as e:
            problems.append(f"self-test: cannot break {overlay} with {what!r}: {e!r} (did the manifests change?)")
            continue
        failures = run_checks(overlay, docs, image).failures
        if not any(phrase in f for f in failures):
            problems.append(
                f"self-test: {overlay} with {what} passed (wanted a failure saying {phrase!r}; got {failures})"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true", help="also prove that every rule can fail")
    args = parser.parse_args()
    started = time.monotonic()
    image = read_image()
    rendered: dict[str, list[dict]] = {}
    failures: list[str] = []
    for overlay in OVERLAYS:
        docs = [d for d in yaml.safe_load_all(render(overlay)) if d]
        rendered[overlay] = docs
        failures += validate_schemas(overlay, docs)
        print(f"{overlay}: {len(docs)} resources, valid for Kubernetes {' and '.join(KUBE_VERSIONS)} (strict)"
              if not any(f.startswith(f"{overlay}:") for f in failures) else f"{overlay}: schema errors")
        checked = run_checks(overlay, docs, image)
        for note in checked.notes:
            print(f"  {note}")
        failures += checked.failures
    if args.self_test:
        problems = self_test(rendered, image)
        failures += problems
        print(f"self-test: {len(BREAKS) - len(problems)} of {len(BREAKS)} deliberate breaks caught")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"k8s: {'FAILED' if failures else 'ok'} ({len(failures)} problems, {elapsed:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
