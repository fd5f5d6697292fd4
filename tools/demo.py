"""`make demo`: the main job on embedded defaults — no cloud account needed.

Starts the Firestore emulator (or uses FIRESTORE_EMULATOR_HOST), runs generate_slots as a real
functions-framework process, triggers it over HTTP like Cloud Scheduler (twice: the second delivery
is a no-op), prints the next three months' schedule and where the outbox files are.
COMMUNITY_CONFIG and OUTBOX_DIR override the defaults.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import sys
from pathlib import Path

import requests

from tools import emulator
from tools.fnproc import running

ROOT = emulator.ROOT


def banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def main() -> int:
    os.environ.setdefault("COMMUNITY_CONFIG", str(ROOT / "config" / "community.example.yaml"))
    os.environ.setdefault("OUTBOX_DIR", str(ROOT / "outbox"))
    os.environ.setdefault("GOOGLE_CLOUD_PROJECT", "demo-alumni-autopilot")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the demo prints what happened; JSON logs are for Cloud Logging
    outbox = Path(os.environ["OUTBOX_DIR"])
    with emulator.running() as emu:
        os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
        banner("Alumni Autopilot demo")
        print(f"config:   {os.environ['COMMUNITY_CONFIG']}\nfirestore emulator: {emu.host}\noutbox:   {outbox}")
        from shared.config import ConfigError, load_config

        try:
            load_config()
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 1
        stamp = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
        headers = {"X-CloudScheduler-JobName": "generate-slots-daily", "X-CloudScheduler-ScheduleTime": stamp}
        with running("generate_slots") as fn:
            banner("generate_slots (a real functions-framework process)")
            for label in ("first delivery", "duplicate delivery"):
                res = requests.post(fn.url, headers=headers, timeout=60)
                body = res.json()
                body.pop("changed_slots", None)
                print(f"{label}: HTTP {res.status_code} {json.dumps(body, ensure_ascii=False)}")
                if res.status_code != 200:
                    print(fn.stop()[-3000:], file=sys.stderr)
                    return 1
        banner("the next three months (autopilot schedule)")
        from shared import bootstrap
        from shared.entrypoints import cli

        bootstrap.reset()
        cli.print_schedule(months=3)
        for module, func in (("tools.demo_provision", "demo_provision"), ("tools.demo_applications", "demo_applications"),
                             ("tools.demo_rhythm", "demo_rhythm"), ("tools.demo_provision", "demo_provision_catch_up")):
            try:
                step = getattr(importlib.import_module(module), func)
            except ImportError:
                continue
            bootstrap.reset()
            step({"root": ROOT, "outbox": outbox, "emulator_host": emu.host, "banner": banner})
        banner("outbox (what would have been sent)")
        for folder in sorted(p for p in outbox.iterdir() if p.is_dir()) if outbox.is_dir() else []:
            files = sorted(f for f in folder.iterdir() if not f.name.startswith("."))
            print(f"{folder}/  {len(files)} file(s)" + (f", e.g. {files[0].name}" if files else ""))
        print("\nOpen the .ics files with any calendar app; `make test` runs the whole suite.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
