"""The trained right classifier: corpus, seeded training, build, combination with the rules,
review on disagreement, calibration, rules-only fallback and the export of staff corrections.

Trains on a tiny fictional corpus (written here) with the real models/config.cfg: seconds, not
the real corpus. No mocks, except FixedModel where a test needs exact probabilities.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from intake.classify import Classifier, RightModel
from intake.classify.calibration import Platt, expected_calibration_error, fit_platt
from intake.classify.corpus import CorpusError, digest, read_corpus, split_by_source
from intake.classify.corrections import correction_examples, own_words
from intake.classify.errors import RuleError
from intake.classify.labels import RIGHTS
from intake.classify.linear import DEFAULT_C, LinearModel, model_features, train_linear
from intake.classify.modelbuild import DEFAULT_CONFIG, BuildOptions, build_model
from intake.classify.scoring import (
    REVIEW_BELOW_CONFIDENCE,
    calibrated_confidence,
    decide,
    model_points,
)
from intake.classify.thresholds import Thresholds, load_thresholds
from intake.classify.trained import TrainedModel, load_model, model_text
from intake.classify.training import Variant, load_config, predict, train_pipelines
from intake.config import DEFAULT_RULES_DIR, default_settings
from intake.store.models import Case, CaseRight, Event, Message
from intake.triage import TriagePipeline
from tests import mailgen

# Fictional training examples: five hand-written batches ("sources"), each with every kind.
BATCHES: dict[str, list[tuple[str, str, list[str]]]] = {
    "batch-a": [
        ("nl", "Graag inzage in mijn persoonsgegevens en een kopie van mijn dossier.", ["access"]),
        ("nl", "Verwijder al mijn gegevens uit jullie bestanden.", ["erasure"]),
        ("nl", "Mijn adres is fout, pas het aan naar Kerkstraat 3.", ["rectification"]),
        ("nl", "Schrijf mij uit van de nieuwsbrief, ik trek mijn toestemming in.",
         ["withdraw_consent"]),
        ("nl", "Wanneer is het loket open op vrijdag?", []),
        ("en", "Please send me a copy of the personal data you hold about me.", ["access"]),
    ],
    "batch-b": [
        ("nl", "Welke gegevens hebben jullie over mij? Ik vraag inzage.", ["access"]),
        ("nl", "Wis mijn gegevens, ik wil vergeten worden.", ["erasure"]),
        ("nl", "Mijn naam is verkeerd gespeld, gelieve dit te verbeteren.", ["rectification"]),
        ("nl", "Ik wil geen nieuwsbrief meer, uitschrijven aub.", ["withdraw_consent"]),
        ("nl", "In bijlage de factuur voor de levering van papier.", []),
        ("en", "Please delete my personal data and my account.", ["erasure"]),
    ],
    "batch-c": [
        ("nl", "Ik wens een kopie van alle gegevens die u over mij bewaart.", ["access"]),
        ("nl", "Gelieve mijn persoonsgegevens te verwijderen en te wissen.", ["erasure"]),
        ("nl", "Mijn telefoonnummer klopt niet meer, corrigeer het alstublieft.",
         ["rectification"]),
        ("nl", "Ik trek mijn toestemming in voor de mailing, uitschrijven.", ["withdraw_consent"]),
        ("nl", "Uitnodiging voor de vergadering van dinsdag.", []),
        ("en", "My address is wrong in your records, please correct it.", ["rectification"]),
    ],
    "batch-d": [
        ("nl", "Inzage in mijn dossier graag, welke gegevens verwerkt u?", ["access"]),
        ("nl", "Verwijder mijn account en wis al mijn gegevens.", ["erasure"]),
        ("nl", "Gelieve mijn geboortedatum te verbeteren, die is fout.", ["rectification"]),
        ("nl", "Uitschrijven van de nieuwsbrief, geen toestemming meer.", ["withdraw_consent"]),
        ("nl", "Hoe laat begint de infosessie morgen?", []),
        ("en", "Unsubscribe me from the newsletter, I withdraw my consent.",
         ["withdraw_consent"]),
        ("nl", "Inzage in mijn gegevens en verwijder ze daarna.", ["access", "erasure"]),
    ],
    "batch-e": [
        ("nl", "Ik vraag inzage: welke persoonsgegevens hebben jullie van mij?", ["access"]),
        ("nl", "Wis alstublieft mijn gegevens, verwijder alles.", ["erasure"]),
        ("nl", "Mijn e-mailadres is veranderd, pas dat aan in het dossier.", ["rectification"]),
        ("nl", "Stop de nieuwsbrief, ik trek de toestemming in.", ["withdraw_consent"]),
        ("nl", "Factuur nummer 55 voor de catering.", []),
        ("en", "What personal data do you hold about me? I want a copy.", ["access"]),
    ],
}


RULES = """
rules:
  - name: ACCESS_NAMED
    description: The right is named.
    right: access
    score: 4.5
    languages: [nl]
    phrases: [recht op inzage]
  - name: ACCESS_CUE
    description: A cue that needs a second one.
    right: access
    score: 1.5
    languages: [nl]
    phrases: [inzage]
"""


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "access.yaml").write_text(RULES, encoding="utf-8")
    return directory


def write_corpus(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for source, rows in BATCHES.items():
        with (directory / f"{source}.jsonl").open("w", encoding="utf-8") as handle:
            for language, text, rights in rows:
                handle.write(json.dumps({"text": text, "language": language, "rights": rights,
                                         "source": source}, ensure_ascii=False) + "\n")
    # What `intake model export-corrections` writes: picked up like any other corpus file.
    correction = {"text": own_words("Zet me van de lijst.\n\n> Nieuwsbrief van maart"),
                  "language": "nl", "rights": ["withdraw_consent"],
                  "source": "correction-DPO-AGO-2026-0001"}
    (directory / "corrections.jsonl").write_text(json.dumps(correction) + "\n", encoding="utf-8")
    return directory


CORPUS_SIZE = sum(map(len, BATCHES.values())) + 1


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, rules_dir: Path) -> tuple[Path, dict]:
    """A model trained on the fixture corpus and written like `intake model train` does
    (calibrated against the two test rules: loading the real ones takes seconds)."""
    root = tmp_path_factory.mktemp("model")
    options = BuildOptions(corpus_dir=write_corpus(root / "corpus"), out_dir=root / "build",
                           rules_dir=rules_dir, progress=False)
    return root, build_model(options)


@pytest.fixture(scope="module")
def model(built: tuple[Path, dict]) -> TrainedModel:
    return TrainedModel.load(built[0] / "build")


# --- corpus ---------------------------------------------------------------------------------


def test_corpus_lines_are_checked_with_file_and_line(tmp_path: Path) -> None:
    good = {"text": "Inzage graag.", "language": "nl", "rights": ["access"], "source": "s"}
    bad = [
        ("not json", "not JSON"),
        (json.dumps({**good, "rights": ["inzage"]}), "'rights'"),
        (json.dumps({**good, "language": "es"}), "'language'"),
        (json.dumps({**good, "text": "  "}), "'text'"),
        (json.dumps({k: v for k, v in good.items() if k != "source"}), "'source'"),
    ]
    for line, problem in bad:
        path = tmp_path / "c.jsonl"
        path.write_text(json.dumps(good) + "\n\n" + line + "\n", encoding="utf-8")
        with pytest.raises(CorpusError, match=rf"c\.jsonl:3: .*{problem}"):
            read_corpus([path])


def test_dev_split_holds_whole_sources(tmp_path: Path) -> None:
    examples = read_corpus(sorted(write_corpus(tmp_path).glob("*.jsonl")))
    train, dev = split_by_source(examples, 0.2, seed=7)
    assert dev and train and len(train) + len(dev) == len(examples)
    assert not {e.source for e in train} & {e.source for e in dev}
    assert split_by_source(examples, 0.2, seed=7) == (train, dev)


def test_dev_split_keeps_translated_sources_together() -> None:
    from intake.classify.corpus import CorpusExample, family_of

    families = {"de-wuetend-01": "de-wuetend-01", "nl-angry-01": "de-wuetend-01"}
    assert family_of("fr-formal-01", families) == family_of("en-formal-01", families)
    assert family_of("nl-angry-01", families) == family_of("de-wuetend-01", families)
    assert family_of("nl-oneliners-01", families) != family_of("nl-angry-01", families)
    examples = [
        CorpusExample(f"tekst {source} {n}", source[:2], ("access",), source)
        for source in ("fr-formal-01", "en-formal-01", "nl-angry-01", "de-wuetend-01",
                       "nl-a-01", "nl-b-01", "nl-c-01", "nl-d-01")
        for n in range(5)
    ]
    for seed in range(10):
        train, dev = split_by_source(examples, 0.25, seed=seed, families=families)
        trained = {family_of(e.source, families) for e in train}
        assert not trained & {family_of(e.source, families) for e in dev}


def test_model_text_folds_case_accents_and_elision() -> None:
    assert model_text("Objet", "Droit à l’EFFACEMENT") == "objet\ndroit a l effacement"


@pytest.mark.parametrize("subject,text,negated,plain", [
    ("", "Please do NOT delete my exam file.", {"not:delet", "not:exam"}, set()),
    ("", "I don't want you to delete it, but stop the mails.", {"not:delet"}, {"not:mails"}),
    ("", "Gelieve mijn dossier niet te verwijderen.", {"not:verwi", "not:dossi"}, set()),
    ("", "Bitte löschen Sie meine Unterlagen nicht, danke.", {"not:losch", "not:unter"},
     {"not:danke"}),
    ("", "Ne supprimez pas mon compte.", {"not:suppr", "not:compt"}, set()),
    ("", "Verwijder mijn account. Niet later.", set(), {"not:verwi", "not:accou"}),
])
def test_words_near_a_negation_get_a_negated_feature(subject: str, text: str,
                                                     negated: set[str], plain: set[str]) -> None:
    """"Do NOT delete" is no erasure: the model sees the negated verb as a feature of its own,
    within the clause (a full stop or comma ends the scope)."""
    features = set(model_features(subject, text))
    assert negated <= features
    assert not plain & features


# --- training ---------------------------------------------------------------------------------


def test_training_is_deterministic_with_the_seed(tmp_path: Path) -> None:
    examples = read_corpus(sorted(write_corpus(tmp_path).glob("*.jsonl")))
    items = [("", "Ik wil inzage in mijn gegevens.", "nl"), ("", "Schrap mij.", "nl")]

    def train(seed: int) -> tuple[bytes, np.ndarray]:
        config = load_config(DEFAULT_CONFIG, seed=seed)
        config["training"]["batcher"]["size"] = 4  # several batches: the shuffle matters
        pipelines = train_pipelines(config, examples, progress=False)
        component = pipelines["xx"].get_pipe("textcat_multilabel")
        return component.to_bytes(), predict(pipelines, items)

    first, again, other = train(1), train(1), train(2)
    assert first[0] == again[0]  # the same weights, byte for byte
    assert np.array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])  # the seed is what decides


def test_linear_training_is_deterministic_and_numpy_matches_scikit_learn(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = read_corpus(sorted(write_corpus(tmp_path).glob("*.jsonl")))
    texts = [("", e.text) for e in examples]
    rights = [e.rights for e in examples]
    first, again = train_linear(texts, rights), train_linear(texts, rights)
    assert np.array_equal(first.coef, again.coef) and first.index == again.index
    first.save(tmp_path / "linear")
    loaded = LinearModel.load(tmp_path / "linear")
    assert loaded.index == first.index and np.array_equal(loaded.coef, first.coef)
    # The daemon's numpy arithmetic gives scikit-learn's own probabilities.
    vectorizer = TfidfVectorizer(analyzer=lambda pair: model_features(*pair), min_df=2,
                                 sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    probe = [("", "Ik wil inzage in mijn gegevens en verwijder mijn account."),
             ("Uitschrijven", "Schrap mij van de nieuwsbrief aub"),
             ("", "zzz onbekende woorden qqq")]
    for col, right in enumerate(RIGHTS):
        target = [right in r for r in rights]
        if len(set(target)) < 2:
            continue
        regression = LogisticRegression(C=DEFAULT_C, class_weight="balanced", max_iter=5000)
        regression.fit(matrix, target)
        expected = regression.predict_proba(vectorizer.transform(probe))[:, 1]
        got = [loaded.probabilities(*pair)[col] for pair in probe]
        assert np.allclose(got, expected, atol=1e-9), right


def test_linear_model_ignores_words_it_never_saw() -> None:
    index = {"inzage": 0, "inzag~": 1}
    model = LinearModel(index, np.ones(2), np.full((2, len(RIGHTS)), 2.0), np.zeros(len(RIGHTS)))
    unseen = model.probabilities("", "qqq zzz")
    assert np.allclose(unseen, 0.5)  # no known feature: the intercept alone
    assert (model.probabilities("", "inzage qqq") > 0.5).all()


def test_ensemble_and_ngram_variants_configure() -> None:
    ensemble = load_config(DEFAULT_CONFIG, Variant("ensemble", 3))
    model = ensemble["components"]["textcat_multilabel"]["model"]
    assert model["@architectures"] == "spacy.TextCatEnsemble.v2"
    assert model["linear_model"]["ngram_size"] == 3
    bow = load_config(DEFAULT_CONFIG, Variant("bow", 1))
    assert bow["components"]["textcat_multilabel"]["model"]["ngram_size"] == 1


def test_build_writes_meta_with_hash_scores_and_calibration(built: tuple[Path, dict]) -> None:
    root, meta = built
    written = json.loads((root / "build" / "meta.json").read_text(encoding="utf-8"))
    assert written == meta
    assert meta["corpus_sha256"] == digest(sorted((root / "corpus").glob("*.jsonl")))
    assert meta["examples"]["train"] + meta["examples"]["dev"] == CORPUS_SIZE
    assert "corrections.jsonl" in meta["corpus_files"]  # retraining includes staff corrections
    assert set(meta["dev"]["model"]["per_right"]) == set(RIGHTS)
    assert 0 <= meta["dev"]["combined"]["micro_f1"] <= 1
    assert meta["calibration"]["platt"]["slope"] > 0  # a larger margin means more likely yes
    assert 0 <= meta["calibration"]["ece_message_cross_fitted"] <= 1
    assert not list(root.glob(".build.*"))  # the temporary directories are gone
    # The learned review flag was fitted out of fold (or, on this tiny corpus, said why not).
    review = meta["review"]
    assert review.get("model") or review.get("skipped")
    if review.get("model"):
        assert review["out_of_fold"]["all"]["answers"] == meta["examples"]["train"]
        assert 0 <= review["threshold"] <= 1


def test_probabilities_are_sensible_on_clear_examples(model: TrainedModel) -> None:
    assert isinstance(model, RightModel)
    clear = {
        "access": "Ik vraag inzage in mijn persoonsgegevens, welke gegevens hebt u?",
        "erasure": "Verwijder en wis al mijn gegevens.",
        "withdraw_consent": "Uitschrijven van de nieuwsbrief, ik trek mijn toestemming in.",
    }
    for right, text in clear.items():
        probabilities = model.probabilities("", text, "nl")
        assert set(probabilities) == set(RIGHTS)
        assert probabilities[right] > 0.5, (right, probabilities)
        others = [p for r, p in probabilities.items() if r != right]
        assert max(others) < probabilities[right], (right, probabilities)
    unrelated = model.probabilities("", "Hoe laat begint de vergadering?", "nl")
    assert max(unrelated.values()) < 0.5


# --- combination with the rules ----------------------------------------------------------------


class FixedModel:
    """Exact probabilities, to test the combination rule itself."""

    def __init__(self, probabilities: Mapping[str, float], calibration: Platt | None = None):
        self._probabilities = probabilities
        self.calibration = calibration

    def probabilities(self, subject: str, text: str, language: str) -> Mapping[str, float]:
        return self._probabilities


@pytest.fixture(scope="module")
def classifier(rules_dir: Path) -> Classifier:
    return Classifier.load(rules_dir)


def classify(classifier: Classifier, probabilities: Mapping[str, float], text: str):
    classifier.model = FixedModel(probabilities)
    return classifier.classify("", text, language="nl")


def test_rule_score_plus_model_points_against_the_threshold(classifier: Classifier) -> None:
    # weight 3 (the default): p adds 3 * (2p - 1); threshold 3.
    cue = "Een vraag over inzage."  # rules alone: 1.5, below the threshold
    assert classify(classifier, {"access": 0.9}, cue).rights == ("access",)  # 1.5 + 2.4
    assert classify(classifier, {"access": 0.6}, cue).rights == ()  # 1.5 + 0.6
    named = "Ik beroep me op mijn recht op inzage."  # rules alone: 4.5 + 1.5
    assert classify(classifier, {"access": 0.4}, named).rights == ("access",)  # 6.0 - 0.6
    vetoed = classify(classifier, {"access": 0.0}, "Het recht op inzage.")  # 6.0 - 3.0
    assert vetoed.rights == ("access",) and vetoed.scores["access"] == 3.0
    model_only = classify(classifier, {"erasure": 1.0}, "Iets anders.")
    assert model_only.rights == ("erasure",) and "model erasure 1.00 +3.0" in model_only.explanation


def test_needs_review_when_rules_and_model_disagree(classifier: Classifier) -> None:
    named = "Ik beroep me op mijn recht op inzage."
    agree = classify(classifier, {"access": 0.95}, named)
    assert agree.rights == ("access",) and not agree.needs_review
    rules_yes = classify(classifier, {"access": 0.2}, named)  # still access (6.0 - 1.8)
    assert rules_yes.rights == ("access",) and rules_yes.needs_review
    assert "rules and model disagree: access" in rules_yes.explanation[-1]
    model_yes = classify(classifier, {"access": 0.05, "objection": 0.7}, "Goedemiddag, ik wil "
                         "niet dat u dit nog doet.")
    assert model_yes.needs_review
    assert "rules and model disagree: objection" in model_yes.explanation[-1]


class ExplainedModel(FixedModel):
    """A fixed model that also names the words behind each label, as the linear model does."""

    def evidence(self, subject: str, text: str, language: str, label: str):
        return (("wil niet", "nog"), ("inzage",))


def test_a_right_the_model_alone_adds_or_vetoes_shows_the_words(classifier: Classifier) -> None:
    classifier.model = ExplainedModel({"access": 0.05, "objection": 0.9, "erasure": 0.1})
    result = classifier.classify("", "Ik beroep me op mijn recht op inzage. Ik wil niet dat u dit "
                                 "nog doet.", language="nl")
    lines = {line.split()[1]: line for line in result.explanation if line.startswith("model ")}
    assert lines["objection"].endswith("(words: 'wil niet', 'nog')")  # added by the model
    assert lines["access"].endswith("(words: 'inzage')")  # the rules' right the model doubts
    assert "words:" not in lines["erasure"]  # no disagreement, no words


def test_linear_evidence_names_the_features_that_weighed_most() -> None:
    index = {"kopie": 0, "dossier": 1, "graag": 2}
    coef = np.zeros((3, len(RIGHTS)))
    coef[:, RIGHTS.index("access")] = [3.0, 1.0, -2.0]
    model = LinearModel(index, np.ones(3), coef, np.zeros(len(RIGHTS)))
    towards, against = model.evidence("", "graag een kopie van mijn dossier", "access")
    assert towards == ("kopie", "dossier") and against == ("graag",)
    assert model.evidence("", "niets bekends", "access") == ((), ())


def test_calibrated_confidence_is_the_probability_that_every_decision_is_right() -> None:
    platt = Platt(slope=2.0, intercept=0.0)
    thresholds = Thresholds()
    scores = dict.fromkeys(RIGHTS, -3.0) | {"access": 5.0, "question": 0.0, "noise": 0.0}
    expected = platt(2.0) * (1 - platt(-6.0)) ** 8
    assert calibrated_confidence(scores, thresholds, platt) == pytest.approx(expected)
    decision = decide(scores, thresholds, calibration=platt)
    assert decision.confidence == round(expected, 3)
    closer = decide(scores | {"access": 3.5}, thresholds, calibration=platt)
    assert closer.confidence < decision.confidence


def test_a_calibrated_confidence_below_one_half_asks_for_review() -> None:
    """Several rights each a little unsure, none within the review margin: the product of their
    probabilities says a wrong answer is likelier than a right one, so staff see it."""
    platt = Platt(slope=0.5, intercept=0.0)
    thresholds = Thresholds()
    far = thresholds.review_margin + 0.5  # past the margin: no "near threshold" reason
    base = dict.fromkeys(RIGHTS, -20.0) | {"question": 0.0, "noise": 0.0}
    sure = decide(base | {"access": 20.0}, thresholds, calibration=platt)
    assert not sure.needs_review and sure.confidence > REVIEW_BELOW_CONFIDENCE
    several = {right: thresholds.of(right) + far for right in ("access", "erasure", "objection")}
    unsure = decide(base | several, thresholds, calibration=platt)
    assert unsure.confidence < REVIEW_BELOW_CONFIDENCE
    assert unsure.needs_review and unsure.rights_in_doubt
    assert unsure.review_reasons == (f"low confidence: {unsure.confidence:.2f} < 0.50",)


def test_platt_fit_and_calibration_error() -> None:
    rng = np.random.default_rng(3)
    margins = rng.normal(0, 2, 4000)
    truth = rng.random(4000) < 1 / (1 + np.exp(-(1.5 * margins - 0.5)))
    fitted = fit_platt(margins, truth)
    assert fitted.slope == pytest.approx(1.5, abs=0.2)
    assert fitted.intercept == pytest.approx(-0.5, abs=0.2)
    calibrated = [fitted(m) for m in margins]
    assert expected_calibration_error(calibrated, truth) < 0.03
    overconfident = [1.0 if m >= 0 else 0.0 for m in margins]
    assert expected_calibration_error(overconfident, truth) > 0.1
    with pytest.raises(ValueError):
        fit_platt([1.0, 2.0], [True, True])
    assert math.isclose(Platt(1.0, 0.0)(0.0), 0.5)


# --- wiring: the model in the triage, or rules alone ---------------------------------------


def test_missing_model_means_rules_only_and_says_so(tmp_path: Path, rules_dir: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "no-model"
    assert load_model(missing) == (None, f"no trained model at {missing}")
    assert "classifying on rules alone" in caplog.text
    settings = replace(default_settings(), model_dir=str(missing), rules_dir=str(rules_dir))
    pipeline = TriagePipeline.from_settings(settings)
    assert pipeline.classifier.model is None
    result = pipeline.triage_bytes(mailgen.request("access", "nl", seed=1))
    assert f"model: none, rules only (no trained model at {missing})" in result.explanation


def test_from_settings_loads_the_built_model(built: tuple[Path, dict], rules_dir: Path) -> None:
    settings = replace(default_settings(), model_dir=str(built[0] / "build"),
                       rules_dir=str(rules_dir))
    pipeline = TriagePipeline.from_settings(settings)
    assert isinstance(pipeline.classifier.model, TrainedModel)
    result = pipeline.triage_bytes(mailgen.request("erasure", "nl", seed=2))
    assert any(line.startswith("model erasure ") for line in result.explanation)
    assert 0.0 <= result.confidence <= 1.0


def test_rules_changed_since_calibration_is_logged(built: tuple[Path, dict], rules_dir: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    model, note = load_model(built[0] / "build", rules_dir)
    assert model is not None and note is None
    assert "rules changed" not in caplog.text
    load_model(built[0] / "build", DEFAULT_RULES_DIR)
    assert "rules changed since the model was calibrated" in caplog.text


# --- staff corrections ---------------------------------------------------------------------


@pytest.mark.db
def test_export_corrections_from_reclassified_cases(db) -> None:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    body = ("Ik wil niet langer dat u mijn gegevens gebruikt voor enquêtes.\n\n"
            "Op 1 maart 2026 schreef DPO AGO <dpo.ago@vlaanderen.be>:\n"
            "> Wij hebben uw vraag goed ontvangen.\n")
    with db.sessions() as session:
        corrected = Case(reference="DPO-AGO-2026-0001", mailbox_key="ago", year=2026, seq=1,
                         kind="request", status="open", requester_address="an@example.org",
                         language="nl", received_at=now, rights=[CaseRight(right="objection")])
        untouched = Case(reference="DPO-AGO-2026-0002", mailbox_key="ago", year=2026, seq=2,
                         kind="request", status="open", requester_address="jo@example.org",
                         language="nl", received_at=now, rights=[CaseRight(right="access")])
        session.add_all([corrected, untouched])
        session.flush()
        for seq, case, text in ((1, corrected, body), (2, untouched, "Inzage graag.")):
            session.add(Message(mailbox_key="ago", folder="INBOX", uidvalidity=1, uid=seq,
                                content_hash=f"h{seq}", status="processed", case_id=case.id,
                                received_at=now, body_text=text))
        session.add_all([
            Event(case_id=corrected.id, actor="staff", type="reclassified",
                  data={"rights_before": ["access"], "rights": ["withdraw_consent"]}),
            Event(case_id=corrected.id, actor="staff", type="reclassified",
                  data={"rights_before": ["withdraw_consent"], "rights": ["objection"]}),
            Event(case_id=untouched.id, actor="system", type="case_opened", data={}),
        ])
        session.commit()
    with db.sessions() as session:
        examples, skipped = correction_examples(session)
    assert skipped == []
    assert examples == [{
        "text": "Ik wil niet langer dat u mijn gegevens gebruikt voor enquêtes.",
        "language": "nl",
        "rights": ["objection"],
        "source": "correction-DPO-AGO-2026-0001",
    }]


def test_model_weight_against_scales_only_the_no(tmp_path: Path) -> None:
    (tmp_path / "thresholds.yaml").write_text("model_weight: 6\nmodel_weight_against: 1\n",
                                              encoding="utf-8")
    thresholds = load_thresholds(tmp_path)
    assert (thresholds.model_weight, thresholds.model_weight_against) == (6.0, 1.0)
    w, a = thresholds.model_weight, thresholds.model_weight_against
    assert (model_points(1.0, w, a), model_points(0.75, w, a), model_points(0.0, w, a)) == (
        6.0, 3.0, -1.0)
    (tmp_path / "thresholds.yaml").write_text("model_weight: 4\n", encoding="utf-8")
    assert load_thresholds(tmp_path).model_weight_against == 4.0  # symmetric unless told


# --- the question column (kinds) ------------------------------------------------------------


QUESTIONS = [
    ("Hoe lang bewaren jullie cv's van kandidaten in het algemeen?", "question"),
    ("Welke rechtsgrond gebruiken jullie voor de enquête?", "question"),
    ("Is het normaal dat mijn werkgever mijn ziekteverlof kent? Gewoon een vraag.", "question"),
    ("Ik vroeg me af wie bij jullie de functionaris voor gegevensbescherming is?", "question"),
    ("Factuur 2026-114 voor de opleiding, te betalen binnen 30 dagen.", "other"),
    ("Uitnodiging: overleg over het verwerkingsregister dinsdag.", "other"),
    ("Verwijder mijn account en al mijn gegevens.", "request"),
    ("Ik wil inzage in mijn dossier.", "request"),
]


def test_kinds_in_the_corpus_train_a_question_column(tmp_path: Path) -> None:
    examples = read_corpus(sorted(write_corpus(tmp_path).glob("*.jsonl")))
    texts = [("", e.text) for e in examples] + [("", t) for t, _ in QUESTIONS] * 2
    rights = [e.rights for e in examples] + [
        ("erasure",) if "Verwijder" in t else ("access",) if "inzage" in t else ()
        for t, _ in QUESTIONS] * 2
    # Only the rows with a kind (or a right, a request) train the column; the fixture corpus
    # rows without either are left out of it.
    kinds = [e.kind for e in examples] + [k for _, k in QUESTIONS] * 2
    model = train_linear(texts, rights, kinds=kinds)
    assert model.labels == (*RIGHTS, "question") and model.coef.shape[1] == len(RIGHTS) + 1
    ask = model.probabilities("", "Ik vroeg me af hoe lang jullie dat bewaren in het algemeen?")
    order = model.probabilities("", "Verwijder mijn gegevens.")
    assert ask[-1] > 0.5 > order[-1]
    # Without kinds (or without a question among them) the model is the nine rights alone.
    assert train_linear(texts, rights).labels == RIGHTS
    model.save(tmp_path / "with-question")
    assert LinearModel.load(tmp_path / "with-question").labels == (*RIGHTS, "question")
    # training.predict reads the rights only: the question column is no right.
    assert predict({"xx": model}, [("", "Ik heb een vraag?", "nl")]).shape == (1, len(RIGHTS))


def test_corpus_kind_is_optional_and_checked(tmp_path: Path) -> None:
    good = {"text": "Een vraag.", "language": "nl", "rights": [], "source": "s"}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "kind": "question"}) + "\n",
                    encoding="utf-8")
    assert [e.kind for e in read_corpus([path])] == ["", "question"]
    path.write_text(json.dumps({**good, "kind": "vraag"}) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"c\.jsonl:1: 'kind'"):
        read_corpus([path])


def test_the_question_probability_feeds_the_question_signal_with_its_own_weights(
        tmp_path: Path, rules_dir: Path) -> None:
    (tmp_path / "thresholds.yaml").write_text(
        "model_weight: 20\nmodel_weight_against: 10\nquestion_model_weight: 8\n"
        "question_model_weight_against: 2\nthresholds:\n  question: 2.0\n", encoding="utf-8")
    thresholds = load_thresholds(tmp_path)
    assert thresholds.model_weights("question") == (8.0, 2.0)
    assert thresholds.model_weights("erasure") == (20.0, 10.0)
    (tmp_path / "thresholds.yaml").write_text("model_weight: 6\n", encoding="utf-8")
    assert load_thresholds(tmp_path).model_weights("question") == (6.0, 6.0)  # unless told

    clf = Classifier.load(rules_dir)
    clf.thresholds = replace(clf.thresholds, question_model_weight=8.0,
                             question_model_weight_against=2.0,
                             per_label={"question": 2.0})
    clf.model = ExplainedModel({"access": 0.1, "question": 0.9})
    asked = clf.classify("", "Hoe lang bewaren jullie dat in het algemeen", language="nl")
    assert asked.rights == () and asked.topic == "question"
    line = next(x for x in asked.explanation if x.startswith("model question"))
    assert line.startswith("model question 0.90 +6.4") and "words:" in line  # the model alone
    clf.model = FixedModel({"access": 0.1, "question": 0.55})  # +0.8: not a question alone
    assert clf.classify("", "Hoe lang bewaren jullie dat", language="nl").topic == "unknown"
    # A right found wins over the question: the signal only decides mail without a right.
    clf.model = FixedModel({"access": 0.95, "question": 0.95})
    both = clf.classify("", "Ik wil inzage.", language="nl")
    assert both.rights == ("access",) and both.topic == "request"


def test_a_clear_question_sets_the_rights_found_aside_and_asks_for_review(
        tmp_path: Path, rules_dir: Path) -> None:
    """"How do I file a complaint with the APD?" has a complaint's words; when the model reads
    a question more clearly than any right, the rights are set aside for a question case,
    flagged, never silently."""
    clf = Classifier.load(rules_dir)
    text = "Hoe maak ik gebruik van mijn recht op inzage?"
    clf.model = FixedModel({"access": 0.3, "question": 0.9})
    assert clf.thresholds.question_over_rights == 0.7
    asked = clf.classify("", text, language="nl")
    assert asked.scores["access"] >= clf.thresholds.of("access")  # the scores say yes ...
    assert asked.rights == () and asked.topic == "question"  # ... the decision says question
    assert asked.set_aside == ("access",) and asked.needs_review and asked.confidence <= 0.5
    assert "read as a question, rights set aside: access" in asked.review_reasons
    assert any(line.startswith("question 0.90 above every right: access set aside")
               for line in asked.explanation)
    # Below the bar, or not above every right, the right stays.
    for probabilities in ({"access": 0.3, "question": 0.65}, {"access": 0.92, "question": 0.9}):
        clf.model = FixedModel(probabilities)
        assert clf.classify("", text, language="nl").rights == ("access",)
    clf.model = FixedModel({"access": 0.3, "question": 0.9})
    clf.thresholds = replace(clf.thresholds, question_over_rights=None)  # switched off
    assert clf.classify("", text, language="nl").rights == ("access",)

    (tmp_path / "thresholds.yaml").write_text("question_over_rights: null\n", encoding="utf-8")
    assert load_thresholds(tmp_path).question_over_rights is None
    (tmp_path / "thresholds.yaml").write_text("question_over_rights: 0.4\n", encoding="utf-8")
    with pytest.raises(RuleError, match="question_over_rights"):
        load_thresholds(tmp_path)


def test_a_followup_needs_a_clearer_right(tmp_path: Path, rules_dir: Path) -> None:
    """A reply to a known case speaks the words of the request it continues: with
    `followup_raise` every right's threshold is higher there, and only there."""
    clf = Classifier.load(rules_dir)
    clf.thresholds = replace(clf.thresholds, followup_raise=4.0, model_weight=20.0,
                             model_weight_against=5.0)
    clf.model = FixedModel({"access": 0.6})  # +4 points: above 3.0, below 3.0 + 4
    text = "Dank u, ik wacht op uw antwoord."
    assert clf.classify("", text, language="nl").rights == ("access",)
    followup = clf.classify("", text, language="nl", followup=True)
    assert followup.rights == ()
    assert "access 4.00 < 7.00: no" in followup.explanation
    assert any("continues a known case (followup_raise)" in line for line in followup.explanation)
    clf.model = FixedModel({"access": 0.95})  # +18: clear enough in a follow-up too
    assert clf.classify("", text, language="nl", followup=True).rights == ("access",)
    assert clf.thresholds.for_followup().of("access") == clf.thresholds.of("access") + 4.0
    assert clf.thresholds.for_followup().of("question") == clf.thresholds.of("question")

    assert load_thresholds(tmp_path).followup_raise == 0.0  # no file: off
    (tmp_path / "thresholds.yaml").write_text("followup_raise: 4\n", encoding="utf-8")
    assert load_thresholds(tmp_path).followup_raise == 4.0
    (tmp_path / "thresholds.yaml").write_text("followup_raise: -1\n", encoding="utf-8")
    with pytest.raises(RuleError, match="followup_raise"):
        load_thresholds(tmp_path)
