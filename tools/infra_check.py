"""Offline drift checks between the code and infra/ (run by tests/infra/test_terraform.py).

Every check takes the root of a tree holding ``infra/``, ``functions/`` and ``shared/`` and returns a
list of problems (empty = fine), so a test can run it on a deliberately broken copy. Run them all with
``python -m tools.infra_check [ROOT]``.

What is compared:
- every ``.tf`` file parses (python-hcl2);
- folders in functions/ <-> entries of the catalogue (variable "functions" in infra/functions.tf),
  each main.py defining an HTTP function named like its folder, and the one function resource
  taking its entry point from the catalogue key;
- environment variables, per function: every one the code its handler can reach reads
  (tools/code_paths.py, def by def; shared/platform/env.py constants plus literal os.environ reads)
  is in that function's entry (or local.common_env), unless it is in ``env.LOCAL_ONLY``; every one
  an entry gives is read by that function's code path;
- Scheduler: exactly one dispatcher (kind "dispatch") and one Scheduler job, which calls the
  dispatcher's URL with an OIDC token; every cron entry has a unix-cron schedule and is in the
  dispatcher's plan (CRON_PLAN) with its own URL as URL and audience; the Scheduler's account may
  invoke the dispatcher and every cron function; no cron function is public; only known
  caller-authenticated functions are public;
- secrets a function uses exist in the secret catalogue;
- Firestore: TTL policies <-> collections whose documents carry ``expires_at``; composite indexes
  <-> the query chains in shared/ that need one (the rules: tools/firestore_indexes.py; the queries
  built at run time are recorded by the test suite, tests/helpers/query_shapes.py).
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from tools import code_paths, firestore_indexes

ROOT = Path(__file__).resolve().parent.parent

# Callers of these cannot send an OIDC token, so the function is public and checks a signature or
# token itself (docs/rhythm.md). Any other public function is an error.
# propose_event uses form_webhook's signed-webhook contract.
# console: opened in people's browsers, which cannot send OIDC; it signs people in itself (docs/console.md)
# events: the public pages are for anyone (search engines, Facebook's link previews); RSVP links carry
# an HMAC token and forms a CSRF token (docs/events.md)
PUBLIC_ALLOWED = frozenset({"form_webhook", "zoom_webhook", "actions", "ics_feed", "propose_event", "console", "events"})
TTL_FIELD = "expires_at"
QUERY_METHODS = frozenset({"where", "order_by", "limit", "limit_to_last", "select", "offset"})


# ------------------------------------------------------------------------------------ HCL loading

def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _unquote(key: Any) -> Any:
    if isinstance(key, str) and len(key) >= 2 and key[0] == key[-1] == '"':
        return key[1:-1]
    return key


def parse_tf(path: Path) -> dict[str, Any]:
    return copy.deepcopy(_parse_cached(path.read_text(encoding="utf-8")))


def parse_tf_text(text: str) -> dict[str, Any]:
    return copy.deepcopy(_parse_cached(text))


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> dict[str, Any]:  # parsing is slow; the same text parses the same
    import hcl2
    from hcl2.utils import SerializationOptions

    opts = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
    return _clean(hcl2.loads(text, serialization_options=opts))  # type: ignore[no-any-return]


def parse_errors(root: Path) -> list[str]:
    problems = []
    files = sorted((root / "infra").rglob("*.tf"))
    if not files:
        problems.append("infra/ holds no .tf file")
    for path in files:
        try:
            parse_tf(path)
        except Exception as exc:  # the parser raises lark errors of several kinds
            problems.append(f"{path.relative_to(root)} does not parse: {str(exc).splitlines()[0]}")
    return problems


@dataclass
class Infra:
    """The blocks of every .tf file of one directory, merged."""

    variables: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    resources: dict[str, dict[str, dict[str, Any]]]  # type -> name -> body
    modules: dict[str, dict[str, Any]]

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        return self.resources.get(rtype, {}).get(name, {})


def load_infra(directory: Path) -> Infra:
    inf = Infra({}, {}, {}, {})
    for path in sorted(directory.glob("*.tf")):
        doc = parse_tf(path)
        for block in doc.get("variable", []):
            inf.variables.update(block)
        for block in doc.get("locals", []):
            inf.locals.update(block)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                inf.resources.setdefault(rtype, {}).update(named)
        for block in doc.get("module", []):
            inf.modules.update(block)
    return inf


def _single(block: Any) -> dict[str, Any]:
    """Nested blocks come back as a list of one dict."""
    if isinstance(block, list):
        return block[0] if block and isinstance(block[0], dict) else {}
    return block if isinstance(block, dict) else {}


def _expr(value: Any) -> str:
    """An HCL expression as text without the ${ } wrapper, whitespace squeezed."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return re.sub(r"\s+", "", text)


def catalogue(root: Path) -> dict[str, dict[str, Any]]:
    default = load_infra(root / "infra").variables.get("functions", {}).get("default", {})
    out: dict[str, dict[str, Any]] = {}
    for name, entry in (default or {}).items():
        e = dict(entry)
        e.setdefault("public", False)
        for key in ("env", "secrets", "secret_files"):
            e[key] = list(e.get(key) or [])
        out[name] = e
    return out


# ------------------------------------------------------------------------------------ functions

def function_folders(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "functions").iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _http_entry_points(main: Path) -> set[str]:
    tree = ast.parse(main.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if "functions_framework.http" in ast.unparse(dec):
                    names.add(node.name)
    return names


def check_functions(root: Path) -> list[str]:
    problems = []
    folders, cat = function_folders(root), catalogue(root)
    for name in folders:
        main = root / "functions" / name / "main.py"
        if not main.is_file():
            problems.append(f"functions/{name}/ has no main.py")
            continue
        if name not in cat:
            problems.append(f"functions/{name} has no entry in infra/functions.tf (variable \"functions\"): add "
                            f"{name} = {{ kind = \"http\" or \"cron\", ... }}")
        if name not in _http_entry_points(main):
            problems.append(f"functions/{name}/main.py must define `@functions_framework.http def {name}(request)` "
                            f"(the catalogue key is the entry point)")
    for name in cat:
        if name not in folders:
            problems.append(f"infra/functions.tf has an entry {name!r} but functions/{name}/ does not exist")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            problems.append(f"function name {name!r}: use lowercase letters, digits and underscores")
    ids = [f"fn-{n.replace('_', '-')}"[:30] for n in cat]
    if len(set(ids)) != len(ids):
        problems.append("two functions' service account ids collide after truncation to 30 characters: rename one")

    infra = load_infra(root / "infra")
    if "var.functions" not in _expr(infra.locals.get("functions", "")):
        problems.append("local.functions in infra/main.tf must be built from var.functions")
    for local, kind_test in (("workers", 'f.kind!="dispatch"'), ("dispatcher", 'f.kind=="dispatch"')):
        text = _expr(infra.locals.get(local, ""))
        if "local.functions" not in text or kind_test not in text:
            problems.append(f"local.{local} must select the {kind_test} entries of local.functions")
    for module, over in (("function", "local.workers"), ("dispatch", "local.dispatcher")):
        mod = infra.modules.get(module, {})
        if _expr(mod.get("for_each", "")) != over or _expr(mod.get("entry_point", "")) != "each.key":
            problems.append(f"module \"{module}\" must iterate {over} with entry_point = each.key")
    fns = load_infra(root / "infra" / "modules" / "function").resources.get("google_cloudfunctions2_function", {})
    if len(fns) != 1:
        problems.append(f"infra/modules/function must declare exactly one google_cloudfunctions2_function (found {len(fns)})")
    for body in fns.values():
        if _expr(_single(body.get("build_config")).get("entry_point", "")) != "var.entry_point":
            problems.append("the function resource's build_config.entry_point must be var.entry_point")
    return problems


# ------------------------------------------------------------------------------------ environment

def env_constants(root: Path) -> tuple[dict[str, str], set[str]]:
    """shared/platform/env.py: constant name -> variable name, and the LOCAL_ONLY variable names."""
    tree = ast.parse((root / "shared" / "platform" / "env.py").read_text(encoding="utf-8"))
    consts: dict[str, str] = {}
    local_only: set[str] = set()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) else None)
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(target, ast.Name) or value is None:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            consts[target.id] = value.value
        elif target.id == "LOCAL_ONLY":
            for n in ast.walk(value):
                if isinstance(n, ast.Name) and n.id in consts:
                    local_only.add(consts[n.id])
                elif isinstance(n, ast.Constant) and isinstance(n.value, str):
                    local_only.add(n.value)
    return consts, local_only


def env_reads(path: Path, consts: dict[str, str]) -> set[str]:
    """Variable names a file reads: env.NAME / shared.platform.env.NAME / from shared.platform.env import NAME, and
    os.environ / os.getenv with a string literal."""
    return env_reads_in([ast.parse(path.read_text(encoding="utf-8"))], consts)


def env_reads_in(trees: list[ast.AST], consts: dict[str, str]) -> set[str]:
    """:func:`env_reads` over some nodes (one function's body, say)."""
    found: set[str] = set()
    for node in (n for t in trees for n in ast.walk(t)):
        if isinstance(node, ast.Attribute) and node.attr in consts and ast.unparse(node.value) in ("env", "shared.platform.env"):
            found.add(consts[node.attr])
        elif isinstance(node, ast.ImportFrom) and node.module == "shared.platform.env":
            found.update(consts[a.name] for a in node.names if a.name in consts)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = ast.unparse(node.func)
            if fn in ("os.environ.get", "os.getenv", "environ.get", "getenv") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ") \
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            found.add(node.slice.value)
    return found


def _py_files(root: Path) -> Iterator[Path]:
    for top in ("shared", "functions"):
        for p in sorted((root / top).rglob("*.py")):
            if p != root / "shared" / "platform" / "env.py" and "__pycache__" not in p.parts:
                yield p


def common_env_names(root: Path) -> set[str]:
    return set((load_infra(root / "infra").locals.get("common_env") or {}).keys())


def function_reads(root: Path, consts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per function of the catalogue: every variable the code reachable from its handler reads
    (tools/code_paths.py, def by def), with one place that reads it (``file:function``)."""
    graph = code_paths.CodeGraph(root)
    out: dict[str, dict[str, str]] = {}
    for name in catalogue(root):
        main = root / "functions" / name / "main.py"
        if not main.is_file():
            continue
        reads: dict[str, str] = {}
        for unit in sorted(graph.handler(main, name)):
            mod = graph.module(unit[0])
            where = f"{mod.path.relative_to(root) if mod else unit[0]}:{unit[1] or '<module>'}"
            for var in sorted(env_reads_in(graph.body(unit), consts)):
                reads.setdefault(var, where)
        out[name] = reads
    return out


def check_env(root: Path) -> list[str]:
    """Per function: each variable its code path reads is in its Terraform entry (or common to all,
    or local-only), and it is given nothing its code path does not read; plus the name checks."""
    problems = []
    consts, local_only = env_constants(root)
    known = set(consts.values())
    reads_by_file = {p: env_reads(p, consts) for p in _py_files(root)}
    read_anywhere = set().union(*reads_by_file.values()) if reads_by_file else set()
    common = common_env_names(root)
    cat = catalogue(root)
    by_function = function_reads(root, consts)

    set_by_tf = set(common)
    for e in cat.values():
        set_by_tf.update(e["env"], e["secrets"], e["secret_files"])
    for name, e in cat.items():
        given = set(e["env"]) | set(e["secrets"]) | set(e["secret_files"])
        if name in by_function:
            reads = by_function[name]
            for var in sorted(given - set(reads)):
                problems.append(f"function {name} is given {var} in infra/functions.tf but none of the code it can run reads it "
                                f"(least privilege: remove it from that entry)")
            for var in sorted(set(reads) - given - common - local_only):
                if var in set_by_tf:
                    problems.append(f"function {name} reads {var} ({reads[var]}) but its entry in infra/functions.tf does not "
                                    f"give it (other functions get it): add it to that entry's env/secrets/secret_files")
        dupes = [v for v in given if v in common]
        if dupes:
            problems.append(f"function {name} lists {', '.join(sorted(dupes))}, which every function already gets (local.common_env)")
        both = set(e["env"]) & (set(e["secrets"]) | set(e["secret_files"]))
        if both:
            problems.append(f"function {name} sets {', '.join(sorted(both))} both as a plain value and as a secret")

    deployed_reads = set().union(*(set(r) for r in by_function.values())) if by_function else set()
    for var in sorted(deployed_reads - set_by_tf - local_only):
        readers = sorted(n for n, r in by_function.items() if var in r)
        problems.append(f"the deployed code reads {var} ({', '.join(readers)}) but Terraform sets it for no function: add it "
                        f"to the entry (env/secrets/secret_files) of each function that needs it in infra/functions.tf, or, "
                        f"if it is for local runs and tests only, to env.LOCAL_ONLY in shared/platform/env.py")
    for var in sorted(set_by_tf - known):
        problems.append(f"Terraform sets {var}, which shared/platform/env.py does not name (typo? the code reads only env.py names)")
    for var in sorted((set_by_tf & known) - read_anywhere):
        problems.append(f"Terraform sets {var}, which no code in shared/ or functions/ reads")
    for var in sorted(set_by_tf & local_only):
        problems.append(f"Terraform sets {var}, which shared/platform/env.py marks as LOCAL_ONLY")
    for var in sorted(local_only - known):
        problems.append(f"env.LOCAL_ONLY names {var}, which is not an env.py constant")
    return problems


# ------------------------------------------------------------------------------------ scheduler, access, secrets

CRON_RE = re.compile(r"^\S+(\s+\S+){4}$")


def check_schedules(root: Path) -> list[str]:
    problems = []
    infra = load_infra(root / "infra")
    cat = catalogue(root)
    for name, e in cat.items():
        kind, schedule = e.get("kind"), e.get("schedule")
        if kind not in ("http", "cron", "dispatch"):
            problems.append(f"function {name}: kind must be http, cron or dispatch (got {kind!r})")
        if kind in ("cron", "dispatch") and not (isinstance(schedule, str) and CRON_RE.match(schedule.strip())):
            problems.append(f"{kind} function {name} needs a unix-cron schedule (5 fields), got {schedule!r}")
        if kind == "http" and schedule:
            problems.append(f"http function {name} has a schedule; make it kind = \"cron\" or drop the schedule")
        if kind in ("cron", "dispatch") and e.get("public"):
            problems.append(f"{kind} function {name} must not be public: it is called with an OIDC token")
    dispatchers = [n for n, e in cat.items() if e.get("kind") == "dispatch"]
    if len(dispatchers) != 1:
        problems.append(f"exactly one function must be the dispatcher (kind = \"dispatch\"), found {len(dispatchers)}")

    crons = _expr(infra.locals.get("cron_functions", ""))
    if "local.functions" not in crons or 'f.kind=="cron"' not in crons:
        problems.append("local.cron_functions must select the kind == \"cron\" entries of local.functions")
    plan = infra.locals.get("cron_plan") or {}
    jobs = _expr(plan.get("jobs", "")) if isinstance(plan, dict) else ""
    if ("forname,finlocal.cron_functions" not in jobs or "schedule=f.schedule" not in jobs
            or "url=module.function[name].url" not in jobs or "audience=module.function[name].url" not in jobs):
        problems.append("local.cron_plan.jobs must map every local.cron_functions entry to {schedule = f.schedule, "
                        "url = module.function[name].url, audience = module.function[name].url, timeout}")
    disp = infra.modules.get("dispatch", {})
    if "CRON_PLAN=jsonencode(local.cron_plan)" not in _expr(disp.get("env", "")):
        problems.append("module \"dispatch\" must get CRON_PLAN = jsonencode(local.cron_plan) in its env")
    if _expr(disp.get("service_account_email", "")) != "google_service_account.scheduler.email":
        problems.append("module \"dispatch\" must run as google_service_account.scheduler (the cron functions' caller)")
    if disp.get("public") not in (False, "false"):
        problems.append("module \"dispatch\" must not be public")

    scheduler_jobs = infra.resources.get("google_cloud_scheduler_job", {})
    if len(scheduler_jobs) != 1:
        problems.append(f"exactly one google_cloud_scheduler_job (the tick) must exist, found {len(scheduler_jobs)}: each "
                        "job beyond 3 costs $0.10 a month; cron functions are called by cron_dispatch")
    for rname, body in scheduler_jobs.items():
        if _expr(body.get("for_each", "")) != "local.dispatcher":
            problems.append(f"google_cloud_scheduler_job.{rname} must iterate local.dispatcher")
        target = _single(body.get("http_target"))
        uri = _expr(target.get("uri", ""))
        if uri != "module.dispatch[each.key].url":
            problems.append(f"google_cloud_scheduler_job.{rname} must call module.dispatch[each.key].url (got {uri or 'nothing'})")
        oidc = _single(target.get("oidc_token"))
        if not oidc.get("service_account_email") or _expr(oidc.get("audience", "")) != uri:
            problems.append(f"google_cloud_scheduler_job.{rname} needs oidc_token {{ service_account_email, audience = the dispatcher's URL }}")
        if not _expr(body.get("time_zone", "")):
            problems.append(f"google_cloud_scheduler_job.{rname} needs time_zone (the community's)")
    for rname, over in (("scheduler_invoker", "local.cron_functions"), ("scheduler_invokes_dispatch", "local.dispatcher")):
        invoker = infra.resource("google_cloud_run_service_iam_member", rname)
        if _expr(invoker.get("for_each", "")) != over or invoker.get("role") != "roles/run.invoker":
            problems.append(f"the scheduler service account needs roles/run.invoker on every entry of {over} ({rname})")
    return problems


def check_access(root: Path) -> list[str]:
    problems = []
    cat = catalogue(root)
    for name, e in cat.items():
        if e.get("public") and name not in PUBLIC_ALLOWED:
            problems.append(f"function {name} is public; only {', '.join(sorted(PUBLIC_ALLOWED))} may be "
                            f"(callers without OIDC). Extend PUBLIC_ALLOWED in tools/infra_check.py only with a reason")
        if e.get("public") and e.get("kind") != "http":
            problems.append(f"function {name}: only http functions can be public")
    mod = load_infra(root / "infra" / "modules" / "function")
    for rtype, named in mod.resources.items():
        for rname, body in named.items():
            if body.get("member") == "allUsers" and _expr(body.get("count", "")) != "var.public?1:0":
                problems.append(f"{rtype}.{rname} grants allUsers without the var.public switch")
    declared = load_infra(root / "infra").locals.get("secret_catalogue")
    secrets = set(declared.keys()) if isinstance(declared, dict) else set()
    for name, e in cat.items():
        for s in e["secrets"] + e["secret_files"]:
            if s not in secrets:
                problems.append(f"function {name} uses secret {s}, which local.secret_catalogue in infra/functions.tf does not declare")
    return problems


# ------------------------------------------------------------------------------------ Firestore

@dataclass(frozen=True)
class Query:
    """A query chain written out in shared/ (file:line) and its shape (tools/firestore_indexes.py)."""

    where: str  # file:line
    shape: firestore_indexes.Shape

    @property
    def collection(self) -> str:
        return self.shape.collection

    @property
    def needs_composite(self) -> bool:
        return firestore_indexes.required_index(self.shape) is not None


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _collections_in(scope: ast.AST) -> dict[str, str]:
    """self.<attr> = <...>.collection("name") (or a str parameter default) -> {attr: name}, plus literals."""
    defaults: dict[str, str] = {}
    for fn in ast.walk(scope):
        if isinstance(fn, ast.FunctionDef):
            args = fn.args.args[len(fn.args.args) - len(fn.args.defaults):]
            for a, d in zip(args, fn.args.defaults, strict=True):
                if _str(d) is not None:
                    defaults[a.arg] = _str(d) or ""
            for a, kd in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
                if kd is not None and _str(kd) is not None:
                    defaults[a.arg] = _str(kd) or ""
    attrs: dict[str, str] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            name = _collection_call(node.value, defaults)
            t = node.targets[0]
            if name and isinstance(t, ast.Attribute):
                attrs[t.attr] = name
    return attrs


def _collection_call(call: ast.AST, defaults: dict[str, str]) -> str | None:
    """The collection (group) id of ``x.collection("a")`` or ``x.collection("a", doc, "b")`` (-> "b":
    a subcollection's TTL policy is set on its group id); names resolve through ``defaults``."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("collection", "collection_group") \
            and call.args and len(call.args) % 2 == 1:
        arg = call.args[-1]
        if _str(arg) is not None:
            return _str(arg)
        if isinstance(arg, ast.Name) and arg.id in defaults:
            return defaults[arg.id]
    return None


DOC_STORE_METHODS = frozenset({"create", "get", "update", "set", "delete", "query", "where", "count"})


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` (also ``A, B = "a", "b"``): collection names held in constants."""
    out: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            pairs = zip(target.elts, value.elts, strict=False) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) \
                else [(target, value)]
            for t, v in pairs:
                if isinstance(t, ast.Name) and t.id.isupper() and _str(v) is not None:
                    out[t.id] = _str(v) or ""
    return out


def _doc_store_collection(call: ast.AST, constants: dict[str, str]) -> str | None:
    """``<store>.create(RSVPS, ...)`` and the like (shared.ports.DocStore takes the collection first)."""
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in DOC_STORE_METHODS \
            and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in constants:
        return constants[call.args[0].id]
    return None


def _scopes(tree: ast.Module) -> Iterator[ast.AST]:
    yield from (n for n in tree.body if isinstance(n, ast.ClassDef))
    yield ast.Module(body=[n for n in tree.body if not isinstance(n, ast.ClassDef)], type_ignores=[])


def _shared_files(root: Path) -> Iterator[Path]:
    yield from (p for p in sorted((root / "shared").rglob("*.py")) if "__pycache__" not in p.parts)


def collections_used(root: Path) -> set[str]:
    names: set[str] = set()
    for path in _shared_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for scope in _scopes(tree):
            names.update(_collections_in(scope).values())
            for node in ast.walk(scope):
                n = _collection_call(node, constants) or _doc_store_collection(node, constants)
                if n:
                    names.add(n)
    return names


def ttl_needed(root: Path) -> set[str]:
    """Collections of every class (or module) under shared/adapters/ that writes an `expires_at` key."""
    needed: set[str] = set()
    for path in sorted((root / "shared" / "adapters").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in _scopes(tree):
            writes = any(isinstance(n, ast.Dict) and any(_str(k) == TTL_FIELD for k in n.keys) for n in ast.walk(scope))
            if writes:
                needed.update(_collections_in(scope).values())
                needed.update(n for n in (_collection_call(c, {}) for c in ast.walk(scope)) if n)
    return needed


def check_ttl(root: Path) -> list[str]:
    problems = []
    infra = load_infra(root / "infra")
    ttl = set(infra.locals.get("ttl_collections") or [])
    exempt = set((infra.locals.get("firestore_no_ttl") or {}).keys())
    field = infra.resource("google_firestore_field", "ttl")
    if field.get("field") != TTL_FIELD or "ttl_config" not in field or "local.ttl_collections" not in _expr(field.get("for_each", "")):
        problems.append(f"google_firestore_field.ttl must put ttl_config on {TTL_FIELD!r} of every local.ttl_collections entry")
    used = collections_used(root)
    for c in sorted(ttl_needed(root) - ttl - exempt):
        problems.append(f"collection {c!r} gets documents with {TTL_FIELD!r} but has no TTL policy: add it to "
                        f"local.ttl_collections in infra/functions.tf (or to firestore_no_ttl with the reason)")
    for c in sorted((ttl | exempt) - used):
        problems.append(f"infra/functions.tf names collection {c!r} for TTL, but no code in shared/ uses that collection")
    return problems


def _query_of(call: ast.Call) -> tuple[ast.AST, list[tuple[str, str, str]]] | None:
    """Unwind x.where(...).order_by(...) chains: (base expression, [(kind, field, op/direction)])."""
    steps: list[tuple[str, str, str]] = []
    node: ast.AST = call
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_METHODS:
        attr = node.func.attr
        if attr == "where":
            flt = next((k.value for k in node.keywords if k.arg == "filter"), None)
            args = flt.args if isinstance(flt, ast.Call) else node.args
            if len(args) >= 2 and _str(args[0]) is not None and _str(args[1]) is not None:
                steps.append(("where", _str(args[0]) or "", _str(args[1]) or ""))
            else:
                return None
        elif attr == "order_by":
            fld = _str(node.args[0]) if node.args else None
            if fld is None:
                return None
            direction = next((ast.unparse(k.value) for k in node.keywords if k.arg == "direction"), "")
            steps.append(("order", fld, "DESCENDING" if "DESC" in direction.upper() else "ASCENDING"))
        node = node.func.value
    steps.reverse()
    return (node, steps) if steps else None


def queries(root: Path) -> list[Query]:
    found: list[Query] = []
    for path in _shared_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in _scopes(tree):
            attrs = _collections_in(scope)
            inner: set[int] = set()
            calls = [n for n in ast.walk(scope) if isinstance(n, ast.Call)]
            for c in calls:  # the receiver of a chained call is not a query of its own
                if isinstance(c.func, ast.Attribute) and isinstance(c.func.value, ast.Call):
                    inner.add(id(c.func.value))
            for c in calls:
                if id(c) in inner:
                    continue
                q = _query_of(c)
                if q is None:
                    continue
                base, steps = q
                coll = _collection_call(base, {}) or (attrs.get(base.attr) if isinstance(base, ast.Attribute) else None)
                if coll is None:
                    continue
                filters = [(f, op) for k, f, op in steps if k == "where"]
                orders = [(f, op) for k, f, op in steps if k == "order"]
                found.append(Query(f"{path.relative_to(root)}:{c.lineno}", firestore_indexes.shape(coll, filters, orders)))
    return found


def check_indexes(root: Path) -> list[str]:
    """The query chains written out in shared/ against local.firestore_indexes, by the same rules as
    the queries the test suite records (tools/firestore_indexes.py, tests/helpers/query_shapes.py).
    A declared index that no query needs is found by a run of the whole suite, which sees every
    query (most are built at run time, through the DocStore port)."""
    found = queries(root)
    return firestore_indexes.missing([q.shape for q in found], firestore_indexes.declared_indexes(root),
                                     {q.shape: q.where for q in reversed(found)})


# ------------------------------------------------------------------------------------ Terraform itself

@dataclass
class CliResult:
    """What a Terraform command found: ``problems`` (empty = fine), the ``tool`` that ran, or why it
    was ``skipped`` (then ``problems`` is empty and the reason is printed)."""

    tool: str = ""
    problems: list[str] = dc_field(default_factory=list)
    skipped: str = ""


def _terraform_binary(terraform: str | Literal["auto"] | None) -> str | None:
    return shutil.which("terraform") if terraform == "auto" else terraform


def terraform_fmt(root: Path = ROOT, terraform: str | Literal["auto"] | None = "auto") -> CliResult:
    """``terraform fmt -check -recursive infra``. Without a terraform binary, HCL's own formatter
    (hclwrite.Format, what `terraform fmt` applies; npm @cdktf/hcl-tools, tools/hcl_fmt.js) checks the
    same files: fmt is never skipped."""
    infra = root / "infra"
    exe = _terraform_binary(terraform)
    if exe:
        proc = subprocess.run([exe, "fmt", "-check", "-recursive", "-list=true", "-no-color"], cwd=infra,
                              capture_output=True, text=True, timeout=120, env=_tf_env())
        changed = [line.strip() for line in proc.stdout.splitlines() if line.strip().endswith(".tf")]
        if proc.returncode not in (0, 3) or (proc.returncode == 3 and not changed):
            return CliResult("terraform", [f"terraform fmt failed: {(proc.stderr or proc.stdout).strip()[:400]}"])
        return CliResult("terraform", [f"infra/{c} is not formatted: run `terraform fmt -recursive infra`" for c in changed])
    files = sorted(p for p in infra.rglob("*.tf") if ".terraform" not in p.parts)
    proc = subprocess.run(["node", str(ROOT / "tools" / "hcl_fmt.js"), *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return CliResult("hclwrite", [f"the HCL formatter failed (run `make install` for node_modules): {proc.stderr.strip()[:400]}"])
    changed = [Path(c).relative_to(infra).as_posix() for c in json.loads(proc.stdout)]
    return CliResult("hclwrite", [f"infra/{c} is not formatted: run `terraform fmt -recursive infra`" for c in changed])


def _tf_env() -> dict[str, str]:
    return {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}


def terraform_validate(root: Path = ROOT, terraform: str | Literal["auto"] | None = "auto") -> CliResult:
    """``terraform init -backend=false`` then ``terraform validate``, in a copy of infra/ (nothing is
    written to the tree). Skipped, with the reason, when there is no terraform binary or when init
    cannot install the google provider (an offline machine: the registry is out of reach)."""
    exe = _terraform_binary(terraform)
    if not exe:
        return CliResult(skipped="skipped: no terraform binary on PATH (fmt was checked by hclwrite)")
    with tempfile.TemporaryDirectory(prefix="infra-validate-") as tmp:
        work = Path(tmp) / "infra"
        shutil.copytree(root / "infra", work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfvars"))
        env = {**_tf_env(), "TF_DATA_DIR": str(Path(tmp) / "data")}
        init = subprocess.run([exe, "init", "-backend=false", "-input=false", "-no-color"], cwd=work,
                              capture_output=True, text=True, timeout=300, env=env)
        if init.returncode != 0:
            text = " ".join((init.stderr + init.stdout).split())
            if re.search(r"registry\.terraform\.io|Failed to query available provider packages|could not connect|"
                         r"Failed to install provider", text):
                return CliResult("terraform", skipped="skipped: `terraform init` could not download "
                                 "the hashicorp/google provider (no access to the Terraform registry from this machine); "
                                 "it runs wherever the registry or a provider mirror is reachable")
            return CliResult("terraform", [f"terraform init failed: {text[:400]}"])
        proc = subprocess.run([exe, "validate", "-json", "-no-color"], cwd=work, capture_output=True, text=True,
                              timeout=300, env=env)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            return CliResult("terraform", [f"terraform validate failed: {(proc.stderr or proc.stdout).strip()[:400]}"])
        problems = []
        for d in report.get("diagnostics") or []:
            if d.get("severity") == "error":
                where = (d.get("range") or {}).get("filename", "")
                problems.append(f"terraform validate: {where}: {d.get('summary', '')}: {d.get('detail', '')}".strip())
        return CliResult("terraform", problems)


# ------------------------------------------------------------------------------------ all

CHECKS = (check_functions, check_env, check_schedules, check_access, check_ttl, check_indexes)


def run_all(root: Path = ROOT) -> list[str]:
    problems = parse_errors(root)
    if problems:
        return problems
    for check in CHECKS:
        problems.extend(f"[{check.__name__}] {p}" for p in check(root))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    root = Path(args[0]) if args else ROOT
    problems = run_all(root)
    for p in problems:
        print(p)
    print(f"infra check: {len(problems)} problem(s)" if problems else "infra check: code and infra/ agree")
    fmt = terraform_fmt(root)
    for p in fmt.problems:
        print(p)
    print(f"terraform fmt -check -recursive: {'ok' if not fmt.problems else f'{len(fmt.problems)} file(s) to format'} "
          f"({'terraform' if fmt.tool == 'terraform' else 'hclwrite, no terraform binary on PATH'})")
    validate = terraform_validate(root)
    for p in validate.problems:
        print(p)
    print(f"terraform validate: {validate.skipped or ('ok' if not validate.problems else f'{len(validate.problems)} error(s)')}")
    return 1 if problems or fmt.problems or validate.problems else 0


if __name__ == "__main__":
    sys.exit(main())
