#include "genoforest/call/caller.hpp"

#include <htslib/sam.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <tuple>

#include "genoforest/call/genotype.hpp"
#include "genoforest/core/error.hpp"

namespace genoforest::call {

void CallOptions::validate() const {
  if (filter.min_mapq < 0 || filter.min_mapq > 255) throw UsageError("--min-MQ must be between 0 and 255");
  if (min_baseq < 0 || min_baseq > 93) throw UsageError("--min-BQ must be between 0 and 93");
  if (min_alt_reads < 1) throw UsageError("--min-alt-reads must be at least 1");
  if (!(min_alt_fraction >= 0 && min_alt_fraction <= 1)) throw UsageError("--min-alt-fraction must be between 0 and 1");
  if (min_pooled_alt_reads < 1) throw UsageError("--min-pooled-alt-reads must be at least 1");
  if (!(min_pooled_alt_fraction >= 0 && min_pooled_alt_fraction <= 1)) throw UsageError("--min-pooled-alt-fraction must be between 0 and 1");
  if (!(snp_theta > 0 && snp_theta < 1)) throw UsageError("--snp-prior must be between 0 and 1 (exclusive)");
  if (!(indel_theta > 0 && indel_theta < 1)) throw UsageError("--indel-prior must be between 0 and 1 (exclusive)");
  if (!(min_qual >= 0)) throw UsageError("--min-qual must be at least 0");
  if (!(low_qual >= 0)) throw UsageError("--low-qual must be at least 0");
  if (max_alt_snp < 1 || max_alt_snp > 3) throw UsageError("--max-alt-snp must be between 1 and 3");
  if (max_alt_indel < 1 || max_alt_indel > 8) throw UsageError("--max-alt-indel must be between 1 and 8");
  if (indel_context < 0 || indel_context > 100) throw UsageError("--indel-context must be between 0 and 100");
  if (!(tandem_qual > 0)) throw UsageError("--tandem-qual must be positive");
}

namespace {

constexpr std::int64_t kWindow = 10'000;     // positions called per pass over the buffered reads
constexpr std::int64_t kMaxShift = 100;      // left-normalisation limit of an indel in a read (bp)
constexpr std::int64_t kRepeatReach = 200;   // how far an indel's repeat is followed to the right
constexpr std::int64_t kMaxIndelLength = 60; // longer indels in reads are not candidates
constexpr std::int64_t kFlank = 30;          // reference bases scored on each side of a locus
constexpr std::int64_t kMargin = 320;        // candidates found this far around a window (context)
constexpr std::int64_t kLoadAhead = 650;     // reads loaded this far past a window's end
constexpr std::size_t kMaxHaplotypes = 64;
static_assert(kLoadAhead + kFlank < kRegionPad && kMargin + kMaxShift < kLoadAhead);

int base_code(char b) {
  switch (b) {
    case 'A': return 0;
    case 'C': return 1;
    case 'G': return 2;
    case 'T': return 3;
    default: return 4;
  }
}
constexpr char kBases[4] = {'A', 'C', 'G', 'T'};

/// Log-probabilities of a read base given the haplotype base, by base quality.
struct QualTables {
  std::array<double, 94> match{}, mismatch{}, err{};
  QualTables() {
    for (int q = 0; q < 94; ++q) {
      const double e = std::min(0.75, std::pow(10.0, -std::max(q, 1) / 10.0));
      err[static_cast<std::size_t>(q)] = e;
      match[static_cast<std::size_t>(q)] = std::log1p(-e);
      mismatch[static_cast<std::size_t>(q)] = std::log(e / 3);
    }
  }
};
const QualTables& tables() {
  static const QualTables t;
  return t;
}

/// Replace ref[start, start + ref_len) by `repl`.
struct Edit {
  std::int64_t start = 0;
  std::int64_t ref_len = 0;
  std::string repl;
  [[nodiscard]] std::int64_t delta() const { return static_cast<std::int64_t>(repl.size()) - ref_len; }
  bool operator<(const Edit& o) const { return std::tie(start, ref_len, repl) < std::tie(o.start, o.ref_len, o.repl); }
  bool operator==(const Edit& o) const = default;
};

bool conflict(const Edit& a, const Edit& b) {
  if (a.ref_len == 0 && b.ref_len == 0) return a.start == b.start;
  if (a.ref_len == 0) return b.start < a.start && a.start < b.start + b.ref_len;
  if (b.ref_len == 0) return a.start < b.start && b.start < a.start + a.ref_len;
  return a.start < b.start + b.ref_len && b.start < a.start + a.ref_len;
}

struct Candidate {
  std::int64_t pos = 0;  // VCF POS
  bool indel = false;
  std::vector<Edit> alts;
  std::int64_t span_end = 0;  // end of the reference it affects, its repeat included
};

/// An indel seen in a read, left-normalised: anchor base + deleted length or inserted bases.
struct IndelKey {
  std::int64_t anchor = 0;
  std::int64_t del = 0;
  std::string ins;
  bool operator<(const IndelKey& o) const { return std::tie(anchor, del, ins) < std::tie(o.anchor, o.del, o.ins); }
};

/// Left-normalises the deletion of ref[s, s+len); false when it runs off the known reference.
bool normalise_deletion(const RefSpan& ref, std::int64_t s, std::int64_t len, IndelKey& key) {
  for (int shifts = 0; shifts < kMaxShift; ++shifts) {
    const char a = ref.at(s - 1);
    if (a == 'N' || a != ref.at(s + len - 1)) break;
    --s;
  }
  if (s - 1 <= ref.beg) return false;
  key = {s - 1, len, {}};
  return true;
}

/// Left-normalises the insertion of `ins` before ref position s.
bool normalise_insertion(const RefSpan& ref, std::int64_t s, std::string ins, IndelKey& key) {
  for (int shifts = 0; shifts < kMaxShift; ++shifts) {
    const char a = ref.at(s - 1);
    if (a == 'N' || a != ins.back()) break;
    std::rotate(ins.rbegin(), ins.rbegin() + 1, ins.rend());
    --s;
  }
  if (s - 1 <= ref.beg) return false;
  key = {s - 1, 0, std::move(ins)};
  return true;
}

Edit edit_of(const IndelKey& k) { return {k.anchor + 1, k.del, k.ins}; }

/// Where the repeat that an indel edit can slide along ends.
std::int64_t repeat_end(const RefSpan& ref, const Edit& e) {
  std::int64_t k = 0;
  if (e.ref_len > 0) {
    while (k < kRepeatReach && ref.at(e.start + e.ref_len + k) != 'N' && ref.at(e.start + e.ref_len + k) == ref.at(e.start + k)) ++k;
    return e.start + e.ref_len + k;
  }
  const auto n = static_cast<std::int64_t>(e.repl.size());
  while (k < kRepeatReach && ref.at(e.start + k) != 'N' && ref.at(e.start + k) == e.repl[static_cast<std::size_t>(k % n)]) ++k;
  return e.start + k;
}

/// One sample's buffered reads, sorted by position.
struct SampleReads {
  ReadStream* stream = nullptr;
  std::deque<AlnRead> reads;
  AlnRead pending;
  bool has_pending = false;
  bool done = false;
  std::int64_t max_span = 0;  // longest clip_end - clip_beg seen

  void load_until(std::int64_t pos_limit) {
    while (!done) {
      if (!has_pending) {
        if (!stream->next(pending)) {
          done = true;
          break;
        }
        has_pending = true;
      }
      if (pending.pos >= pos_limit) break;
      max_span = std::max(max_span, pending.clip_end - pending.clip_beg);
      reads.push_back(std::move(pending));
      has_pending = false;
    }
  }
  void drop_before(std::int64_t p) {
    while (!reads.empty() && reads.front().clip_end <= p) reads.pop_front();
  }
  /// Index of the first read that may overlap [p, ...): reads before it end before p.
  /// (Reads are sorted by pos, not clip_beg: a read with pos < p - max_span ends before p.)
  [[nodiscard]] std::size_t first_overlapping(std::int64_t p) const {
    const std::int64_t from = p - max_span;
    return static_cast<std::size_t>(std::lower_bound(reads.begin(), reads.end(), from,
                                                     [](const AlnRead& r, std::int64_t v) { return r.pos < v; }) -
                                    reads.begin());
  }
  /// Whether no read from index i on can reach back (with its soft clip) to before `end`.
  [[nodiscard]] bool all_start_after(std::size_t i, std::int64_t end) const { return reads[i].pos >= end + max_span; }
};

/// Query index of the read base aligned to reference position p, or -1 (deleted, clipped, absent).
int query_at(const AlnRead& r, std::int64_t p) {
  std::int64_t rp = r.pos;
  int qp = 0;
  for (const auto c : r.cigar) {
    const int op = bam_cigar_op(c);
    const auto len = static_cast<std::int64_t>(bam_cigar_oplen(c));
    switch (op) {
      case BAM_CMATCH:
      case BAM_CEQUAL:
      case BAM_CDIFF:
        if (p < rp + len) return p >= rp ? qp + static_cast<int>(p - rp) : -1;
        rp += len;
        qp += static_cast<int>(len);
        break;
      case BAM_CDEL:
      case BAM_CREF_SKIP:
        if (p < rp + len) return -1;
        rp += len;
        break;
      case BAM_CINS:
      case BAM_CSOFT_CLIP:
        qp += static_cast<int>(len);
        break;
      default:
        break;
    }
  }
  return -1;
}

/// Candidate discovery over [cs, ce): per-sample counts, per-sample and pooled thresholds.
class CandidateFinder {
 public:
  CandidateFinder(const RefSpan& ref, std::int64_t cs, std::int64_t ce, const CallOptions& opt)
      : ref_(ref), cs_(cs), ce_(ce), opt_(opt), n_(static_cast<std::size_t>(ce - cs)), cov_(n_), cnt_(n_ * 4), pooled_(n_ * 4),
        pooled_depth_(n_), pass_(n_ * 4) {}

  void add_sample(const SampleReads& sr) {
    std::fill(cov_.begin(), cov_.end(), 0);
    std::fill(cnt_.begin(), cnt_.end(), 0);
    std::map<IndelKey, int> indels;
    for (std::size_t i = sr.first_overlapping(cs_); i < sr.reads.size(); ++i) {
      const AlnRead& r = sr.reads[i];
      if (r.pos >= ce_ + kMaxShift) break;  // sorted by pos; only aligned bases and indels count here
      if (r.clip_end <= cs_) continue;
      walk(r, indels);
    }
    for (std::size_t i = 0; i < n_; ++i) {
      const int rb = base_code(ref_.at(cs_ + static_cast<std::int64_t>(i)));
      if (rb > 3) continue;
      int depth = 0;
      for (int b = 0; b < 4; ++b) depth += cnt_[i * 4 + static_cast<std::size_t>(b)];
      pooled_depth_[i] += depth;
      for (int b = 0; b < 4; ++b) {
        if (b == rb) continue;
        const int c = cnt_[i * 4 + static_cast<std::size_t>(b)];
        pooled_[i * 4 + static_cast<std::size_t>(b)] += c;
        if (c >= opt_.min_alt_reads && c >= opt_.min_alt_fraction * depth) pass_[i * 4 + static_cast<std::size_t>(b)] = 1;
      }
    }
    for (const auto& [key, c] : indels) {
      auto& e = indel_support_[key];
      e.pooled += c;
      const int depth = cov_[static_cast<std::size_t>(key.anchor - cs_)];
      if (c >= opt_.min_alt_reads && c >= opt_.min_alt_fraction * depth) e.pass = true;
    }
  }

  /// The candidates, by position (SNP before indel at one position).
  [[nodiscard]] std::vector<Candidate> finish() const {
    std::vector<Candidate> out;
    std::map<std::int64_t, std::vector<std::pair<int, IndelKey>>> indel_sites;
    for (const auto& [key, e] : indel_support_) {
      const int depth = pooled_depth_[static_cast<std::size_t>(key.anchor - cs_)];
      if (e.pass || (e.pooled >= opt_.min_pooled_alt_reads && e.pooled >= opt_.min_pooled_alt_fraction * depth)) {
        indel_sites[key.anchor].emplace_back(e.pooled, key);
      }
    }
    auto indel_it = indel_sites.begin();
    auto flush_indels_before = [&](std::int64_t pos) {
      for (; indel_it != indel_sites.end() && indel_it->first < pos; ++indel_it) {
        auto keys = indel_it->second;
        std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        if (keys.size() > static_cast<std::size_t>(opt_.max_alt_indel)) keys.resize(static_cast<std::size_t>(opt_.max_alt_indel));
        Candidate c;
        c.pos = indel_it->first;
        c.indel = true;
        c.span_end = c.pos + 1;
        for (const auto& k : keys) {
          c.alts.push_back(edit_of(k.second));
          c.span_end = std::max(c.span_end, repeat_end(ref_, c.alts.back()));
        }
        out.push_back(std::move(c));
      }
    };
    for (std::size_t i = 0; i < n_; ++i) {
      const std::int64_t pos = cs_ + static_cast<std::int64_t>(i);
      flush_indels_before(pos);
      std::vector<std::pair<int, int>> alts;  // (pooled count, base)
      for (int b = 0; b < 4; ++b) {
        const int c = pooled_[i * 4 + static_cast<std::size_t>(b)];
        if (pass_[i * 4 + static_cast<std::size_t>(b)] ||
            (c >= opt_.min_pooled_alt_reads && c >= opt_.min_pooled_alt_fraction * pooled_depth_[i])) {
          alts.emplace_back(c, b);
        }
      }
      if (!alts.empty()) {
        std::stable_sort(alts.begin(), alts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        if (alts.size() > static_cast<std::size_t>(opt_.max_alt_snp)) alts.resize(static_cast<std::size_t>(opt_.max_alt_snp));
        Candidate c;
        c.pos = pos;
        c.span_end = pos + 1;
        for (const auto& a : alts) c.alts.push_back({pos, 1, std::string(1, kBases[a.second])});
        out.push_back(std::move(c));
      }
    }
    flush_indels_before(ce_);
    return out;
  }

 private:
  struct IndelSupport {
    int pooled = 0;
    bool pass = false;
  };

  void walk(const AlnRead& r, std::map<IndelKey, int>& indels) {
    std::int64_t rp = r.pos;
    std::size_t qp = 0;
    const auto in = [&](std::int64_t p) { return p >= cs_ && p < ce_; };
    for (std::size_t ci = 0; ci < r.cigar.size(); ++ci) {
      const int op = bam_cigar_op(r.cigar[ci]);
      const auto len = static_cast<std::int64_t>(bam_cigar_oplen(r.cigar[ci]));
      switch (op) {
        case BAM_CMATCH:
        case BAM_CEQUAL:
        case BAM_CDIFF: {
          const std::int64_t from = std::max(rp, cs_), to = std::min(rp + len, ce_);
          for (std::int64_t p = from; p < to; ++p) {
            const std::size_t q = qp + static_cast<std::size_t>(p - rp);
            const auto i = static_cast<std::size_t>(p - cs_);
            ++cov_[i];
            const int b = base_code(r.seq[q]);
            if (b < 4 && r.baq[q] >= opt_.min_baseq) ++cnt_[i * 4 + static_cast<std::size_t>(b)];
          }
          rp += len;
          qp += static_cast<std::size_t>(len);
          break;
        }
        case BAM_CDEL: {
          for (std::int64_t p = std::max(rp, cs_); p < std::min(rp + len, ce_); ++p) ++cov_[static_cast<std::size_t>(p - cs_)];
          IndelKey key;
          if (len <= kMaxIndelLength && ci > 0 && normalise_deletion(ref_, rp, len, key) && in(key.anchor)) ++indels[key];
          rp += len;
          break;
        }
        case BAM_CINS: {
          IndelKey key;
          const std::string ins = r.seq.substr(qp, static_cast<std::size_t>(len));
          if (len <= kMaxIndelLength && ci > 0 && ci + 1 < r.cigar.size() && ins.find('N') == std::string::npos &&
              normalise_insertion(ref_, rp, ins, key) && in(key.anchor)) {
            ++indels[key];
          }
          qp += static_cast<std::size_t>(len);
          break;
        }
        case BAM_CSOFT_CLIP:
          qp += static_cast<std::size_t>(len);
          break;
        case BAM_CREF_SKIP:
          rp += len;
          break;
        default:
          break;
      }
    }
  }

  const RefSpan& ref_;
  std::int64_t cs_, ce_;
  const CallOptions& opt_;
  std::size_t n_;
  std::vector<int> cov_, cnt_, pooled_, pooled_depth_;
  std::vector<char> pass_;
  std::map<IndelKey, IndelSupport> indel_support_;
};

/// One read's allele probabilities at a site, before mate de-duplication.
struct ReadEvidence {
  std::uint64_t name_hash;
  bool read1;
  double informativeness;  // spread of the allele log-likelihoods
  std::uint8_t mapq;
  std::vector<double> p;
};

/// Keeps one read per template (the more informative mate; read 1 on a tie) and adds them.
void add_sample_reads(std::vector<ReadEvidence>& reads, SampleEvidence& ev, double& mq_sum) {
  std::sort(reads.begin(), reads.end(), [](const ReadEvidence& a, const ReadEvidence& b) {
    if (a.name_hash != b.name_hash) return a.name_hash < b.name_hash;
    if (a.informativeness != b.informativeness) return a.informativeness > b.informativeness;
    return a.read1 > b.read1;
  });
  for (std::size_t i = 0; i < reads.size(); ++i) {
    if (i > 0 && reads[i].name_hash == reads[i - 1].name_hash) continue;
    add_read(ev, reads[i].p.data());
    mq_sum += static_cast<double>(reads[i].mapq) * reads[i].mapq;
  }
}

/// Turns a read's allele log-likelihoods into probabilities with an error floor: mapping error, or
/// for an indel in a repeat the repeat's slippage when that is likelier.
void to_probabilities(std::vector<double>& ll, std::uint8_t mapq, double slip = 0) {
  const double m = std::max(std::pow(10.0, -mapq / 10.0), slip);
  const double top = *std::max_element(ll.begin(), ll.end());
  for (double& v : ll) v = (1 - m) * std::exp(v - top) + m;
}

/// Probability that a read shows another allele of indel site `c` by slippage in its repeat: the
/// largest over its alleles of 10^(-Q/10), Q = min(40, tandem_qual * |length| / repeat length).
double slippage(const RefSpan& ref, const Candidate& c, double tandem_qual) {
  double slip = 0;
  for (const auto& e : c.alts) {
    const std::int64_t len = std::abs(e.delta());
    if (len == 0) continue;
    const std::int64_t run = std::max(len, repeat_end(ref, e) - e.start);
    const double q = std::min(40.0, tandem_qual * static_cast<double>(len) / static_cast<double>(run));
    slip = std::max(slip, std::pow(10.0, -q / 10));
  }
  return slip;
}

class SiteEvaluator {
 public:
  SiteEvaluator(const RefSpan& ref, std::vector<SampleReads>& samples, const CallOptions& opt)
      : ref_(ref), samples_(samples), opt_(opt) {}

  /// Evidence for an isolated SNP from the bases over it.
  std::vector<SampleEvidence> pileup(const Candidate& c, double& mq_sum) {
    const int n_alleles = static_cast<int>(c.alts.size()) + 1;
    std::array<int, 4> allele_of{-1, -1, -1, -1};
    allele_of[static_cast<std::size_t>(base_code(ref_.at(c.pos)))] = 0;
    for (std::size_t a = 0; a < c.alts.size(); ++a) allele_of[static_cast<std::size_t>(base_code(c.alts[a].repl[0]))] = static_cast<int>(a) + 1;
    const auto& t = tables();
    std::vector<SampleEvidence> out;
    for (auto& sr : samples_) {
      SampleEvidence ev(n_alleles);
      reads_.clear();
      for (std::size_t i = sr.first_overlapping(c.pos); i < sr.reads.size(); ++i) {
        const AlnRead& r = sr.reads[i];
        if (r.pos > c.pos) break;
        if (r.end <= c.pos) continue;
        const int q = query_at(r, c.pos);
        if (q < 0) continue;
        const int b = base_code(r.seq[static_cast<std::size_t>(q)]);
        const int bq = r.baq[static_cast<std::size_t>(q)];
        if (b > 3 || bq < opt_.min_baseq) continue;
        ReadEvidence re{r.name_hash, r.read1, static_cast<double>(bq), r.mapq, std::vector<double>(static_cast<std::size_t>(n_alleles))};
        const auto qi = static_cast<std::size_t>(std::min(bq, 93));
        for (int base = 0; base < 4; ++base) {
          const int a = allele_of[static_cast<std::size_t>(base)];
          if (a >= 0) re.p[static_cast<std::size_t>(a)] = base == b ? t.match[qi] : t.mismatch[qi];
        }
        to_probabilities(re.p, r.mapq);
        reads_.push_back(std::move(re));
      }
      add_sample_reads(reads_, ev, mq_sum);
      out.push_back(std::move(ev));
    }
    return out;
  }

  /// Evidence for site `c` scored on haplotypes with the indel candidates in `context`.
  std::vector<SampleEvidence> haplotypes(const Candidate& c, std::vector<const Candidate*> context, double& mq_sum) {
    // Drop the farthest context until the combinations fit.
    auto combos = [&] {
      std::size_t n = c.alts.size() + 1;
      for (const auto* y : context) n *= y->alts.size() + 1;
      return n;
    };
    while (!context.empty() && combos() > kMaxHaplotypes) {
      auto dist = [&](const Candidate* y) { return std::abs(y->pos - c.pos); };
      const auto far = std::max_element(context.begin(), context.end(), [&](const auto* a, const auto* b) {
        return dist(a) != dist(b) ? dist(a) < dist(b) : a->pos < b->pos;
      });
      context.erase(far);
    }
    std::int64_t zs = c.pos - kFlank, ze = c.span_end + kFlank;
    for (const auto* y : context) {
      zs = std::min(zs, y->pos - kFlank);
      ze = std::max(ze, y->span_end + kFlank);
    }
    build_haplotypes(c, context, zs, ze);

    const int n_alleles = static_cast<int>(c.alts.size()) + 1;
    const std::int64_t site_end = std::max(c.pos + 1, c.span_end);
    const double slip = c.indel ? slippage(ref_, c, opt_.tandem_qual) : 0.0;
    std::vector<SampleEvidence> out;
    std::vector<double> hap_ll(haps_.size());
    for (auto& sr : samples_) {
      SampleEvidence ev(n_alleles);
      reads_.clear();
      for (std::size_t i = sr.first_overlapping(c.pos); i < sr.reads.size(); ++i) {
        const AlnRead& r = sr.reads[i];
        if (sr.all_start_after(i, site_end)) break;
        if (r.clip_beg >= site_end || r.clip_end <= c.pos) continue;
        const std::int64_t o0 = r.clip_beg - zs;
        for (std::size_t h = 0; h < haps_.size(); ++h) {
          double best = -INFINITY;
          for (const auto d : haps_[h].shifts) best = std::max(best, score(r, haps_[h].seq, o0 + d));
          hap_ll[h] = best;
        }
        ReadEvidence re{r.name_hash, r.read1, 0.0, r.mapq, std::vector<double>(static_cast<std::size_t>(n_alleles), -INFINITY)};
        for (std::size_t h = 0; h < haps_.size(); ++h) {
          auto& v = re.p[static_cast<std::size_t>(haps_[h].allele)];
          v = std::max(v, hap_ll[h]);
        }
        const auto [lo, hi] = std::minmax_element(re.p.begin(), re.p.end());
        re.informativeness = *hi - *lo;
        to_probabilities(re.p, r.mapq, slip);
        reads_.push_back(std::move(re));
      }
      add_sample_reads(reads_, ev, mq_sum);
      out.push_back(std::move(ev));
    }
    return out;
  }

 private:
  struct Haplotype {
    std::string seq;                 // the zone with the edits applied
    int allele = 0;                  // the allele of the site being called
    std::vector<std::int64_t> shifts;  // read placements to try, relative to the reference one
  };

  void build_haplotypes(const Candidate& c, const std::vector<const Candidate*>& context, std::int64_t zs, std::int64_t ze) {
    haps_.clear();
    std::vector<const Candidate*> sites{&c};
    sites.insert(sites.end(), context.begin(), context.end());
    std::vector<std::size_t> choice(sites.size(), 0);  // 0: reference, k: alt k-1
    while (true) {
      std::vector<Edit> edits;
      bool ok = true;
      for (std::size_t s = 0; s < sites.size() && ok; ++s) {
        if (choice[s] == 0) continue;
        const Edit& e = sites[s]->alts[choice[s] - 1];
        for (const auto& other : edits) ok = ok && !conflict(e, other);
        edits.push_back(e);
      }
      if (ok) {
        std::sort(edits.begin(), edits.end());
        Haplotype h;
        h.allele = static_cast<int>(choice[0]);
        std::int64_t p = zs;
        for (const auto& e : edits) {
          for (; p < e.start; ++p) h.seq.push_back(ref_.at(p));
          h.seq += e.repl;
          p = e.start + e.ref_len;
        }
        for (; p < ze; ++p) h.seq.push_back(ref_.at(p));
        h.shifts.push_back(0);
        for (std::size_t i = 0; i < edits.size(); ++i) {
          std::int64_t sum = 0;
          for (std::size_t j = i; j < edits.size(); ++j) {
            sum += edits[j].delta();
            h.shifts.push_back(sum);
          }
        }
        std::sort(h.shifts.begin(), h.shifts.end());
        h.shifts.erase(std::unique(h.shifts.begin(), h.shifts.end()), h.shifts.end());
        haps_.push_back(std::move(h));
      }
      std::size_t s = 0;
      for (; s < sites.size(); ++s) {
        if (++choice[s] <= sites[s]->alts.size()) break;
        choice[s] = 0;
      }
      if (s == sites.size()) break;
    }
  }

  /// Log-likelihood of the read placed with query base 0 at haplotype offset `off`, over the
  /// bases that fall inside the haplotype.
  static double score(const AlnRead& r, const std::string& hap, std::int64_t off) {
    const auto& t = tables();
    const auto len = static_cast<std::int64_t>(r.seq.size());
    const std::int64_t from = std::max<std::int64_t>(0, -off), to = std::min(len, static_cast<std::int64_t>(hap.size()) - off);
    double s = 0;
    for (std::int64_t i = from; i < to; ++i) {
      const char b = r.seq[static_cast<std::size_t>(i)], h = hap[static_cast<std::size_t>(off + i)];
      if (b == 'N' || h == 'N') continue;
      const auto q = static_cast<std::size_t>(std::min<int>(r.qual[static_cast<std::size_t>(i)], 93));
      s += b == h ? t.match[q] : t.mismatch[q];
    }
    return s;
  }

  const RefSpan& ref_;
  std::vector<SampleReads>& samples_;
  const CallOptions& opt_;
  std::vector<Haplotype> haps_;
  std::vector<ReadEvidence> reads_;
};

/// VCF alleles of a candidate restricted to its alternative alleles `keep` (1-based).
std::vector<std::string> vcf_alleles(const RefSpan& ref, const Candidate& c, const std::vector<int>& keep) {
  std::vector<std::string> out;
  if (!c.indel) {
    out.emplace_back(1, ref.at(c.pos));
    for (std::size_t k = 1; k < keep.size(); ++k) out.push_back(c.alts[static_cast<std::size_t>(keep[k] - 1)].repl);
    return out;
  }
  std::int64_t max_del = 0;
  for (std::size_t k = 1; k < keep.size(); ++k) max_del = std::max(max_del, c.alts[static_cast<std::size_t>(keep[k] - 1)].ref_len);
  std::string r;
  for (std::int64_t p = c.pos; p < c.pos + 1 + max_del; ++p) r.push_back(ref.at(p));
  out.push_back(r);
  for (std::size_t k = 1; k < keep.size(); ++k) {
    const Edit& e = c.alts[static_cast<std::size_t>(keep[k] - 1)];
    out.push_back(r.substr(0, 1) + e.repl + r.substr(static_cast<std::size_t>(1 + e.ref_len)));
  }
  return out;
}

}  // namespace

std::vector<SiteCall> call_region(const RefSpan& ref, std::int64_t beg, std::int64_t end, std::vector<std::unique_ptr<ReadStream>>& reads,
                                  const CallOptions& opt) {
  std::vector<SampleReads> samples(reads.size());
  for (std::size_t s = 0; s < reads.size(); ++s) samples[s].stream = reads[s].get();
  SiteEvaluator eval(ref, samples, opt);
  std::vector<SiteCall> out;
  const std::int64_t contig_known_end = ref.beg + static_cast<std::int64_t>(ref.seq.size());
  for (std::int64_t w = beg; w < end; w += kWindow) {
    const std::int64_t we = std::min(end, w + kWindow);
    const std::int64_t cs = std::max(ref.beg, w - kMargin), ce = std::min(contig_known_end, we + kMargin);
    for (auto& s : samples) {
      s.load_until(we + kLoadAhead);
      s.drop_before(cs - kFlank);
    }
    if (ce <= cs) continue;
    CandidateFinder finder(ref, cs, ce, opt);
    for (const auto& s : samples) finder.add_sample(s);
    const std::vector<Candidate> cands = finder.finish();

    for (std::size_t ci = 0; ci < cands.size(); ++ci) {
      const Candidate& c = cands[ci];
      if (c.pos < w || c.pos >= we) continue;
      // Indel candidates whose reach comes within indel_context bp of this site.
      std::vector<const Candidate*> context;
      for (const auto& y : cands) {
        if (&y == &c || !y.indel) continue;
        if (y.pos <= c.span_end + opt.indel_context && c.pos <= y.span_end + opt.indel_context) context.push_back(&y);
      }
      double mq_sum = 0;
      std::vector<SampleEvidence> ev = (!c.indel && context.empty()) ? eval.pileup(c, mq_sum) : eval.haplotypes(c, context, mq_sum);
      const double theta = c.indel ? opt.indel_theta : opt.snp_theta;
      JointCall jc = genotype_jointly(ev, theta);
      std::vector<int> keep{0};
      for (std::size_t a = 1; a < jc.allele_count.size(); ++a) {
        if (jc.allele_count[a] > 0) keep.push_back(static_cast<int>(a));
      }
      if (keep.size() == 1) continue;
      if (keep.size() < jc.allele_count.size()) {
        for (auto& e : ev) e = subset_alleles(e, keep);
        jc = genotype_jointly(ev, theta);
        if (std::all_of(jc.allele_count.begin() + 1, jc.allele_count.end(), [](int n) { return n == 0; })) continue;
      }
      if (jc.qual < opt.min_qual) continue;
      SiteCall sc;
      sc.pos = c.pos;
      sc.indel = c.indel;
      sc.alleles = vcf_alleles(ref, c, keep);
      sc.qual = jc.qual;
      for (const auto& e : ev) {
        sc.dp += e.dp;
        sc.sample_dp.push_back(e.dp);
        sc.ad.insert(sc.ad.end(), e.ad.begin(), e.ad.end());
      }
      sc.mq = sc.dp > 0 ? std::sqrt(mq_sum / sc.dp) : 0;
      sc.gt = std::move(jc.gt);
      sc.gq = std::move(jc.gq);
      sc.pl = std::move(jc.pl);
      out.push_back(std::move(sc));
    }
  }
  return out;
}

}  // namespace genoforest::call
