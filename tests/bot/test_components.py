"""The custom NLU components, each on real inputs (no trained model needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.bilingual_tokenizer import BilingualTokenizer, split_runs
from bot.components.fallback_guard import FallbackGuard, unknown_share
from bot.components.linear_intent_classifier import LinearIntentClassifier
from bot.components.sentence_encoder import SentenceEncoderFeaturizer

EXAMPLES = {
    "greet": ["你好", "在吗", "hello", "hi there", "早上好", "good morning"],
    "order_status": ["我的订单到哪了", "快递什么时候到", "where is my order", "when will my parcel arrive",
                     "物流怎么还没更新", "track my package please"],
    "faq/shipping_fee": ["运费多少钱", "包邮吗", "how much is shipping", "is delivery free", "邮费谁出",
                         "shipping cost?"],
    "faq/invoice": ["怎么开发票", "可以开增值税发票吗", "can I get an invoice", "I need a VAT receipt",
                    "发票怎么申请", "how do I request an invoice"],
}  # fmt: skip


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("storage"))


@pytest.fixture(scope="module")
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


@pytest.fixture(scope="module")
def tokenizer(storage: LocalModelStorage, context: ExecutionContext) -> BilingualTokenizer:
    return BilingualTokenizer.create(BilingualTokenizer.get_default_config(), storage, Resource("tok"), context)


@pytest.fixture(scope="module")
def encoder(storage: LocalModelStorage, context: ExecutionContext) -> SentenceEncoderFeaturizer:
    config = SentenceEncoderFeaturizer.get_default_config()
    return SentenceEncoderFeaturizer.create(config, storage, Resource("use"), context)


@pytest.fixture(scope="module")
def pipeline(storage, context, tokenizer, encoder):  # type: ignore[no-untyped-def]
    """Tokenizer → char n-grams → sentence embedding → classifier, trained on EXAMPLES."""
    messages = []
    for label, texts in EXAMPLES.items():
        for text in texts:
            data = {TEXT: text, INTENT: label.split("/")[0]}
            if "/" in label:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    data = TrainingData(messages)
    tokenizer.process_training_data(data)
    counts = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        storage, Resource("cvf"), context,
    )  # fmt: skip
    counts.train(data)
    counts.process_training_data(data)
    encoder.process_training_data(data)
    classifier = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(), storage, Resource("lin"), context)
    classifier.train(data)

    def parse(text: str) -> Message:
        message = Message(data={TEXT: text})
        for component in (tokenizer, counts, encoder, classifier):
            component.process([message])
        return message

    return parse


def test_split_runs_mixed_text() -> None:
    assert split_runs("我的order到哪了") == [("我的", 0, True), ("order", 2, False), ("到哪了", 7, True)]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("我的order E20261120001到哪了", ["我", "的", "order", "E20261120001", "到", "哪", "了"]),
        ("转人工 please!!", ["转", "人工", "please"]),
        ("😡😡", ["😡", "😡"]),
        ("   ", [" "]),
    ],
)
def test_tokenizer(tokenizer: BilingualTokenizer, text: str, tokens: list[str]) -> None:
    got = [t.text for t in tokenizer.tokenize(Message(data={TEXT: text}), TEXT)]
    assert got == tokens or (text.strip() == "" and len(got) == 1)


def test_sentence_embedding_aligns_languages(encoder: SentenceEncoderFeaturizer) -> None:
    messages = [Message(data={TEXT: t}) for t in ("退款多久到账", "how long does a refund take", "今天天气怎么样")]
    encoder.process(messages)
    vectors = [m.get_dense_features(TEXT)[1].features.reshape(-1) for m in messages]
    assert vectors[0].shape == (512,)
    assert float(np.dot(vectors[0], vectors[1])) > float(np.dot(vectors[1], vectors[2])) + 0.3


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [("订单到哪里了", "order_status", None), ("hello!", "greet", None), ("请问包邮吗", "faq", "faq/shipping_fee"),
     ("invoice please, how?", "faq", "faq/invoice")],
)  # fmt: skip
def test_linear_classifier_predicts_intents_and_answers(pipeline, text: str, intent: str, answer: str | None) -> None:  # type: ignore[no-untyped-def]
    message = pipeline(text)
    assert message.get(INTENT)["name"] == intent
    ranking = message.get("intent_ranking")
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    selected = message.get("response_selector")["faq"]["response"]
    assert selected["utter_action"] == f"utter_{selected['intent_response_key']}"
    if answer:
        assert selected["intent_response_key"] == answer


def test_linear_classifier_survives_a_blank_message(pipeline) -> None:  # type: ignore[no-untyped-def]
    assert pipeline("")  # no exception; the guard below turns it into a fallback


def _guard(storage, context, vocabulary):  # type: ignore[no-untyped-def]
    return FallbackGuard(FallbackGuard.get_default_config(), storage, Resource("guard"), set(vocabulary))


@pytest.mark.parametrize(
    ("text", "tokens", "intent", "confidence", "fallback"),
    [
        ("", [], "greet", 0.9, True),
        ("？？？", ["？？？"], "affirm", 0.9, True),
        ("qwzx plorf vuut", ["qwzx", "plorf", "vuut"], "thank", 0.4, True),
        ("qwzx plorf vuut", ["qwzx", "plorf", "vuut"], "thank", 0.95, False),  # the classifier is sure
        ("hiii", ["hiii"], "greet", 0.4, False),  # a single word is not enough to call it mash
        ("where is my order", ["where", "is", "my", "order"], "order_status", 0.5, False),
        ("😡😡", ["😡", "😡"], "complain", 0.9, False),
    ],
)
def test_fallback_guard(storage, context, text, tokens, intent, confidence, fallback) -> None:  # type: ignore[no-untyped-def]
    from rasa.nlu.tokenizers.tokenizer import Token

    guard = _guard(storage, context, ["where", "is", "my", "order", "hello"])
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": confidence}})
    message.set("text_tokens", [Token(t, 0) for t in tokens])
    guard.process([message])
    assert (message.get(INTENT)["name"] == "nlu_fallback") is fallback


def test_fallback_guard_rejects_a_poor_faq_match(storage, context) -> None:  # type: ignore[no-untyped-def]
    guard = _guard(storage, context, ["purple"])
    message = Message(data={TEXT: "purple", INTENT: {"name": "faq", "confidence": 0.9}})
    message.set("response_selector", {"faq": {"response": {"confidence": 0.05}}})
    guard.process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_unknown_share_ignores_numbers_and_punctuation() -> None:
    assert unknown_share(["E20261120001", "！", "where"], {"where"}) == 0.0
    assert unknown_share(["？"], set()) is None


def test_tokenizer_persists_dictionary(tmp_path: Path, context: ExecutionContext) -> None:
    storage = LocalModelStorage(tmp_path)
    config = {**BilingualTokenizer.get_default_config(), "dictionary_path": str(Path(__file__).resolve().parents[2] / "nlu_data" / "jieba")}
    resource = Resource("dict")
    BilingualTokenizer.create(config, storage, resource, context).train(TrainingData())
    loaded = BilingualTokenizer.load(config, storage, resource, context)
    assert [t.text for t in loaded.tokenize(Message(data={TEXT: "我要转人工"}), TEXT)][-1] == "转人工"
