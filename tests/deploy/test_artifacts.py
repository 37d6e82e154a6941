"""The deployment artifacts in deploy/: valid for their tools, and in step with the code.

No Docker engine, cluster or systemd instance runs where the tests run, so the checks stand in
for a build and a rollout: the Compose specification, the Kubernetes API schemas and hadolint
(each the tool installed in the venv by the `dev` extra, all offline), plus checks that would
catch drift between the artifacts and the bot (environment variables, HTTP paths, ports,
commands, the config files and the knowledge base they point at).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bot.cli import _parser
from bot.config import CONFIG_ENV, load_settings
from bot.core import open_knowledge
from bot.server import Routes

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"
UNIT = DEPLOY / "systemd" / "compliance-bot.service"

# The oldest Kubernetes the manifests must run on; kubernetes-validate bundles its schemas.
K8S_VERSION = "1.30"

# Read by compose.yaml only (interpolation), never by the bot.
COMPOSE_ONLY = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "BOT_HTTP_PORT",
                "COMPLIANCE_BOT_IMAGE"}
# Served from the lead's health and metrics work (issue 8); checked as soon as they are.
PENDING_PATHS = {"/readyz", "/metrics"}
MIGRATE = ["compliance-bot", "db", "upgrade"]


# --- helpers --------------------------------------------------------------------------------


def tool(name: str) -> str:
    """The tool installed next to this interpreter (the venv), else on PATH."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          check=False)


def k8s_files() -> list[Path]:
    return sorted(K8S.glob("*.yaml"))


def k8s_objects() -> dict[str, dict[str, Any]]:
    """Every object in deploy/k8s by kind (one of each kind)."""
    objects: dict[str, dict[str, Any]] = {}
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                assert doc["kind"] not in objects, f"{path.name}: a second {doc['kind']}"
                objects[doc["kind"]] = doc
    return objects


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def env_example() -> dict[str, bool]:
    """Variable name -> set (True) or shown commented out as an optional one (False)."""
    names: dict[str, bool] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"(#\s*)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            assert match[2] not in names, f".env.example: {match[2]} twice"
            names[match[2]] = match[1] is None
    return names


def env_example_values() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def code_env_names() -> set[str]:
    """The environment variables the bot reads.

    Anywhere in bot/: env.get("X"), env["X"], os.environ..., *_ENV = "X"; in bot/config.py,
    which reads the environment, also every string literal that is a whole NAME_LIKE_THIS
    (names read in a loop over a tuple).
    """
    read = re.compile(r"""\b(?:env|os\.environ)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""")
    constant = re.compile(r"""^[A-Z_]*ENV\s*=\s*["']([A-Z][A-Z0-9_]*)["']""", re.MULTILINE)
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(read.findall(text), constant.findall(text))
    config = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    names.update(re.findall(r"""["']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)["']""", config))
    return names


def pending_teams(names: set[str]) -> set[str]:
    """Teams variables documented ahead of the Teams adapter: excused until it reads any."""
    if any(name.startswith("TEAMS_") for name in code_env_names()):
        return set()
    return {name for name in names if name.startswith("TEAMS_")}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            result.append((instruction.upper(), arguments.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    start = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[start:]


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"not the exec form: {arguments}"
    return value


def served_paths() -> tuple[set[str], set[str]]:
    """Paths every Routes serves, and paths the bot adds with routes.add("...") somewhere."""
    always = set(Routes().handlers)
    added = set()
    for path in (ROOT / "bot").rglob("*.py"):
        added.update(re.findall(r"""\.add\(\s*["'](/[\w/-]*)["']""", path.read_text("utf-8")))
    return always, added | always


def url_paths(command: str) -> set[str]:
    """The URL paths a health-check command asks for."""
    return set(re.findall(r"""(?<=[\d'"])(/[a-z][\w/-]*)""", command))


def containers(kind: str) -> list[dict[str, Any]]:
    return k8s_objects()[kind]["spec"]["template"]["spec"]["containers"]


def pod_labels(kind: str) -> dict[str, str]:
    return k8s_objects()[kind]["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- the tools ------------------------------------------------------------------------------


def test_compose_validates_against_the_compose_specification():
    result = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                      str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_kubernetes_manifest_validates():
    files = k8s_files()
    assert {obj for obj in k8s_objects()} >= {
        "Deployment", "Service", "Job", "ConfigMap", "Secret", "NetworkPolicy",
        "PodDisruptionBudget"}
    assert sorted(K8S.iterdir()) == files, "deploy/k8s holds manifests (*.yaml) only"
    result = run_tool(tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION,
                      *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    for path in files:
        assert f"{path} passed" in result.stdout or f"{path.name} passed" in result.stdout


def test_dockerfile_passes_hadolint():
    result = run_tool(tool("hadolint"), str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


BROKEN = {
    "compose": ("compose.yaml", "services:\n  bot:\n    image: 1\n    depends_on:\n"
                "      db: {condition: whenever}\n"),
    "k8s": ("pdb.yaml", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n"
            "  name: x\nspec:\n  minAvailable: 1\n  maxUnavailabel: 1\n"),
    "hadolint": ("Dockerfile", "FROM python\nRUN pip install requests\n"),
}


@pytest.mark.parametrize("which", sorted(BROKEN))
def test_the_tools_reject_a_broken_file(which, tmp_path):
    """The checks above would fail on a mistake: the tools run and are strict, offline."""
    name, text = BROKEN[which]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    command = {
        "compose": [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec"],
        "k8s": [tool("kubernetes-validate"), "--strict", "-k", K8S_VERSION],
        "hadolint": [tool("hadolint")],
    }[which]
    result = run_tool(*command, str(path))
    assert result.returncode != 0, result.stdout + result.stderr


# --- environment variables ------------------------------------------------------------------


def test_env_example_documents_exactly_what_the_code_reads():
    documented = env_example()
    code = code_env_names()
    assert {"COMPLIANCE_BOT_SECRET_KEY", "DATABASE_URL", "SLACK_BOT_TOKEN", CONFIG_ENV,
            "PORT"} <= code, "the regex no longer finds the bot's variables"
    unknown = set(documented) - COMPOSE_ONLY - code - pending_teams(set(documented))
    assert not unknown, f"deploy/.env.example names variables the bot never reads: {unknown}"
    undocumented = code - set(documented)
    assert not undocumented, f"the bot reads variables deploy/.env.example lacks: {undocumented}"
    text = COMPOSE.read_text(encoding="utf-8")
    for name in COMPOSE_ONLY:
        assert "${" + name in text, f"{name} is documented as compose-only but compose.yaml " \
                                    "does not use it"


def test_env_example_has_every_variable_documented():
    """Each variable, or each group of adjacent ones, sits under a comment that explains it."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    variable = re.compile(r"(#\s*)?[A-Z][A-Z0-9_]*=")
    for number, line in enumerate(lines):
        if variable.match(line):
            above = number - 1
            while above >= 0 and variable.match(lines[above]):
                above -= 1
            comment = lines[above] if above >= 0 else ""
            assert comment.startswith("# ") and not comment.startswith("# ---"), \
                f".env.example:{number + 1}: no comment above {line}"


def test_env_example_and_compose_start_the_bot_in_http_mode(tmp_path):
    """What compose gives the bot is a complete, valid HTTP-mode environment."""
    values = env_example_values()
    bot = compose()["services"]["bot"]
    assert bot["env_file"] == ".env"
    database_url = bot["environment"]["DATABASE_URL"]

    def interpolate(match: re.Match[str]) -> str:
        return values.get(match[1], match[2] or "")

    # One level of ${NAME:-default} / ${NAME:?error} (the values are placeholders).
    inner = re.sub(r"\$\{(\w+)(?::[-?]([^{}]*))?\}", interpolate, database_url)
    assert inner.startswith("${DATABASE_URL:-")
    url = inner.removeprefix("${DATABASE_URL:-").removesuffix("}")
    assert url == (f"postgresql://{values['POSTGRES_USER']}:{values['POSTGRES_PASSWORD']}"
                   f"@postgres:5432/{values['POSTGRES_DB']}")
    env = {name: value for name, value in values.items() if name not in COMPOSE_ONLY}
    env["DATABASE_URL"] = url
    settings = load_settings(env)
    assert settings.secret_key and settings.database_url == url
    assert settings.slack is not None
    assert settings.slack.signing_secret and settings.slack.app_token is None


# --- the image ------------------------------------------------------------------------------


def test_dockerfile_runs_the_bot_as_a_non_root_user():
    stage = final_stage()
    users = [arguments for name, arguments in stage if name == "USER"]
    assert users, "the image must switch to an unprivileged user"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert user.isdigit(), "a numeric uid, so runAsNonRoot can check it"
    k8s_uids = {obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
                for obj in (k8s_objects()["Deployment"], k8s_objects()["Job"])}
    assert k8s_uids == {int(user)}
    entrypoint = exec_form(next(a for n, a in stage if n == "ENTRYPOINT"))
    command = exec_form(next(a for n, a in stage if n == "CMD"))
    assert entrypoint + command == ["compliance-bot", "run"]


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for name, arguments in final_stage():
        if name == "ENV":
            for item in shlex.split(arguments):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _image_layout() -> dict[str, str]:
    """Destination in the image (absolute) -> source in the repository, final stage."""
    workdir = PurePosixPath("/")
    layout = {}
    for name, arguments in final_stage():
        if name == "WORKDIR":
            workdir = workdir / arguments
        elif name == "COPY" and not arguments.startswith("--from"):
            *sources, destination = arguments.split()
            for source in sources:
                target = workdir / destination
                if destination.endswith("/"):
                    target = target / PurePosixPath(source).name
                layout[str(target)] = source
    return layout


def test_image_config_and_knowledge_base_work_as_laid_out(tmp_path):
    """Rebuild the image's /app in tmp_path from the COPY lines and start from its config."""
    layout = _image_layout()
    env = _dockerfile_env()
    config_in_image = PurePosixPath(env[CONFIG_ENV])
    assert str(config_in_image) in layout, f"{CONFIG_ENV} names a file the image lacks"
    root = tmp_path / "image"
    for destination, source in layout.items():
        target = root / destination.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target)
        else:
            shutil.copy(ROOT / source, target)
    settings = load_settings({CONFIG_ENV: str(root / str(config_in_image).lstrip("/"))})
    knowledge = settings.file.knowledge.path
    assert knowledge.is_relative_to(root), "knowledge.path must lie inside the image"
    assert str(PurePosixPath("/") / knowledge.relative_to(root).as_posix()) in layout
    base, _ = open_knowledge(settings).current()
    assert len(base.entries) > 0 and not base.errors
    data_dir = settings.data_dir
    if data_dir.is_relative_to(root):
        data_dir = Path("/") / data_dir.relative_to(root)
    volumes = [exec_form(a) for n, a in final_stage() if n == "VOLUME"]
    assert [data_dir.as_posix()] in volumes, "data_dir must be the image's writable volume"
    assert env["PORT"] == str(load_settings({}).port)


def _dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents wins."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            excluded = not negated
    return excluded


def _repo_files(source: Path) -> Iterator[Path]:
    if source.is_file():
        yield source
        return
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def test_dockerignore_sends_what_the_dockerfile_copies_and_nothing_private():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    sources = []
    for name, arguments in dockerfile_instructions():
        if name == "COPY" and not arguments.startswith("--from"):
            sources += arguments.split()[:-1]
    assert {"pyproject.toml", "bot", "knowledge"} <= set(sources)
    for source in sources:
        files = list(_repo_files(ROOT / source))
        assert files, f"COPY {source}: not in the repository"
        for path in files:
            relative = path.relative_to(ROOT).as_posix()
            assert not _dockerignore_excludes(relative, patterns), f".dockerignore drops {relative}"
    for private in ("var/secret.key", "var/compliance-bot.sqlite3", ".venv/bin/python",
                    ".git/config", "tests/conftest.py", "deploy/.env",
                    "bot/__pycache__/cli.cpython-311.pyc"):
        assert _dockerignore_excludes(private, patterns), f".dockerignore lets {private} in"


# --- HTTP paths and ports -------------------------------------------------------------------


def _probe_paths() -> dict[str, set[str]]:
    healthcheck = next(a for n, a in final_stage() if n == "HEALTHCHECK")
    compose_check = " ".join(compose()["services"]["bot"]["healthcheck"]["test"])
    probes: set[str] = set()
    for container in containers("Deployment"):
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in container:
                probes.add(container[probe]["httpGet"]["path"])
    annotations = k8s_objects()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    return {"Dockerfile HEALTHCHECK": url_paths(healthcheck),
            "compose bot healthcheck": url_paths(compose_check),
            "k8s probes": probes,
            "k8s prometheus.io/path": {annotations["prometheus.io/path"]}}


def test_health_checks_and_probes_ask_for_paths_the_server_serves():
    always, served = served_paths()
    assert "/healthz" in always
    paths = _probe_paths()
    assert paths["Dockerfile HEALTHCHECK"] == {"/healthz"}
    assert paths["compose bot healthcheck"] == {"/healthz"}
    probes = k8s_objects()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    pending = []
    for where, wanted in paths.items():
        for path in wanted:
            if path in served:
                continue
            assert path in PENDING_PATHS, f"{where}: {path} is not served by bot/server.py"
            pending.append(f"{where}: {path}")
    if pending:
        pytest.skip(f"not served yet (issue 8, health and metrics): {', '.join(pending)}")


def test_ports_agree():
    port = load_settings({}).port
    exposed = [a for n, a in final_stage() if n == "EXPOSE"]
    assert exposed == [str(port)]
    bot = compose()["services"]["bot"]
    assert [p.rsplit(":", 1)[1] for p in bot["ports"]] == [str(port)]
    container = containers("Deployment")[0]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert {"name": "PORT", "value": str(port)} in container["env"]
    objects = k8s_objects()
    annotations = objects["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    ingress_ports = [p["port"] for rule in objects["NetworkPolicy"]["spec"]["ingress"]
                     for p in rule["ports"]]
    assert ingress_ports == [port]


# --- compose --------------------------------------------------------------------------------


def test_compose_migrates_before_the_bot_starts():
    services = compose()["services"]
    assert services["migrate"]["command"] == MIGRATE[1:]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    bot_deps = services["bot"]["depends_on"]
    assert bot_deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["bot"]["command"] == ["run"]
    postgres = services["postgres"]
    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres" and tag and tag != "latest" and "." in tag, "pin PostgreSQL"
    assert "healthcheck" in postgres
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"], "PostgreSQL's data must be a named volume"
    assert _parser().parse_args(MIGRATE[1:]).db_command == "upgrade"


# --- Kubernetes -----------------------------------------------------------------------------


def test_migration_job_runs_db_upgrade():
    (container,) = containers("Job")
    assert container.get("command", []) + container.get("args", []) == MIGRATE
    assert k8s_objects()["Job"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert containers("Deployment")[0]["image"] == container["image"]


def test_deployment_is_hardened_and_replicated():
    deployment = k8s_objects()["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        assert container["args"] == ["run"]
    labels = pod_labels("Deployment")
    objects = k8s_objects()
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
    assert selects(objects["Service"]["spec"]["selector"], labels)
    assert selects(objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"], labels)
    assert not selects(objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
                       pod_labels("Job"))
    assert objects["PodDisruptionBudget"]["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    assert "lease" in (K8S / "deployment.yaml").read_text("utf-8"), \
        "say why every replica may run the reminder scheduler"


def test_network_policy_covers_the_pods_and_only_the_needed_ports():
    policy = k8s_objects()["NetworkPolicy"]["spec"]
    for kind in ("Deployment", "Job"):
        assert selects(policy["podSelector"]["matchLabels"], pod_labels(kind))
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    egress = {(p.get("protocol", "TCP"), p["port"]) for rule in policy["egress"]
              for p in rule["ports"]}
    assert egress == {("TCP", 5432), ("UDP", 53), ("TCP", 53), ("TCP", 443)}


def test_k8s_config_secret_and_mounts_start_the_bot_in_http_mode(tmp_path):
    objects = k8s_objects()
    container = containers("Deployment")[0]
    env = {item["name"]: item["value"] for item in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in objects["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    config_map = objects["ConfigMap"]
    assert volumes["config"]["configMap"]["name"] == config_map["metadata"]["name"]
    config_in_pod = PurePosixPath(env[CONFIG_ENV])
    assert str(config_in_pod.parent) == mounts["config"]
    config = tmp_path / config_in_pod.name
    config.write_text(config_map["data"][config_in_pod.name], encoding="utf-8")

    secret = objects["Secret"]
    names = [ref["secretRef"]["name"] for ref in container["envFrom"]]
    assert names == [secret["metadata"]["name"]]
    job_refs = [ref["secretRef"]["name"] for ref in containers("Job")[0]["envFrom"]]
    assert job_refs == names
    values = secret["stringData"]
    unknown = set(values) - code_env_names() - pending_teams(set(values))
    assert not unknown, f"the Secret holds variables the bot never reads: {unknown}"
    assert "SLACK_APP_TOKEN" not in values, "HTTP mode: no Socket Mode token"

    settings = load_settings({**values, CONFIG_ENV: str(config), "PORT": env["PORT"]})
    assert settings.secret_key and settings.database_url.startswith("postgresql://")
    assert settings.slack is not None and settings.slack.signing_secret
    assert settings.slack.app_token is None
    assert str(settings.file.knowledge.path) == mounts["knowledge"]
    assert str(settings.data_dir) == mounts["data"]
    generated = volumes["knowledge"]["configMap"]["name"]
    command = f"kubectl create configmap {generated} --from-file=knowledge/"
    assert command in (K8S / "configmap.yaml").read_text("utf-8")


def test_knowledge_base_fits_in_a_configmap():
    """What `kubectl create configmap --from-file=knowledge/` makes must stay a valid one."""
    files = [path for path in (ROOT / "knowledge").iterdir() if path.is_file()]
    for path in files:
        assert re.fullmatch(r"[-._a-zA-Z0-9]+", path.name), f"not a ConfigMap key: {path.name}"
        path.read_text(encoding="utf-8")  # data, not binaryData
    total = sum(path.stat().st_size for path in files)
    assert total < 900 * 1024, f"knowledge/ is {total} bytes; a ConfigMap holds at most 1 MiB"


# --- systemd --------------------------------------------------------------------------------


def _unit() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_systemd_unit_is_hardened_and_migrates_first():
    unit = _unit()
    assert unit["User"][0] not in {"root", "0"}
    assert unit["EnvironmentFile"]

    def command(line: str) -> list[str]:
        program, *arguments = shlex.split(line)
        return [PurePosixPath(program).name, *arguments]

    assert [command(line) for line in unit["ExecStartPre"]] == [MIGRATE]
    assert [command(line) for line in unit["ExecStart"]] == [["compliance-bot", "run"]]
    for key, value in {"Restart": "on-failure", "NoNewPrivileges": "yes",
                       "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes"}.items():
        assert unit[key] == [value], key
    assert unit["ReadWritePaths"] == [f"/var/lib/{unit['StateDirectory'][0]}"]


def test_systemd_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    executable = Path(sys.executable).parent / "compliance-bot"
    text = UNIT.read_text(encoding="utf-8")
    installed = re.search(r"ExecStart=(\S+)", text)
    assert installed
    # verify insists the executable exists: point it at the venv's for the check.
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(installed[1], str(executable)), encoding="utf-8")
    result = run_tool(analyze, "verify", str(copy))
    assert result.returncode == 0, result.stdout + result.stderr


# --- hygiene --------------------------------------------------------------------------------


def test_no_machine_specific_paths_or_real_secrets():
    files = [DOCKERFILE, DEPLOY / "docker" / "config.yaml", COMPOSE, ENV_EXAMPLE, UNIT,
             ROOT / ".dockerignore", *k8s_files()]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"/(?:home|Users|work|root)/", r"xox[bpa]-\d", r"xapp-\d"):
            assert not re.search(pattern, text), f"{path.name}: matches {pattern}"
