"""rnnprune's models in PyTorch: build a torch.nn.Module from an exported JSON config and load
the state dict rnnprune wrote (models/torch_export.h) with strict=True.

Runs on Debian's python3-torch (1.13, installed by tools/bootstrap.sh), with no other package:

    import rnnprune_torch
    model = rnnprune_torch.load(folder)   # folder/config.json + folder/model.pt, eval mode
    logits, state = model(tokens)         # an LstmLm: tokens [T, B] int64
    start_logits, end_logits = model(batch)   # a Bidaf: batch, a dict of tensors

Shapes: T (time steps), B (batch), V (vocabulary), E (embedding size), H_l (hidden units of
layer l), I_l (inputs of layer l); for BiDAF Tc / Tq (context / question tokens), W (characters
per word), d (hidden size per direction) and D = word_dim + char_channels.
"""

import json
import os

import torch
from torch import nn
from torch.nn import functional as F

class LstmLm(nn.Module):
    """The word-level LSTM LM of models/lstm_lm.h (Zaremba et al. 2014): embedding [V, E], one
    nn.LSTM per layer (lstm0, lstm1, ...; sizes may differ after pruning) and a decoder [V, H_L].
    Layer l >= 1 reads the first I_l units of layer l-1's output (config "input_sizes"; all of
    them when absent), as compacted models are laid out (pruning/compaction.h)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        hidden = config["hidden_sizes"]
        inputs = config.get("input_sizes") or [config["embedding_size"]] + hidden[:-1]
        self.input_sizes = inputs
        self.embedding = nn.Embedding(config["vocab_size"], config["embedding_size"])
        for layer, (i, h) in enumerate(zip(inputs, hidden)):
            setattr(self, "lstm%d" % layer, nn.LSTM(i, h))
        self.decoder = nn.Linear(hidden[-1], config["vocab_size"])

    def forward(self, tokens, state=None):
        """tokens [T, B] int64; state: None (zeros) or a list of (h, c) per layer, each
        [1, B, H_l]. Returns logits [T, B, V] float32 and the state after the last step."""
        x = self.embedding(tokens)
        new_state = []
        for layer, width in enumerate(self.input_sizes):
            lstm = getattr(self, "lstm%d" % layer)
            x, hc = lstm(x[..., :width], None if state is None else state[layer])
            new_state.append(hc)
        return self.decoder(x), new_state


# The logit of a masked position (models/bidaf.h kBidafMaskedLogit).
MASKED_LOGIT = -1e30


def lstm_names(config):
    """Names and input widths of BiDAF's LSTMs, in models/bidaf.cc's order."""
    d = config["hidden_size"]
    names = [("contextual", config["word_dim"] + config["char_channels"])]
    for layer in range(config["modelling_layers"]):
        names.append(("modelling%d" % layer, 8 * d if layer == 0 else 2 * d))
    names.append(("output", 2 * d))
    return names


def reverse_within_lengths(x, lengths):
    """x [T, B, ...] with each column b reversed in its first lengths[b] steps (the rest kept)."""
    t = x.size(0)
    pos = torch.arange(t).unsqueeze(1)
    length = lengths.unsqueeze(0)
    index = torch.where(pos < length, length - 1 - pos, pos)
    index = index.view([t, x.size(1)] + [1] * (x.dim() - 2)).expand(x.size())
    return x.gather(0, index)


class Bidaf(nn.Module):
    """BiDAF (Seo et al., ICLR 2017) laid out as rnnprune's models/bidaf.h: one nn.LSTM per LSTM
    and direction (contextual_fw, contextual_bw, modelling0_fw, ..., output_bw), so that a pruned
    model's directions may have sizes of their own."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        d = config["hidden_size"]
        width = config["word_dim"] + config["char_channels"]
        self.word_embedding = nn.Embedding(config["word_vocab_size"], config["word_dim"])
        self.char_embedding = nn.Embedding(config["char_vocab_size"], config["char_dim"])
        self.char_conv = nn.Conv1d(config["char_dim"], config["char_channels"],
                                   config["char_kernel_width"])
        for layer in range(config["highway_layers"]):
            setattr(self, "highway%d_transform" % layer, nn.Linear(width, width))
            setattr(self, "highway%d_gate" % layer, nn.Linear(width, width))
        for name, inputs in lstm_names(config):
            for direction in ("fw", "bw"):
                setattr(self, "%s_%s" % (name, direction), nn.LSTM(inputs, d))
        self.w_similarity = nn.Parameter(torch.zeros(6 * d))
        self.w_start = nn.Parameter(torch.zeros(10 * d))
        self.w_end = nn.Parameter(torch.zeros(10 * d))

    def embed(self, words, chars):
        """words [B, T], chars [B, T, W] int64 -> highway outputs [B, T, D]."""
        b, t, w = chars.shape
        k = self.config["char_kernel_width"]
        valid = chars.ne(0)
        x = self.char_embedding(chars) * valid.unsqueeze(3).float()
        x = F.dropout(x, self.config["dropout"], self.training)
        x = F.pad(x.view(b * t, w, -1).transpose(1, 2), (0, k - 1))
        x = F.relu(self.char_conv(x))  # [BT, C, W]: one window starting at each character
        starts_in_word = torch.arange(w).view(1, 1, w) < valid.sum(2).view(b * t, 1, 1)
        chars_out = x.masked_fill(~starts_in_word, 0.0).max(2).values.view(b, t, -1)
        y = torch.cat([self.word_embedding(words), chars_out], 2)
        for layer in range(self.config["highway_layers"]):
            gate = torch.sigmoid(getattr(self, "highway%d_gate" % layer)(y))
            y = gate * F.relu(getattr(self, "highway%d_transform" % layer)(y)) + (1 - gate) * y
        return y

    def bilstm(self, name, x, lengths):
        """x [B, T, I], lengths [B] -> [B, T, 2d]: the forward LSTM, and the backward one run on
        each sequence reversed within its length."""
        xt = x.transpose(0, 1)
        forward = getattr(self, name + "_fw")(xt)[0]
        backward = getattr(self, name + "_bw")(reverse_within_lengths(xt, lengths))[0]
        return torch.cat([forward, reverse_within_lengths(backward, lengths)], 2).transpose(0, 1)

    def dropout(self, x):
        return F.dropout(x, self.config["dropout"], self.training)

    def forward(self, batch):
        """batch: context_words [B, Tc], context_chars [B, Tc, W], context_mask [B, Tc] (bool,
        right padded), question_words / question_chars / question_mask likewise. Returns the
        start and end logits [B, Tc] float32, MASKED_LOGIT at padding (Seo et al. Eq. 1-5)."""
        c_mask, q_mask = batch["context_mask"], batch["question_mask"]
        c_len, q_len = c_mask.sum(1), q_mask.sum(1)
        d2 = 2 * self.config["hidden_size"]
        h = self.bilstm("contextual", self.dropout(
            self.embed(batch["context_words"], batch["context_chars"])), c_len)
        u = self.bilstm("contextual", self.dropout(
            self.embed(batch["question_words"], batch["question_chars"])), q_len)
        w = self.w_similarity
        s = (torch.matmul(h, w[:d2]).unsqueeze(2) + torch.matmul(u, w[d2:2 * d2]).unsqueeze(1)
             + torch.bmm(h * w[2 * d2:], u.transpose(1, 2)))
        s = s.masked_fill(~q_mask.unsqueeze(1), MASKED_LOGIT)
        u_tilde = torch.bmm(torch.softmax(s, 2), u)
        b_att = torch.softmax(s.max(2).values.masked_fill(~c_mask, MASKED_LOGIT), 1)
        h_tilde = torch.bmm(b_att.unsqueeze(1), h).expand(-1, h.size(1), -1)
        g = torch.cat([h, u_tilde, h * u_tilde, h * h_tilde], 2)
        m = g
        for layer in range(self.config["modelling_layers"]):
            m = self.bilstm("modelling%d" % layer, self.dropout(m), c_len)
        start = torch.matmul(self.dropout(torch.cat([g, m], 2)), self.w_start)
        m2 = self.bilstm("output", self.dropout(m), c_len)
        end = torch.matmul(self.dropout(torch.cat([g, m2], 2)), self.w_end)
        return start.masked_fill(~c_mask, MASKED_LOGIT), end.masked_fill(~c_mask, MASKED_LOGIT)


def bidaf_loss(start_logits, end_logits, answer_first, answer_last):
    """Mean over the batch of -log p1(first) - log p2(last), in nats (models/bidaf.h)."""
    ls = torch.log_softmax(start_logits, 1).gather(1, answer_first.unsqueeze(1))
    le = torch.log_softmax(end_logits, 1).gather(1, answer_last.unsqueeze(1))
    return -(ls + le).mean()


def load(folder):
    """The model of folder/config.json (an LstmLmConfig or a BidafConfig, as rnnprune writes them)
    with folder/model.pt loaded strictly (every key present, none extra, shapes equal), in eval
    mode: an LstmLm or a Bidaf."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = Bidaf(config) if "word_vocab_size" in config else LstmLm(config)
    model.load_state_dict(torch.load(os.path.join(folder, "model.pt")), strict=True)
    return model.eval()
