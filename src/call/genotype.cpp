#include "genoforest/call/genotype.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace genoforest::call {

namespace {

constexpr double kPhredPerLog = 10.0 / 2.302585092994046;  // -10 log10(x) = -kPhredPerLog ln(x)

double log_sum_exp(double a, double b) {
  const double m = std::max(a, b);
  if (m == -INFINITY) return m;
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

/// Hardy-Weinberg genotype frequencies for allele frequencies `f`.
void hwe_prior(const std::vector<double>& f, std::vector<double>& prior) {
  const int n = static_cast<int>(f.size());
  prior.assign(static_cast<std::size_t>(genotype_count(n)), 0.0);
  for (int k = 0; k < n; ++k) {
    for (int j = 0; j <= k; ++j) prior[static_cast<std::size_t>(genotype_index(j, k))] = (j == k ? 1.0 : 2.0) * f[j] * f[k];
  }
}

}  // namespace

void add_read(SampleEvidence& ev, const double* p, double ad_margin) {
  const int n = ev.alleles();
  for (int k = 0; k < n; ++k) {
    for (int j = 0; j <= k; ++j) ev.log_gl[static_cast<std::size_t>(genotype_index(j, k))] += std::log(0.5 * (p[j] + p[k]));
  }
  int best = 0;
  for (int a = 1; a < n; ++a) best = p[a] > p[best] ? a : best;
  bool clear = true;
  for (int a = 0; a < n && clear; ++a) clear = a == best || p[best] >= ad_margin * p[a];
  if (clear) ++ev.ad[static_cast<std::size_t>(best)];
  ++ev.dp;
}

SampleEvidence subset_alleles(const SampleEvidence& ev, const std::vector<int>& keep) {
  SampleEvidence out(static_cast<int>(keep.size()));
  out.dp = ev.dp;
  for (std::size_t k = 0; k < keep.size(); ++k) {
    out.ad[k] = ev.ad[static_cast<std::size_t>(keep[k])];
    for (std::size_t j = 0; j <= k; ++j) {
      const int a = std::min(keep[j], keep[k]), b = std::max(keep[j], keep[k]);
      out.log_gl[static_cast<std::size_t>(genotype_index(static_cast<int>(j), static_cast<int>(k)))] =
          ev.log_gl[static_cast<std::size_t>(genotype_index(a, b))];
    }
  }
  return out;
}

JointCall genotype_jointly(const std::vector<SampleEvidence>& samples, double theta) {
  JointCall call;
  if (samples.empty()) return call;
  const int n = samples.front().alleles();
  const auto G = static_cast<std::size_t>(genotype_count(n));
  // Per-sample likelihoods relative to their maximum (so exp() cannot underflow to all zeros).
  std::vector<std::vector<double>> rel(samples.size(), std::vector<double>(G));
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const auto& gl = samples[s].log_gl;
    const double m = *std::max_element(gl.begin(), gl.end());
    for (std::size_t g = 0; g < G; ++g) rel[s][g] = std::exp(gl[g] - m);
  }

  // EM for the allele frequencies (a small pseudo-count keeps every allele possible).
  constexpr double kPseudo = 0.01;
  std::vector<double> f(static_cast<std::size_t>(n), 0.5 / std::max(1, n - 1));
  f[0] = 0.5;
  std::vector<double> prior, post(G), counts(static_cast<std::size_t>(n));
  for (int iter = 0; iter < 100; ++iter) {
    hwe_prior(f, prior);
    std::fill(counts.begin(), counts.end(), kPseudo);
    for (std::size_t s = 0; s < samples.size(); ++s) {
      if (samples[s].dp == 0) continue;
      double z = 0;
      for (std::size_t g = 0; g < G; ++g) z += post[g] = rel[s][g] * prior[g];
      if (z <= 0) continue;
      for (int k = 0; k < n; ++k) {
        for (int j = 0; j <= k; ++j) {
          const double w = post[static_cast<std::size_t>(genotype_index(j, k))] / z;
          counts[static_cast<std::size_t>(j)] += w;
          counts[static_cast<std::size_t>(k)] += w;
        }
      }
    }
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    double change = 0;
    for (std::size_t a = 0; a < f.size(); ++a) {
      const double v = counts[a] / total;
      change = std::max(change, std::abs(v - f[a]));
      f[a] = v;
    }
    if (change < 1e-7) break;
  }
  call.af = f;
  hwe_prior(f, prior);

  // QUAL: posterior probability that every sample is homozygous reference. The prior that some of
  // the 2N chromosomes differ grows with N as segregating sites do under the neutral coalescent
  // (Watterson: theta * sum 1/k for k < 2N), as bcftools' prior on the allele count does.
  int with_data = 0;
  for (const auto& s : samples) with_data += s.dp > 0;
  double harmonic = 0;
  for (int k = 1; k < 2 * std::max(1, with_data); ++k) harmonic += 1.0 / k;
  const double site_prior = std::min(0.5, theta * harmonic);
  double log_ref = std::log1p(-site_prior), log_var = std::log(site_prior);
  for (std::size_t s = 0; s < samples.size(); ++s) {
    if (samples[s].dp == 0) continue;
    double z = 0;
    for (std::size_t g = 0; g < G; ++g) z += rel[s][g] * prior[g];
    log_ref += std::log(rel[s][0]);
    log_var += std::log(z);
  }
  call.qual = std::min(999.0, -kPhredPerLog * (log_ref - log_sum_exp(log_ref, log_var)));
  if (!(call.qual > 0)) call.qual = 0;

  // Genotypes from the posteriors.
  call.allele_count.assign(static_cast<std::size_t>(n), 0);
  call.gt.reserve(samples.size() * 2);
  for (std::size_t s = 0; s < samples.size(); ++s) {
    if (samples[s].dp == 0) {
      call.gt.insert(call.gt.end(), {-1, -1});
      call.gq.push_back(-1);
      call.pl.insert(call.pl.end(), G, -1);
      continue;
    }
    double z = 0;
    std::size_t best = 0;
    for (std::size_t g = 0; g < G; ++g) {
      z += post[g] = rel[s][g] * prior[g];
      if (post[g] > post[best]) best = g;
    }
    double rest = 0;
    for (std::size_t g = 0; g < G; ++g) rest += g == best ? 0.0 : post[g];
    const double err = rest / z;
    call.gq.push_back(err <= 0 ? 99 : static_cast<int>(std::min(99.0, std::lround(-kPhredPerLog * std::log(err)) + 0.0)));
    for (int k = 0; k < n; ++k) {
      for (int j = 0; j <= k; ++j) {
        if (static_cast<std::size_t>(genotype_index(j, k)) != best) continue;
        call.gt.insert(call.gt.end(), {j, k});
        ++call.allele_count[static_cast<std::size_t>(j)];
        ++call.allele_count[static_cast<std::size_t>(k)];
      }
    }
    const auto& gl = samples[s].log_gl;
    const double m = *std::max_element(gl.begin(), gl.end());
    for (std::size_t g = 0; g < G; ++g) {
      call.pl.push_back(static_cast<int>(std::min(1e6, std::round(-kPhredPerLog * (gl[g] - m)))));
    }
  }
  return call;
}

}  // namespace genoforest::call
