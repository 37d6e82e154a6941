"""Benchmark: the Slack chat path of `compliance-bot run` against a bare Bolt app, side by side.

Targets, one after the other, each a separate process behind the same waitress server class
(bot.server.HttpServer), driven by the same open-loop generator (signed requests as Slack signs
them) against the same loopback Slack Web API (tests.slack_api, in this process):

- `bare_bolt`: a slack_bolt App written here with the same signing secret and request
  verification on: app_mention and DM listeners that post chat.postMessage back, a
  block_actions listener that acks and calls `respond` (response_url). What Bolt and waitress
  cost before any of the bot's work.
- `ours_sqlite`, `ours_postgresql`: the real `compliance-bot run` in HTTP mode (the bundled
  knowledge base; `compliance-bot db upgrade` first; PostgreSQL from a temporary pgserver
  instance unless --database-url or DATABASE_URL names one).

For each target:

- `ceiling_events_per_s`: the highest rate of a stepped search (--rates, --seconds per step) of
  app_mention events (questions from tests/eval/questions.yaml, answered in their thread) at
  which p99 (request sent -> answer at the Web API) stays under --p99-limit-ms (100) with
  nothing lost, none told busy, no duplicate and no non-200 answer; the search stops at the
  first failing step. `ceiling_capped` when the last rate passed too. The questions repeat
  (the set has 124), so past the first pass their vectors come from the bot's cache.
- `presses_300`: presses of the feedback button (`ask.feedback|N`, value `<question_id>:up`,
  read off the answer to one DM question asked first) at 300/s, each from a different user;
  latency to the response_url post (Bolt's `respond`). `busy`: presses refused with 429/503 or
  answered "busy, please try again" (or the apology) instead of the thanks; `handled` and
  `handled_p50_ms`/`handled_p99_ms`: the others, each a rating recorded and audited.
- `questions_50`: DM questions at 50/s from the same set (full answer path), latency to
  chat.postMessage. `questions_50_unseen`: the same rate with questions never asked before in
  the run (tests/eval/chat), so every one runs the embedding model.
- `ratio_ceiling_vs_bare_bolt`.

Latency runs from the moment a request is written to the socket; `generator_lag_p99_ms` shows
how far behind its open-loop schedule this process was (a loaded machine), and `load_avg` what
the machine was doing. Figures are for comparing targets within one run.

Usage, from the repository root:

    python tests/benchmarks/chat_path.py --json
    python tests/benchmarks/chat_path.py --json --database sqlite --seconds 2 --rates 20,50
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from tests.benchmarks.chat_load import (  # noqa: E402
    SECRET,
    BenchSlackAPI,
    Outcome,
    Process,
    Sent,
    bot_env,
    db_upgrade,
    dm_body,
    free_port,
    generate_key,
    log_problems,
    match,
    mention_body,
    open_loop,
    pct,
    post_signed,
    postgres,
    press_body,
    response_name,
    run_id,
    start_bot,
    start_process,
    wait_answers,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
ANSWERS = ("chat.postMessage", "chat.postEphemeral")
FEEDBACK = "ask.feedback"
DEFAULT_RATES = "10,25,50,100,150,200,300,450"


def _questions(*names: str) -> list[str]:
    names = names or ("questions.yaml",)
    texts: list[str] = []
    for name in names:
        data = yaml.safe_load((REPO / "tests" / "eval" / name).read_text("utf-8"))
        texts += [str(item["q"]) for item in data["questions"]]
    return list(dict.fromkeys(texts))


# Questions never asked earlier in a run (the chat sets, not the mentions' set): the question
# vector cache cannot help them, so they show the model's full cost.
UNSEEN = ("chat/dev.yaml", "chat/test.yaml")


# -- the bare Bolt app, in its own process ---------------------------------------------------------


def serve_bare(api_url: str) -> int:
    """slack_bolt with request verification behind bot.server's waitress: echo and respond."""
    import logging
    import signal
    import threading

    from slack_bolt import Ack, App, BoltRequest, Respond
    from slack_sdk import WebClient

    from bot.server import HttpServer, Request, Response, Routes
    from tests.slack_api import BOT_TOKEN

    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    client = WebClient(token=BOT_TOKEN, base_url=api_url, timeout=10)
    app = App(client=client, signing_secret=SECRET, request_verification_enabled=True,
              token_verification_enabled=False)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"],
                                text=event.get("text", ""))

    @app.event({"type": "message", "channel_type": "im"})
    def on_dm(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], text=event.get("text", ""))

    @app.action(re.compile(r".+"))
    def on_press(ack: Ack, respond: Respond) -> None:
        ack()
        respond(response_type="ephemeral", replace_original=False, text="thanks")

    def endpoint(request: Request) -> Response:
        body = request.body() or b""
        bolt = app.dispatch(BoltRequest(body=body.decode("utf-8"),
                                        headers=request.headers_multi()))
        headers = [(name, value) for name, values in bolt.headers.items() for value in values
                   if name.lower() != "content-length"]
        return Response(bolt.status, headers, bolt.body.encode("utf-8"))

    routes = Routes()
    routes.add("/slack/events", endpoint)
    server = HttpServer(routes, host="127.0.0.1", port=int(os.environ["PORT"])).start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


# -- one target, measured ------------------------------------------------------------------------


class Target:
    def __init__(self, name: str, process: Process, api: BenchSlackAPI,
                 args: argparse.Namespace, questions: list[str]) -> None:
        self.name = name
        self.process = process
        self.port = process.port
        self.api = api
        self.args = args
        self.questions = questions
        self.rid = run_id()  # event ids, channels and users unique to this run
        self.serial = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial

    def phase(self, rate: float, seconds: float, build: Callable[[int, str], bytes],
              key: Callable[[int], str], key_of: Callable[[Any], str | None],
              content_type: str) -> Outcome:
        """Send rate x seconds requests open-loop, wait for their answers, match them."""
        self.api.settle(quiet=0.5)
        first = self.serial
        count = max(1, int(rate * seconds))
        self.serial += count

        def fire(index: int, sent: Sent) -> None:
            post_signed(self.port, build(first + index, sent.key), content_type, sent)

        started = time.monotonic()
        sent = open_loop(rate, count, fire, lambda i: key(first + i))
        wait_answers(self.api, {s.key for s in sent}, key_of, timeout=self.args.drain)
        outcome = match(sent, self.api.snapshot(), key_of)
        outcome.seconds = time.monotonic() - started
        self.api.clear()
        return outcome

    # -- the three loads ---------------------------------------------------------------------

    def mentions(self, rate: float, seconds: float) -> Outcome:
        def build(n: int, ts: str) -> bytes:
            text = self.args.mention_text or self.questions[n % len(self.questions)]
            return mention_body(text, user=f"U0M{self.rid}{n % 1000:04d}", channel="C0GENERAL",
                                ts=ts, event_id=f"EvM{self.rid}{n:08d}")

        return self.phase(rate, seconds, build,
                          lambda n: f"{1_800_000_000 + n // 1_000_000}.{n % 1_000_000:06d}",
                          lambda call: str(call.params.get("thread_ts"))
                          if call.method in ANSWERS else None, JSON)

    def dm_questions(self, rate: float, seconds: float, texts: list[str] | None = None
                     ) -> Outcome:
        texts = texts or self.questions

        def build(n: int, channel: str) -> bytes:
            return dm_body(texts[n % len(texts)],
                           user=f"U0Q{self.rid}{n:06d}", channel=channel,
                           ts=f"1800000000.{n % 1_000_000:06d}",
                           event_id=f"EvQ{self.rid}{n:08d}")

        return self.phase(rate, seconds, build, lambda n: f"D0Q{self.rid}{n:06d}",
                          lambda call: str(call.params.get("channel"))
                          if call.method in ANSWERS else None, JSON)

    def presses(self, rate: float, seconds: float) -> tuple[Outcome, str]:
        action_id, value, channel = self.feedback_button()

        def build(n: int, name: str) -> bytes:
            return press_body(action_id, value, user=f"U0P{self.rid}{n:06d}", channel=channel,
                              message_ts="1800000001.000100",
                              response_url=self.api.response_url(name))

        outcome = self.phase(rate, seconds, build, lambda n: f"p{self.rid}{n}",
                             lambda call: response_name(call)
                             if call.method == "response_url" else None, FORM)
        return outcome, value

    def feedback_button(self) -> tuple[str, str, str]:
        """Ask DM questions until an answer carries the feedback button; the bare app has
        none, so it is pressed with a made-up value."""
        for question in self.questions[:20]:
            n = self.next()
            channel = f"D0S{self.rid}{n:06d}"
            sent = Sent(channel, time.monotonic())
            post_signed(self.port, dm_body(question, user=f"U0S{self.rid}{n:06d}",
                                           channel=channel, ts=f"1800000002.{n:06d}",
                                           event_id=f"EvS{self.rid}{n:08d}"), JSON, sent)
            try:
                [call] = self.api.wait_for("chat.postMessage", 1, timeout=30)[-1:]
            except AssertionError:
                continue
            finally:
                self.api.settle(quiet=0.3)
                self.api.clear()
            for block in call.params.get("blocks") or []:
                for element in block.get("elements") or []:
                    action = str(element.get("action_id", ""))
                    button_value = str(element.get("value", ""))
                    if action.split("|")[0] == FEEDBACK and button_value.endswith(":up"):
                        return action, button_value, channel
            if self.name == "bare_bolt":
                return f"{FEEDBACK}|0", "1:up", channel
        raise SystemExit(f"{self.name}: no answer carried a feedback button")

    # -- the whole measurement ---------------------------------------------------------------

    def measure(self) -> dict[str, Any]:
        self.warm_up()
        steps: list[dict[str, Any]] = []
        ceiling = 0.0
        for rate in self.args.rates:
            outcome = self.mentions(rate, self.args.seconds)
            step = {"rate": rate, **_brief(_split(outcome))}
            ok = (outcome.lost == 0 and outcome.duplicates == 0 and step["busy"] == 0
                  and step["non_200"] == 0 and step["p99_ms"] is not None
                  and step["p99_ms"] < self.args.p99_limit_ms)
            step["ok"] = ok
            steps.append(step)
            if not ok:
                break
            ceiling = rate
        presses, value = self.presses(self.args.press_rate, self.args.seconds)
        questions = self.dm_questions(self.args.question_rate, self.args.seconds)
        seen = set(self.questions)
        unseen = [text for text in _questions(*UNSEEN) if text not in seen]
        fresh = self.dm_questions(self.args.question_rate, self.args.seconds, unseen)
        press_summary = _split(presses)
        press_summary["button_value"] = value
        return {
            "ceiling_events_per_s": ceiling,
            "ceiling_capped": bool(steps) and steps[-1]["ok"],
            "steps": steps,
            f"presses_{_n(self.args.press_rate)}": press_summary,
            f"questions_{_n(self.args.question_rate)}": _split(questions),
            f"questions_{_n(self.args.question_rate)}_unseen": {
                **_split(fresh), "distinct": min(len(unseen), len(fresh.sent))},
        }

    def warm_up(self) -> None:
        """The first requests load lazily imported code and the model: not measured."""
        self.mentions(2, 1.5)
        self.dm_questions(2, 1.5)


def _n(rate: float) -> str:
    return str(int(rate)) if rate == int(rate) else str(rate)


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("sent", "answered", "busy", "lost", "duplicates", "non_200", "p50_ms", "p99_ms",
            "handled_p99_ms", "generator_lag_p99_ms", "statuses")
    return {key: summary[key] for key in keys if key in summary}


def _split(outcome: Outcome) -> dict[str, Any]:
    """The summary, plus how many were told "busy" (refused with 429/503, or answered with
    the busy notice or the apology) and the latency of the rest, the ones really handled."""
    from bot.i18n import t

    notices = tuple(t(key, lang)[:20] for key in ("platform.apology", "platform.busy")
                    for lang in ("ja", "en"))
    told_busy = {key for key, text in outcome.replies.items()
                 if any(notice in text for notice in notices)}
    refused = sum(1 for s in outcome.sent if s.status in (429, 503))
    handled = [ms for key, ms in outcome.latency_ms.items() if key not in told_busy]
    summary = outcome.summary()
    summary["busy"] = refused + len(told_busy)
    summary["handled"] = len(handled)
    summary["handled_p50_ms"] = pct(handled, 0.50)
    summary["handled_p99_ms"] = pct(handled, 0.99)
    return summary


# -- the run -------------------------------------------------------------------------------------


def run_target(name: str, start: Callable[[], Process], api: BenchSlackAPI,
               args: argparse.Namespace, questions: list[str]) -> dict[str, Any]:
    began = time.monotonic()
    process = start()
    try:
        result = Target(name, process, api, args, questions).measure()
    finally:
        process.stop()
        api.settle(quiet=0.3, limit=5)
        api.clear()
    result["log_problems"] = log_problems(process)
    result["target_seconds"] = round(time.monotonic() - began, 1)
    return result


def measure(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    load = os.getloadavg()
    questions = _questions()
    targets: dict[str, Any] = {}
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with BenchSlackAPI() as api, tempfile.TemporaryDirectory(prefix="chat-path-") as tmp:
        workdir = Path(tmp)
        key = generate_key()

        def bare() -> Process:
            env = bot_env(workdir, api, "sqlite://", key)
            return start_process([sys.executable, str(Path(__file__).resolve()),
                                  "--serve-bare", api.url], env, free_port(),
                                 workdir / "bare.log")

        targets["bare_bolt"] = run_target("bare_bolt", bare, api, args, questions)

        def ours(url: str, name: str) -> Callable[[], Process]:
            def start() -> Process:
                env = bot_env(workdir, api, url, key)
                db_upgrade(env)
                return start_bot(env, workdir, name)

            return start

        if "sqlite" in databases:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            targets["ours_sqlite"] = run_target("ours_sqlite", ours(url, "sqlite"), api, args,
                                                questions)
        if "postgresql" in databases:
            given = args.database_url or (os.environ.get("DATABASE_URL", "")
                                          if os.environ.get("DATABASE_URL", "")
                                          .startswith("postgres") else None)
            with postgres(given) as url:
                targets["ours_postgresql"] = run_target(
                    "ours_postgresql", ours(url, "postgresql"), api, args, questions)
    bare_ceiling = targets["bare_bolt"]["ceiling_events_per_s"]
    for result in targets.values():
        result["ratio_ceiling_vs_bare_bolt"] = (
            round(result["ceiling_events_per_s"] / bare_ceiling, 3) if bare_ceiling else None)
    return {
        "targets": targets,
        "mentions": args.mention_text or "tests/eval/questions.yaml",
        "rates": args.rates, "step_seconds": args.seconds, "p99_limit_ms": args.p99_limit_ms,
        "cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in load],
        "total_seconds": round(time.monotonic() - began, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--database-url", help="an existing PostgreSQL server "
                        "(default: DATABASE_URL if it is one, else a temporary pgserver)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="length of each ceiling step, of the presses and of the questions")
    parser.add_argument("--rates", default=DEFAULT_RATES,
                        help=f"mention rates of the ceiling search (default {DEFAULT_RATES})")
    parser.add_argument("--mention-text", help="send this text in every mention instead of "
                        "the evaluation questions (e.g. help: the event path without a search)")
    parser.add_argument("--press-rate", type=float, default=300.0)
    parser.add_argument("--question-rate", type=float, default=50.0)
    parser.add_argument("--p99-limit-ms", type=float, default=100.0)
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds without a new answer after which the rest count as lost")
    parser.add_argument("--serve-bare", metavar="API_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        return serve_bare(args.serve_bare)
    args.rates = [float(r) if "." in r else int(r) for r in args.rates.split(",") if r]
    result = measure(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
