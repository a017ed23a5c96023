#!/usr/bin/env python3
"""Static checks of the container packaging (no Docker engine needed).

Parses docker-compose.yml (PyYAML, plus `docker-compose config -q` when a
Compose client that works without an engine is installed) and the
Dockerfile (dockerfile-parse, plus hadolint when installed), then asserts
the structure docs/operations.md promises: one container per role, the
one-shot migration, health-gated start order, a shared EAR key, and a
multi-stage build whose runtime stage runs the vouch binary as non-root.

Run through `make check-packaging`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("trust", "verification", "provisioning", "management")
failures: list[str] = []


def check(condition: bool, message: str) -> None:
    if not condition:
        failures.append(message)


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def healthcheck_cmd(service: dict) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    return test if isinstance(test, list) else ["CMD-SHELL", test]


def documented_variables() -> set[str]:
    text = (ROOT / "README.md").read_text() + (ROOT / "docs/operations.md").read_text()
    return set(re.findall(r"VOUCH_[A-Z0-9_]+", text))


def check_compose() -> None:
    path = ROOT / "docker-compose.yml"
    compose = yaml.safe_load(path.read_text())
    services = compose.get("services") or {}
    for name in ("postgres", "memcached", "migrate", *ROLES):
        check(name in services, f"compose: no service {name!r}")
    if failures:
        return

    postgres = services["postgres"]
    check(str(postgres.get("image", "")).startswith("postgres:15"), "compose: postgres is not postgres:15")
    check(
        any("max_connections=" in str(arg) for arg in postgres.get("command") or []),
        "compose: postgres max_connections is not set",
    )
    check(bool(healthcheck_cmd(postgres)), "compose: postgres has no healthcheck")
    check(str(services["memcached"].get("image", "")).startswith("memcached"), "compose: memcached image")

    vouch_services = ("migrate", *ROLES)
    images = {services[s].get("image") for s in vouch_services}
    check(len(images) == 1, f"compose: Vouch services use several images: {images}")
    for name in vouch_services:
        service = services[name]
        build = service.get("build") or {}
        check(build.get("dockerfile", "Dockerfile") == "Dockerfile", f"compose: {name} builds another Dockerfile")
        check((ROOT / build.get("context", ".")).resolve() == ROOT, f"compose: {name} builds another context")

    migrate = services["migrate"]
    check(migrate.get("command") == ["migrate"], "compose: migrate does not run `vouch migrate`")
    check(str(migrate.get("restart")) == "no", "compose: migrate must be one-shot (restart: \"no\")")
    check(
        (migrate.get("depends_on") or {}).get("postgres", {}).get("condition") == "service_healthy",
        "compose: migrate must wait for a healthy postgres",
    )

    documented = documented_variables()
    for role in ROLES:
        service = services[role]
        command = service.get("command") or []
        check(command[:1] == ["serve"], f"compose: {role} does not run `vouch serve`")
        roles = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == "--role"]
        check(roles == [role], f"compose: {role} runs roles {roles}, not exactly [{role!r}]")
        health = healthcheck_cmd(service)
        check(
            health[:3] == ["CMD", "/usr/local/bin/vouch", "healthcheck"],
            f"compose: {role} has no `vouch healthcheck` health check",
        )
        env = env_of(service)
        for key in env:
            check(key in documented, f"compose: {role} sets {key}, which README.md and docs/operations.md never mention")
        check(service.get("stop_grace_period") is not None, f"compose: {role} has no stop_grace_period")

    trust = services["trust"]
    trust_env = env_of(trust)
    check(trust_env.get("VOUCH_DATABASE_URL", "").startswith("postgres://"), "compose: trust is not on PostgreSQL")
    check(
        (trust.get("depends_on") or {}).get("migrate", {}).get("condition") == "service_completed_successfully",
        "compose: trust must start after the migration completed",
    )
    key_path = trust_env.get("VOUCH_EAR_KEY", "")
    secret_names = [s if isinstance(s, str) else s.get("source") for s in trust.get("secrets") or []]
    check(key_path.startswith("/run/secrets/"), "compose: trust's EAR key is not a mounted secret")
    check(key_path.rsplit("/", 1)[-1] in secret_names, "compose: trust does not mount the EAR key secret")
    check(
        all(name in (compose.get("secrets") or {}) for name in secret_names),
        "compose: a secret trust uses is not declared",
    )
    check("--trust-url" in " ".join(healthcheck_cmd(trust)), "compose: trust's health check is not gRPC")

    for front, port in (("verification", "8443"), ("provisioning", "9443"), ("management", "10443")):
        service = services[front]
        env = env_of(service)
        check(env.get("VOUCH_TRUST_URL", "").startswith("http://trust:"), f"compose: {front} does not reach trust")
        check(
            env.get(f"VOUCH_{front.upper()}_ADDR", "").endswith(f":{port}"),
            f"compose: {front} does not listen on {port}",
        )
        check(
            any(str(p).endswith(f":{port}") for p in service.get("ports") or []),
            f"compose: {front} does not publish {port}",
        )
        check(
            any(port in arg for arg in healthcheck_cmd(service)),
            f"compose: {front}'s health check probes another port",
        )
        check(
            (service.get("depends_on") or {}).get("trust", {}).get("condition") == "service_healthy",
            f"compose: {front} must wait for a healthy trust",
        )
        check("VOUCH_DRAIN_DELAY_MS" in env, f"compose: {front} has no drain delay")
    check(
        env_of(services["verification"]).get("VOUCH_SESSIONS", "").startswith("memcached://memcached:"),
        "compose: verification sessions are not in memcached",
    )

    compose_client = shutil.which("docker-compose")
    if compose_client:
        # Compose v1 validates against the Compose schema without an engine
        # (and without the secret file, which operators create).
        result = subprocess.run(
            [compose_client, "-f", str(path), "config", "-q"],
            cwd=ROOT,
            env=dict(os.environ, VOUCH_DB_PASSWORD="check"),
            capture_output=True,
            text=True,
            check=False,
        )
        check(result.returncode == 0, f"compose: docker-compose config failed: {result.stderr.strip()}")
        print(f"docker-compose config: {'ok' if result.returncode == 0 else 'FAILED'}")
    else:
        print("docker-compose not installed: checked with PyYAML only")


def check_dockerfile() -> None:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    instructions = parser.structure
    froms = [i for i in instructions if i["instruction"] == "FROM"]
    check(len(froms) >= 2, "Dockerfile: not multi-stage")
    if len(froms) < 2:
        return
    toolchain = tomllib.loads((ROOT / "rust-toolchain.toml").read_text())["toolchain"]["channel"]
    args = {
        i["value"].split("=", 1)[0]: i["value"].split("=", 1)[1]
        for i in instructions
        if i["instruction"] == "ARG" and "=" in i["value"] and i["startline"] < froms[0]["startline"]
    }
    builder = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), froms[0]["value"])
    # rust-toolchain.toml pins e.g. 1.95.0; the image may name 1.95 or 1.95.0.
    minor = ".".join(toolchain.split(".")[:2])
    check(
        any(builder.startswith(f"rust:{v}-slim-bookworm") for v in {toolchain, minor})
        and builder.lower().endswith(" as builder"),
        f"Dockerfile: the build stage is {builder!r}, not rust:{minor}-slim-bookworm AS builder",
    )
    last = froms[-1]
    runtime = [i for i in instructions if i["startline"] > last["startline"]]
    build = [i for i in instructions if froms[0]["startline"] < i["startline"] < last["startline"]]
    check(
        any(i["instruction"] == "RUN" and "cargo build --release" in i["value"] and "-p vouch" in i["value"] for i in build),
        "Dockerfile: the build stage does not `cargo build --release -p vouch`",
    )
    base = last["value"].split()[0]
    check(
        base.startswith("gcr.io/distroless/cc") or base.startswith("debian:bookworm-slim"),
        f"Dockerfile: runtime base {base} is neither distroless/cc nor debian:bookworm-slim",
    )
    users = [i["value"].strip() for i in runtime if i["instruction"] == "USER"]
    check(bool(users), "Dockerfile: the runtime stage sets no USER")
    check(
        all(u.split(":")[0] not in ("root", "0") for u in users),
        f"Dockerfile: the runtime stage runs as root ({users})",
    )
    copies = [i["value"] for i in runtime if i["instruction"] == "COPY"]
    check(all("--from=builder" in c for c in copies), "Dockerfile: the runtime stage copies from the build context")
    check(any("/usr/local/bin/vouch" in c for c in copies), "Dockerfile: the binary is not copied into the runtime")
    entrypoints = [i["value"] for i in runtime if i["instruction"] == "ENTRYPOINT"]
    check(entrypoints == ['["/usr/local/bin/vouch"]'], f"Dockerfile: ENTRYPOINT is {entrypoints}")
    exposed = " ".join(i["value"] for i in runtime if i["instruction"] == "EXPOSE").split()
    for port in ("8443", "9443", "10443", "50051"):
        check(port in exposed, f"Dockerfile: port {port} is not exposed")
    health = [i["value"] for i in runtime if i["instruction"] == "HEALTHCHECK"]
    check(any("vouch" in h and "healthcheck" in h for h in health), "Dockerfile: no `vouch healthcheck` HEALTHCHECK")

    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("Cargo.toml", "Cargo.lock", "rust-toolchain.toml", "lib", "services"):
        check(needed not in ignored, f".dockerignore: excludes {needed}, which the build needs")
    for unwanted in ("target", ".git"):
        check(unwanted in ignored, f".dockerignore: does not exclude {unwanted}")

    hadolint = shutil.which("hadolint")
    if hadolint:
        result = subprocess.run(
            # DL3008: apt versions are pinned by the base image's release.
            [hadolint, "--ignore", "DL3008", str(ROOT / "Dockerfile")],
            capture_output=True, text=True, check=False,
        )
        check(result.returncode == 0, f"Dockerfile: hadolint:\n{result.stdout}{result.stderr}")
        print(f"hadolint: {'ok' if result.returncode == 0 else 'FAILED'}")
    else:
        print("hadolint not installed: checked with dockerfile-parse only")


def main() -> int:
    check_compose()
    check_dockerfile()
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"packaging: {'FAILED' if failures else 'ok'} ({len(failures)} problems)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
