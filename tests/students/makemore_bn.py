"""A student's manual backprop through a character-level MLP with batch norm, written as
in Karpathy's "Becoming a backprop ninja" (makemore part 4): torch tensors, a flat
``parameters`` list, batch norm with Bessel's correction (1/(n-1)) in the batch variance,
every gradient derived by hand (``loss.backward()`` never called). float64, so that
finite differences can check it too.

Batch norm subtracts the batch mean, so the loss does not depend on ``b1`` at all: its
true gradient is 0, and the student's ``db1`` is a rounding residue (~1e-17).
"""

import torch
import torch.nn.functional as F


class MLP:
    def __init__(self, vocab_size=6, n_embd=2, block_size=3, n_hidden=4, seed=2147483647):
        g = torch.Generator().manual_seed(seed)
        dt = torch.float64
        fan_in = n_embd * block_size
        self.C = torch.randn((vocab_size, n_embd), generator=g, dtype=dt)
        self.W1 = torch.randn((fan_in, n_hidden), generator=g, dtype=dt) * (5 / 3) / fan_in**0.5
        self.b1 = torch.randn(n_hidden, generator=g, dtype=dt) * 0.1  # useless: batch norm
        self.W2 = torch.randn((n_hidden, vocab_size), generator=g, dtype=dt) * 0.1
        self.b2 = torch.randn(vocab_size, generator=g, dtype=dt) * 0.1
        self.bngain = torch.randn((1, n_hidden), generator=g, dtype=dt) * 0.1 + 1.0
        self.bnbias = torch.randn((1, n_hidden), generator=g, dtype=dt) * 0.1
        self.parameters = [self.C, self.W1, self.b1, self.W2, self.b2, self.bngain,
                           self.bnbias]

    def loss_and_grads(self, Xb, Yb):
        C, W1, b1, W2, b2, bngain, bnbias = self.parameters
        n = Xb.shape[0]
        # forward, "chunkated" into small steps
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hprebn = embcat @ W1 + b1
        bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
        bndiff = hprebn - bnmeani
        bndiff2 = bndiff**2
        bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdim=True)  # Bessel's correction
        bnvar_inv = (bnvar + 1e-5) ** -0.5
        bnraw = bndiff * bnvar_inv
        hpreact = bngain * bnraw + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        # backward, by hand
        with torch.no_grad():
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h**2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                                - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            dC.index_add_(0, Xb.view(-1), demb.view(-1, C.shape[1]))  # each row used
        return loss, [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
