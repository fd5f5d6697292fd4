"""Rules that span sections of the config (a series' anchor, hosts that are organizers, ...).

Kept apart from the sections so that no section module needs the root model: sections import only
``shared.config.base``; ``model`` imports the sections; this module and ``load`` import ``model``.
"""

from shared.config.model import Config, SameDayAsRule, speaker_series


def cross_checks(cfg: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for sid, s in cfg.series.items():
        if not isinstance(s.rule, SameDayAsRule):
            continue
        path = f"series.{sid}.rule.series"
        anchor = cfg.series.get(s.rule.series)
        if anchor is None:
            problems.append((path, f"{s.rule.series!r} is not a series in this config (known: {', '.join(cfg.series)})"))
            continue
        if isinstance(anchor.rule, SameDayAsRule):
            problems.append((path, f"{s.rule.series!r} is itself relative; anchor to a series with its own dates"))
            continue
        if (s.timezone or cfg.community.timezone) != (anchor.timezone or cfg.community.timezone):
            problems.append((f"series.{sid}.timezone", f"must equal the time zone of its anchor {s.rule.series!r}"))
        if s.start >= anchor.start:
            problems.append((f"series.{sid}.start", f"{s.start:%H:%M} must be before its anchor {s.rule.series!r} starts ({anchor.start:%H:%M})"))
    for sid, s in cfg.series.items():
        if s.venue is not None and s.venue not in cfg.venues:
            known = ", ".join(cfg.venues) or "none yet: add them under venues:"
            problems.append((f"series.{sid}.venue", f"{s.venue!r} is not a venue of this config (known: {known})"))
    problems.extend(_people(cfg))
    problems.extend(_rhythm(cfg))
    problems.extend(_events(cfg))
    return problems


def _people(cfg: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for oid in cfg.people.hosts:
        org = cfg.organizers.get(oid)
        if org is None:
            problems.append((f"people.hosts.{oid}", f"{oid!r} is not an organizer (known: {', '.join(cfg.organizers)})"))
        elif org.zoom is None:
            problems.append((f"people.hosts.{oid}", f"organizer {oid!r} has no zoom account, so cannot host"))
    for i, sid in enumerate(cfg.people.speakers.series):
        if sid not in cfg.series:
            problems.append((f"people.speakers.series.{i}", f"{sid!r} is not a series in this config"))
    form = cfg.people.speakers.form
    if form is not None:
        if cfg.applications is not None and form.form_id == cfg.applications.form_id:
            problems.append(("people.speakers.form.form_id", "is the membership form's id (applications.form_id); "
                             "the speaker form needs a form of its own"))
        for answer, sid in form.series_answers.items():
            if sid not in speaker_series(cfg):
                problems.append((f"people.speakers.form.series_answers.{answer}",
                                 f"{sid!r} is not a series that takes speakers ({', '.join(speaker_series(cfg))})"))
    return problems


def _rhythm(cfg: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for i, sid in enumerate(cfg.rhythm.flagship_series or ()):
        if sid not in cfg.series:
            problems.append((f"rhythm.flagship_series.{i}", f"{sid!r} is not a series in this config"))
    return problems


def _events(cfg: Config) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for sid in cfg.events.series:
        if sid not in cfg.series:
            problems.append((f"events.series.{sid}", f"{sid!r} is not a series in this config (known: {', '.join(cfg.series)})"))
    return problems
