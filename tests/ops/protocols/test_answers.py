"""What counts as a good embeddings, rerank or error answer."""

from __future__ import annotations

import json

import pytest

from infra.ops.protocols.answers import (
    embeddings_problems,
    error_detail,
    json_answer,
    prompt_tokens,
    rerank_problems,
)


def embeddings(*vectors: list) -> dict:
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    return {"object": "list", "data": data, "usage": {"prompt_tokens": 9, "total_tokens": 9}}


def test_one_embedding_per_input_all_of_one_length_is_good():
    document = embeddings([0.1, 0.2], [0.3, -1])
    assert embeddings_problems(document, 2) == [] and prompt_tokens(document) == 9


@pytest.mark.parametrize(
    ("document", "inputs", "problems"),
    [
        ([[0.1]], 1, ["answer lacks 'data', the list of embeddings"]),
        (embeddings([0.1]), 2, ["1 embeddings for 2 inputs"]),
        (embeddings([0.1], []), 2, ["data[1].embedding is not a list of numbers"]),
        (embeddings([0.1], ["x"]), 2, ["data[1].embedding is not a list of numbers"]),
        (embeddings([0.1, 0.2], [0.3]), 2, ["embeddings of different lengths: 1, 2"]),
    ],
)
def test_embeddings_problems_are_named(document, inputs, problems):
    assert embeddings_problems(document, inputs) == problems


def test_one_score_per_text_is_a_good_rerank():
    assert rerank_problems([{"index": 1, "score": 0.9}, {"index": 0, "score": 0.1}], 2) == []


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        ({"results": []}, ["answer is not a list of {index, score}"]),
        ([{"index": 0, "score": 0.5}], ["1 scores for 2 texts"]),
        ([{"index": 0, "score": 0.5}, {"index": 0, "score": 0.4}], ["text 0 is scored twice"]),
        ([{"index": 5, "score": 0.5}, {"index": 0, "score": "high"}],
         ["[0].index is not a text's index (0-1)", "[1].score is not a number"]),
    ],
)  # fmt: skip
def test_rerank_problems_are_named(document, problems):
    assert rerank_problems(document, 2) == problems


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            json.dumps({"error": {"message": "the engine is overloaded", "code": 503}}),
            "the engine is overloaded",
        ),
        (json.dumps({"object": "error", "message": "unknown model"}), "unknown model"),  # older vLLM
        (
            json.dumps({"error": "Input validation error", "error_type": "Validation"}),
            "Input validation error",
        ),
        ("upstream connect error", "upstream connect error"),
    ],
)
def test_an_error_answer_is_told_in_the_servers_words(body, detail):
    assert error_detail(body.encode()) == detail
    assert json_answer(503, "application/json", body.encode()) == (
        None,
        [f"status 503, expected 200: {detail}"],
    )


def test_a_non_json_answer_is_named():
    assert json_answer(200, "text/html", b"<html>") == (
        None,
        ["content type 'text/html', expected 'application/json'"],
    )
    assert json_answer(200, "application/json", b"{") == (None, ["response is not valid JSON"])
    assert json_answer(200, "application/json", b"") == (None, ["empty response body"])
