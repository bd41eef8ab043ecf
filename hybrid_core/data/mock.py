"""A tiny hand-written parallel data set (en, de, fr) for tests that must not need downloaded data.

Two articles (the Danube, Marie Curie) of two paragraphs of three sentences per language (12
candidates per language), six questions translated into the three languages, built through the
same code path as XQuAD-R (``hybrid_core.data.lareqa``), so ids and qrels have the real shape.
Article titles are localised ("Donau") as in MLQA-R; the question ids link them. Sentences and
translations written for this project.
"""

from __future__ import annotations

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.lareqa import build_dataset, parse_squad
from hybrid_core.errors import DataError

# fmt: off
# {language: [(title, [paragraph sentences, ...]), ...]}; parallel by position.
ARTICLES: dict[str, list[tuple[str, list[list[str]]]]] = {
    "en": [
        ("Danube", [
            ["The Danube is the second-longest river in Europe.",
             "It rises in the Black Forest in Germany.",
             "The river flows into the Black Sea in Romania."],
            ["Four capital cities lie on its banks.",
             "Vienna, Bratislava, Budapest and Belgrade all grew up along the river.",
             "For centuries it was an important trade route."],
        ]),
        ("Marie Curie", [
            ["Marie Curie was born in Warsaw in 1867.",
             "She moved to Paris to study physics and mathematics.",
             "There she met the physicist Pierre Curie, whom she married in 1895."],
            ["Together they discovered the elements polonium and radium.",
             "In 1903 she became the first woman to win a Nobel Prize.",
             "She received a second Nobel Prize, in chemistry, in 1911."],
        ]),
    ],
    "de": [
        ("Donau", [
            ["Die Donau ist der zweitlängste Fluss Europas.",
             "Sie entspringt im Schwarzwald in Deutschland.",
             "Der Fluss mündet in Rumänien ins Schwarze Meer."],
            ["An ihren Ufern liegen vier Hauptstädte.",
             "Wien, Bratislava, Budapest und Belgrad sind alle am Fluss gewachsen.",
             "Jahrhundertelang war sie ein wichtiger Handelsweg."],
        ]),
        ("Marie Curie", [
            ["Marie Curie wurde 1867 in Warschau geboren.",
             "Sie zog nach Paris, um Physik und Mathematik zu studieren.",
             "Dort lernte sie den Physiker Pierre Curie kennen, den sie 1895 heiratete."],
            ["Gemeinsam entdeckten sie die Elemente Polonium und Radium.",
             "1903 erhielt sie als erste Frau einen Nobelpreis.",
             "1911 erhielt sie einen zweiten Nobelpreis, diesmal für Chemie."],
        ]),
    ],
    "fr": [
        ("Danube", [
            ["Le Danube est le deuxième plus long fleuve d'Europe.",
             "Il prend sa source dans la Forêt-Noire, en Allemagne.",
             "Le fleuve se jette dans la mer Noire, en Roumanie."],
            ["Quatre capitales se trouvent sur ses rives.",
             "Vienne, Bratislava, Budapest et Belgrade se sont toutes développées le long du fleuve.",
             "Pendant des siècles, il a été une importante route commerciale."],
        ]),
        ("Marie Curie", [
            ["Marie Curie est née à Varsovie en 1867.",
             "Elle s'est installée à Paris pour étudier la physique et les mathématiques.",
             "Elle y a rencontré le physicien Pierre Curie, qu'elle a épousé en 1895."],
            ["Ensemble, ils ont découvert les éléments polonium et radium.",
             "En 1903, elle est devenue la première femme à recevoir un prix Nobel.",
             "Elle a reçu un second prix Nobel, en chimie, en 1911."],
        ]),
    ],
}

# (question id, article, paragraph, {language: (question, answer span)}); the answer lies in one sentence.
QUESTIONS: list[tuple[str, int, int, dict[str, tuple[str, str]]]] = [
    ("q1", 0, 0, {"en": ("Where does the Danube rise?", "Black Forest"),
                  "de": ("Wo entspringt die Donau?", "Schwarzwald"),
                  "fr": ("Où le Danube prend-il sa source ?", "Forêt-Noire")}),
    ("q2", 0, 0, {"en": ("Into which sea does the Danube flow?", "Black Sea"),
                  "de": ("In welches Meer mündet die Donau?", "Schwarze Meer"),
                  "fr": ("Dans quelle mer se jette le Danube ?", "mer Noire")}),
    ("q3", 0, 1, {"en": ("How many capital cities lie on the Danube?", "Four"),
                  "de": ("Wie viele Hauptstädte liegen an der Donau?", "vier"),
                  "fr": ("Combien de capitales se trouvent sur le Danube ?", "Quatre")}),
    ("q4", 1, 0, {"en": ("In which city was Marie Curie born?", "Warsaw"),
                  "de": ("In welcher Stadt wurde Marie Curie geboren?", "Warschau"),
                  "fr": ("Dans quelle ville Marie Curie est-elle née ?", "Varsovie")}),
    ("q5", 1, 1, {"en": ("Which elements did the Curies discover?", "polonium and radium"),
                  "de": ("Welche Elemente entdeckten die Curies?", "Polonium und Radium"),
                  "fr": ("Quels éléments les Curie ont-ils découverts ?", "polonium et radium")}),
    ("q6", 1, 1, {"en": ("In which field did Marie Curie win her second Nobel Prize?", "chemistry"),
                  "de": ("In welchem Fach erhielt Marie Curie ihren zweiten Nobelpreis?", "Chemie"),
                  "fr": ("Dans quel domaine Marie Curie a-t-elle reçu son second prix Nobel ?", "chimie")}),
]
# fmt: on


def paragraph_of(sentences: list[str]) -> tuple[str, list[list[int]]]:
    """Sentences joined by one space into a LAReQA paragraph: ``(context, sentence_breaks)``, [start, end) each."""
    context, breaks = "", []
    for s in sentences:
        start = len(context) + (1 if context else 0)
        context = f"{context} {s}" if context else s
        breaks.append([start, start + len(s)])
    return context, breaks


def _squad(language: str) -> dict:
    """The language's articles as a LAReQA-style SQuAD object (with sentences and breaks)."""
    data = []
    for ai, (title, paragraphs) in enumerate(ARTICLES[language]):
        pars = []
        for pi, sentences in enumerate(paragraphs):
            context, breaks = paragraph_of(sentences)
            qas = []
            for qid, q_ai, q_pi, texts in QUESTIONS:
                if (q_ai, q_pi) == (ai, pi):
                    question, answer = texts[language]
                    qas.append(
                        {
                            "id": qid,
                            "question": question,
                            "answers": [{"text": answer, "answer_start": context.index(answer)}],
                        }
                    )
            pars.append({"context": context, "sentences": sentences, "sentence_breaks": breaks, "qas": qas})
        data.append({"title": title, "paragraphs": pars})
    return {"version": "mock", "data": data}


def tiny_parallel_dataset(languages: list[str] | None = None) -> RetrievalDataset:
    """The tiny en/de/fr set: 6 questions x 3 languages = 18 queries, 36 candidates, 3 relevant each."""
    langs = languages or sorted(ARTICLES)
    unknown = sorted(set(langs) - set(ARTICLES))
    if unknown:
        raise DataError(f"tiny-parallel: unknown language(s) {unknown}; available: {sorted(ARTICLES)}")
    files = [parse_squad(_squad(lang), lang, f"mock/{lang}.json") for lang in sorted(ARTICLES)]
    return build_dataset(files, langs, "tiny-parallel")
