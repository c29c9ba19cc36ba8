"""The document type: title and section rules (typerules.RULES) combined with a
multinomial naive Bayes model over words and word pairs, trained on the documents
already filed (the indexers' corrections counted three times) and kept in TypeModel."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from recordroom.capture.models import (
    CaptureDocument,
    CaptureDocumentStatus,
    CapturePage,
    TypeModel,
)
from recordroom.capture.types import PageRead, TypeGuess, Value
from recordroom.kernel.actor import Actor

from .typerules import RULES

VOCABULARY = 4000  # words and pairs kept (the most documents carry)
ALPHA = 0.5  # smoothing
CORRECTION_WEIGHT = 3.0  # an indexer's correction teaches more than a confirmation
MAX_TOKENS = 3000
PER_TYPE_PDFS = 40
# A title heading the first page (a short line it is most of) is what an indexer
# types a document by: alone it reaches the default 0.90 type threshold, and the
# trained model disagreeing does not pull it down (a competing title does)
HEADING = 0.9
TITLED = HEADING  # text layers of other filed documents read per type, at most
_STOP = frozenset(
    "the and for with was were are has had have this that from not but his her she him "
    "you your our any all been will which who per on in of to at by as or an be is it".split()
)


def tokens(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z][a-z']+", text.lower()) if w not in _STOP]
    words = words[:MAX_TOKENS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


# --- the model ------------------------------------------------------------------------


def train(samples: list[tuple[str, str, float]]) -> dict[str, Any]:
    """Weights from (text, type code, weight) samples."""
    docs = [(Counter(tokens(text)), code, w) for text, code, w in samples]
    df: Counter[str] = Counter()
    for bag, _, _ in docs:
        df.update(bag.keys())
    vocab = [t for t, n in df.most_common(VOCABULARY) if n >= 2] or [
        t for t, _ in df.most_common(VOCABULARY)
    ]
    index = {t: i for i, t in enumerate(vocab)}
    classes = sorted({code for _, code, _ in docs})
    row = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(classes), len(vocab)))
    prior = np.zeros(len(classes))
    for doc, code, w in docs:
        prior[row[code]] += w
        for t, n in doc.items():
            if t in index:
                counts[row[code], index[t]] += w * n
    log_prob = np.log(counts + ALPHA) - np.log(
        (counts + ALPHA).sum(axis=1, keepdims=True)
    )
    return {
        "kind": "multinomial-naive-bayes",
        "classes": classes,
        "vocabulary": vocab,
        "log_prior": np.round(np.log(prior / prior.sum()), 4).tolist(),
        "log_prob": np.round(log_prob, 4).tolist(),
        "samples": {
            c: int(sum(1 for _, code, _ in docs if code == c)) for c in classes
        },
    }


def predict(
    weights: dict[str, Any], text: str
) -> tuple[list[tuple[str, float]], dict[str, list[str]]]:
    """([(type, probability)] best first, {type: the words that speak for it most})."""
    classes = weights.get("classes") or []
    if not classes:
        return [], {}
    index = {t: i for i, t in enumerate(weights["vocabulary"])}
    seen = Counter(t for t in tokens(text) if t in index)
    if not seen:
        return [], {}
    cols = np.array([index[t] for t in seen])
    n = np.array([seen[t] for t in seen], dtype=float)
    log_prob = np.asarray(weights["log_prob"])[:, cols]
    scores = np.asarray(weights["log_prior"]) + log_prob @ n
    # naive Bayes is sure of itself beyond reason on long texts: temper by length
    tempered = scores / max(1.0, n.sum() / 40)
    probs = np.exp(tempered - tempered.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    # a word speaks for a type by how much likelier it is there than on average
    lift = (log_prob - log_prob.mean(axis=0)) * n
    words = list(seen)
    why = {
        classes[k]: [words[j] for j in np.argsort(-lift[k])[:5] if lift[k, j] > 0]
        for k in order[:2]
    }
    return [(classes[k], float(probs[k])) for k in order], why


def current_weights() -> dict[str, Any]:
    model = TypeModel.objects.order_by("-trained_at").first()
    return model.weights if model is not None else {}


# --- rules ----------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9&' ]", " ", text.lower()).split())


def _title_hits(line: str) -> list[tuple[str, str]]:
    """(type, title) of each title on a normalised line, a title inside a longer one
    left out ('letter' within 'referral letter')."""
    hits = []
    for code, rule in RULES.items():
        for title in rule.get("titles", []):
            t = _norm(title)
            m = re.search(rf"(?<![a-z]){re.escape(t)}(?![a-z])", line)
            if m is not None:
                hits.append((code, title, m.start(), m.end()))
    def beaten(s: int, e: int) -> bool:
        # by a longer title it overlaps, or one as long ending later (the head noun
        # of a title comes last: 'office visit summary' is a summary)
        return any(s2 < e and s < e2 and ((e2 - s2) > (e - s) or
                                          ((e2 - s2) == (e - s) and e2 > e))
                   for _, _, s2, e2 in hits)  # fmt: skip

    return [(code, title) for code, title, s, e in hits if not beaten(s, e)]


def _heading(line: str, title: str) -> bool:
    """Does `title` head the (normalised) line: a short line it is most of, not a
    mention in a sentence nor a word of a section header ('reason for referral')?"""
    return len(line.split()) <= 8 and len(_norm(title)) >= 0.5 * len(line)


def title_on(page: PageRead, lines: int = 10) -> tuple[str, str] | None:
    """(type, title) of a title standing alone on one of the page's first lines (a
    heading, not a mention in a sentence), or None."""
    for raw in page.text.splitlines()[:lines]:
        line = _norm(raw)
        if not line or len(line.split()) > 8:
            continue
        hits = [h for h in _title_hits(line) if _heading(line, h[1])]
        if hits:
            code, title = max(hits, key=lambda h: len(h[1]))
            return code, title.upper()
    return None


def rule_scores(pages: list[PageRead]) -> dict[str, tuple[float, list[str]]]:
    """Type -> (0..1, evidence) from the titles in the first page's first lines and
    section headers starting lines anywhere."""
    if not pages:
        return {}
    first = [_norm(line) for line in pages[0].text.splitlines()[:14]]
    starts = [_norm(line) for page in pages for line in page.text.splitlines()]
    out: dict[str, tuple[float, list[str]]] = {}
    titles: dict[str, tuple[float, list[str]]] = {}
    for line in first:
        for code, title in _title_hits(line):
            # a title stands alone on its line; in a sentence it is a mention
            s = (HEADING if _heading(line, title) else 0.45) + 0.01 * len(title.split())
            if s > titles.get(code, (0.0, []))[0]:
                titles[code] = (s, [f"title '{title.upper()}' on page {pages[0].number}"])
    for code, rule in RULES.items():
        score, why = titles.get(code, (0.0, []))
        why = list(why)
        found = [h for h in rule.get("sections", [])
                 if any(line.startswith(_norm(h)) for line in starts)]  # fmt: skip
        if found:
            score += min(0.35, 0.08 * len(found))
            why.append("sections: " + ", ".join(found[:4]))
        if score:
            out[code] = (min(score, 0.97), why)
    return out


# --- the guess ------------------------------------------------------------------------


def guess_type(
    values: list[Value], pages: list[PageRead], weights: dict[str, Any] | None = None
) -> TypeGuess:
    """Rules and model together (a cover sheet's type is taken as printed)."""
    printed = next(
        (v for v in values if v.kind == "doc_type" and v.source == "barcode"), None
    )
    if printed is not None:
        return TypeGuess(
            printed.normalised, 1.0, ["the cover sheet's barcode names the type"]
        )
    rules = sorted(rule_scores(pages).items(), key=lambda kv: -kv[1][0])
    ranked, why = predict(current_weights() if weights is None else weights,
                          "\n".join(p.text for p in pages))  # fmt: skip
    model = dict(ranked)
    if not rules and not ranked:
        return TypeGuess(
            None, 0.0, ["no title, section or trained word points to a type"]
        )
    if rules:
        code, (r, evidence) = rules[0]
        if len(rules) > 1 and rules[1][1][0] >= r - 0.05:
            r = min(r, 0.6)
            evidence = [
                *evidence,
                f"also looks like {rules[1][0]} ({'; '.join(rules[1][1][1])})",
            ]
    else:
        code, r, evidence = ranked[0][0], 0.0, []
    m = model.get(code, 0.0)
    confidence = 1 - (1 - r) * (1 - m) if r else min(m, 0.9)
    top = ranked[0] if ranked else None
    if top is not None and top[0] != code and top[1] >= 0.8 and r >= TITLED:
        # a printed title with its sections outweighs the words: the model, trained
        # on whole texts, is swayed by what any type's pages share
        evidence = [*evidence, f"the trained model prefers {top[0]} ({top[1]:.2f})"]
    elif top is not None and top[0] != code and top[1] >= 0.8 and r:
        confidence = min(r, 0.6)
        evidence = [
            *evidence,
            f"the trained model prefers {top[0]} ({top[1]:.2f}: {', '.join(why.get(top[0], []))})",
        ]
    elif m:
        evidence = [
            *evidence,
            f"trained model {m:.2f}: " + ", ".join(why.get(code, [])),
        ]
    return TypeGuess(code, round(min(confidence, 0.99), 4), evidence)


# --- retraining -----------------------------------------------------------------------


def _filed_samples() -> list[tuple[str, str, float]]:
    """Filed captured documents: their pages' text and the type they were filed as;
    one whose filed type differs from the type proposed is a correction."""
    out = []
    docs = (
        CaptureDocument.objects.filter(status=CaptureDocumentStatus.FILED)
        .exclude(doc_type=None).select_related("doc_type")
    )  # fmt: skip
    for doc in docs.iterator():
        numbers = [int(p["page"]) for p in doc.pages]
        text = "\n".join(
            CapturePage.objects.filter(batch_id=doc.batch_id, number__in=numbers)
            .order_by("number").values_list("text", flat=True)
        )  # fmt: skip
        if not text.strip():
            continue
        if doc.doc_type is None:
            continue
        proposed = (doc.evidence or {}).get("type_proposed")
        corrected = bool(proposed) and proposed != doc.doc_type.code
        out.append((text, doc.doc_type.code, CORRECTION_WEIGHT if corrected else 1.0))
    return out


def _pdf_samples(limit: int) -> list[tuple[str, str, float]]:
    """The text layers of other filed PDFs (those not captured), a few per type."""
    import pypdfium2 as pdfium

    from recordroom.kernel.blobs import default_store
    from recordroom.records.models import DocumentVersion

    store = default_store()
    out: list[tuple[str, str, float]] = []
    seen: Counter[str] = Counter()
    versions = (
        DocumentVersion.objects.filter(media_type="application/pdf", document__capture=None)
        .select_related("document__doc_type").order_by("-created_at")
    )  # fmt: skip
    for version in versions[: limit * 20].iterator():
        code = version.document.doc_type.code
        if seen[code] >= limit:
            continue
        try:
            pdf = pdfium.PdfDocument(store.get(version.sha256))
            text = "\n".join(
                pdf[k].get_textpage().get_text_range() for k in range(min(len(pdf), 3))
            )
            pdf.close()
        except Exception:  # noqa: BLE001 - an unreadable file teaches nothing
            continue
        if len(text.split()) >= 20:
            seen[code] += 1
            out.append((text, code, 1.0))
    return out


def _last_trained() -> Any:
    return TypeModel.objects.order_by("-trained_at").values_list(
        "trained_at", flat=True
    ).first()


def corrections_since_model() -> int:
    """Documents an indexer filed as another type than the one proposed, since the
    newest model was trained (all of them when there is none)."""
    rows = CaptureDocument.objects.filter(
        status=CaptureDocumentStatus.FILED, auto_filed=False
    ).exclude(doc_type=None)
    last = _last_trained()
    if last is not None:
        rows = rows.filter(decided_at__gt=last)
    return sum(
        1
        for evidence, code in rows.values_list("evidence", "doc_type__code").iterator()
        if (evidence or {}).get("type_proposed")
        and evidence["type_proposed"] != code
    )


def retrain_due(after: int) -> bool:
    """Have indexers corrected `after` proposed types (or more) since the newest
    model? Never when `after` is 0."""
    return after > 0 and corrections_since_model() >= after


def filed_since_model() -> bool:
    """Has anything been filed since the newest model (or is there none)?"""
    last = _last_trained()
    if last is None:
        return True
    return CaptureDocument.objects.filter(
        status=CaptureDocumentStatus.FILED, decided_at__gt=last
    ).exists()


def retrain(*, actor: Actor | None = None) -> TypeModel:
    """Train on what has been filed and keep the model (the newest is used); the
    documents' text is read, so the training is audited (capture.retrain)."""
    from recordroom.audit.services import record
    from recordroom.kernel import actions

    samples = _filed_samples() + _pdf_samples(PER_TYPE_PDFS)
    weights = train(samples) if samples else {"classes": []}
    with transaction.atomic():
        model = TypeModel.objects.create(
            trained_at=timezone.now(), documents=len(samples), weights=weights
        )
        record(actor=actor or Actor(channel="worker", name="capture-retrain"),
               action=actions.CAPTURE_RETRAIN.name, obj=model,
               detail={"documents": len(samples),
                       "corrections": sum(1 for *_, w in samples if w > 1),
                       "types": weights.get("samples", {})})  # fmt: skip
    return model
