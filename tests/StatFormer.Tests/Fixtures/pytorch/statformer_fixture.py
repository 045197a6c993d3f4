#!/usr/bin/python3
"""Independent PyTorch references for StatFormer's interop tests (run with /usr/bin/python3 and Debian's python3-torch).

Nothing here imports StatFormer: the models are written from their definitions in plain PyTorch.

  lm-reference OUT CONFIG   a StatFormer-layout LM (CONFIG: the LmConfig JSON tree) with random weights: OUT/state.pt
                            (torch.save), OUT/state.safetensors, OUT/ids.json and OUT/logits.f32 (float32 little endian)
  lm-logits WEIGHTS CONFIG IDS OUT
                            loads WEIGHTS (torch.save or safetensors) into that model with strict load_state_dict and
                            writes its logits for IDS (a JSON [B][T] list) to OUT
  gpt2-reference OUT        a small GPT-2 in Hugging Face's layout (Conv1D weights [in, out], causal-mask buffers, tied
                            head) with random weights: OUT/bin/{config.json,pytorch_model.bin} as save_pretrained writes
                            them, OUT/safetensors/{config.json,model.safetensors} in the original checkpoints' key
                            names, OUT/ids.json and OUT/logits.f32 from a GPT-2 forward written here
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# ---------------------------------------------------------------- safetensors, from the format's specification
def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    body = raw[8 + length:]
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtypes[entry["dtype"]]) if end > begin else torch.empty(0)
        out[name] = t.reshape(entry["shape"]).clone()
    return out


def load_any(path):
    with open(path, "rb") as f:
        zipped = f.read(4) == b"PK\x03\x04"
    return torch.load(path, map_location="cpu") if zipped else load_safetensors(path)


def write_logits(path, logits):
    with open(path, "wb") as f:
        f.write(logits.detach().contiguous().to(torch.float32).numpy().tobytes())


def fixed_ids(batch, length, vocab):
    return [[(7 * b + 13 * t * t + 3) % vocab for t in range(length)] for b in range(batch)]


# ---------------------------------------------------------------- the StatFormer LM, in plain PyTorch
class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(c // self.heads)
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class FeedForward(nn.Module):
    def __init__(self, d, hidden, tanh):
        super().__init__()
        self.up = nn.Linear(d, hidden)
        self.down = nn.Linear(hidden, d)
        self.tanh = tanh

    def forward(self, x):
        h = self.up(x)
        return self.down(gelu_tanh(h) if self.tanh else F.gelu(h))


class Block(nn.Module):
    def __init__(self, d, heads, hidden, tanh):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.ffn = FeedForward(d, hidden, tanh)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))


class StatFormerLm(nn.Module):
    """TransformerLm of a dense softmax LmConfig: token + position embeddings, pre-LN blocks, final LN, tied output."""

    def __init__(self, config):
        super().__init__()
        s = config["stack"]
        d = s["d_model"]
        self.tokenEmbedding = nn.Embedding(config["vocab_size"], d)
        self.positionEmbedding = nn.Embedding(config["seq_len"], d)
        tanh = s.get("activation", "gelu") == "gelu_tanh"
        self.blocks = nn.ModuleList([Block(d, s["heads"], s.get("ffn_multiplier", 4) * d, tanh) for _ in range(s["layers"])])
        self.finalNorm = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.tokenEmbedding(ids) + self.positionEmbedding(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.finalNorm(x) @ self.tokenEmbedding.weight.t()


def randomise(module, std=0.3):
    # Every tensor random, LayerNorm gains and biases included, so a wrong mapping of any of them shows in the logits.
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, std)


def lm_reference(out, config_path):
    with open(config_path) as f:
        config = json.load(f)
    torch.manual_seed(SEED)
    model = StatFormerLm(config).eval()
    randomise(model)
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, "state.pt"))
    save_safetensors(os.path.join(out, "state.safetensors"), model.state_dict())
    ids = fixed_ids(2, config["seq_len"], config["vocab_size"])
    with open(os.path.join(out, "ids.json"), "w") as f:
        json.dump(ids, f)
    with torch.no_grad():
        write_logits(os.path.join(out, "logits.f32"), model(torch.tensor(ids)))


def lm_logits(weights, config_path, ids_path, out):
    with open(config_path) as f:
        config = json.load(f)
    with open(ids_path) as f:
        ids = json.load(f)
    model = StatFormerLm(config).eval()
    model.load_state_dict(load_any(weights), strict=True)
    with torch.no_grad():
        write_logits(out, model(torch.tensor(ids)))


# ---------------------------------------------------------------- GPT-2 in Hugging Face's layout
GPT2 = {"n_layer": 2, "n_embd": 32, "n_head": 4, "n_positions": 48, "vocab_size": 50257}


def gpt2_state(cfg):
    """GPT2LMHeadModel.state_dict() key names and layouts, random values (Conv1D weights are [in, out])."""
    g = torch.Generator().manual_seed(SEED)
    c, n = cfg["n_embd"], cfg["n_positions"]

    def r(*shape, std=0.3):
        return torch.randn(*shape, generator=g) * std

    sd = {"transformer.wte.weight": r(cfg["vocab_size"], c, std=0.1), "transformer.wpe.weight": r(n, c, std=0.1)}
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        sd[p + "ln_1.weight"] = 1.0 + r(c)
        sd[p + "ln_1.bias"] = r(c)
        sd[p + "attn.bias"] = torch.tril(torch.ones(n, n, dtype=torch.bool)).view(1, 1, n, n)
        sd[p + "attn.masked_bias"] = torch.tensor(-1e4)
        sd[p + "attn.c_attn.weight"] = r(c, 3 * c)
        sd[p + "attn.c_attn.bias"] = r(3 * c)
        sd[p + "attn.c_proj.weight"] = r(c, c)
        sd[p + "attn.c_proj.bias"] = r(c)
        sd[p + "ln_2.weight"] = 1.0 + r(c)
        sd[p + "ln_2.bias"] = r(c)
        sd[p + "mlp.c_fc.weight"] = r(c, 4 * c)
        sd[p + "mlp.c_fc.bias"] = r(4 * c)
        sd[p + "mlp.c_proj.weight"] = r(4 * c, c)
        sd[p + "mlp.c_proj.bias"] = r(c)
    sd["transformer.ln_f.weight"] = 1.0 + r(c)
    sd["transformer.ln_f.bias"] = r(c)
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied: the same storage, as save_pretrained writes it
    return sd


def conv1d(x, w, b):
    return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).reshape(*x.shape[:-1], w.shape[-1])


def gpt2_forward(sd, cfg, ids):
    """GPT2LMHeadModel's forward in eval mode (no dropout), from the model's definition."""
    c, h = cfg["n_embd"], cfg["n_head"]
    t = ids.shape[1]
    x = sd["transformer.wte.weight"][ids] + sd["transformer.wpe.weight"][torch.arange(t)]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        a = F.layer_norm(x, (c,), sd[p + "ln_1.weight"], sd[p + "ln_1.bias"], eps=1e-5)
        q, k, v = conv1d(a, sd[p + "attn.c_attn.weight"], sd[p + "attn.c_attn.bias"]).split(c, dim=2)
        q, k, v = (z.view(z.shape[0], t, h, c // h).transpose(1, 2) for z in (q, k, v))
        w = q @ k.transpose(-1, -2) / math.sqrt(c // h)
        w = torch.where(sd[p + "attn.bias"][:, :, :t, :t], w, torch.tensor(torch.finfo(w.dtype).min))
        y = (torch.softmax(w, dim=-1) @ v).transpose(1, 2).reshape(x.shape[0], t, c)
        x = x + conv1d(y, sd[p + "attn.c_proj.weight"], sd[p + "attn.c_proj.bias"])
        m = F.layer_norm(x, (c,), sd[p + "ln_2.weight"], sd[p + "ln_2.bias"], eps=1e-5)
        m = gelu_tanh(conv1d(m, sd[p + "mlp.c_fc.weight"], sd[p + "mlp.c_fc.bias"]))
        x = x + conv1d(m, sd[p + "mlp.c_proj.weight"], sd[p + "mlp.c_proj.bias"])
    x = F.layer_norm(x, (c,), sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"], eps=1e-5)
    return x @ sd["lm_head.weight"].t()


def gpt2_reference(out):
    cfg = GPT2
    sd = gpt2_state(cfg)
    config = {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-05, "n_ctx": cfg["n_positions"], "n_inner": None, "resid_pdrop": 0.1,
        "embd_pdrop": 0.1, "attn_pdrop": 0.1, "scale_attn_weights": True, "tie_word_embeddings": True, **cfg,
    }
    for sub in ("bin", "safetensors"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        with open(os.path.join(out, sub, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
    torch.save(sd, os.path.join(out, "bin", "pytorch_model.bin"))
    # The original GPT-2 checkpoints' names: no "transformer." prefix, no head, no mask buffers.
    plain = {k[len("transformer."):]: v for k, v in sd.items() if k.startswith("transformer.") and not k.endswith((".attn.bias", ".attn.masked_bias"))}
    save_safetensors(os.path.join(out, "safetensors", "model.safetensors"), plain)
    ids = fixed_ids(2, 16, cfg["vocab_size"])
    with open(os.path.join(out, "ids.json"), "w") as f:
        json.dump(ids, f)
    with torch.no_grad():
        write_logits(os.path.join(out, "logits.f32"), gpt2_forward(sd, cfg, torch.tensor(ids)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    command, args = sys.argv[1], sys.argv[2:]
    {"lm-reference": lm_reference, "lm-logits": lm_logits, "gpt2-reference": gpt2_reference}[command](*args)
