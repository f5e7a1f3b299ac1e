"""The rule files of a models/ directory, loaded once per process and shared by everyone.

The suggester, the review checks, the labels on every page and dictation's vocabulary all read
the taxonomy and rules through one RuleFiles. `current()` compares the files' modification
times and sizes (a few stat calls), so a saved change is in use on the next request without a
restart; a change that does not validate leaves the last good rules in use, and `error` names
the file, the entry and the problem until the file is fixed.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from spacy.tokenizer import Tokenizer

from service.nlp.taxonomy import RuleSet, Taxonomy, TaxonomyError, load_rules, rule_stamps

log = logging.getLogger("casenotes.rules")


@functools.cache
def english_tokenizer() -> Tokenizer:
    """spaCy's English tokenizer without a trained model: enough to check the phrases (the
    suggester compiles its matchers with its own pipeline's tokenizer, the same rules)."""
    import spacy

    return spacy.blank("en").tokenizer


class RuleFiles:
    """The current rules of one models directory, reloaded when a file changes."""

    def __init__(self, models_dir: Path, tokenizer: Tokenizer, rules: RuleSet) -> None:
        self.models_dir = Path(models_dir)
        self.tokenizer = tokenizer
        self.error: str | None = None  # why the files on disk are not the rules in use
        self._rules = rules
        self._previous: RuleSet | None = None
        self._failed: dict[str, tuple[int, int]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, models_dir: Path, tokenizer: Tokenizer | None = None) -> RuleFiles:
        """Read and check every rule file; raises TaxonomyError on the first problem."""
        tokenizer = tokenizer or english_tokenizer()
        return cls(models_dir, tokenizer, load_rules(Path(models_dir), tokenizer))

    @property
    def taxonomy(self) -> Taxonomy:
        return self.current().taxonomy

    def current(self) -> RuleSet:
        """The rules in use, read again first if a file has changed since."""
        stamps = rule_stamps(self.models_dir)
        rules = self._rules
        if stamps == rules.stamps or stamps == self._failed:
            return rules
        with self._lock:
            if rule_stamps(self.models_dir) == self._rules.stamps:
                return self._rules
            try:
                loaded = load_rules(self.models_dir, self.tokenizer)
            except TaxonomyError as exc:
                self._refuse(stamps, str(exc))
                return self._rules
            self._previous, self._rules = self._rules, loaded
            self.error, self._failed = None, None
            return loaded

    def reject(self, rules: RuleSet, problem: str) -> None:
        """A user of the rules (the suggester building its matchers) could not use `rules`:
        go back to the set before them until the files change again."""
        with self._lock:
            if self._rules is rules and self._previous is not None:
                self._rules = self._previous
            self._refuse(rules.stamps, problem)

    def _refuse(self, stamps: dict[str, tuple[int, int]], problem: str) -> None:
        if problem != self.error:
            # The message names a file, an entry and a problem: never note text.
            log.warning("rule files in %s not loaded, the last good rules stay in use: %s",
                        self.models_dir, problem)
        self.error, self._failed = problem, stamps


@functools.cache
def _shared(models_dir: Path) -> RuleFiles:
    return RuleFiles.load(models_dir)


def shared_rule_files(models_dir: Path) -> RuleFiles:
    """The one RuleFiles of this directory in this process (the app, its suggester and the
    command line all read the same; loading them costs a fraction of a second)."""
    return _shared(Path(models_dir).resolve())
