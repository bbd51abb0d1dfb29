"""Checks that tools/rnnprune_torch.py's modules, built from exported configs and state dicts,
compute what rnnprune's C++ models computed (tools/torch_parity_case.cc wrote both):
  lm_dense, lm_compacted: the logits of two consecutive PTB windows (state carried), 1e-5;
  bidaf: the start and end logits at every real context position and the loss, 1e-5, and every
         parameter's gradient of the loss, 1e-4;
each as max |difference| / max |C++ value|. Exits 1 naming the tensors that differ.

    python3 tools/torch_parity_check.py FOLDER
"""

import sys

import torch

import rnnprune_torch


def relative_error(got, want):
    """max |got - want| / max(max |want|, 1e-12)."""
    return ((got - want).abs().max() / want.abs().max().clamp_min(1e-12)).item()


def lm_checks(folder):
    model = rnnprune_torch.load(folder)
    case = torch.load(folder + "/case.pt")
    with torch.no_grad():
        logits1, state = model(case["input1"])
        logits2, _ = model(case["input2"], state)
    return [("logits1", logits1, case["logits1"], 1e-5),
            ("logits2", logits2, case["logits2"], 1e-5)]


def bidaf_checks(folder):
    model = rnnprune_torch.load(folder)
    case = torch.load(folder + "/case.pt")
    start, end = model(case)
    loss = rnnprune_torch.bidaf_loss(start, end, case["answer_first"], case["answer_last"])
    loss.backward()
    real = case["context_mask"]
    checks = [("start_logits", start[real], case["start_logits"][real], 1e-5),
              ("end_logits", end[real], case["end_logits"][real], 1e-5),
              ("loss", loss, case["loss"], 1e-5)]
    for name, param in model.named_parameters():
        checks.append(("grad." + name, param.grad, case["grad." + name], 1e-4))
    return checks


def main(folder):
    torch.set_num_threads(1)
    failures, count = [], 0
    for name, checks in (("lm_dense", lm_checks), ("lm_compacted", lm_checks),
                         ("bidaf", bidaf_checks)):
        for tensor, got, want, tolerance in checks(folder + "/" + name):
            error = relative_error(got.detach(), want)
            count += 1
            print("%-12s %-36s relative error %.2e (tolerance %.0e)"
                  % (name, tensor, error, tolerance))
            if not error <= tolerance:
                failures.append(name + " " + tensor)
    if failures:
        print("FAILED: %d of %d tensors differ: %s" % (len(failures), count, ", ".join(failures)))
        return 1
    print("OK: %d tensors agree (PyTorch %s)" % (count, torch.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
