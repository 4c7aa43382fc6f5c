#include "genoforest/align/qc.hpp"

#include <cmath>
#include <cstdio>

#include "genoforest/core/error.hpp"

namespace genoforest::align {

void QcOptions::validate() const {
  if (trim_quality < 0 || trim_quality > 60) throw UsageError("--trim-quality must be in [0, 60]");
  for (char c : adapter) {
    if (c != 'A' && c != 'C' && c != 'G' && c != 'T' && c != 'N') throw UsageError("--adapter must be made of A, C, G, T, N");
  }
  if (adapter_min_overlap < 1) throw UsageError("--adapter-min-overlap must be at least 1");
  if (!(adapter_error_rate >= 0.0 && adapter_error_rate < 1.0)) throw UsageError("--adapter-error-rate must be in [0, 1)");
  if (min_length < 0) throw UsageError("--min-length must be >= 0");
  if (!(max_n_fraction >= 0.0 && max_n_fraction <= 1.0)) throw UsageError("--max-n-fraction must be in [0, 1]");
  if (!(min_mean_quality >= 0.0 && min_mean_quality <= 60.0)) throw UsageError("--min-mean-quality must be in [0, 60]");
}

void QcCounts::add(const QcCounts& o) {
  reads_in += o.reads_in;
  bases_in += o.bases_in;
  q30_bases_in += o.q30_bases_in;
  quality_sum_in += o.quality_sum_in;
  reads_out += o.reads_out;
  bases_out += o.bases_out;
  q30_bases_out += o.q30_bases_out;
  quality_sum_out += o.quality_sum_out;
  quality_trimmed_bases += o.quality_trimmed_bases;
  adapter_trimmed_reads += o.adapter_trimmed_reads;
  adapter_trimmed_bases += o.adapter_trimmed_bases;
  too_short += o.too_short;
  too_many_n += o.too_many_n;
  low_quality += o.low_quality;
}

std::string QcCounts::to_json(int indent) const {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  auto ratio = [](std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  char buf[2048];
  std::snprintf(buf, sizeof buf,
                "{\n%s  \"reads_in\": %lld,\n%s  \"bases_in\": %lld,\n%s  \"q30_fraction_in\": %.6f,\n%s  \"mean_quality_in\": %.4f,\n"
                "%s  \"reads_out\": %lld,\n%s  \"bases_out\": %lld,\n%s  \"q30_fraction_out\": %.6f,\n%s  \"mean_quality_out\": %.4f,\n"
                "%s  \"quality_trimmed_bases\": %lld,\n%s  \"adapter_trimmed_reads\": %lld,\n%s  \"adapter_trimmed_bases\": %lld,\n"
                "%s  \"removed\": {\"too_short\": %lld, \"too_many_n\": %lld, \"low_mean_quality\": %lld}\n%s}",
                pad.c_str(), static_cast<long long>(reads_in), pad.c_str(), static_cast<long long>(bases_in), pad.c_str(),
                ratio(q30_bases_in, bases_in), pad.c_str(), ratio(quality_sum_in, bases_in), pad.c_str(),
                static_cast<long long>(reads_out), pad.c_str(), static_cast<long long>(bases_out), pad.c_str(),
                ratio(q30_bases_out, bases_out), pad.c_str(), ratio(quality_sum_out, bases_out), pad.c_str(),
                static_cast<long long>(quality_trimmed_bases), pad.c_str(), static_cast<long long>(adapter_trimmed_reads),
                pad.c_str(), static_cast<long long>(adapter_trimmed_bases), pad.c_str(), static_cast<long long>(too_short),
                static_cast<long long>(too_many_n), static_cast<long long>(low_quality), pad.c_str());
  return buf;
}

std::size_t quality_trim_length(const std::string& qual, int cutoff) {
  if (cutoff <= 0) return qual.size();
  long s = 0, best = 0;
  std::size_t cut = qual.size();
  for (std::size_t i = qual.size(); i-- > 0;) {
    s += cutoff - (qual[i] - 33);
    if (s < 0) break;
    if (s > best) {
      best = s;
      cut = i;
    }
  }
  return cut;
}

std::size_t adapter_start(const std::string& seq, const std::string& adapter, int min_overlap, double error_rate) {
  const std::size_t n = seq.size(), m = adapter.size();
  if (m == 0) return n;
  for (std::size_t i = 0; i + static_cast<std::size_t>(min_overlap) <= n; ++i) {
    const std::size_t overlap = std::min(m, n - i);
    const auto allowed = static_cast<std::size_t>(std::floor(error_rate * static_cast<double>(overlap)));
    std::size_t mismatches = 0;
    for (std::size_t k = 0; k < overlap && mismatches <= allowed; ++k) {
      const char a = seq[i + k], b = adapter[k];
      mismatches += a != b && a != 'N' && b != 'N';
    }
    if (mismatches <= allowed) return i;
  }
  return n;
}

namespace {

/// Adds a read's quality sum and Q30 count. Local accumulators over unsigned bytes let the compiler
/// vectorise the loop (a char store could alias the counters).
void add_quality(const std::string& qual, std::int64_t& sum, std::int64_t& q30) {
  std::int64_t s = 0, n30 = 0;
  for (const unsigned char q : qual) {
    s += q;
    n30 += q >= 33 + 30;
  }
  sum += s - 33 * static_cast<std::int64_t>(qual.size());
  q30 += n30;
}

}  // namespace

void account_input(const FastqRecord& rec, QcCounts& c) {
  c.reads_in += 1;
  c.bases_in += static_cast<std::int64_t>(rec.seq.size());
  add_quality(rec.qual, c.quality_sum_in, c.q30_bases_in);
}

void account_output(const FastqRecord& rec, QcCounts& c) {
  c.reads_out += 1;
  c.bases_out += static_cast<std::int64_t>(rec.seq.size());
  add_quality(rec.qual, c.quality_sum_out, c.q30_bases_out);
}

void account_removed(QcFail reason, QcCounts& c) {
  switch (reason) {
    case QcFail::kTooShort: ++c.too_short; break;
    case QcFail::kTooManyN: ++c.too_many_n; break;
    case QcFail::kLowQuality: ++c.low_quality; break;
    case QcFail::kNone: break;
  }
}

QcFail trim_and_check(FastqRecord& rec, const QcOptions& o, QcCounts& c) {
  const std::size_t q = quality_trim_length(rec.qual, o.trim_quality);
  c.quality_trimmed_bases += static_cast<std::int64_t>(rec.seq.size() - q);
  rec.seq.resize(q);
  rec.qual.resize(q);
  const std::size_t a = adapter_start(rec.seq, o.adapter, o.adapter_min_overlap, o.adapter_error_rate);
  if (a < rec.seq.size()) {
    c.adapter_trimmed_reads += 1;
    c.adapter_trimmed_bases += static_cast<std::int64_t>(rec.seq.size() - a);
    rec.seq.resize(a);
    rec.qual.resize(a);
  }
  if (static_cast<int>(rec.seq.size()) < o.min_length || rec.seq.empty()) return QcFail::kTooShort;
  std::size_t ns = 0;
  long qs = 0;
  for (std::size_t i = 0; i < rec.seq.size(); ++i) {
    ns += rec.seq[i] == 'N';
    qs += rec.qual[i] - 33;
  }
  if (static_cast<double>(ns) > o.max_n_fraction * static_cast<double>(rec.seq.size())) return QcFail::kTooManyN;
  if (static_cast<double>(qs) < o.min_mean_quality * static_cast<double>(rec.seq.size())) return QcFail::kLowQuality;
  return QcFail::kNone;
}

}  // namespace genoforest::align
