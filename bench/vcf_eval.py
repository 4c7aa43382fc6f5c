#!/usr/bin/env python3
"""Genotype-aware comparison of a call set with a truth set (a bench helper; stdlib only).

Both VCFs are normalised the same way with bcftools (split multi-allelic records, left-align
against the reference, atomise complex alleles into SNPs and simple indels) and only records with
FILTER PASS or '.' are kept. Samples are matched by name, or by position when each file has one.
For every (sample, variant) a dosage (0, 1, 2 copies of the ALT allele) is taken from GT:
  TP: truth dosage > 0 and called dosage == truth dosage
  FP: called dosage > 0 and != truth dosage     FN: truth dosage > 0 and called dosage != truth dosage
(a call with the right allele and the wrong dosage counts once as FP and once as FN, as vcfeval's
genotype mode does). Prints precision, recall and F1 for SNPs and indels.

usage: vcf_eval.py --ref REF.fa --truth TRUTH.vcf.gz --calls CALLS.vcf.gz [--bed BED] [--label L] [--json OUT]
"""
import argparse
import collections
import json
import subprocess
import sys


def normalised(vcf, ref, bed):
    view = ["bcftools", "view", "-f", "PASS,.", "-Ou", vcf]
    if bed:
        view[2:2] = ["-T", bed]
    cmd = " ".join(view) + f" | bcftools norm -m -any -f {ref} -Ou - 2>/dev/null | bcftools norm -a -f {ref} -Ou - 2>/dev/null" \
          f" | bcftools norm -m -any -f {ref} -Ou - 2>/dev/null" \
          " | bcftools query -f '%CHROM\\t%POS\\t%REF\\t%ALT[\\t%GT]\\n'"
    samples = subprocess.run(["bcftools", "query", "-l", vcf], check=True, capture_output=True, text=True).stdout.split()
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True, capture_output=True, text=True).stdout
    calls = collections.defaultdict(dict)  # sample -> key -> dosage
    for line in out.splitlines():
        f = line.split("\t")
        key = (f[0], int(f[1]), f[2], f[3])
        if f[3] in ("*", "."):
            continue
        for s, gt in zip(samples, f[4:]):
            d = sum(1 for a in gt.replace("|", "/").split("/") if a not in (".", "0"))
            if d > 0:
                calls[s][key] = max(calls[s].get(key, 0), min(d, 2))
    return samples, calls


def kind(key):
    return "SNP" if len(key[2]) == 1 and len(key[3]) == 1 else "indel"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--calls", required=True)
    ap.add_argument("--bed")
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    a = ap.parse_args()
    t_samples, truth = normalised(a.truth, a.ref, a.bed)
    c_samples, calls = normalised(a.calls, a.ref, a.bed)
    if len(t_samples) == 1 and len(c_samples) == 1:
        pairs = [(t_samples[0], c_samples[0])]
    else:
        pairs = [(s, s) for s in c_samples if s in set(t_samples)]
        if not pairs:
            sys.exit("vcf_eval: no sample in common between truth and calls")
    n = {k: collections.Counter() for k in ("SNP", "indel")}
    for ts, cs in pairs:
        t, c = truth.get(ts, {}), calls.get(cs, {})
        for key, d in t.items():
            if c.get(key, 0) == d:
                n[kind(key)]["tp"] += 1
            else:
                n[kind(key)]["fn"] += 1
        for key, d in c.items():
            if t.get(key, 0) != d:
                n[kind(key)]["fp"] += 1
    res = {}
    for k, v in n.items():
        tp, fp, fn = v["tp"], v["fp"], v["fn"]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        res[k] = dict(tp=tp, fp=fp, fn=fn, precision=p, recall=r, f1=f1)
        print(f"{a.label:34s} {k:6s} TP {tp:7d} FP {fp:6d} FN {fn:6d}  precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh)


if __name__ == "__main__":
    main()
