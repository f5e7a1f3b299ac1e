"""Speech to text for dictated visit notes: audio checks, the transcriber, case vocabulary."""

from service.asr.audio import AudioError, AudioInfo, probe_audio
from service.asr.correction import Correction
from service.asr.transcriber import Segment, Transcriber, Transcript, load_transcriber
from service.asr.vocabulary import CaseVocabulary

__all__ = [
    "AudioError", "AudioInfo", "CaseVocabulary", "Correction", "Segment", "Transcriber",
    "Transcript", "load_transcriber", "probe_audio",
]
