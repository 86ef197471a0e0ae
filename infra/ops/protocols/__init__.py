"""Speaking each serving runtime over HTTP: what to send, how to read what comes back.

``smoke`` and ``loadtest`` on a ``--url`` target use these, whatever serves the
model: our container (``/invocations``), vLLM (OpenAI chat completions, streamed)
or Text Embeddings Inference (OpenAI embeddings, or TEI's rerank).
- ``requests``: the request each runtime expects, built from a target (pure);
- ``sse``: server-sent events and a streamed chat completion's token timing (pure);
- ``answers``: what is wrong with an answer, per request kind (pure);
- ``client``: one exchange through httpx, timed.
Nothing here reads settings or stack files: ``infra.ops.url_target`` does.
"""
