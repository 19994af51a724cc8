"""Report hooks: sections and JUnit properties per test, verdicts, the terminal summary.

Also the xdist plumbing behind the run-wide counts (computed from the run journals).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from .errors import InfraError, RentalUnavailable, ServiceError, classify
from .journal import counts
from .lifecycle import OUTCOMES_KEY, PhaseOutcomes
from .modes import RecordingOptions
from .report import artifact_dir
from .session import RoboSession
from .shared import SharedResources

T = TypeVar("T")


def classified(provision: Callable[[], T]) -> T:
    """Run a fixture's provisioning; infrastructure errors become :class:`InfraError` s."""
    __tracebackhide__ = True
    try:
        return provision()
    except Exception as exc:
        infra = classify(exc)
        if infra is None:
            raise
        raise infra(f"{type(exc).__name__}: {exc}") from exc


def verdict(report: pytest.TestReport) -> str:
    """``passed``, ``failed`` (the test's own), ``infra`` or ``skipped``."""
    if report.skipped:
        return "skipped"
    if report.passed:
        return "passed"
    excinfo = getattr(report, "robo_infra", False)
    return "infra" if excinfo else "failed"


class ReportHooks:
    """The plugin's report and summary hooks for one pytest process."""

    def __init__(self, session: RoboSession, shared: SharedResources) -> None:
        self.session = session
        self.shared = shared
        self.infra: list[str] = []
        self._tail: ProgressTail | None = None
        self._scrub = session.mode.scrubber(RecordingOptions()).text

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        record = self.session.records.get(item.nodeid)
        if record is not None:
            record.flush()
        if record is not None and call.when == "teardown":
            item.user_properties.extend(self._properties(item, record))
        report = yield
        outcomes = item.stash.setdefault(OUTCOMES_KEY, PhaseOutcomes())
        if call.when in ("setup", "call"):
            outcomes.phases[call.when] = report.outcome
        if call.excinfo is not None and report.failed:
            infra = _is_infra(call.excinfo.value)
            outcomes.infra = outcomes.infra or infra
            report.robo_infra = infra  # type: ignore[attr-defined]
            if infra:
                self.infra.append(item.nodeid)
        _scrub_report(report, record.scrub if record is not None else self._scrub)
        if record is None:
            return report
        # On the call report (shown under failures, by -rP and by pytest-html) and, complete with
        # the teardown steps, on the teardown report; on a setup report only when setup failed.
        if call.when in ("call", "teardown") or report.failed:
            for title, text in record.sections():
                replaced = item.config.hook.pytest_robofixtures_report_section(
                    item=item, title=title, text=text)
                report.sections.append((title, text if replaced is None else str(replaced)))
        if call.when == "teardown":
            failed = any(o == "failed" for o in outcomes.phases.values()) or report.failed
            pictures = self.session.settings.pictures
            if pictures == "all" or (pictures == "failed" and failed):
                picture = self._picture(item, record)
                if picture is not None:  # JUnit reads the report's copy of the properties
                    report.user_properties = [*report.user_properties, ("robo.picture", picture)]
            _html_extras(item, report, record, failed)
            self.session.records.pop(item.nodeid, None)
        return report

    def _picture(self, item: pytest.Item, record: Any) -> str | None:
        """Draw the test's timeline picture into its artifacts folder (with the plots extra)."""
        from .reporting.picture import plots_available, save_timeline
        from .reporting.timeline import timeline_from_events

        if not plots_available():
            return None
        data = timeline_from_events(
            [(e.at, e.resource, e.what) for e in record.timeline], title=item.nodeid,
            waits=record.waits, ssh=record.ssh, status_updates=record.roc_history,
            frames=record.frame_times, markers=[m.marker(at) for at, m in record.measurements],
        )
        folder = artifact_dir(self.session.settings.artifacts_dir, item.nodeid)
        try:
            record.picture = save_timeline(data, folder, "svg")
        except Exception as exc:  # a report must never fail because a picture could not be drawn
            record.notes.append(f"timeline picture not drawn: {type(exc).__name__}: {exc}")
        if record.picture is None:
            return None
        return _relative(record.picture, self.session.settings.rootdir)

    def pytest_configure(self, config: pytest.Config) -> None:
        if getattr(config, "workerinput", None) is None:  # the controller (or a plain run)
            from .reporting.measurements import clear_measurements

            clear_measurements(self.session.settings.artifacts_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[Any], summary: list[Any],
                                    postfix: list[Any], session: pytest.Session) -> None:
        from .reporting.html import RunSummary, run_summary_html

        stats = self.session.stats
        line = summary_line(self.session)  # also settles the journal-based counts
        counted = dict(stats.as_dict())
        if line is not None and self.session.mode.live:
            totals = counts(self.session.settings.journal_dir, self.session.run_id)
            counted.update(provisioned=totals.created, torn_down=totals.deleted)
        infra = [(nodeid, "infrastructure error") for nodeid in self.infra]
        prefix.append(run_summary_html(RunSummary.from_stats(self.session.mode.label, counted,
                                                             infra)))

    def _properties(self, item: pytest.Item, record: Any) -> list[tuple[str, object]]:
        root = self.session.settings.rootdir
        props: list[tuple[str, object]] = [("robo.mode", self.session.mode.label)]
        for name, value in record.properties():
            if name in ("robo.recording", "robo.frame"):
                value = _relative(Path(str(value)), root)
            props.append((name, value))
        outcomes = item.stash.get(OUTCOMES_KEY, PhaseOutcomes())
        failed = [p for p, o in outcomes.phases.items() if o == "failed"]
        props.append(("robo.verdict", "infra" if outcomes.infra else
                      "failed" if failed else "passed"))
        return props

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, object, object]:
        """A service failing in the test body (5xx/429 after retries, no answer, busy) is infra.

        It is re-raised as an :class:`InfraError` (the original chained), so the verdict says so
        and ``--only-rerun InfraError`` reruns it. Assertions, and waits the test itself timed
        out on, stay the test's own failures.
        """
        try:
            return (yield)
        except Exception as exc:
            if "robo" not in getattr(pyfuncitem, "fixturenames", ()):
                raise
            infra = classify(exc)
            if infra is None or infra not in (ServiceError, RentalUnavailable):
                raise
            raise infra(f"{type(exc).__name__}: {exc}") from exc

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # The xdist controller shows the workers' progress lines as they come.
        if self.session.mode.live and session.config.pluginmanager.hasplugin("dsession"):
            self._tail = ProgressTail(self.session)
            self._tail.start()

    def pytest_report_teststatus(self, report: pytest.TestReport,
                                 config: pytest.Config) -> Any:
        if getattr(report, "robo_infra", False) and report.failed:
            return "error", "I", ("INFRA", {"yellow": True})
        return None

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        session = self.session
        stats = session.stats
        line = summary_line(session)
        if line is None:
            return
        tr = terminalreporter
        tr.write_sep("-", "robofixtures")
        tr.write_line(line)
        for leaked in stats.leaked:
            tr.write_line(f"LEAKED {leaked}", red=True)
        for kept in stats.kept:
            tr.write_line(f"kept {kept}", yellow=True)
        if stats.leaked or stats.kept:
            tr.write_line(
                f"delete them with: robofixtures reap --journal-dir {session.settings.journal_dir}"
            )
        if self.infra:
            tr.write_line(f"infra errors (not your code): {len(self.infra)}", yellow=True)
            for nodeid in self.infra:
                tr.write_line(f"  INFRA {nodeid}", yellow=True)
        for note in stats.notes:
            tr.write_line(note, yellow=True)
        if session.settings.drift:
            tr.write_line(f"drift check: {len(stats.drifted)} test(s) drifted from their "
                          "recordings", yellow=bool(stats.drifted))
            for nodeid, lines in sorted(stats.drifted.items()):
                tr.write_line(f"  DRIFT {nodeid}: {lines[0]}"
                              + (f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""),
                              yellow=True)
        for nodeid, unused in sorted(stats.unused.items()):
            tr.write_line(f"unused recorded interactions in {nodeid}: {len(unused)} "
                          f"(first: {unused[0]})", yellow=True)

    @pytest.hookimpl(trylast=True)  # after pytest's own teardown of fixtures (e.g. on Ctrl-C)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if self._tail is not None:
            self._tail.stop()
        self.shared.close()
        self.session.close()
        if getattr(config, "workerinput", None) is None:
            from .reporting.measurements import merge_measurements

            merge_measurements(self.session.settings.artifacts_dir)
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["robo_stats"] = json.dumps(self.session.stats.as_dict())
            workeroutput["robo_infra"] = json.dumps(self.infra)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Collect a worker's counters; after a crash, reap what the worker left behind."""
        session = self.session
        output = getattr(node, "workeroutput", None) or {}
        if "robo_stats" in output:
            session.stats.add(json.loads(output["robo_stats"]))
        if "robo_infra" in output:
            self.infra.extend(json.loads(output["robo_infra"]))
        if error and session.mode.live:
            from .reaper import reap

            worker = node.gateway.id
            results = reap(session.settings.journal_dir, run_id=session.run_id, worker=worker)
            for line in results.failed:
                session.stats.leaked.append(f"{line} (worker {worker} crashed)")


class ProgressTail:
    """Follow the workers' progress file and show each new line in the main terminal."""

    def __init__(self, session: RoboSession, period: float = 0.3) -> None:
        self.session = session
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="robo-progress", daemon=True)
        self._offset = 0

    def start(self) -> None:
        """Start following."""
        self._thread.start()

    def stop(self) -> None:
        """Show what is left and stop."""
        self._stop.set()
        self._thread.join(timeout=2)
        self._show()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self._show()

    def _show(self) -> None:
        path = self.session.progress_file
        try:
            with open(path, encoding="utf-8") as fh:
                fh.seek(self._offset)
                text = fh.read()
                self._offset = fh.tell()
        except OSError:
            return
        for line in text.splitlines():
            self.session.show_progress(line)


def summary_line(session: RoboSession) -> str | None:
    """``mode X: provisioned N, torn down N, leaked N, waited Ns`` or None when nothing ran.

    In live modes the counts come from the run's journal files (every worker's), so a killed
    worker or a Ctrl-C cannot make them wrong.
    """
    stats = session.stats
    provisioned, torn_down = stats.provisioned, stats.torn_down
    if session.mode.live:
        totals = counts(session.settings.journal_dir, session.run_id)
        provisioned, torn_down = totals.created, totals.deleted
        leaked_ids = {e.id for e in totals.pending if not e.kept and e.id}
        known = " ".join(stats.leaked)
        for entry in totals.pending:
            if entry.id in leaked_ids and entry.id not in known:
                stats.leaked.append(f"{entry.kind} {entry.id} ({entry.name}) [journal]")
    if not (provisioned or stats.leaked or stats.kept or stats.waited or stats.notes
            or stats.drifted):
        return None
    return (f"mode {session.mode.label}: provisioned {provisioned}, torn down {torn_down}, "
            f"leaked {len(stats.leaked)}, waited {stats.waited:.1f}s")


_KEY_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.DOTALL)


def _scrub_report(report: pytest.TestReport, scrub: Callable[[str], str]) -> None:
    """Scrub secrets from everything a report carries (``-l`` locals, ``-vv`` diffs, captures).

    The terminal, JUnit XML and pytest-html all render from the report, so this is the one
    place a credential or a generated private key could still slip through to CI logs.
    """
    def clean(text: str) -> str:
        # Whole key blocks first; then line by line, so a key cut short by a repr (no END line)
        # cannot swallow the rest of the report.
        text = _KEY_BLOCK.sub("<scrubbed private key>", text)
        return "\n".join(scrub(line) for line in text.split("\n"))

    if report.longrepr is not None:
        text = str(report.longrepr)
        cleaned = clean(text)
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, clean(text)) for title, text in report.sections]


def _is_infra(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, InfraError):
            return True
        seen = seen.__cause__
    return False


def _relative(path: Path, root: Path) -> str:
    if path.is_absolute() and root.is_absolute():
        try:  # the usual case, without a filesystem walk: the path is under the rootdir
            return str(path.relative_to(root))
        except ValueError:
            pass
    try:
        return str(path.resolve().relative_to(_resolved(root)))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=8)
def _resolved(root: Path) -> Path:
    return root.resolve()  # the rootdir of a run: resolved once, not once per test


def _html_extras(item: pytest.Item, report: pytest.TestReport, record: Any,
                 failed: bool) -> None:
    """Frames, the picture and (for failed tests, open without a click) our sections."""
    if not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        from pytest_html import extras
    except ImportError:
        return
    from .reporting.html import figure_html, section_html

    found = getattr(report, "extras", [])
    if record.picture is not None:
        found.append(extras.html(figure_html(record.picture.read_bytes(), "svg",
                                             alt=f"timeline of {item.nodeid}")))
    if failed:
        for title, text in record.sections():
            found.append(extras.html(section_html(title, text, open_=True)))
    for path in record.frames:
        data = base64.b64encode(path.read_bytes()).decode()
        found.append(extras.image(data, name=path.name, mime_type="image/jpeg", extension="jpg"))
    report.extras = found  # type: ignore[attr-defined]


__all__ = ["ReportHooks", "classified", "summary_line", "verdict"]
