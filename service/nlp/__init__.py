"""Suggestion engine: people, dates, tags, risk indicators in context and children seen."""

from service.nlp.record import CaseRecord, Member
from service.nlp.suggester import Suggester
from service.nlp.taxonomy import TaxonomyError

__all__ = ["CaseRecord", "Member", "Suggester", "TaxonomyError"]
